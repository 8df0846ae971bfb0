//! Reading answers and making requests the way the API tests need: a status with the JSON body or
//! its `detail`, and a client connecting from a chosen loopback address.

use std::net::{IpAddr, Ipv4Addr};

use serde_json::Value;

/// The status and the whole JSON body of `response`.
pub async fn status_and_body(response: reqwest::Response) -> (u16, Value) {
    let status = response.status().as_u16();
    (status, response.json().await.expect("a JSON body"))
}

/// The status and the `detail` message of `response` (empty when `detail` is not a string).
pub async fn status_and_detail(response: reqwest::Response) -> (u16, String) {
    let (status, body) = status_and_body(response).await;
    (status, body["detail"].as_str().unwrap_or_default().to_owned())
}

/// A client whose connections come from `address` (Linux routes all of 127/8 to loopback), so a
/// test can act as many clients at different addresses.
pub fn client_from(address: Ipv4Addr) -> reqwest::Client {
    reqwest::Client::builder()
        .local_address(IpAddr::V4(address))
        .build()
        .expect("a client bound to a loopback address")
}
