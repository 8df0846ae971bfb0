//! The OAuth2 provider: client registration, the authorization-code grant with mandatory PKCE
//! (S256), client credentials, refresh, revocation and introspection (RFC 6749, 7636, 7009,
//! 7662), in the original's shapes. Scopes are limited to what the client was registered for,
//! and a client may only revoke or introspect its own tokens.

use actix_web::http::Method;
use actix_web::{HttpRequest, HttpResponse, web};
use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::auth::audit::Event;
use crate::auth::oauth::{self, Client, Grant};
use crate::auth::{Permission, Principal, authenticate, secret};
use crate::error::ApiError;
use crate::http::{Access, Bounded, Form, Json, Path, Query, RouteTable, secret_json};
use crate::params;
use crate::state::AppState;

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

#[derive(Deserialize)]
struct NewClient {
    client_name: String,
    redirect_uris: Bounded<String, MAX_REDIRECT_URIS>,
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
    state
        .db
        .execute(
            "INSERT INTO oauth2_clients (client_id, client_secret_hash, client_name, redirect_uris, grant_types, scope, owner_id, created_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
            params![
                client_id.as_str(),
                secret::digest(&client_secret),
                body.client_name.as_str(),
                json!(body.redirect_uris).to_string(),
                grant_types.as_str(),
                scope.as_str(),
                principal.user_id,
                state.clock.now()
            ],
        )
        .await?;
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
    let rows = state
        .db
        .query(
            "SELECT id, client_id, client_name, redirect_uris, grant_types, scope, created_at
             FROM oauth2_clients WHERE owner_id = $1 ORDER BY id",
            params![principal.user_id],
        )
        .await?;
    let clients = rows
        .iter()
        .map(|row| {
            Ok(json!({
                "id": row.get::<i64>("id")?,
                "client_id": row.get::<String>("client_id")?,
                "client_name": row.get::<String>("client_name")?,
                "redirect_uris": row.get::<Value>("redirect_uris")?,
                "grant_types": row.get::<String>("grant_types")?,
                "scope": row.get::<String>("scope")?,
                "created_at": row.get::<DateTime<Utc>>("created_at")?,
            }))
        })
        .collect::<Result<Vec<_>, ApiError>>()?;
    Ok(HttpResponse::Ok().json(clients))
}

#[derive(Deserialize)]
struct ClientPath {
    client_id: String,
}

/// Deletes one of the caller's clients (and so its codes and tokens). Another user's client is
/// "not found", as in the original, admins included.
async fn delete_client(
    state: web::Data<AppState>,
    req: HttpRequest,
    principal: Principal,
    Path(path): Path<ClientPath>,
) -> Result<HttpResponse, ApiError> {
    let deleted = state
        .db
        .execute(
            "DELETE FROM oauth2_clients WHERE client_id = $1 AND owner_id = $2",
            params![path.client_id.as_str(), principal.user_id],
        )
        .await?;
    if deleted == 0 {
        return Err(ApiError::NotFound("OAuth2 client not found or unauthorized".into()));
    }
    Event::new("oauth_client_deleted", "oauth_client")
        .by_principal(&principal)
        .on(None, &path.client_id)
        .record(&state.db, state.clock.as_ref(), &req)
        .await;
    Ok(HttpResponse::Ok().json(json!({ "message": "OAuth2 client deleted successfully" })))
}

