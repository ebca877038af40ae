//! The network side of a native pandafest node: the thread that hosts the sync sessions,
//! WebSocket connections with reconnection and backoff, LAN discovery by mDNS, and invite
//! addresses. The protocol and the session host itself live in `sync` and `service::hub`
//! (shared with the browser peer); here are only byte pipes, dialers and discovery.
//!
//! - [`SyncContext`]: a node's session host (one thread driving `service::hub::Hub`), its
//!   stream of [`Change`]s, and its sync status.
//! - [`drive`]: pumps one connection's messages, given as a pair of channels, to and from
//!   the host; the node's HTTP server hands it accepted WebSockets, [`connect`] dials out.
//! - [`sync_once`] (`pandafest sync`, `pandafest join`), and for `pandafest serve`
//!   [`SyncContext::keep_neighbours`]: the hub's neighbour rule (`service::neighbours`) says
//!   whom to dial.
//! - [`discovery`]: mDNS announcement and browsing of `_pandafest._tcp.local.`.
//! - [`locked`]: the one way to use the node shared by HTTP handlers and the host.

pub mod discovery;
mod host;
mod invite;
mod shared;
mod ws;

pub use host::{Change, ConnectionInfo, Direction, NetError, PeerStatus, Summary, SyncContext, drive};
pub use invite::reachable_addresses;
pub use service::invite::Invite;
pub use shared::{Panicked, locked};
pub use ws::{IDLE_TIMEOUT, PING_INTERVAL, SYNC_PATH, connect, sync_once, sync_url as ws_url};
