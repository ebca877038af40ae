//! Driving one [`Session`] over a connection: the transport is a pair of channels of
//! messages, so WebSockets (server and client) and tests use the same loop.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bamboo::Author;
use model::Id;
use serde::Serialize;
use service::Node;
use sync::{FestivalId, Output, OverlayMessage, Peer, Session, SessionConfig, SyncError};
use tokio::sync::{broadcast, mpsc};

/// Entries were stored (by anyone): sessions push the new heights, the UI refetches.
pub use service::Change;

pub use service::hub::{Direction, PeerStatus};

/// A peer must prove its key within this time after connecting.
pub const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);
/// Ended connections the sync status remembers (the newest), beside the open ones.
pub const STATUS_HISTORY: usize = 32;

/// The sync status of a node: the peers it is connected to, and the last few it was.
#[derive(Serialize, Clone, Debug, Default)]
pub struct SyncStatus {
    pub peers: BTreeMap<u64, PeerStatus>,
    next: u64,
}

impl SyncStatus {
    fn add(&mut self, status: PeerStatus) -> u64 {
        self.next += 1;
        self.peers.insert(self.next, status);
        self.next
    }

    /// Marks connection `slot` ended, forgetting the oldest ended ones beyond [`STATUS_HISTORY`].
    fn end(&mut self, slot: u64, error: Option<String>) {
        if let Some(p) = self.peers.get_mut(&slot) {
            p.connected = false;
            p.error = error;
        }
        let ended: Vec<u64> = self.peers.iter().filter(|(_, p)| !p.connected).map(|(k, _)| *k).collect();
        for old in ended.iter().take(ended.len().saturating_sub(STATUS_HISTORY)) {
            self.peers.remove(old);
        }
    }

    /// Every peer, current connections first.
    pub fn list(&self) -> Vec<PeerStatus> {
        let mut peers: Vec<PeerStatus> = self.peers.values().cloned().collect();
        peers.sort_by_key(|p| (!p.connected, p.address.clone()));
        peers
    }
}

/// The sessions of a node by peer key: for relaying signalling between peers and
/// introducing them to each other.
#[derive(Default)]
pub struct Router {
    sessions: HashMap<Author, (mpsc::UnboundedSender<(FestivalId, OverlayMessage)>, BTreeSet<FestivalId>)>,
    introduced: service::hub::Introductions,
}

impl Router {
    fn send(&self, to: &Author, festival: FestivalId, message: OverlayMessage) -> bool {
        self.sessions.get(to).is_some_and(|(tx, _)| tx.send((festival, message)).is_ok())
    }

    /// `peer` now syncs `festival`: bridge it and the other peers of the festival (Spray's join).
    fn introduce(&mut self, peer: Author, festival: FestivalId) {
        let others: Vec<Author> = self
            .sessions
            .iter()
            .filter(|(k, (_, shared))| **k != peer && shared.contains(&festival))
            .map(|(k, _)| *k)
            .collect();
        for other in self.introduced.due(peer, others) {
            self.send(&peer, festival, OverlayMessage::Introduce { peer: Peer::new(other, "") });
            self.send(&other, festival, OverlayMessage::Introduce { peer: Peer::new(peer, "") });
        }
    }
}

/// What all sessions of a node share.
#[derive(Clone)]
pub struct SyncContext {
    pub node: Arc<Mutex<Node>>,
    pub changes: broadcast::Sender<Change>,
    pub status: Arc<Mutex<SyncStatus>>,
    pub router: Arc<Mutex<Router>>,
    /// Only this festival (and its ancestors), for `pandafest sync --festival F`.
    pub only: Option<Id>,
}

impl SyncContext {
    pub fn new(node: Arc<Mutex<Node>>) -> SyncContext {
        SyncContext {
            node,
            changes: broadcast::channel(1024).0,
            status: Arc::new(Mutex::new(SyncStatus::default())),
            router: Arc::new(Mutex::new(Router::default())),
            only: None,
        }
    }

    /// The festivals to sync (see [`service::hub::wanted`]).
    pub fn wanted(&self) -> Vec<FestivalId> {
        crate::locked(&self.node, |node| service::hub::wanted(node, self.only)).unwrap_or_default()
    }
}

#[derive(thiserror::Error, Debug)]
pub enum NetError {
    #[error("{0}")]
    Sync(#[from] SyncError),
    #[error("cannot connect to {address}: {reason}")]
    Connect { address: String, reason: String },
    #[error("the connection closed before the sync was complete")]
    Disconnected,
    #[error("that address is this node itself")]
    SelfConnection,
    #[error("the peer did not prove its key within {} s", HANDSHAKE_TIMEOUT.as_secs())]
    Handshake,
    #[error("{0}")]
    Node(String),
}

/// Who is at the other end, as far as the transport knows.
#[derive(Clone, Debug)]
pub struct ConnectionInfo {
    pub address: String,
    pub direction: Direction,
    /// End once every shared festival is live (a one-shot sync) instead of staying live.
    pub once: bool,
}

/// What a finished session did.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Summary {
    pub peer: Option<String>,
    pub festivals: Vec<String>,
    pub received: u64,
    pub stored: u64,
    pub sent: u64,
}

