//! The network side of a native pandafest node: the loop that drives a [`sync::Session`]
//! over a connection, WebSocket connections with reconnection and backoff, LAN discovery
//! by mDNS, and invite links.
//!
//! - [`drive`]: runs one session over any message link given as a pair of channels; the
//!   node's HTTP server hands it accepted WebSockets, [`connect`] dials out.
//! - [`SyncContext`]: what every session of a node shares: the node, the stream of
//!   [`Change`]s (new entries, from any source), the [`SyncStatus`] shown to people.
//! - [`sync_once`] (`pandafest sync`, `pandafest join`) and [`keep_syncing`] (`pandafest serve`).
//! - [`Invite`]: `pandafest://join?festival=…&peer=…` links.
//! - [`discovery`]: mDNS announcement and browsing of `_pandafest._tcp.local.`.

pub mod discovery;
mod driver;
mod invite;
mod shared;
mod ws;

pub use driver::{Change, ConnectionInfo, Direction, NetError, PeerStatus, Summary, SyncContext, SyncStatus, drive};
pub use invite::reachable_addresses;
pub use service::invite::Invite;
pub use shared::{Panicked, locked};
pub use ws::{IDLE_TIMEOUT, PING_INTERVAL, SYNC_PATH, connect, keep_syncing, sync_once, sync_url as ws_url};
