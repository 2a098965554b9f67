//! What a database failure means: one that may pass (the connection, the pool, the
//! server shutting down, restarting or read-only during a failover, short of
//! resources, a serialization failure or a deadlock), or one that will fail the same
//! way every time (refused data, a broken constraint, bad SQL, an internal error).
//! Every retry decision in the product asks this one function.

/// True for a database failure that may pass when tried again.
pub fn is_transient(error: &sqlx::Error) -> bool {
    match error {
        sqlx::Error::Database(database) => {
            let code = database
                .code()
                .map(|code| code.into_owned())
                .unwrap_or_default();
            let class = code.get(..2).unwrap_or_default();
            // 08 connection, 40 rollback (serialization, deadlock), 53 resources,
            // 55P03 lock not available, 57 shutdown / cannot connect now, 58 system,
            // 25006 read-only transaction (a failover or switchover in progress).
            matches!(class, "08" | "40" | "53" | "57" | "58") || code == "55P03" || code == "25006"
        }
        sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::Protocol(_)
        | sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::WorkerCrashed => true,
        _ => false,
    }
}

/// True when the database could not be reached at all (not one statement failing):
/// a worker then waits instead of trying each event on its own.
pub fn is_connection_lost(error: &sqlx::Error) -> bool {
    match error {
        sqlx::Error::Database(database) => database
            .code()
            .is_some_and(|code| code.starts_with("08") || code.starts_with("57")),
        sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::WorkerCrashed => true,
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outages_are_transient_and_refusals_are_not() {
        assert!(is_transient(&sqlx::Error::PoolTimedOut));
        let reset = std::io::Error::new(std::io::ErrorKind::ConnectionReset, "reset");
        assert!(is_transient(&sqlx::Error::Io(reset)));
        assert!(is_connection_lost(&sqlx::Error::PoolClosed));
        assert!(!is_transient(&sqlx::Error::RowNotFound));
        assert!(!is_connection_lost(&sqlx::Error::RowNotFound));
    }
}