/// Runs one session: `outgoing` takes the messages to send, `incoming` yields the peer's
/// messages (and ends when the connection does). Received entries are verified and
/// stored batch by batch, all or nothing; an invalid entry ends the session, and nothing
/// of its batch is stored. `progress` hears (stored, announced) after each batch.
pub async fn drive(
    ctx: SyncContext,
    outgoing: mpsc::Sender<Vec<u8>>,
    mut incoming: mpsc::Receiver<Vec<u8>>,
    info: ConnectionInfo,
    mut progress: impl FnMut(u64, u64) + Send,
) -> Result<Summary, NetError> {
    let keypair =
        crate::locked(&ctx.node, |node| node.store.keypair().clone()).map_err(|p| NetError::Node(p.to_string()))?;
    let mut session = Session::new(keypair, SessionConfig::new(ctx.wanted()), rand::random());
    let mut changes = ctx.changes.subscribe();
    let (relay_tx, mut relay_rx) = mpsc::unbounded_channel::<(FestivalId, OverlayMessage)>();
    let mut links = Links { relay: relay_tx, peer: None };
    let slot = ctx.status.lock().expect("status").add(PeerStatus {
        address: info.address.clone(),
        key: None,
        direction: info.direction,
        connected: true,
        festivals: Vec::new(),
        behind: 0,
        live: false,
        received: 0,
        sent: 0,
        error: None,
    });
    let started = Instant::now();
    let mut summary = Summary::default();
    let mut announced: u64 = 0;
    let result = loop {
        // Everything the session wants done now.
        if let Err(e) =
            pump(&ctx, &mut session, &outgoing, &mut summary, &mut announced, &mut links, &mut progress).await
        {
            break Err(e);
        }
        update_status(&ctx, slot, &session, &summary, announced);
        if session.is_closed() {
            break Ok(());
        }
        let all_live = session.heard_festivals()
            && session.shared_festivals().all(|f| session.is_live(f))
            && session.in_flight() == 0;
        if info.once && all_live {
            // A festival that arrived may name a parent this node wants too; only when
            // nothing new is wanted is the sync over.
            let before = session.shared_festivals().count();
            session.add_festivals(&ctx.wanted());
            if session.shared_festivals().count() == before {
                session.close("caught up");
                let _ = flush(&ctx, &mut session, &outgoing).await;
                break Ok(());
            }
            continue;
        }
        tokio::select! {
            message = incoming.recv() => match message {
                Some(bytes) => {
                    if let Err(e) = session.receive(&bytes) {
                        let _ = flush(&ctx, &mut session, &outgoing).await;
                        break match e {
                            SyncError::PeerClosed { .. } if info.once && all_live => Ok(()),
                            SyncError::PeerClosed { .. } if !info.once => Ok(()),
                            SyncError::SelfConnection => Err(NetError::SelfConnection),
                            e => Err(e.into()),
                        };
                    }
                }
                None => break if info.once && !all_live { Err(NetError::Disconnected) } else { Ok(()) },
            },
            change = changes.recv() => {
                let festivals: Vec<Id> = match &change {
                    Ok(c) if !c.festivals.is_empty() => c.festivals.iter().filter_map(|f| Id::from_hex(f)).collect(),
                    _ => session.shared_festivals().copied().collect(),
                };
                notify(&ctx, &mut session, &festivals);
            },
            Some((festival, message)) = relay_rx.recv() => {
                // Sent on a festival this session shares (signalling may arrive on another).
                let festival = if session.shared_festivals().any(|f| *f == festival) {
                    Some(festival)
                } else {
                    session.shared_festivals().next().copied()
                };
                if let Some(f) = festival {
                    let _ = session.send_overlay(f, message);
                }
            },
            _ = tokio::time::sleep(HANDSHAKE_TIMEOUT.saturating_sub(started.elapsed())), if session.peer().is_none() => {
                session.close("no proof of key in time");
                let _ = flush(&ctx, &mut session, &outgoing).await;
                break Err(NetError::Handshake);
            },
        }
    };
    if let Some(peer) = links.peer {
        let mut router = ctx.router.lock().expect("router");
        router.sessions.remove(&peer);
        // A later session may introduce this peer again (a WebRTC attempt may have failed).
        router.introduced.forget(peer);
    }
    ctx.status.lock().expect("status").end(slot, result.as_ref().err().map(|e| e.to_string()));
    summary.festivals = session.shared_festivals().map(|f| f.to_hex()).collect();
    result.map(|()| summary)
}

