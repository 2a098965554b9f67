//! Which connection hears which update: the hub hands each update only to the
//! sockets of the users it names and of the staff whose queues it is in, so an
//! update wakes a handful of connections, not every one the process holds.
//!
//! Each connection has a bounded queue of its own. A connection too slow to take
//! what is queued is marked lagged instead of making the hub wait; on its next
//! update it re-reads what it missed from the table, so nothing is lost. The same
//! queue tells a user's connections that their access changed (a block, a new role).

use projections::read_models::users::Access;

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use projections::read_models::live_updates::feed::{Listener, LiveUpdate};
use tokio::sync::mpsc;
use uuid::Uuid;

/// Updates queued per connection before it must re-read from the table.
const QUEUE: usize = 1_024;

/// What a connection's queue holds.
enum Queued {
    Update(Arc<LiveUpdate>),
    Access(Access),
}

struct Subscriber {
    listener: Listener,
    sender: mpsc::Sender<Queued>,
    lagged: Arc<AtomicBool>,
}

#[derive(Default)]
struct Table {
    next_id: u64,
    subscribers: HashMap<u64, Subscriber>,
    /// Subscribers by the user they listen as.
    by_user: HashMap<Uuid, Vec<u64>>,
    /// Subscribers who hear some staff queue (few: the staff's own sockets), each
    /// asked by [`Listener::hears`].
    staff: Vec<u64>,
}

impl Subscriber {
    fn queue(&self, queued: Queued) {
        match self.sender.try_send(queued) {
            Ok(()) => {}
            Err(mpsc::error::TrySendError::Full(_)) => {
                self.lagged.store(true, Ordering::Release);
            }
            // The socket is closing; its subscription goes with it.
            Err(mpsc::error::TrySendError::Closed(_)) => {}
        }
    }
}

impl Table {
    fn insert(&mut self, id: u64, subscriber: Subscriber) {
        self.by_user
            .entry(subscriber.listener.user_id)
            .or_default()
            .push(id);
        if !subscriber.listener.queues.is_empty() {
            self.staff.push(id);
        }
        self.subscribers.insert(id, subscriber);
    }

    fn remove(&mut self, id: u64) -> Option<Subscriber> {
        let subscriber = self.subscribers.remove(&id)?;
        let user = subscriber.listener.user_id;
        if let Some(ids) = self.by_user.get_mut(&user) {
            ids.retain(|other| *other != id);
            if ids.is_empty() {
                self.by_user.remove(&user);
            }
        }
        self.staff.retain(|other| *other != id);
        Some(subscriber)
    }
}

/// The process's table of connections, shared by the hub and the sockets.
#[derive(Clone, Default)]
pub struct Routes {
    table: Arc<Mutex<Table>>,
}

impl Routes {
    /// A new connection listening as `listener`, unless its user has `limit` open.
    pub fn subscribe(&self, listener: Listener, limit: usize) -> Option<Subscription> {
        let mut table = self.lock();
        let open = table.by_user.get(&listener.user_id).map_or(0, Vec::len);
        if open >= limit {
            return None;
        }
        let (sender, receiver) = mpsc::channel(QUEUE);
        let lagged = Arc::new(AtomicBool::new(false));
        let id = table.next_id;
        table.next_id += 1;
        table.insert(
            id,
            Subscriber {
                listener,
                sender,
                lagged: lagged.clone(),
            },
        );
        drop(table);
        Some(Subscription {
            routes: self.clone(),
            id,
            receiver,
            lagged,
        })
    }

    /// The users with a connection open now.
    pub fn users(&self) -> Vec<Uuid> {
        self.lock().by_user.keys().copied().collect()
    }

    /// Queues `update` for every connection that hears it, in the order of calls.
    pub fn deliver(&self, update: &Arc<LiveUpdate>) {
        let table = self.lock();
        let mut targets: Vec<u64> = update
            .user_ids
            .iter()
            .filter_map(|user| table.by_user.get(user))
            .flatten()
            .copied()
            .collect();
        if update.staff_queue.is_some() {
            targets.extend(table.staff.iter().copied());
        }
        targets.sort_unstable();
        targets.dedup();
        for id in targets {
            let Some(subscriber) = table.subscribers.get(&id) else {
                continue;
            };
            if !subscriber.listener.hears(update) {
                continue;
            }
            subscriber.queue(Queued::Update(update.clone()));
        }
    }

