//! The OAuth2 provider: client registration, the authorization-code grant with mandatory PKCE
//! (S256), client credentials, refresh, revocation and introspection (RFC 6749, 7636, 7009,
//! 7662), in the `/api/v1` shapes. Scopes are limited to what the client was registered for,
//! and a client may only revoke or introspect its own tokens.

use actix_web::http::Method;
use actix_web::{HttpRequest, HttpResponse, web};
use serde::Deserialize;
use serde_json::json;

use super::table::RouteTable;
use crate::auth::Access;
use crate::auth::audit::Event;
use crate::auth::oauth::{self, Client, Grant};
use crate::auth::oauth_store;
use crate::auth::{Permission, Principal, authenticate};
use crate::error::ApiError;
use crate::http::{Form, Json, Path, Query, secret_json};
use crate::secret;
use crate::state::AppState;
use crate::wire::bounded::Bounded;

pub fn declare(table: &mut RouteTable) {
    let owner = Access::Permission(Permission::OAuthClientManage);
    table
        .route(
            Method::POST,
            "/api/v1/oauth/clients",
            owner,
            &["/oauth/clients"],
            create_client,
        )
        .route(
            Method::GET,
            "/api/v1/oauth/clients",
            owner,
            &["/oauth/clients"],
            list_clients,
        )
        .route(
            Method::DELETE,
            "/api/v1/oauth/clients/{client_id}",
            owner,
            &["/oauth/clients/{client_id}"],
            delete_client,
        )
        .route(
            Method::GET,
            "/api/v1/oauth/authorize",
            Access::Session,
            &["/oauth/authorize"],
            authorize,
        )
        .route(
            Method::POST,
            "/api/v1/oauth/token",
            Access::Public,
            &["/oauth/token"],
            token,
        )
        .route(
            Method::POST,
            "/api/v1/oauth/revoke",
            Access::Public,
            &["/oauth/revoke"],
            revoke,
        )
        .route(
            Method::POST,
            "/api/v1/oauth/introspect",
            Access::Public,
            &["/oauth/introspect"],
            introspect,
        )
        .route(
            Method::GET,
            "/api/v1/oauth/protected",
            Access::Public,
            &["/oauth/protected"],
            protected,
        );
}

fn bad_request(message: impl Into<String>) -> ApiError {
    ApiError::BadRequest(message.into())
}

/// Most redirect URIs one client may register.
const MAX_REDIRECT_URIS: usize = 10;

/// A client's redirect URIs (an alias: the schema derive reads no const argument).
type RedirectUris = Bounded<String, MAX_REDIRECT_URIS>;

#[derive(Deserialize, utoipa::ToSchema)]
struct NewClient {
    client_name: String,
    #[schema(inline)]
    redirect_uris: RedirectUris,
    #[serde(default = "default_grants")]
    grant_types: String,
    #[serde(default = "default_scope")]
    scope: String,
}

fn default_grants() -> String {
    "authorization_code client_credentials".into()
}

fn default_scope() -> String {
    "read write".into()
}

fn validate_client(body: &NewClient) -> Result<(), ApiError> {
    if !(1..=255).contains(&body.client_name.chars().count()) || body.client_name.chars().any(char::is_control) {
        return Err(ApiError::invalid(
            &["body", "client_name"],
            "Client name must be 1-255 printable characters",
            &body.client_name,
        ));
    }
    if body.redirect_uris.is_empty() {
        return Err(ApiError::invalid(
            &["body", "redirect_uris"],
            "At least one redirect URI is required",
            &body.redirect_uris,
        ));
    }
    let absolute = |u: &String| {
        (u.starts_with("http://") || u.starts_with("https://"))
            && !u.chars().any(char::is_control)
            && url::Url::parse(u).is_ok()
    };
    if !body.redirect_uris.iter().all(absolute) {
        return Err(ApiError::invalid(
            &["body", "redirect_uris"],
            "Redirect URIs must use http:// or https://",
            &body.redirect_uris,
        ));
    }
    if let Some(unknown) = oauth::scopes(&body.grant_types)
        .into_iter()
        .find(|g| !oauth::KNOWN_GRANTS.contains(&g.as_str()))
    {
        return Err(ApiError::invalid(
            &["body", "grant_types"],
            format!("Unsupported grant type: {unknown}"),
            &body.grant_types,
        ));
    }
    let scope = oauth::scopes(&body.scope);
    if scope.is_empty() || scope.iter().any(|s| !oauth::KNOWN_SCOPES.contains(&s.as_str())) {
        return Err(ApiError::invalid(&["body", "scope"], "Invalid scope", &body.scope));
    }
    Ok(())
}

