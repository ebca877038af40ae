//! Replication of pandafest's Bamboo logs between peers, festival by festival, and the
//! overlay that chooses the peers: sans-I/O state machines that a transport (WebSocket,
//! WebRTC data channel, in-memory queue) drives. No sockets, threads or clocks here: time
//! is passed in, randomness is seeded by the caller.
//!
//! - [`Session`]: one connection's protocol. A handshake proves both keys; the festivals
//!   both sides want are synced: inventories of log heights, announced totals ([`Output::Plan`]),
//!   missing entries streamed in log order in bounded, credited batches, then live pushes of
//!   new entries.
//!   Received entries leave as [`Output::Entries`]; the caller verifies and stores them, then
//!   calls [`Session::stored`] (or [`Session::rejected`]).
//! - [`SyncStore`]: what a session reads from the store; [`MemoryStore`] implements it in memory.
//! - [`Message`]: the wire format (CBOR, versioned), with [`Limits`] checked on decoding.
//! - [`OverlayMessage`]: introductions and relayed WebRTC signalling between peers of a
//!   shared festival, carried in sessions.
//! - `hyparview` and `sim` (feature `simulation`): a partial-view overlay and a
//!   deterministic simulation of whole festivals, which nodes do not run yet.
//!
//! `docs/sync.md` specifies the protocol. The `sim` module (hidden) simulates whole
//! festivals; `cargo run --release -p pandafest-sync --example simulate` reports on one.

#[cfg(feature = "simulation")]
pub mod hyparview;
pub mod overlay;
pub mod session;
pub mod store;
pub mod wire;

/// A festival's id: the hash of the entry that created it.
pub type FestivalId = model::Id;

pub use overlay::{OverlayMessage, Peer};
pub use session::{BatchId, GRAFT_AFTER_MS, Output, ReceivedEntry, Session, SessionConfig, Stats, SyncError};
pub use store::{MemoryStore, StoreError, SyncStore};

/// The festival of the log an entry (its bytes) opens, by the model's rule
/// ([`model::op::log_festival`]).
pub fn log_festival(entry: &[u8], payload: &[u8]) -> Option<FestivalId> {
    model::op::log_festival(model::Id(bamboo::Hash::of(entry)), &model::op::decode(payload))
}
pub use wire::{
    CloseCode, Hello, Limits, LogHeight, Message, Token, VERSION_MAJOR, VERSION_MINOR, WireEntry, WireError,
};

#[doc(hidden)]
pub mod fuzz;
#[cfg(feature = "simulation")]
#[doc(hidden)]
pub mod sim;
#[doc(hidden)]
pub mod writer;
