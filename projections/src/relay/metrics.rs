//! What the relay counts, for `/metrics`.

use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;

/// Counters shared by every clone; register them once with [`RelayMetrics::register`].
#[derive(Debug, Clone, Default)]
pub struct RelayMetrics {
    pub events_published: Counter,
    pub duplicates_suppressed: Counter,
    pub publish_failures: Counter,
    pub events_parked: Counter,
    pub active: Gauge,
}

impl RelayMetrics {
    pub fn register(&self, registry: &mut Registry) {
        registry.register(
            "ledgerbot_relay_events_published",
            "Events published to JetStream and acknowledged by it",
            self.events_published.clone(),
        );
        registry.register(
            "ledgerbot_relay_duplicates_suppressed",
            "Publishes JetStream acknowledged as duplicates of an earlier publish",
            self.duplicates_suppressed.clone(),
        );
        registry.register(
            "ledgerbot_relay_publish_failures",
            "Batches whose publish or acknowledgement failed and will be retried",
            self.publish_failures.clone(),
        );
        registry.register(
            "ledgerbot_relay_events_parked",
            "Events set aside in outbox_parked because they cannot be published",
            self.events_parked.clone(),
        );
        registry.register(
            "ledgerbot_relay_active",
            "1 while this process holds the relay lock and relays events",
            self.active.clone(),
        );
    }
}