async fn create_client(
    state: web::Data<AppState>,
    req: HttpRequest,
    principal: Principal,
    Json(body): Json<NewClient>,
) -> Result<HttpResponse, ApiError> {
    validate_client(&body)?;
    let client_id = secret::random_token(24)?;
    let client_secret = secret::random_token(48)?;
    let grant_types = oauth::scopes(&body.grant_types).join(" ");
    let scope = oauth::scopes(&body.scope).join(" ");
    let client = oauth_store::NewClient {
        client_id: &client_id,
        secret_digest: secret::digest(&client_secret),
        name: &body.client_name,
        redirect_uris: json!(body.redirect_uris).to_string(),
        grant_types: &grant_types,
        scope: &scope,
        owner_id: principal.user_id,
        created_at: state.clock.now(),
    };
    oauth_store::insert_client(&state.db, client).await?;
    Event::new("oauth_client_created", "oauth_client")
        .by_principal(&principal)
        .on(None, &client_id)
        .record(&state.db, state.clock.as_ref(), &req)
        .await;
    Ok(secret_json(json!({
        "client_id": client_id,
        "client_secret": client_secret,
        "client_name": body.client_name,
        "redirect_uris": body.redirect_uris,
        "grant_types": grant_types,
        "scope": scope,
        "message": "Save the client_secret now - it won't be shown again!",
    })))
}

async fn list_clients(state: web::Data<AppState>, principal: Principal) -> Result<HttpResponse, ApiError> {
    let clients: Vec<_> = oauth_store::clients_of(&state.db, principal.user_id)
        .await?
        .into_iter()
        .map(|client| {
            json!({
                "id": client.id,
                "client_id": client.client_id,
                "client_name": client.client_name,
                "redirect_uris": client.redirect_uris,
                "grant_types": client.grant_types,
                "scope": client.scope,
                "created_at": client.created_at,
            })
        })
        .collect();
    Ok(HttpResponse::Ok().json(clients))
}

#[derive(Deserialize)]
struct ClientPath {
    client_id: String,
}

/// Deletes one of the caller's clients (and so its codes and tokens). Another user's client is
/// "not found", admins included.
async fn delete_client(
    state: web::Data<AppState>,
    req: HttpRequest,
    principal: Principal,
    Path(path): Path<ClientPath>,
) -> Result<HttpResponse, ApiError> {
    if !oauth_store::delete_client(&state.db, &path.client_id, principal.user_id).await? {
        return Err(ApiError::NotFound("OAuth2 client not found or unauthorized".into()));
    }
    Event::new("oauth_client_deleted", "oauth_client")
        .by_principal(&principal)
        .on(None, &path.client_id)
        .record(&state.db, state.clock.as_ref(), &req)
        .await;
    Ok(HttpResponse::Ok().json(json!({ "message": "OAuth2 client deleted successfully" })))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
struct Authorization {
    client_id: String,
    redirect_uri: String,
    #[serde(default = "default_response_type")]
    #[param(schema_with = response_types)]
    response_type: String,
    #[serde(default = "default_requested_scope")]
    scope: String,
    state: Option<String>,
    /// Required (PKCE).
    #[param(required = true)]
    code_challenge: Option<String>,
    /// Required (PKCE), and only `S256`.
    // A pattern rather than an enum (`schema_with`), which would drop the required flag.
    #[param(required = true, pattern = "^S256$")]
    code_challenge_method: Option<String>,
}

/// The only `response_type` the handler serves.
fn response_types() -> utoipa::openapi::Object {
    crate::http::extract::one_of(&["code"])
}

fn default_response_type() -> String {
    "code".into()
}

fn default_requested_scope() -> String {
    "read".into()
}

/// A PKCE challenge: 43–128 characters of base64url (RFC 7636 §4.2).
fn valid_challenge(challenge: &str) -> bool {
    (43..=128).contains(&challenge.len())
        && challenge
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '_' | '~'))
}

