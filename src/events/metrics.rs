//! WebSocket metrics, registered on the server's Prometheus registry.

use prometheus::{IntCounter, IntGauge};

use crate::metrics::Metrics;

#[derive(Clone)]
pub struct SocketMetrics {
    /// Sessions open now (also reported by `/ready`).
    pub active: IntGauge,
    pub opened: IntCounter,
    pub sent: IntCounter,
    /// Text messages received from clients (subscriptions, pings).
    pub received: IntCounter,
    pub slow_dropped: IntCounter,
}

impl SocketMetrics {
    pub fn register(metrics: &Metrics) -> SocketMetrics {
        let socket_metrics = SocketMetrics {
            active: IntGauge::new("websocket_connections_active", "WebSocket sessions open now").expect("valid metric"),
            opened: IntCounter::new("websocket_connections_total", "WebSocket sessions opened").expect("valid metric"),
            sent: IntCounter::new(
                "websocket_messages_sent_total",
                "Messages sent to WebSocket clients (events, acknowledgements, errors)",
            )
            .expect("valid metric"),
            received: IntCounter::new(
                "websocket_messages_received_total",
                "Text messages received from WebSocket clients",
            )
            .expect("valid metric"),
            slow_dropped: IntCounter::new(
                "websocket_slow_clients_dropped_total",
                "WebSocket clients disconnected because they did not read their messages",
            )
            .expect("valid metric"),
        };
        metrics.register(Box::new(socket_metrics.active.clone()));
        metrics.register(Box::new(socket_metrics.opened.clone()));
        metrics.register(Box::new(socket_metrics.sent.clone()));
        metrics.register(Box::new(socket_metrics.received.clone()));
        metrics.register(Box::new(socket_metrics.slow_dropped.clone()));
        socket_metrics
    }
}
