//! The pandafest node as a library: what the `pandafest` binary's commands and HTTP API do.
//!
//! - [`node::Node`]: the node's operations over its [`store::Store`] (create, list,
//!   confirm, …), shared by the CLI and the HTTP API; every write runs the policy agent.
//! - [`agent`]: the owner's policy agent, deciding requests for this node's resources.
//! - [`hooks`]: policies by name, including external hooks (commands, HTTP endpoints).
//! - [`views`]: the JSON shapes of `docs/api.md`.
//! - [`http`]: the HTTP API under `/api/v1`, its OpenAPI document, the live stream, and
//!   the web UI's files.
//! - [`ical`]: iCalendar export.

pub mod agent;
pub mod error;
pub mod hooks;
pub mod http;
pub mod ical;
pub mod node;
pub mod openapi;
pub mod views;
