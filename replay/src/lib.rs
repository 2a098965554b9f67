//! The auditor's tool: rebuild read models from the event store, show the history
//! and state of one aggregate at any point, verify the store's integrity, export.
//! Its code arrives with the replay issue; the crate is here so the workspace's
//! dependency graph (`replay` → `domain`, `projections`) is fixed.