#[derive(Deserialize)]
struct Authorization {
    client_id: String,
    redirect_uri: String,
    #[serde(default = "default_response_type")]
    response_type: String,
    #[serde(default = "default_requested_scope")]
    scope: String,
    state: Option<String>,
    code_challenge: Option<String>,
    code_challenge_method: Option<String>,
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

/// The signed-in user approves `client_id`: answers the redirect with a single-use code (JSON,
/// as the original, not a 302).
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
    state
        .db
        .execute(
            "INSERT INTO oauth2_authorization_codes (code_hash, client_id, user_id, redirect_uri, scope, code_challenge, expires_at, created_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
            params![
                secret::digest(&code),
                client.client_id.as_str(),
                principal.user_id,
                query.redirect_uri.as_str(),
                scope.join(" "),
                challenge,
                now + chrono::Duration::seconds(oauth::CODE_SECONDS),
                now
            ],
        )
        .await?;
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

#[derive(Deserialize)]
struct TokenRequest {
    grant_type: String,
    client_id: String,
    client_secret: String,
    code: Option<String>,
    redirect_uri: Option<String>,
    refresh_token: Option<String>,
    code_verifier: Option<String>,
    scope: Option<String>,
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
                // The original granted "read"; never more than the client holds.
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
    let row = tx
        .query_opt(
            "SELECT client_id, user_id, redirect_uri, scope, code_challenge, expires_at, used
             FROM oauth2_authorization_codes WHERE code_hash = $1",
            params![secret::digest(code)],
        )
        .await?
        .ok_or_else(invalid)?;
    if row.get::<bool>("used")? || row.get::<DateTime<Utc>>("expires_at")? <= state.clock.now() {
        return Err(invalid());
    }
    // The compare-and-set is the race guard: of concurrent redemptions, one claims the code.
    let claimed = tx
        .execute(
            "UPDATE oauth2_authorization_codes SET used = $2 WHERE code_hash = $1 AND used = $3",
            params![secret::digest(code), true, false],
        )
        .await?;
    if claimed != 1 {
        return Err(invalid());
    }
    let outcome = check_code(client, &row, redirect_uri, form.code_verifier.as_deref());
    let grant = match outcome {
        Ok(()) => {
            let scope: String = row.get("scope")?;
            let user_id: i64 = row.get("user_id")?;
            Some(
                oauth::issue(
                    state.clock.as_ref(),
                    tx.as_mut(),
                    &client.client_id,
                    Some(user_id),
                    &scope,
                    true,
                )
                .await?,
            )
        }
        Err(_) => None,
    };
    tx.commit().await?;
    outcome.map(|()| grant.ok_or_else(invalid))?
}

fn check_code(
    client: &Client,
    row: &crate::storage::Row,
    redirect_uri: &str,
    verifier: Option<&str>,
) -> Result<(), ApiError> {
    if row.get::<String>("client_id")? != client.client_id {
        return Err(bad_request("Client mismatch"));
    }
    if row.get::<String>("redirect_uri")? != redirect_uri {
        return Err(bad_request("Redirect URI mismatch"));
    }
    let verifier = verifier.ok_or_else(|| bad_request("code_verifier is required (PKCE)"))?;
    if !secret::same(&secret::s256(verifier), &row.get::<String>("code_challenge")?) {
        return Err(bad_request("Invalid code_verifier"));
    }
    Ok(())
}

/// Rotates a refresh token of this client (the original accepted any client's).
async fn exchange_refresh_token(state: &AppState, client: &Client, form: &TokenRequest) -> Result<Grant, ApiError> {
    let presented = form
        .refresh_token
        .as_deref()
        .ok_or_else(|| bad_request("refresh_token required"))?;
    let invalid = || bad_request("Invalid refresh token");
    let ttl = chrono::Duration::from_std(state.settings.refresh_token_ttl).unwrap_or(chrono::Duration::days(7));
    let mut tx = state.db.begin().await?;
    let row = tx
        .query_opt(
            "SELECT id, user_id, scope, created_at FROM oauth2_tokens
             WHERE refresh_token_hash = $1 AND client_id = $2 AND revoked = $3",
            params![secret::digest(presented), client.client_id.as_str(), false],
        )
        .await?
        .ok_or_else(invalid)?;
    if row.get::<DateTime<Utc>>("created_at")? + ttl <= state.clock.now() {
        return Err(invalid());
    }
    // Revoking is the race guard: of two concurrent exchanges, one wins.
    let revoked = tx
        .execute(
            "UPDATE oauth2_tokens SET revoked = $2 WHERE id = $1 AND revoked = $3",
            params![row.get::<i64>("id")?, true, false],
        )
        .await?;
    if revoked != 1 {
        return Err(invalid());
    }
    let scope: String = row.get("scope")?;
    let grant = oauth::issue(
        state.clock.as_ref(),
        tx.as_mut(),
        &client.client_id,
        row.get("user_id")?,
        &scope,
        true,
    )
    .await?;
    tx.commit().await?;
    Ok(grant)
}

#[derive(Deserialize)]
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
    let digest = secret::digest(&form.token);
    let revoked = state
        .db
        .execute(
            "UPDATE oauth2_tokens SET revoked = $3
             WHERE client_id = $2 AND (access_token_hash = $1 OR refresh_token_hash = $1)",
            params![digest, client.client_id.as_str(), true],
        )
        .await?;
    if revoked > 0 {
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
    let row = state
        .db
        .query_opt(
            "SELECT t.scope, t.expires_at, t.created_at, t.revoked, u.id AS user_id, u.username, u.is_active
             FROM oauth2_tokens t
             JOIN oauth2_clients c ON c.client_id = t.client_id
             JOIN users u ON u.id = COALESCE(t.user_id, c.owner_id)
             WHERE t.access_token_hash = $1 AND t.client_id = $2",
            params![secret::digest(&form.token), client.client_id.as_str()],
        )
        .await?;
    let active = match &row {
        Some(row) => {
            !row.get::<bool>("revoked")?
                && row.get::<bool>("is_active")?
                && row.get::<DateTime<Utc>>("expires_at")? > state.clock.now()
        }
        None => false,
    };
    let Some(row) = row.filter(|_| active) else {
        return Ok(HttpResponse::Ok().json(json!({
            "active": false, "client_id": null, "username": null, "scope": null, "exp": null, "iat": null,
        })));
    };
    Ok(HttpResponse::Ok().json(json!({
        "active": true,
        "client_id": client.client_id,
        "username": row.get::<String>("username")?,
        "sub": row.get::<i64>("user_id")?.to_string(),
        "scope": row.get::<String>("scope")?,
        "exp": row.get::<DateTime<Utc>>("expires_at")?.timestamp(),
        "iat": row.get::<DateTime<Utc>>("created_at")?.timestamp(),
        "token_type": "Bearer",
    })))
}

/// The original's OAuth2 demo endpoint: needs an OAuth2 token with the `read` scope.
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
