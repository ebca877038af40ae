//! The node shared by the HTTP handlers and the sync sessions of one process.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::{Mutex, PoisonError};

use service::Node;

/// A call on the node panicked; the node was restored and serves on.
#[derive(Debug, thiserror::Error)]
#[error("the node failed on this call ({0}); it was restored and serves on")]
pub struct Panicked(pub String);

/// Runs `f` with the node locked. A panic in `f` is caught and the node's plan reloaded
/// from the database (the failed write's transaction rolled back), so that one failing
/// request or peer never stops the node nor leaves the lock poisoned for the others.
pub fn locked<T>(node: &Mutex<Node>, f: impl FnOnce(&mut Node) -> T) -> Result<T, Panicked> {
    let mut guard = node.lock().unwrap_or_else(PoisonError::into_inner);
    let result = catch_unwind(AssertUnwindSafe(|| f(&mut guard)));
    result.map_err(|panic| {
        let message = panic
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| panic.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "a panic".to_string());
        tracing::error!("a call on the node panicked: {message}; reloading the plan");
        if let Err(e) = guard.store.reload() {
            tracing::error!("reloading the plan failed: {e}");
        }
        Panicked(message)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    // Scenario: a call panics in the middle of a write, holding the node.
    // Assert: the panic is reported as an error, the lock is not poisoned, what was committed
    // before it stays (the plan reloaded from the database), and the next calls work.
    #[test]
    fn a_panic_in_one_call_leaves_the_node_serving() {
        let node = Mutex::new(Node::with_store(store::Store::open_in_memory().unwrap()));
        let failed = locked(&node, |n| {
            n.create_festival(service::node::NewFestival { name: "Before".into(), ..Default::default() }).unwrap();
            panic!("boom");
        });
        assert!(matches!(failed, Err(Panicked(m)) if m == "boom"));
        assert!(!node.is_poisoned());
        let names = locked(&node, |n| n.festivals().into_iter().map(|f| f.name).collect::<Vec<_>>()).unwrap();
        assert_eq!(names, vec!["Before".to_string()], "the committed write stays; the plan was reloaded");
        locked(&node, |n| n.create_festival(service::node::NewFestival { name: "After".into(), ..Default::default() }))
            .unwrap()
            .unwrap();
    }
}
