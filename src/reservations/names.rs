//! Whose name a caller may see on someone's booking (`RESERVATION_NAMES_VISIBLE`).
//!
//! Invariant: every answer that says who booked a slot — the user id and username of each
//! booking in a resource's schedule, the holder of the booking in progress in resource lists,
//! searches and status — asks [`Viewer::sees`] first and sends `null` in those fields otherwise
//! (the field names stay, so clients keep parsing). Anonymous callers see busy intervals only.
//! Signed-in callers see everyone's names (`signed_in`, the default, as offices expect) or, with
//! `privileged`, only their own unless they hold `reservation:read_any`. Reservation events on
//! `/ws` carry no names at all (`crate::events::event`).

use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpRequest, web};
use futures::future::LocalBoxFuture;

use crate::auth::authenticate::{Authenticator, request_principal};
use crate::auth::{Permission, Principal};
use crate::error::ApiError;

/// Who may see others' names on bookings, besides holders of `reservation:read_any`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum NamesVisible {
    /// Every signed-in user.
    #[default]
    SignedIn,
    /// Nobody else.
    Privileged,
}

impl NamesVisible {
    pub fn parse(raw: &str) -> Result<NamesVisible, String> {
        match raw.to_ascii_lowercase().as_str() {
            "signed_in" => Ok(NamesVisible::SignedIn),
            "privileged" => Ok(NamesVisible::Privileged),
            _ => Err("expected signed_in or privileged".into()),
        }
    }
}

/// The caller of a read, as far as names on bookings go.
#[derive(Debug, Clone, Default)]
pub struct Viewer {
    /// The signed-in caller's id and username; `None` for an anonymous caller.
    user: Option<(i64, String)>,
    sees_everyone: bool,
}

impl Viewer {
    pub fn anonymous() -> Viewer {
        Viewer::default()
    }

    pub fn of(principal: &Principal, setting: NamesVisible) -> Viewer {
        Viewer {
            user: Some((principal.user_id, principal.username.clone())),
            sees_everyone: setting == NamesVisible::SignedIn || principal.can(Permission::ReservationReadAny),
        }
    }

    /// Whether the caller may see who owns a booking of `owner`: always their own.
    pub fn sees(&self, owner: i64) -> bool {
        self.sees_everyone || self.user.as_ref().is_some_and(|(id, _)| *id == owner)
    }

    /// [`sees`](Viewer::sees) for reads that know the owner by username (unique) only.
    pub fn sees_named(&self, owner: &str) -> bool {
        self.sees_everyone || self.user.as_ref().is_some_and(|(_, name)| name == owner)
    }
}

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
    use super::*;
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

    #[test]
    fn anonymous_callers_see_no_owner() {
        let anonymous = Viewer::anonymous();
        assert!(!anonymous.sees(1) && !anonymous.sees_named("bob"));
    }
}
