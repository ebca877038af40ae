//! The pandafest data model: what people write into their logs and what everyone
//! computes from them. No I/O: bytes and entries in, state and decisions out.
//!
//! - [`op`]: the operations ([`Operation`], [`Payload`]) as deterministic CBOR, and
//!   strict decoding ([`op::decode`]) that reports each broken format rule ([`FormatError`]).
//! - [`validate`]: the field rules of each operation, as free functions ([`FieldError`]).
//! - [`State`]: the materialiser, a pure incremental fold from [`LogEntry`]s to festivals,
//!   resources, events, requests and allocations. Operations that break a rule are kept
//!   with the [`Rule`] they broke.
//! - [`Allocation`]: one resource's confirmed slots, folded from its owner's log alone;
//!   conflict checks and free-time queries are logarithmic.
//! - [`policy`]: the [`Policy`] trait by which an owner's node decides requests, with
//!   first-come-first-served and manual built in, and a registry for custom policies.

pub mod alloc;
pub mod cbor;
mod history;
pub mod id;
mod index;
pub mod op;
pub mod policy;
mod query;
mod rows;
pub mod rules;
pub mod state;
mod table;
pub mod time;
pub mod validate;

pub use alloc::{AllocOp, Allocation, Decision, RequestCheck};
pub use id::{Id, Key};
pub use op::VoteRule;
pub use op::{Decoded, FormatError, Operation, Payload};
pub use policy::{Policy, PolicyDecision, PolicyRegistry};
pub use query::Tally;
pub use rows::{Loader, Row};
pub use rules::Rule;
pub use state::{
    Changed, Collective, LogEntry, LogKey, ObjectKind, OpRecord, OpStatus, ReadEntry, Request, RequestStatus, State,
    Vote,
};
pub use table::{CACHED_ROWS, RowSource};
pub use time::{Availability, Capacity, Daily, TimeFrame, Timestamp};
pub use validate::FieldError;

#[doc(hidden)]
pub mod fuzz;
