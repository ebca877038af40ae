//! The native pandafest node: the `pandafest` binary's library.
//!
//! The operations themselves live in the `service` crate (shared with the browser peer)
//! and are re-exported here; this crate adds what needs the operating system:
//! - [`hooks`]: external policies (commands, HTTP endpoints) registered by name;
//! - [`http`]: the HTTP API under `/api/v1`, its OpenAPI document ([`openapi`]), the live
//!   stream, and the web UI's files.

pub use service::{agent, api, error, node, publish, views};

pub mod guard;
pub mod hooks;
pub mod http;
pub mod openapi;
pub mod sync_cmds;

/// Opens the node in `data_dir` with this node's policy hooks registered.
pub fn open(data_dir: &std::path::Path) -> error::ApiResult<node::Node> {
    open_with_progress(data_dir, &mut |_, _| {})
}

/// As [`open`], reporting (done, total) entries if the store rebuilds its plan.
pub fn open_with_progress(
    data_dir: &std::path::Path,
    progress: &mut dyn FnMut(u64, u64),
) -> error::ApiResult<node::Node> {
    let mut node = node::Node::open_with_progress(data_dir, progress)?;
    hooks::register(&mut node)?;
    Ok(node)
}