    /// Tells `user`'s connections their access now. One whose queue is full misses
    /// it and re-reads its updates; its next ping asks the hub's access again.
    pub fn tell_access(&self, user: Uuid, access: Access) {
        let table = self.lock();
        for id in table.by_user.get(&user).into_iter().flatten() {
            if let Some(subscriber) = table.subscribers.get(id) {
                subscriber.queue(Queued::Access(access));
            }
        }
    }

    /// Connections in the table now.
    #[cfg(test)]
    fn len(&self) -> usize {
        self.lock().subscribers.len()
    }

    fn lock(&self) -> MutexGuard<'_, Table> {
        match self.table.lock() {
            Ok(table) => table,
            Err(poisoned) => poisoned.into_inner(),
        }
    }
}

/// What a connection takes next.
#[derive(Debug)]
pub enum Delivery {
    Update(Arc<LiveUpdate>),
    /// Updates were dropped because the queue was full: re-read from the table.
    Lagged,
    /// The user's access as the hub last read it, changed since the read before.
    Access(Access),
}

/// One connection's place in the table; dropping it leaves the table.
pub struct Subscription {
    routes: Routes,
    id: u64,
    receiver: mpsc::Receiver<Queued>,
    lagged: Arc<AtomicBool>,
}

impl Subscription {
    /// What comes next: an update, `Lagged` once some were dropped, or a change of
    /// access. A full queue is the only way to lag, so a lagged connection always has
    /// something queued to wake it. The table holds the sending side until this
    /// subscription is dropped, so the queue does not end while it is read.
    pub async fn recv(&mut self) -> Delivery {
        let Some(queued) = self.receiver.recv().await else {
            // Unreachable while the table holds the sender; a re-read is always safe.
            return Delivery::Lagged;
        };
        if self.lagged.swap(false, Ordering::AcqRel) {
            // What is still queued is in the table too: drop it and re-read.
            while self.receiver.try_recv().is_ok() {}
            return Delivery::Lagged;
        }
        match queued {
            Queued::Update(update) => Delivery::Update(update),
            Queued::Access(access) => Delivery::Access(access),
        }
    }

    /// Listens as `listener` from now on (a role changed while connected).
    pub fn listen_as(&self, listener: Listener) {
        let mut table = self.routes.lock();
        if let Some(mut subscriber) = table.remove(self.id) {
            subscriber.listener = listener;
            table.insert(self.id, subscriber);
        }
    }
}

