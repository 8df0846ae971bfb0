//! The API's own documentation: the OpenAPI document (`/openapi.json`, see `crate::openapi`),
//! Swagger UI (`/docs`) and ReDoc (`/redoc`), as the original served them.
//!
//! Both pages load everything from this server (Swagger UI from the `utoipa-swagger-ui` crate's
//! vendored files, ReDoc from `src/openapi/vendor/`), so they work without internet; their
//! Content-Security-Policy allows only the server's own origin, which makes that a rule the
//! browser enforces. They are excluded from the document itself (`crate::openapi::EXCLUDED`).

use std::sync::{Arc, OnceLock};

use actix_web::HttpResponse;
use actix_web::http::header::{self, HeaderValue};
use utoipa_swagger_ui::Config;

use super::table::RouteTable;
use crate::auth::Access;
use crate::error::ApiError;
use crate::http::Path;

pub fn declare(table: &mut RouteTable) {
    table
        .get("/openapi.json", Access::Public, document)
        .get("/docs", Access::Public, docs_root)
        .get("/docs/{file:.*}", Access::Public, swagger_file)
        .get("/redoc", Access::Public, redoc_page)
        .get("/redoc/redoc.standalone.js", Access::Public, redoc_script);
}

/// Own origin only; inline styles are allowed because both UIs set styles from script.
const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; \
     img-src 'self' data:; font-src 'self' data:; worker-src 'self' blob:; connect-src 'self'; \
     frame-ancestors 'none'; object-src 'none'; base-uri 'none'";

fn page(content_type: &str, body: impl actix_web::body::MessageBody + 'static) -> HttpResponse {
    let mut response = HttpResponse::Ok().content_type(content_type).body(body);
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CONTENT_SECURITY_POLICY),
    );
    headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    response
}

/// The document of the server's own route table, built once.
fn served() -> &'static serde_json::Value {
    static DOCUMENT: OnceLock<serde_json::Value> = OnceLock::new();
    DOCUMENT.get_or_init(|| {
        let table = super::table();
        crate::openapi::document(table.endpoints().map(|endpoint| crate::openapi::Endpoint {
            method: &endpoint.method,
            path: &endpoint.path,
            access: endpoint.access,
            alias: endpoint.alias,
            body: endpoint.body,
            query: endpoint.query,
        }))
    })
}

async fn document() -> HttpResponse {
    HttpResponse::Ok().json(served())
}

/// Swagger UI's page. It refers to its files relatively, and `/docs/` is normalised to `/docs`
/// (`NormalizePath::trim`), so they are made absolute (`/docs/<file>`).
async fn docs_root() -> Result<HttpResponse, ApiError> {
    let file = swagger("index.html")?;
    let html = String::from_utf8_lossy(&file.bytes)
        .replace("=\"./", "=\"/docs/")
        .replace("href=\"index.css\"", "href=\"/docs/index.css\"");
    Ok(page("text/html; charset=utf-8", html))
}

fn swagger(path: &str) -> Result<utoipa_swagger_ui::SwaggerFile<'static>, ApiError> {
    utoipa_swagger_ui::serve(path, swagger_config())
        .map_err(|error| ApiError::internal(error.to_string()))?
        .ok_or_else(|| ApiError::NotFound("Not Found".into()))
}

fn swagger_config() -> Arc<Config<'static>> {
    static CONFIG: OnceLock<Arc<Config<'static>>> = OnceLock::new();
    CONFIG
        .get_or_init(|| {
            Arc::new(
                Config::new(["/openapi.json"])
                    // The default validator is an outside service: the badge would call it.
                    .validator_url("none")
                    .persist_authorization(true)
                    .try_it_out_enabled(true)
                    .display_request_duration(true),
            )
        })
        .clone()
}

#[derive(serde::Deserialize)]
struct SwaggerPath {
    file: String,
}

async fn swagger_file(Path(path): Path<SwaggerPath>) -> Result<HttpResponse, ApiError> {
    let file = swagger(&path.file)?;
    let mut response = page(&file.content_type, file.bytes.into_owned());
    if file.gzpipped {
        response
            .headers_mut()
            .insert(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
    }
    Ok(response)
}

const REDOC_PAGE: &str = r#"<!DOCTYPE html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>Resource Reserver API — ReDoc</title>
</head>
<body>
  <redoc spec-url="/openapi.json"></redoc>
  <script src="/redoc/redoc.standalone.js"></script>
</body>
</html>
"#;

async fn redoc_page() -> HttpResponse {
    page("text/html; charset=utf-8", REDOC_PAGE)
}

static REDOC_SCRIPT: &[u8] = include_bytes!("../openapi/vendor/redoc.standalone.js");

async fn redoc_script() -> HttpResponse {
    page("text/javascript; charset=utf-8", REDOC_SCRIPT)
}
