//! WebSocket subscribers (tokio-tungstenite) and the delivery figures W4 and the fan-out share:
//! connect many sockets in batches, note when each `reservation_created` arrives, and compare
//! with when each booking's HTTP response arrived.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use futures::stream::{self, StreamExt, TryStreamExt};
use tokio::net::TcpStream;
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

use crate::api::{Account, Api};
use crate::stats::Samples;

pub type Socket = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// When each reservation's `reservation_created` reached one socket.
pub type Arrivals = HashMap<i64, Instant>;

/// `count` sockets, the i-th signed in as `accounts[i % accounts.len()]` on the node
/// `nodes[i % nodes.len()]`, with `query` (e.g. `resources=7`), opened `batch` at a time so the
/// server's accept queue never overflows.
pub async fn connect_many(
    nodes: &[Api],
    accounts: &[Account],
    count: usize,
    query: &str,
    batch: usize,
) -> Result<Vec<Socket>> {
    stream::iter(0..count)
        .map(|i| {
            let url = nodes[i % nodes.len()].ws_url(&accounts[i % accounts.len()], query);
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
                && let Some(id) = created_reservation(&text)
            {
                arrivals.entry(id).or_insert(at);
            }
        }
        arrivals
    })
}

/// The reservation a `reservation_created` message announces. A scan of the server's compact
/// JSON rather than a parse: with 10,000 sockets on the same two cores as the server, the
/// generator's own work per message shows up in the latency it measures.
fn created_reservation(text: &str) -> Option<i64> {
    if !text.contains(r#""type":"reservation_created""#) {
        return None;
    }
    let key = r#""reservation_id":"#;
    let rest = &text[text.find(key)? + key.len()..];
    let digits = rest.find(|c: char| !c.is_ascii_digit()).unwrap_or(rest.len());
    rest[..digits].parse().ok()
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

/// When a booking request was sent and when its HTTP response arrived.
#[derive(Debug, Clone, Copy)]
pub struct Sent {
    pub sent_at: Instant,
    pub answered_at: Instant,
}

/// Delivery latency over every socket and booking: from the booking's HTTP response to the
/// event (an event that came first counts as 0), and from the booking's request, which also
/// covers events that beat the response; and the events that never came.
pub struct Delivery {
    pub after_response: Samples,
    pub after_request: Samples,
    pub lost: u64,
    pub before_response: u64,
}

pub fn delivery(bookings: &HashMap<i64, Sent>, arrivals: &[Arrivals]) -> Delivery {
    let mut result = Delivery {
        after_response: Samples::default(),
        after_request: Samples::default(),
        lost: 0,
        before_response: 0,
    };
    for socket in arrivals {
        for (id, booking) in bookings {
            match socket.get(id) {
                Some(at) => {
                    result.before_response += u64::from(*at < booking.answered_at);
                    result
                        .after_response
                        .record(at.saturating_duration_since(booking.answered_at));
                    result
                        .after_request
                        .record(at.saturating_duration_since(booking.sent_at));
                }
                None => result.lost += 1,
            }
        }
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_created_reservations_are_recognised() {
        let created = r#"{"end_time":"2030-01-01T11:00:00Z","reservation_id":4217,"resource_id":3,"seq":9,"type":"reservation_created"}"#;
        assert_eq!(created_reservation(created), Some(4217));
        let cancelled = r#"{"reservation_id":4217,"resource_id":3,"seq":10,"type":"reservation_cancelled"}"#;
        assert_eq!(created_reservation(cancelled), None);
        assert_eq!(created_reservation(r#"{"type":"subscribed","seq":3}"#), None);
    }
}
