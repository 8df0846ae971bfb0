//! WebSocket clients for tests (tokio-tungstenite), connected to `/ws` of a [`TestApp`].
//!
//! ```ignore
//! let mut socket = app.ws(&bob).await;
//! app.book(&bob, room, &at(10, 0), &at(11, 0)).await;
//! let event = socket.next_event().await;
//! assert_eq!(event["type"], "reservation_created");
//! ```

use std::time::Duration;

use futures::{SinkExt, StreamExt};
use serde_json::Value;
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::{Error as WsError, Message};
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

use super::auth::TestUser;
use super::server::TestApp;

/// Longest wait for an expected message: generous, since CI machines are slow; tests never
/// wait this long when things work.
pub const PATIENCE: Duration = Duration::from_secs(10);

pub struct WsClient {
    stream: WebSocketStream<MaybeTlsStream<TcpStream>>,
}

/// How a socket ended.
#[derive(Debug)]
pub enum Ending {
    Closed(Option<CloseFrame>),
    Dropped(String),
}

impl TestApp {
    /// The `/ws` URL with `query` (e.g. `token=…&since=3`).
    pub fn ws_url(&self, query: &str) -> String {
        format!("ws://127.0.0.1:{}/ws?{query}", self.port)
    }

    /// A socket for `user`; `extra` is appended to the query (`since=…`, `resources=…`).
    pub async fn ws_with(&self, user: &TestUser, extra: &str) -> WsClient {
        let url = self.ws_url(&format!("token={}&{extra}", user.token));
        let (stream, response) = tokio_tungstenite::connect_async(url)
            .await
            .expect("the WebSocket handshake succeeds");
        assert_eq!(response.status(), 101);
        WsClient { stream }
    }

    pub async fn ws(&self, user: &TestUser) -> WsClient {
        self.ws_with(user, "").await
    }

    /// The HTTP status a refused handshake answers with.
    pub async fn ws_refusal(&self, query: &str) -> u16 {
        match tokio_tungstenite::connect_async(self.ws_url(query)).await {
            Err(WsError::Http(response)) => response.status().as_u16(),
            Err(other) => panic!("expected an HTTP refusal, got {other}"),
            Ok(_) => panic!("the handshake was accepted"),
        }
    }

    /// A socket for `user` whose receive buffer is tiny and that the test never reads: a slow
    /// consumer.
    pub async fn ws_that_never_reads(&self, user: &TestUser) -> WsClient {
        let socket = tokio::net::TcpSocket::new_v4().expect("socket");
        socket.set_recv_buffer_size(4096).expect("SO_RCVBUF");
        let tcp = socket
            .connect(([127, 0, 0, 1], self.port).into())
            .await
            .expect("connecting");
        let url = self.ws_url(&format!("token={}", user.token));
        let (stream, _) = tokio_tungstenite::client_async(url, MaybeTlsStream::Plain(tcp))
            .await
            .expect("the WebSocket handshake succeeds");
        WsClient { stream }
    }
}

impl WsClient {
    /// The next JSON message (pings are answered and skipped); panics after [`PATIENCE`].
    pub async fn next_json(&mut self) -> Value {
        match tokio::time::timeout(PATIENCE, self.next_text()).await {
            Ok(Ok(text)) => serde_json::from_str(&text).expect("messages are JSON"),
            Ok(Err(ending)) => panic!("the socket ended while a message was expected: {ending:?}"),
            Err(_) => panic!("no message within {PATIENCE:?}"),
        }
    }

    /// The next message of type `kind`, skipping others (such as a `resource_created` committed
    /// just before the socket connected, which may still arrive after it).
    pub async fn next_of(&mut self, kind: &str) -> Value {
        loop {
            let message = self.next_json().await;
            if message["type"] == kind {
                return message;
            }
        }
    }

    /// The next text message, or how the socket ended.
    pub async fn next_text(&mut self) -> Result<String, Ending> {
        loop {
            match self.stream.next().await {
                Some(Ok(Message::Text(text))) => return Ok(text.to_string()),
                Some(Ok(Message::Close(frame))) => return Err(Ending::Closed(frame)),
                Some(Ok(_)) => continue,
                Some(Err(error)) => return Err(Ending::Dropped(error.to_string())),
                None => return Err(Ending::Dropped("end of stream".into())),
            }
        }
    }

    /// Reads until the socket ends (skipping messages); panics after [`PATIENCE`].
    pub async fn ending(&mut self) -> Ending {
        let wait = async {
            loop {
                if let Err(ending) = self.next_text().await {
                    return ending;
                }
            }
        };
        tokio::time::timeout(PATIENCE, wait).await.expect("the socket ends")
    }

    pub async fn send_json(&mut self, message: Value) {
        self.send_text(&message.to_string()).await;
    }

    pub async fn send_text(&mut self, text: &str) {
        self.stream.send(Message::text(text)).await.expect("sending");
    }

    pub async fn send_binary(&mut self, bytes: &[u8]) {
        self.stream
            .send(Message::binary(bytes.to_vec()))
            .await
            .expect("sending");
    }

    /// Sends `subscribe` and returns the acknowledgement.
    pub async fn subscribe(&mut self, request: Value) -> Value {
        let mut message = request;
        message["type"] = "subscribe".into();
        self.send_json(message).await;
        let answer = self.next_json().await;
        assert_eq!(answer["type"], "subscribed", "{answer}");
        answer
    }

    pub async fn close(mut self) {
        let _ = self.stream.close(None).await;
        // Read the server's answering close frame, so the server has seen the end.
        let _ = tokio::time::timeout(PATIENCE, async { while self.stream.next().await.is_some() {} }).await;
    }
}
