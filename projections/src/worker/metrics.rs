//! Per-projection figures for `/metrics`.

use std::sync::atomic::AtomicU64;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;

#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
pub struct ProjectionLabel {
    pub projection: String,
}

#[derive(Debug, Clone, Default)]
pub struct ProjectionMetrics {
    applied: Family<ProjectionLabel, Counter>,
    parked: Family<ProjectionLabel, Counter>,
    lag: Family<ProjectionLabel, Gauge<f64, AtomicU64>>,
    retrying: Family<ProjectionLabel, Gauge>,
    inline_left_to_worker: Family<ProjectionLabel, Counter>,
}

fn label(projection: &str) -> ProjectionLabel {
    ProjectionLabel {
        projection: projection.to_owned(),
    }
}

impl ProjectionMetrics {
    pub fn register(&self, registry: &mut Registry) {
        registry.register(
            "ledgerbot_projection_events_applied",
            "Events applied to a projection (repeats skipped)",
            self.applied.clone(),
        );
        registry.register(
            "ledgerbot_projection_events_parked",
            "Events a projection could not apply and set aside",
            self.parked.clone(),
        );
        registry.register(
            "ledgerbot_projection_lag_seconds",
            "Now minus recorded_at of the last event this process applied",
            self.lag.clone(),
        );
        registry.register(
            "ledgerbot_projection_retrying_aggregates",
            "Aggregates this process holds back behind an event that keeps failing for a reason that may pass",
            self.retrying.clone(),
        );
        registry.register(
            "ledgerbot_projection_inline_left_to_worker",
            "Commands whose inline read model did not apply in their own transaction (a lock waited for too long, an error) and was left to the worker",
            self.inline_left_to_worker.clone(),
        );
    }

    pub fn applied(&self, projection: &str) -> Counter {
        self.applied.get_or_create(&label(projection)).clone()
    }

    pub fn parked(&self, projection: &str) -> Counter {
        self.parked.get_or_create(&label(projection)).clone()
    }

    pub fn retrying(&self, projection: &str) -> Gauge {
        self.retrying.get_or_create(&label(projection)).clone()
    }

    pub fn inline_left_to_worker(&self, projection: &str) -> Counter {
        self.inline_left_to_worker
            .get_or_create(&label(projection))
            .clone()
    }

    pub fn lag(&self, projection: &str) -> Gauge<f64, AtomicU64> {
        self.lag.get_or_create(&label(projection)).clone()
    }
}
