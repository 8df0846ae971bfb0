//! HTTP plumbing shared by all routes: the route table, extractors that answer bad input with
//! 422 lists, and the middleware stack.

pub mod csv;
pub mod extract;
pub mod idempotency;
pub mod middleware;
pub mod route_table;
mod secret_response;

pub use extract::{Form, Json, OptionalJson, Path, Query};
pub use route_table::{Access, Endpoint, RouteTable};
pub use secret_response::{secret_json, secret_json_with};
