//! The process's Prometheus registry: HTTP request counts and latencies, the relay's
//! counters, and outbox depth and lag (read from Postgres at scrape time, so they are
//! right whichever process runs the active relay).

use std::sync::Arc;
use std::sync::atomic::AtomicU64;

use projections::relay::{OutboxStatus, RelayMetrics};
use projections::worker::ProjectionMetrics;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
pub struct RequestLabels {
    pub method: String,
    /// The matched route template (`/orders/{id}`), never the raw path, so ids do
    /// not explode the number of series.
    pub route: String,
    pub status: u16,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
pub struct RouteLabels {
    pub method: String,
    pub route: String,
}

fn latency_histogram() -> Histogram {
    // 1 ms .. ~16 s
    Histogram::new(exponential_buckets(0.001, 2.0, 15))
}

#[derive(Clone)]
pub struct Metrics {
    registry: Arc<Registry>,
    pub http_requests: Family<RequestLabels, Counter>,
    pub http_latency: Family<RouteLabels, Histogram, fn() -> Histogram>,
    pub relay: RelayMetrics,
    pub projections: ProjectionMetrics,
    outbox_depth: Gauge,
    relay_lag_seconds: Gauge<f64, AtomicU64>,
    outbox_parked: Gauge,
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    pub fn new() -> Self {
        let mut registry = Registry::default();
        let http_requests = Family::<RequestLabels, Counter>::default();
        let http_latency: Family<RouteLabels, Histogram, fn() -> Histogram> =
            Family::new_with_constructor(latency_histogram);
        let relay = RelayMetrics::default();
        let outbox_depth = Gauge::default();
        let relay_lag_seconds = Gauge::<f64, AtomicU64>::default();
        let outbox_parked = Gauge::default();
        registry.register(
            "ledgerbot_http_requests",
            "HTTP requests answered, by method, route and status",
            http_requests.clone(),
        );
        registry.register(
            "ledgerbot_http_request_duration_seconds",
            "HTTP request latency, by method and route",
            http_latency.clone(),
        );
        relay.register(&mut registry);
        let projections = ProjectionMetrics::default();
        projections.register(&mut registry);
        registry.register(
            "ledgerbot_outbox_depth",
            "Committed events not yet acknowledged by JetStream",
            outbox_depth.clone(),
        );
        registry.register(
            "ledgerbot_relay_lag_seconds",
            "Age of the oldest event still waiting in the outbox (0 when empty)",
            relay_lag_seconds.clone(),
        );
        registry.register(
            "ledgerbot_outbox_parked",
            "Events set aside in outbox_parked because they cannot be published",
            outbox_parked.clone(),
        );
        Self {
            registry: Arc::new(registry),
            http_requests,
            http_latency,
            relay,
            projections,
            outbox_depth,
            relay_lag_seconds,
            outbox_parked,
        }
    }

    pub fn observe_outbox(&self, status: OutboxStatus) {
        self.outbox_depth.set(status.depth);
        self.relay_lag_seconds.set(status.lag_seconds);
        self.outbox_parked.set(status.parked);
    }

    /// The registry in the Prometheus / OpenMetrics text format.
    pub fn encode(&self) -> Result<String, std::fmt::Error> {
        let mut text = String::new();
        prometheus_client::encoding::text::encode(&mut text, &self.registry)?;
        Ok(text)
    }
}