/// The signed-in user approves `client_id`: answers the redirect with a single-use code (JSON, not
/// a 302: the web frontend follows it itself).
async fn authorize(
    state: web::Data<AppState>,
    req: HttpRequest,
    principal: Principal,
    Query(query): Query<Authorization>,
) -> Result<HttpResponse, ApiError> {
    let client = oauth::client(&state.db, &query.client_id)
        .await?
        .ok_or_else(|| ApiError::NotFound("Invalid client_id".into()))?;
    if !client.redirect_uris.contains(&query.redirect_uri) {
        return Err(bad_request("Invalid redirect_uri"));
    }
    if query.response_type != "code" {
        return Err(bad_request("Only 'code' response_type is supported"));
    }
    if !client.allows_grant("authorization_code") {
        return Err(bad_request("Client is not registered for the authorization_code grant"));
    }
    let scope = oauth::scopes(&query.scope);
    if !client.covers(&scope) {
        return Err(bad_request("Invalid scope"));
    }
    let challenge = query
        .code_challenge
        .as_deref()
        .ok_or_else(|| bad_request("code_challenge is required (PKCE)"))?;
    if query.code_challenge_method.as_deref() != Some("S256") {
        return Err(bad_request("code_challenge_method must be S256"));
    }
    if !valid_challenge(challenge) {
        return Err(bad_request("Invalid code_challenge"));
    }
    let code = secret::random_token(48)?;
    let now = state.clock.now();
    let issued = oauth_store::NewCode {
        code_digest: secret::digest(&code),
        client_id: &client.client_id,
        user_id: principal.user_id,
        redirect_uri: &query.redirect_uri,
        scope: scope.join(" "),
        code_challenge: challenge,
        expires_at: now + chrono::Duration::seconds(oauth::CODE_SECONDS),
        created_at: now,
    };
    oauth_store::insert_code(&state.db, issued).await?;
    let mut redirect = url::Url::parse(&query.redirect_uri).map_err(|_| bad_request("Invalid redirect_uri"))?;
    redirect.query_pairs_mut().append_pair("code", &code);
    if let Some(state_value) = &query.state {
        redirect.query_pairs_mut().append_pair("state", state_value);
    }
    Event::new("oauth_authorized", "oauth_client")
        .by_principal(&principal)
        .on(None, &client.client_id)
        .details(format!("scope: {}", scope.join(" ")))
        .record(&state.db, state.clock.as_ref(), &req)
        .await;
    Ok(HttpResponse::Ok().json(json!({ "redirect_uri": redirect.as_str(), "code": code, "state": query.state })))
}

#[derive(Deserialize, utoipa::ToSchema)]
struct TokenRequest {
    #[schema(schema_with = grant_types)]
    grant_type: String,
    client_id: String,
    client_secret: String,
    code: Option<String>,
    redirect_uri: Option<String>,
    refresh_token: Option<String>,
    code_verifier: Option<String>,
    scope: Option<String>,
}

/// The schema of `TokenRequest::grant_type`: the grants the token endpoint knows.
fn grant_types() -> utoipa::openapi::schema::Object {
    utoipa::openapi::schema::ObjectBuilder::new()
        .schema_type(utoipa::openapi::schema::Type::String)
        .enum_values(Some(oauth::KNOWN_GRANTS.iter().copied()))
        .build()
}

