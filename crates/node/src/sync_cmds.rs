//! Invites, joining, and one-shot syncs: shared by the CLI and the HTTP API.

use std::sync::{Arc, Mutex};

use model::Id;
use net::{Invite, SyncContext};

use crate::error::{ApiError, ApiResult};
use crate::node::Node;

/// An invite link to `festival` with this node's reachable addresses and the peers it
/// learnt the festival from.
pub fn invite(node: &Node, festival: &str, extra: &[String]) -> ApiResult<Invite> {
    let id = node.festival_id(festival)?;
    let mut peers: Vec<String> = extra.iter().map(|p| net::ws_url(p)).collect();
    if let Some(listen) = node.store.setting("listen")?.and_then(|l| l.parse().ok()) {
        peers.extend(net::reachable_addresses(listen));
    }
    for f in node.state().ancestry(&id) {
        if let Some(known) = node.store.setting(&format!("joined:{}", f.to_hex()))? {
            peers.extend(known.split_whitespace().map(str::to_string));
        }
    }
    peers.dedup();
    Ok(Invite { festival: id, peers })
}

/// Remembers that this node joined the festival of `link`, and with which peers.
pub fn remember_join(node: &Node, link: &str) -> ApiResult<Invite> {
    let invite = Invite::parse(link).map_err(ApiError::bad_input)?;
    // A link made by a browser syncing with this very node names it: not a peer to dial.
    let own: Vec<String> = node
        .store
        .setting("listen")?
        .and_then(|l| l.parse().ok())
        .map(|listen: std::net::SocketAddr| {
            let mut own = net::reachable_addresses(listen);
            own.push(net::ws_url(&listen.to_string()));
            own
        })
        .unwrap_or_default();
    let mut peers: Vec<String> = invite.peers.iter().map(|p| net::ws_url(p)).filter(|p| !own.contains(p)).collect();
    if let Some(known) = node.store.setting(&format!("joined:{}", invite.festival.to_hex()))? {
        peers.extend(known.split_whitespace().map(str::to_string));
    }
    peers.sort();
    peers.dedup();
    node.store.set_setting(&format!("joined:{}", invite.festival.to_hex()), Some(&peers.join(" ")))?;
    Ok(Invite { festival: invite.festival, peers })
}

/// Syncs once with `peer` (all festivals, or only `only` and its ancestors).
pub async fn sync_once(
    node: Arc<Mutex<Node>>,
    peer: &str,
    only: Option<Id>,
    progress: impl FnMut(u64, u64) + Send,
) -> ApiResult<net::Summary> {
    let mut ctx = SyncContext::new(node);
    ctx.only = only;
    net::sync_once(ctx, peer, progress).await.map_err(|e| ApiError::conflict(e.to_string()))
}
