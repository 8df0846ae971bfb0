//! HTTP plumbing shared by all routes: extractors that answer bad input with 422 lists, and the
//! middleware stack. It knows nothing of authentication or rate limits (the route table that
//! wires those around each handler is `crate::routes::table`).

pub mod csv;
pub mod extract;
pub mod middleware;
mod secret_response;

pub use extract::{Form, Json, OptionalJson, Path, Query};
pub use secret_response::{secret_json, secret_json_with};