fn grant_response(grant: Grant) -> HttpResponse {
    secret_json(json!({
        "access_token": grant.access_token,
        "token_type": "Bearer",
        "expires_in": oauth::ACCESS_TOKEN_SECONDS,
        "refresh_token": grant.refresh_token,
        "scope": grant.scope,
    }))
}

async fn token(state: web::Data<AppState>, Form(form): Form<TokenRequest>) -> Result<HttpResponse, ApiError> {
    let client = oauth::authenticate_client(&state.db, &form.client_id, &form.client_secret).await?;
    let grant = match form.grant_type.as_str() {
        grant @ ("authorization_code" | "refresh_token" | "client_credentials") if !client.allows_grant(grant) => {
            return Err(bad_request(format!("Client is not registered for the {grant} grant")));
        }
        "authorization_code" => exchange_code(&state, &client, &form).await?,
        "refresh_token" => exchange_refresh_token(&state, &client, &form).await?,
        "client_credentials" => {
            let requested = match form.scope.as_deref() {
                Some(scope) => oauth::scopes(scope),
                // Without a requested scope: "read", never more than the client holds.
                None if client.scope.iter().any(|s| s == "read") => vec!["read".to_owned()],
                None => client.scope.clone(),
            };
            if !client.covers(&requested) {
                return Err(bad_request("Invalid scope"));
            }
            let mut tx = state.db.begin().await?;
            let grant = oauth::issue(
                state.clock.as_ref(),
                tx.as_mut(),
                &client.client_id,
                None,
                &requested.join(" "),
                false,
            )
            .await?;
            tx.commit().await?;
            grant
        }
        other => return Err(bad_request(format!("Unsupported grant_type: {other}"))),
    };
    Ok(grant_response(grant))
}

/// Redeems an authorization code: single use (marked used before anything else is checked, so
/// a failed attempt burns it), same client and redirect URI, and the PKCE verifier.
async fn exchange_code(state: &AppState, client: &Client, form: &TokenRequest) -> Result<Grant, ApiError> {
    let (Some(code), Some(redirect_uri)) = (form.code.as_deref(), form.redirect_uri.as_deref()) else {
        return Err(bad_request("code and redirect_uri required"));
    };
    let invalid = || bad_request("Invalid or expired authorization code");
    let mut tx = state.db.begin().await?;
    let digest = secret::digest(code);
    let stored = oauth_store::code(tx.as_mut(), &digest).await?.ok_or_else(invalid)?;
    if stored.used || stored.expires_at <= state.clock.now() {
        return Err(invalid());
    }
    // The compare-and-set is the race guard: of concurrent redemptions, one claims the code.
    if !oauth_store::claim_code(tx.as_mut(), &digest).await? {
        return Err(invalid());
    }
    let outcome = check_code(client, &stored, redirect_uri, form.code_verifier.as_deref());
    let grant = match outcome {
        Ok(()) => Some(
            oauth::issue(
                state.clock.as_ref(),
                tx.as_mut(),
                &client.client_id,
                Some(stored.user_id),
                &stored.scope,
                true,
            )
            .await?,
        ),
        Err(_) => None,
    };
    tx.commit().await?;
    outcome.map(|()| grant.ok_or_else(invalid))?
}

fn check_code(
    client: &Client,
    stored: &oauth_store::StoredCode,
    redirect_uri: &str,
    verifier: Option<&str>,
) -> Result<(), ApiError> {
    if stored.client_id != client.client_id {
        return Err(bad_request("Client mismatch"));
    }
    if stored.redirect_uri != redirect_uri {
        return Err(bad_request("Redirect URI mismatch"));
    }
    let verifier = verifier.ok_or_else(|| bad_request("code_verifier is required (PKCE)"))?;
    if !secret::same(&secret::s256(verifier), &stored.code_challenge) {
        return Err(bad_request("Invalid code_verifier"));
    }
    Ok(())
}

