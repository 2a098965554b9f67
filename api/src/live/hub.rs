//! One watcher per process: reads new live updates once for all connections.

use std::collections::HashMap;
use std::sync::{Arc, Weak};
use std::time::Duration;

use projections::ReadModels;
use projections::read_models::live_updates::feed::{self, Listener, LiveUpdate};
use projections::read_models::live_updates::topic_of;
use projections::read_models::users::Access;
use projections::read_your_writes::Checkpoints;
use projections::relay::wakeup::Wakeup;
use sqlx::PgPool;
use tracing::warn;

use super::access::{self, AccessCache};
use super::routes::{Routes, Subscription};

/// The channel name the `rm_live_updates` trigger notifies on.
const CHANNEL: &str = "live_updates";
/// Rows read per round.
const BATCH: i64 = 500;
/// How long an update waits for its read model before it is sent anyway.
const READ_MODEL_WAIT: Duration = Duration::from_secs(2);
/// How often the watcher looks even without a notification.
const POLL: Duration = Duration::from_secs(1);

struct Inner {
    routes: Routes,
    access: Arc<AccessCache>,
}

/// Hands each connection the updates it hears as they become readable, and tells it
/// when its user's access changes.
#[derive(Clone)]
pub struct LiveHub {
    inner: Arc<Inner>,
    pool: PgPool,
    checkpoints: Checkpoints,
}

impl LiveHub {
    /// Starts the watcher, and the reader of connected users' access; they end when
    /// the last handle is dropped.
    pub fn start(reads: ReadModels) -> Self {
        let (pool, checkpoints) = (reads.pool().clone(), reads.checkpoints().clone());
        let hub = Self {
            inner: Arc::new(Inner {
                routes: Routes::default(),
                access: Arc::new(AccessCache::default()),
            }),
            pool,
            checkpoints,
        };
        tokio::spawn(watch(
            Arc::downgrade(&hub.inner),
            hub.pool.clone(),
            hub.checkpoints.clone(),
        ));
        let (connected, told) = (Arc::downgrade(&hub.inner), Arc::downgrade(&hub.inner));
        tokio::spawn(access::refresh(
            Arc::downgrade(&hub.inner.access),
            reads,
            move || {
                connected
                    .upgrade()
                    .map(|inner| inner.routes.users())
                    .unwrap_or_default()
            },
            move |user, access| {
                if let Some(inner) = told.upgrade() {
                    inner.routes.tell_access(user, access);
                }
            },
        ));
        hub
    }

    /// What `user` may do as last read (every [`access::REFRESH_EVERY`]), or `None`
    /// before the first read that knew them.
    pub fn access(&self, user: uuid::Uuid) -> Option<Access> {
        self.inner.access.of(user)
    }

    /// The updates `listener` hears from now on, unless its user has `limit`
    /// connections open. Subscribe before reading the backlog, so nothing falls
    /// between the two.
    pub fn subscribe(&self, listener: Listener, limit: usize) -> Option<Subscription> {
        self.inner.routes.subscribe(listener, limit)
    }

    pub fn pool(&self) -> &PgPool {
        &self.pool
    }

    /// Waits (bounded) until the read model a client re-reads after each update has
    /// applied it, so "something changed" is never followed by a stale read.
    pub async fn wait_readable(&self, updates: &[LiveUpdate]) {
        wait_readable(&self.checkpoints, updates).await;
    }
}

async fn wait_readable(checkpoints: &Checkpoints, updates: &[LiveUpdate]) {
    let mut newest: HashMap<(projections::ProjectionName, &str, &str), i64> = HashMap::new();
    for update in updates {
        let Some((_, projection)) = topic_of(&update.aggregate_type) else {
            continue;
        };
        let key = (
            projection,
            update.aggregate_type.as_str(),
            update.id.as_str(),
        );
        let sequence = newest.entry(key).or_default();
        *sequence = (*sequence).max(update.sequence);
    }
    let waits = newest
        .into_iter()
        .map(|((projection, aggregate_type, id), sequence)| {
            checkpoints.caught_up(
                projection,
                aggregate_type,
                id,
                usize::try_from(sequence).unwrap_or(0),
                READ_MODEL_WAIT,
            )
        });
    futures_util::future::join_all(waits).await;
}

async fn watch(hub: Weak<Inner>, pool: PgPool, checkpoints: Checkpoints) {
    let wakeup = loop {
        if hub.strong_count() == 0 {
            return;
        }
        match Wakeup::listen(&pool, CHANNEL).await {
            Ok(wakeup) => break wakeup,
            Err(error) => {
                warn!(%error, "cannot listen for live updates; retrying in a second");
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
        }
    };
    let mut last = loop {
        match feed::head(&pool).await {
            Ok(head) => break head.position,
            Err(error) => {
                warn!(%error, "cannot read the live updates' head; retrying in a second");
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
        }
        if hub.strong_count() == 0 {
            return;
        }
    };
    loop {
        let Some(inner) = hub.upgrade() else {
            return;
        };
        let updates = match feed::all_after(&pool, last, BATCH).await {
            Ok(updates) => updates,
            Err(error) => {
                drop(inner);
                warn!(%error, "reading live updates failed; retrying in a second");
                tokio::time::sleep(Duration::from_secs(1)).await;
                continue;
            }
        };
        let Some(newest) = updates.last().map(|update| update.position) else {
            drop(inner);
            wakeup.wait(POLL).await;
            continue;
        };
        wait_readable(&checkpoints, &updates).await;
        for update in updates {
            inner.routes.deliver(&Arc::new(update));
        }
        last = newest;
    }
}
