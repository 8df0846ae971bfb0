//! WebSocket subscribers (tokio-tungstenite) and the delivery figures W4 and the fan-out share:
//! connect many sockets in batches, note when each `reservation_created` arrives, and compare
//! with when each booking's HTTP response arrived.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use futures::stream::{self, StreamExt, TryStreamExt};
use serde_json::Value;
use tokio::net::TcpStream;
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

use crate::api::{Account, Api};
use crate::stats::Samples;

type Socket = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// When each reservation's `reservation_created` reached one socket.
pub type Arrivals = HashMap<i64, Instant>;

/// `count` sockets, the i-th signed in as `accounts[i % accounts.len()]`, with `query` (e.g.
/// `resources=7`), opened `batch` at a time so the server's accept queue never overflows.
pub async fn connect_many(
    api: &Api,
    accounts: &[Account],
    count: usize,
    query: &str,
    batch: usize,
) -> Result<Vec<Socket>> {
    stream::iter(0..count)
        .map(|i| {
            let url = api.ws_url(&accounts[i % accounts.len()], query);
            async move {
                let (socket, _) = tokio_tungstenite::connect_async(url)
                    .await
                    .with_context(|| format!("opening WebSocket {i}"))?;
                anyhow::Ok(socket)
            }
        })
        .buffer_unordered(batch)
        .try_collect()
        .await
}

/// Reads `socket` until `expected` reservations were announced on it or `stop` turns true.
pub fn listen(mut socket: Socket, expected: usize, mut stop: watch::Receiver<bool>) -> JoinHandle<Arrivals> {
    tokio::spawn(async move {
        let mut arrivals = Arrivals::new();
        while arrivals.len() < expected {
            let message = tokio::select! {
                message = socket.next() => message,
                _ = stop.wait_for(|stop| *stop) => break,
            };
            let Some(Ok(message)) = message else { break };
            let at = Instant::now();
            if let Message::Text(text) = message
                && let Ok(event) = serde_json::from_str::<Value>(&text)
                && event["type"] == "reservation_created"
                && let Some(id) = event["reservation_id"].as_i64()
            {
                arrivals.entry(id).or_insert(at);
            }
        }
        arrivals
    })
}

/// Every listener's arrivals, waiting at most `grace` for the stragglers.
pub async fn gather(listeners: Vec<JoinHandle<Arrivals>>, stop: watch::Sender<bool>, grace: Duration) -> Vec<Arrivals> {
    let timer = tokio::spawn(async move {
        tokio::time::sleep(grace).await;
        let _ = stop.send(true);
    });
    let mut all = Vec::with_capacity(listeners.len());
    for listener in listeners {
        all.push(listener.await.unwrap_or_default());
    }
    timer.abort();
    all
}

/// Delivery latency (event arrival − the booking's HTTP response; an event that came first
/// counts as 0) over every socket and booking, and the events that never came.
pub struct Delivery {
    pub samples: Samples,
    pub lost: u64,
    pub before_response: u64,
}

pub fn delivery(answered: &HashMap<i64, Instant>, arrivals: &[Arrivals]) -> Delivery {
    let mut result = Delivery {
        samples: Samples::default(),
        lost: 0,
        before_response: 0,
    };
    for socket in arrivals {
        for (id, response) in answered {
            match socket.get(id) {
                Some(at) => {
                    result.before_response += u64::from(at < response);
                    result.samples.record(at.saturating_duration_since(*response));
                }
                None => result.lost += 1,
            }
        }
    }
    result
}
