//! Invites, joining, and one-shot syncs: shared by the CLI and the HTTP API.

use std::sync::{Arc, Mutex};

use model::Id;
use net::{Invite, SyncContext};

use crate::error::{ApiError, ApiResult};
use crate::node::Node;

/// This node's own sync addresses, as `serve` recorded them.
fn own_addresses(node: &Node) -> ApiResult<Vec<String>> {
    Ok(node
        .store
        .setting("listen")?
        .and_then(|l| l.parse::<std::net::SocketAddr>().ok())
        .map(|listen| {
            let mut own = net::reachable_addresses(listen);
            own.push(net::ws_url(&listen.to_string()));
            own
        })
        .unwrap_or_default())
}

/// An invite link to `festival` with this node's reachable addresses, `extra`, and the
/// peers it learnt the festival from.
pub fn invite(node: &Node, festival: &str, extra: &[String]) -> ApiResult<Invite> {
    let mut peers = extra.to_vec();
    // The address others reach this node by comes first.
    peers.extend(node.store.setting("public_url")?.and_then(|u| service::invite::sync_url(&u)));
    if let Some(listen) = node.store.setting("listen")?.and_then(|l| l.parse().ok()) {
        peers.extend(net::reachable_addresses(listen));
    }
    service::invite::invite(node, festival, peers)
}

/// Remembers that this node joined the festival of `link`, and with which peers (never
/// itself).
pub fn remember_join(node: &Node, link: &str) -> ApiResult<Invite> {
    service::invite::remember_join(node, link, &own_addresses(node)?)
}

/// Syncs once with `peer` (all festivals, or only `only` and its ancestors).
pub async fn sync_once(
    node: Arc<Mutex<Node>>,
    peer: &str,
    only: Option<Id>,
    progress: impl FnMut(u64, u64) + Send,
) -> ApiResult<net::Summary> {
    let ctx = match only {
        Some(festival) => SyncContext::only(node, festival),
        None => SyncContext::new(node),
    };
    net::sync_once(ctx, peer, progress).await.map_err(|e| ApiError::conflict(e.to_string()))
}