/// Pushes the store's current heights of `festivals` into the session, and adds
/// festivals newly wanted (a joined festival's parent, learnt from its first entry).
fn notify(ctx: &SyncContext, session: &mut Session, festivals: &[Id]) {
    let wanted = ctx.wanted();
    session.add_festivals(&wanted);
    let _ = crate::locked(&ctx.node, |node| {
        for f in festivals {
            let heights = sync::SyncStore::heights(&node.store, f);
            session.notify_heights(f, &heights);
        }
    });
}

async fn flush(ctx: &SyncContext, session: &mut Session, outgoing: &mpsc::Sender<Vec<u8>>) -> Result<(), NetError> {
    loop {
        let next =
            crate::locked(&ctx.node, |node| session.poll(&node.store)).map_err(|p| NetError::Node(p.to_string()))?;
        match next {
            Some(Output::Send(bytes)) => outgoing.send(bytes).await.map_err(|_| NetError::Disconnected)?,
            Some(_) => {}
            None => return Ok(()),
        }
    }
}

/// This session's place in the node's [`Router`].
struct Links {
    relay: mpsc::UnboundedSender<(FestivalId, OverlayMessage)>,
    peer: Option<Author>,
}

async fn pump(
    ctx: &SyncContext,
    session: &mut Session,
    outgoing: &mpsc::Sender<Vec<u8>>,
    summary: &mut Summary,
    announced: &mut u64,
    links: &mut Links,
    progress: &mut (impl FnMut(u64, u64) + Send),
) -> Result<(), NetError> {
    loop {
        let next =
            crate::locked(&ctx.node, |node| session.poll(&node.store)).map_err(|p| NetError::Node(p.to_string()))?;
        let Some(output) = next else { return Ok(()) };
        match output {
            Output::Send(bytes) => {
                summary.sent += 1;
                outgoing.send(bytes).await.map_err(|_| NetError::Disconnected)?;
            }
            Output::Ready { peer } => {
                tracing::info!("sync: connected to {}", &peer.to_hex()[..8]);
                summary.peer = Some(peer.to_hex());
                links.peer = Some(peer);
                ctx.router.lock().expect("router").sessions.insert(peer, (links.relay.clone(), BTreeSet::new()));
            }
            Output::Started { festival } => {
                tracing::debug!("sync: {} started", festival.short());
                if let Some(peer) = links.peer {
                    let mut router = ctx.router.lock().expect("router");
                    if let Some((_, shared)) = router.sessions.get_mut(&peer) {
                        shared.insert(festival);
                    }
                    router.introduce(peer, festival);
                }
            }
            Output::Plan { entries, .. } => {
                *announced += entries;
                progress(summary.stored, *announced);
            }
            Output::Live { festival } => tracing::debug!("sync: {} live", festival.short()),
            Output::Overlay { festival, message } => {
                // Native nodes keep sessions with every peer they know; they relay browsers'
                // WebRTC signalling one hop, to the addressee if connected here.
                if let OverlayMessage::Signal { to, from, .. } = &message
                    && Some(*from) == links.peer
                {
                    let to = *to;
                    ctx.router.lock().expect("router").send(&to, festival, message);
                }
            }
            Output::Entries { festival, batch, entries } => {
                summary.received += entries.len() as u64;
                let items: Vec<(Vec<u8>, Vec<u8>)> = entries.into_iter().map(|e| (e.bytes, e.payload)).collect();
                let node = ctx.node.clone();
                let stored = tokio::task::spawn_blocking(move || store_batch(&node, items))
                    .await
                    .map_err(|e| NetError::Node(e.to_string()))?;
                match stored {
                    Ok(new) => {
                        summary.stored += new;
                        session.stored(batch)?;
                        progress(summary.stored, (*announced).max(summary.stored));
                        if new > 0 {
                            let _ = ctx
                                .changes
                                .send(Change { festivals: vec![festival.to_hex()], kinds: vec!["*".into()] });
                        }
                    }
                    Err(reason) => {
                        let error = session.rejected(batch, &reason);
                        let _ = flush(ctx, session, outgoing).await;
                        return Err(error.into());
                    }
                }
            }
        }
    }
}

/// Verifies and stores a batch (see [`service::hub::store_batch`]), off the async workers' lock.
fn store_batch(node: &Mutex<Node>, items: Vec<(Vec<u8>, Vec<u8>)>) -> Result<u64, String> {
    crate::locked(node, |node| service::hub::store_batch(node, items)).unwrap_or_else(|p| Err(p.to_string()))
}

fn update_status(ctx: &SyncContext, slot: u64, session: &Session, summary: &Summary, announced: u64) {
    let mut status = ctx.status.lock().expect("status");
    if let Some(p) = status.peers.get_mut(&slot) {
        p.key = summary.peer.clone();
        p.festivals = session.shared_festivals().map(|f| f.to_hex()).collect();
        p.behind = announced.saturating_sub(summary.received);
        p.live = session.heard_festivals() && session.shared_festivals().all(|f| session.is_live(f));
        p.received = summary.received;
        p.sent = summary.sent;
    }
}
