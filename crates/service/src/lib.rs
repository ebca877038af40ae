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
pub mod error;
pub mod ical;
pub mod node;
pub mod views;

pub use error::{ApiError, ApiResult, ErrorKind};
pub use node::Node;
