//! The [`Viewer`] of a read as an extractor: on public routes, the caller of a valid bearer token,
//! anyone else anonymous, with the `RESERVATION_NAMES_VISIBLE` setting (`crate::auth::booking_names`).

use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpRequest, web};
use futures::future::LocalBoxFuture;

use crate::auth::authenticate::{Authenticator, request_principal};
use crate::auth::booking_names::{NamesVisible, Viewer};
use crate::error::ApiError;

/// On public routes: the caller of a valid bearer token, anyone else is anonymous (a public read
/// never fails for a bad token; it just shows no names). Reads the setting and the authenticator
/// from the application data.
impl FromRequest for Viewer {
    type Error = ApiError;
    type Future = LocalBoxFuture<'static, Result<Viewer, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let setting = req
            .app_data::<web::Data<NamesVisible>>()
            .map(|setting| *setting.get_ref());
        let req = req.clone();
        Box::pin(async move {
            let setting = setting.ok_or_else(|| ApiError::Internal("no RESERVATION_NAMES_VISIBLE".into()))?;
            let authenticator = Authenticator::of(&req)?;
            Ok(match request_principal(&req, &authenticator).await {
                Ok(principal) => Viewer::of(&principal, setting),
                Err(_) => Viewer::anonymous(),
            })
        })
    }
}

#[cfg(test)]
mod tests {
    use crate::auth::booking_names::NamesVisible;
    use crate::config::{Settings, SettingsArgs};

    fn setting(value: Option<&str>) -> Result<NamesVisible, String> {
        let value = value.map(str::to_owned);
        let env = move |name: &str| (name == "RESERVATION_NAMES_VISIBLE").then(|| value.clone()).flatten();
        Settings::from_args_and_env(&SettingsArgs::default(), &env)
            .map(|settings| settings.reservation_names_visible)
            .map_err(|error| error.to_string())
    }

    #[test]
    fn the_setting_defaults_to_signed_in_and_refuses_other_values() {
        assert_eq!(setting(None), Ok(NamesVisible::SignedIn));
        assert_eq!(setting(Some("Privileged")), Ok(NamesVisible::Privileged));
        let error = setting(Some("everyone")).unwrap_err();
        assert!(error.contains("RESERVATION_NAMES_VISIBLE"), "{error}");
    }
}