/// Rotates a refresh token of this client (another client's is refused).
async fn exchange_refresh_token(state: &AppState, client: &Client, form: &TokenRequest) -> Result<Grant, ApiError> {
    let presented = form
        .refresh_token
        .as_deref()
        .ok_or_else(|| bad_request("refresh_token required"))?;
    let invalid = || bad_request("Invalid refresh token");
    let ttl = chrono::Duration::from_std(state.settings.refresh_token_ttl).unwrap_or(chrono::Duration::days(7));
    let mut tx = state.db.begin().await?;
    let token = oauth_store::refreshable_token(tx.as_mut(), &secret::digest(presented), &client.client_id)
        .await?
        .ok_or_else(invalid)?;
    if token.created_at + ttl <= state.clock.now() {
        return Err(invalid());
    }
    // Revoking is the race guard: of two concurrent exchanges, one wins.
    if !oauth_store::revoke_token_pair(tx.as_mut(), token.id).await? {
        return Err(invalid());
    }
    let grant = oauth::issue(
        state.clock.as_ref(),
        tx.as_mut(),
        &client.client_id,
        token.user_id,
        &token.scope,
        true,
    )
    .await?;
    tx.commit().await?;
    Ok(grant)
}

#[derive(Deserialize, utoipa::ToSchema)]
struct TokenQuery {
    token: String,
    client_id: String,
    client_secret: String,
}

/// RFC 7009: revokes an access or refresh token of the calling client; always 200.
async fn revoke(
    state: web::Data<AppState>,
    req: HttpRequest,
    Form(form): Form<TokenQuery>,
) -> Result<HttpResponse, ApiError> {
    let client = oauth::authenticate_client(&state.db, &form.client_id, &form.client_secret).await?;
    if oauth_store::revoke_client_token(&state.db, &secret::digest(&form.token), &client.client_id).await? {
        Event::new("oauth_token_revoked", "oauth_client")
            .on(None, &client.client_id)
            .record(&state.db, state.clock.as_ref(), &req)
            .await;
    }
    Ok(HttpResponse::Ok().json(json!({ "message": "Token revoked" })))
}

/// RFC 7662: what the calling client's access token is; another client's token is inactive.
async fn introspect(state: web::Data<AppState>, Form(form): Form<TokenQuery>) -> Result<HttpResponse, ApiError> {
    let client = oauth::authenticate_client(&state.db, &form.client_id, &form.client_secret).await?;
    let token = oauth_store::access_token(&state.db, &secret::digest(&form.token), &client.client_id).await?;
    let Some(token) = token.filter(|t| !t.revoked && t.user_active && t.expires_at > state.clock.now()) else {
        return Ok(HttpResponse::Ok().json(json!({
            "active": false, "client_id": null, "username": null, "scope": null, "exp": null, "iat": null,
        })));
    };
    Ok(HttpResponse::Ok().json(json!({
        "active": true,
        "client_id": client.client_id,
        "username": token.username,
        "sub": token.user_id.to_string(),
        "scope": token.scope,
        "exp": token.expires_at.timestamp(),
        "iat": token.created_at.timestamp(),
        "token_type": "Bearer",
    })))
}

/// The OAuth2 demo endpoint of `/api/v1`: needs an OAuth2 token with the `read` scope.
async fn protected(state: web::Data<AppState>, req: HttpRequest) -> Result<HttpResponse, ApiError> {
    let token = authenticate::bearer(req.headers())
        .ok()
        .flatten()
        .ok_or_else(|| ApiError::Unauthorized("Missing or invalid authorization header".into()))?;
    let invalid = || ApiError::Unauthorized("Invalid or expired token".into());
    if token.contains('.') {
        return Err(invalid());
    }
    let principal = oauth::principal(&state.db, state.clock.as_ref(), &state.auth, &token)
        .await
        .map_err(|_| invalid())?;
    if !principal.has_scope("read") {
        return Err(ApiError::Forbidden("Scope 'read' required".into()));
    }
    Ok(HttpResponse::Ok().json(json!({
        "message": "Access granted via OAuth2",
        "client_id": principal.client_id,
        "scope": principal.scopes.unwrap_or_default().join(" "),
    })))
}
