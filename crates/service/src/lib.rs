//! What a pandafest node does, whether it runs as the native `pandafest` binary or in a
//! browser: the operations over a [`store::Store`], shared by every interface.
//!
//! - [`Node`]: create, list, confirm, … each checked before it is signed; every write
//!   runs the policy agent.
//! - [`agent`]: the owner's policy agent, deciding requests for this node's resources in
//!   the order the node learned of them, and releasing withdrawn slots.
//! - [`views`]: the JSON shapes of `docs/api.md`.
//! - [`ical`]: iCalendar export.
//! - [`ApiError`]: a message a person understands, and its kind (bad input, not found, conflict).
//!
//! No I/O besides the store; external policy hooks are registered by the native node.

pub mod agent;
pub mod api;
pub mod error;
#[doc(hidden)]
pub mod fuzz;
pub mod hub;
pub mod invite;
pub mod neighbours;
pub mod node;
pub mod notify;
pub mod publish;
pub mod views;

pub use error::{ApiError, ApiResult, ErrorKind};
pub use node::Node;

use std::collections::BTreeSet;

/// The current time, from the operating system or, in a browser, from `Date.now()`.
pub fn now() -> model::Timestamp {
    #[cfg(target_arch = "wasm32")]
    let ms = js_sys::Date::now() as i64;
    #[cfg(not(target_arch = "wasm32"))]
    let ms = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_millis() as i64);
    model::Timestamp(ms)
}

/// What new entries changed, as the live streams of native nodes and browsers send it.
#[derive(serde::Serialize, Clone, Debug, Default, PartialEq, Eq)]
pub struct Change {
    /// Festival ids in hex; empty with `kinds == ["*"]` means "anything".
    pub festivals: Vec<String>,
    /// `festival`, `profile`, `resource`, `event`, `request`, or `*`.
    pub kinds: Vec<String>,
}

/// What the entries stored since `seen` (a `received` number) changed: the festivals touched
/// and the kinds of objects, for the live streams. Taken from the fold, which notes them as
/// it goes ([`store::Store::take_changed`]), when it saw every one of them since the last
/// call; else (the plan was loaded again meanwhile: another process wrote its rows) from
/// each entry's record.
pub fn take_changes(node: &mut Node, seen: i64) -> Result<Change, store::StoreError> {
    let (festivals, kinds): (BTreeSet<model::Id>, BTreeSet<String>) = match node.store.take_changed() {
        Some(changed) => (changed.festivals, changed.kinds),
        None => {
            let (mut festivals, mut kinds) = (BTreeSet::new(), BTreeSet::new());
            for id in node.store.received_after(seen)? {
                if let Some(op) = node.state().op(&id) {
                    festivals.extend(op.festival);
                    kinds.insert(op.kind.clone());
                }
            }
            (festivals, kinds)
        }
    };
    // Decisions change requests.
    let kinds: BTreeSet<String> =
        kinds.iter().map(|k| k.split('/').next().unwrap_or("").replace("auth", "request")).collect();
    Ok(Change { festivals: festivals.iter().map(|f| f.to_hex()).collect(), kinds: kinds.into_iter().collect() })
}