impl Drop for Subscription {
    fn drop(&mut self) {
        self.routes.lock().remove(self.id);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use domain::permissions::Role;

    fn update(position: i64, users: &[Uuid], queue: Option<&str>) -> Arc<LiveUpdate> {
        Arc::new(LiveUpdate {
            position,
            topic: "order".to_owned(),
            id: "o".to_owned(),
            event: "OrderPlaced".to_owned(),
            data: serde_json::json!({}),
            at: chrono::Utc::now(),
            aggregate_type: "Order".to_owned(),
            sequence: 1,
            user_ids: users.to_vec(),
            staff_queue: queue.map(str::to_owned),
        })
    }

    fn open(routes: &Routes, listener: Listener) -> Subscription {
        routes.subscribe(listener, 8).expect("under the limit")
    }

    fn next(subscription: &mut Subscription) -> Option<i64> {
        match subscription.receiver.try_recv() {
            Ok(Queued::Update(update)) => Some(update.position),
            Ok(Queued::Access(_)) | Err(_) => None,
        }
    }

    #[tokio::test]
    async fn an_update_reaches_only_the_connections_that_hear_it() {
        let routes = Routes::default();
        let (alice, bob) = (Uuid::now_v7(), Uuid::now_v7());
        let mut alice_phone = open(&routes, Listener::new(alice, Role::Client));
        let mut alice_laptop = open(&routes, Listener::new(alice, Role::Client));
        let mut bob_socket = open(&routes, Listener::new(bob, Role::Client));
        let mut desk = open(&routes, Listener::new(Uuid::now_v7(), Role::Support));
        let orders_queue = Listener::new(Uuid::now_v7(), Role::Admin).queues[0];

        routes.deliver(&update(1, &[alice], None));
        routes.deliver(&update(2, &[bob], Some(orders_queue)));

        assert_eq!(next(&mut alice_phone), Some(1));
        assert_eq!(next(&mut alice_laptop), Some(1));
        assert_eq!(next(&mut alice_phone), None);
        assert_eq!(next(&mut bob_socket), Some(2));
        assert_eq!(next(&mut bob_socket), None);
        assert_eq!(next(&mut desk), Some(2), "the desk hears the orders queue");
        let mut executor = open(&routes, Listener::new(Uuid::now_v7(), Role::Executor));
        routes.deliver(&update(3, &[bob], Some(orders_queue)));
        assert_eq!(
            next(&mut executor),
            None,
            "an executor hears no staff queue"
        );
    }

    #[tokio::test]
    async fn a_full_queue_marks_the_connection_lagged_and_keeps_the_hub_going() {
        let routes = Routes::default();
        let user = Uuid::now_v7();
        let mut slow = open(&routes, Listener::new(user, Role::Client));
        for position in 1..=(QUEUE as i64 + 5) {
            routes.deliver(&update(position, &[user], None));
        }
        assert!(matches!(slow.recv().await, Delivery::Lagged));
        // The queue was emptied with the lag: the next update comes straight through.
        routes.deliver(&update(QUEUE as i64 + 6, &[user], None));
        match slow.recv().await {
            Delivery::Update(update) => assert_eq!(update.position, QUEUE as i64 + 6),
            other => panic!("expected the next update, got {other:?}"),
        }
    }

    #[tokio::test]
    async fn a_dropped_or_relabelled_connection_leaves_its_old_place() {
        let routes = Routes::default();
        let (user, other) = (Uuid::now_v7(), Uuid::now_v7());
        let gone = open(&routes, Listener::new(user, Role::Client));
        drop(gone);
        assert_eq!(routes.len(), 0);
        let mut socket = open(&routes, Listener::new(user, Role::Client));
        let queue = Listener::new(user, Role::Admin).queues[0];
        socket.listen_as(Listener::new(user, Role::Admin));
        assert_eq!(routes.len(), 1);
        routes.deliver(&update(1, &[other], Some(queue)));
        assert_eq!(next(&mut socket), Some(1), "promoted: hears the queue");
        socket.listen_as(Listener::new(user, Role::Client));
        routes.deliver(&update(2, &[other], Some(queue)));
        assert_eq!(
            next(&mut socket),
            None,
            "demoted: the queue is no longer heard"
        );
        assert_eq!(routes.len(), 1);
    }

    #[tokio::test]
    async fn a_change_of_access_reaches_every_connection_of_that_user_only() {
        let routes = Routes::default();
        let (blocked, other) = (Uuid::now_v7(), Uuid::now_v7());
        let mut phone = open(&routes, Listener::new(blocked, Role::Client));
        let mut laptop = open(&routes, Listener::new(blocked, Role::Client));
        let mut bystander = open(&routes, Listener::new(other, Role::Client));
        routes.tell_access(blocked, Access::Blocked);
        assert!(matches!(
            phone.recv().await,
            Delivery::Access(Access::Blocked)
        ));
        assert!(matches!(
            laptop.recv().await,
            Delivery::Access(Access::Blocked)
        ));
        assert!(bystander.receiver.try_recv().is_err());
    }

    #[tokio::test]
    async fn a_user_holds_at_most_the_limit_and_a_closed_one_frees_its_place() {
        let routes = Routes::default();
        let user = Uuid::now_v7();
        let first = routes.subscribe(Listener::new(user, Role::Client), 2);
        let second = routes.subscribe(Listener::new(user, Role::Client), 2);
        assert!(first.is_some() && second.is_some());
        assert!(
            routes
                .subscribe(Listener::new(user, Role::Client), 2)
                .is_none()
        );
        let someone_else = routes.subscribe(Listener::new(Uuid::now_v7(), Role::Client), 2);
        assert!(someone_else.is_some(), "the limit is per user");
        drop(first);
        assert!(
            routes
                .subscribe(Listener::new(user, Role::Client), 2)
                .is_some()
        );
        assert_eq!(routes.users().len(), 2);
    }
}
