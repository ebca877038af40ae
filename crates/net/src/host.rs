//! The native node's sync sessions: one thread drives the node's [`Hub`] (the same session
//! host the browser peer runs), and each connection is a byte pump ([`drive`]) between a
//! transport and that thread.
//!
//! The hub stores received batches on its thread, under the node's lock; connections never
//! touch the node. A local write reaches the sessions by [`SyncContext::notify`] (the HTTP
//! server's watcher calls it for every change).

use std::collections::HashMap;
use std::sync::{Arc, Mutex, mpsc as std_mpsc};
use std::time::Duration;

use futures_util::StreamExt;
use futures_util::future::Either;
use futures_util::stream::FuturesOrdered;
use model::Id;
use service::Node;
use service::hub::{Hub, HubEvent};
use tokio::sync::{broadcast, mpsc, oneshot};

pub use service::Change;
pub use service::hub::{Direction, PeerStatus, Summary};

#[derive(thiserror::Error, Debug)]
pub enum NetError {
    #[error("{0}")]
    Sync(String),
    #[error("cannot connect to {address}: {reason}")]
    Connect { address: String, reason: String },
    #[error("the connection closed before the sync was complete")]
    Disconnected,
    #[error("that address is this node itself")]
    SelfConnection,
    #[error("the node's sync host has stopped")]
    HostGone,
}

/// Who is at the other end, as far as the transport knows.
#[derive(Clone, Debug)]
pub struct ConnectionInfo {
    pub address: String,
    pub direction: Direction,
    /// End once every shared festival is live (a one-shot sync) instead of staying live.
    pub once: bool,
}

/// What the hub thread tells one connection.
enum Out {
    /// What follows waits until the entries the hub stored before it are durable: a batch's
    /// credit says it is stored (`store::Store::ingest_deferred`).
    Fence(oneshot::Receiver<Result<(), String>>),
    Send(Vec<u8>),
    /// The peer proved its key.
    Ready,
    Progress(u64, u64),
    Closed {
        reason: String,
        retry: bool,
        summary: Option<Summary>,
    },
}

enum Command {
    Open {
        info: ConnectionInfo,
        /// Dialed for the neighbour rule (`Hub::dials`).
        dialed: bool,
        out: mpsc::UnboundedSender<Out>,
        reply: oneshot::Sender<u32>,
    },
    /// Start keeping neighbours: dial as `Hub::dials` says, with this runtime.
    Neighbours {
        ctx: SyncContext,
        runtime: tokio::runtime::Handle,
        address: Option<String>,
    },
    Learn {
        url: String,
        festival: Option<Id>,
        pinned: bool,
    },
    DialFailed {
        url: String,
    },
    Receive {
        id: u32,
        bytes: Vec<u8>,
        /// Its entries, if they were checked on the way (`service::hub::verified_entries`).
        verified: Vec<store::VerifiedEntry>,
    },
    /// The transport is gone; the reply says what the session did, if it ended well.
    Gone {
        id: u32,
        reply: oneshot::Sender<Option<Summary>>,
    },
    Notify,
    Status {
        reply: oneshot::Sender<Vec<PeerStatus>>,
    },
}

/// What every session of a node shares: the node, the stream of changes (from any source)
/// that the live stream and the sessions follow, and the thread that hosts the sessions.
#[derive(Clone)]
pub struct SyncContext {
    pub node: Arc<Mutex<Node>>,
    pub changes: broadcast::Sender<Change>,
    commands: std_mpsc::Sender<Command>,
}

impl SyncContext {
    /// Starts the host of `node`'s sessions, syncing every festival the node wants.
    pub fn new(node: Arc<Mutex<Node>>) -> SyncContext {
        SyncContext::with_hub(node, Hub::default())
    }

    /// As [`SyncContext::new`], syncing only `festival` and its ancestors (`pandafest sync
    /// --festival F`, `pandafest join`).
    pub fn only(node: Arc<Mutex<Node>>, festival: Id) -> SyncContext {
        SyncContext::with_hub(node, Hub::only(festival))
    }

    fn with_hub(node: Arc<Mutex<Node>>, hub: Hub) -> SyncContext {
        let (commands, rx) = std_mpsc::channel();
        let host_node = node.clone();
        std::thread::Builder::new()
            .name("pandafest-sync".into())
            .spawn(move || run(host_node, hub, rx))
            .expect("a thread for the sync host");
        SyncContext { node, changes: broadcast::channel(1024).0, commands }
    }

    /// The store gained entries outside the sessions (a local write, an import): every
    /// session pushes them.
    pub fn notify(&self) {
        let _ = self.commands.send(Command::Notify);
    }

    /// Starts keeping neighbours (`service::neighbours`): from now on the host dials the
    /// peers it learns of as the hub's bound says, and tells its peers `address`, where
    /// this node can be dialed. Call it from within the tokio runtime.
    pub fn keep_neighbours(&self, address: Option<String>) {
        let runtime = tokio::runtime::Handle::current();
        let _ = self.commands.send(Command::Neighbours { ctx: self.clone(), runtime, address });
    }

    /// A peer to keep in the passive view (configured, invited with `festival`, found by
    /// mDNS): the host dials it if the neighbour rule picks it.
    pub fn learn(&self, url: &str, festival: Option<Id>, pinned: bool) {
        let _ = self.commands.send(Command::Learn { url: url.to_string(), festival, pinned });
    }

    /// The sync status: open connections, then the last ended ones.
    pub async fn status(&self) -> Vec<PeerStatus> {
        let (reply, answer) = oneshot::channel();
        if self.commands.send(Command::Status { reply }).is_err() {
            return Vec::new();
        }
        answer.await.unwrap_or_default()
    }
}

/// The hub's thread: one command at a time, then every connection's events.
fn run(node: Arc<Mutex<Node>>, mut hub: Hub, commands: std_mpsc::Receiver<Command>) {
    // Each connection's sender, progress, and the last commit its messages waited for.
    let mut conns: HashMap<u32, (mpsc::UnboundedSender<Out>, (u64, u64), store::Commit)> = HashMap::new();
    // Set by `SyncContext::keep_neighbours` (`pandafest serve`); one-shot syncs dial nobody.
    let mut dialer: Option<(SyncContext, tokio::runtime::Handle)> = None;
    let mut last_dials = std::time::Instant::now() - Duration::from_secs(1);
    // A command taken while gathering messages (below), handled next.
    let mut next: Option<Command> = None;
    loop {
        // A second without commands still expires handshakes.
        let command = match next.take() {
            Some(command) => Some(command),
            None => match commands.recv_timeout(Duration::from_secs(1)) {
                Ok(command) => Some(command),
                Err(std_mpsc::RecvTimeoutError::Timeout) => None,
                Err(std_mpsc::RecvTimeoutError::Disconnected) => return,
            },
        };
        // The messages that arrived while the hub stored go to it together
        // (`Hub::receive_all`): a session's batches among them are stored in one transaction.
        let mut messages = Vec::new();
        let command = match command {
            Some(Command::Receive { id, bytes, verified }) => {
                messages.push((id, bytes, verified));
                while let Ok(more) = commands.try_recv() {
                    match more {
                        Command::Receive { id, bytes, verified } => messages.push((id, bytes, verified)),
                        other => {
                            next = Some(other);
                            break;
                        }
                    }
                }
                None
            }
            other => other,
        };
        let stepped = crate::locked(&node, |node| {
            if !messages.is_empty() {
                let mut received = Vec::with_capacity(messages.len());
                for (id, bytes, verified) in messages {
                    hub.mark_verified_entries(verified);
                    received.push((id, bytes));
                }
                hub.receive_all(node, received);
            }
            match command {
                Some(Command::Open { info, dialed, out, reply }) => {
                    let id = if info.once {
                        hub.open_once(node, &info.address, info.direction)
                    } else if dialed {
                        hub.open_dialed(node, &info.address)
                    } else {
                        hub.open(node, &info.address, info.direction)
                    };
                    conns.insert(id, (out, (0, 0), store::Commit::default()));
                    let _ = reply.send(id);
                }
                // Taken above.
                Some(Command::Receive { .. }) => {}
                Some(Command::Gone { id, reply }) => {
                    let ended_well = hub.ended_well(id);
                    let summary = hub.summary(id).filter(|_| ended_well);
                    hub.close(id, "the connection closed");
                    hub.remove(id);
                    conns.remove(&id);
                    // The summary says what is stored: it goes once that is durable, from
                    // the syncer's thread, while this one goes on.
                    match node.store.syncer() {
                        Some(syncer) => syncer.on_durable(node.store.last_deferred(), move |durable| {
                            if let Err(e) = &durable {
                                tracing::error!("sync: {e}");
                            }
                            let _ = reply.send(summary.filter(|_| durable.is_ok()));
                        }),
                        None => {
                            let _ = reply.send(summary);
                        }
                    }
                }
                Some(Command::Notify) => hub.notify_all(node),
                Some(Command::Neighbours { ctx, runtime, address }) => {
                    if let Some(address) = address {
                        hub.set_address(&address);
                    }
                    hub.restore(node);
                    dialer = Some((ctx, runtime));
                }
                Some(Command::Learn { url, festival, pinned }) => hub.learn(&url, festival, pinned),
                Some(Command::DialFailed { url }) => hub.dial_failed(&url, service::now().0),
                Some(Command::Status { reply }) => {
                    let _ = reply.send(hub.status());
                }
                None => {}
            }
            hub.expire();
            // At most twice a second: the neighbour rule looks at every festival and session,
            // and this loop turns once per message received.
            if let Some((ctx, runtime)) = &dialer
                && last_dials.elapsed() >= Duration::from_millis(500)
            {
                last_dials = std::time::Instant::now();
                for url in hub.dials(node, service::now().0) {
                    runtime.spawn(dial(ctx.clone(), url));
                }
            }
            let deferred = node.store.last_deferred();
            for (&id, (out, progress, fenced)) in conns.iter_mut() {
                let events = hub.poll(node, id);
                let now = hub.progress(id);
                // Whatever goes out after a batch was stored waits until it is durable: not
                // the hub's thread, which stores the next batch meanwhile.
                if *fenced < deferred
                    && (!events.is_empty() || now.is_some_and(|now| now != *progress))
                    && let Some(syncer) = node.store.syncer()
                {
                    let (tx, rx) = oneshot::channel();
                    syncer.on_durable(deferred, move |durable| {
                        let _ = tx.send(durable);
                    });
                    let _ = out.send(Out::Fence(rx));
                    *fenced = deferred;
                }
                for event in events {
                    let _ = match event {
                        HubEvent::Send(bytes) => out.send(Out::Send(bytes)),
                        HubEvent::Closed { reason, retry } => {
                            let summary = hub.summary(id).filter(|_| hub.ended_well(id));
                            out.send(Out::Closed { reason, retry, summary })
                        }
                        HubEvent::Ready { peer } => {
                            tracing::info!("sync: connected to {}", &peer.to_hex()[..8]);
                            out.send(Out::Ready)
                        }
                        // A native node has no WebRTC: introductions and signalling addressed
                        // to it are for browsers; it relays others' (in the hub).
                        HubEvent::Introduce { .. } | HubEvent::Signal { .. } => Ok(()),
                    };
                }
                if let Some(now) = now
                    && now != *progress
                {
                    *progress = now;
                    let _ = out.send(Out::Progress(now.0, now.1));
                }
            }
        });
        if let Err(e) = stepped {
            tracing::error!("sync host: {e}");
        }
    }
}

/// Runs one session: `outgoing` takes the messages to send, `incoming` yields the peer's
/// messages (and ends when the connection does). The node's hub verifies and stores what
/// arrives, batch by batch, all or nothing. `progress` hears (stored, announced).
pub async fn drive(
    ctx: &SyncContext,
    outgoing: mpsc::Sender<Vec<u8>>,
    incoming: mpsc::Receiver<Vec<u8>>,
    info: ConnectionInfo,
    progress: impl FnMut(u64, u64) + Send,
) -> Result<Summary, NetError> {
    drive_session(ctx, outgoing, incoming, info, false, progress).await
}

/// One connection the neighbour rule asked for: dialed once; how it ended goes back to the
/// hub, which decides whether and when to dial the address again.
async fn dial(ctx: SyncContext, url: String) {
    match crate::ws::connect(&url).await {
        Ok((tx, rx)) => {
            let info = ConnectionInfo { address: url.clone(), direction: Direction::Outgoing, once: false };
            match drive_session(&ctx, tx, rx, info, true, |_, _| {}).await {
                Ok(_) => tracing::info!("sync with {url} ended"),
                Err(e) => tracing::info!("sync with {url}: {e}"),
            }
        }
        Err(e) => {
            tracing::debug!("{e}");
            let _ = ctx.commands.send(Command::DialFailed { url });
        }
    }
}

/// Messages of one connection checked at once. A batch of entries is checked (signatures,
/// operations decoded) on a blocking thread while the hub stores the batches before (as the
/// browser peer's second worker does), so that the hub's thread only stores. One at a time,
/// checking was the slowest step of a sync once storing got faster: the hub's thread was
/// busy 60 % of a sync of 100,000 entries, waiting for the next batch the rest (issue 15).
const CHECKS_AT_ONCE: usize = 2;

/// A message's entries checked, once the peer announced entries: before, a peer's batch
/// is refused unchecked, and checking it here would spend for nothing what its sender did
/// not.
fn check(bytes: Vec<u8>, announced: bool) -> Checking {
    if !announced {
        return Either::Right(std::future::ready(Ok((Vec::new(), bytes))));
    }
    Either::Left(tokio::task::spawn_blocking(move || (service::hub::verified_entries(&bytes), bytes)))
}

type Checked = (Vec<store::VerifiedEntry>, Vec<u8>);
type Checking = Either<tokio::task::JoinHandle<Checked>, std::future::Ready<Result<Checked, tokio::task::JoinError>>>;

async fn drive_session(
    ctx: &SyncContext,
    outgoing: mpsc::Sender<Vec<u8>>,
    mut incoming: mpsc::Receiver<Vec<u8>>,
    info: ConnectionInfo,
    dialed: bool,
    mut progress: impl FnMut(u64, u64) + Send,
) -> Result<Summary, NetError> {
    let once = info.once;
    let (out, mut events) = mpsc::unbounded_channel();
    let (reply, id) = oneshot::channel();
    ctx.commands.send(Command::Open { info, dialed, out, reply }).map_err(|_| NetError::HostGone)?;
    let id = id.await.map_err(|_| NetError::HostGone)?;
    // Whether the peer proved its key, and whether it announced entries to send: its
    // `Plan`, seen here as it arrives (once it proved its key) or as the session's progress.
    let (mut proved, mut announced) = (false, false);
    // Messages being checked, handed to the hub in the order they came.
    let mut checks = FuturesOrdered::new();
    // The hub's messages wait while this is pending (`Out::Fence`).
    let mut fence: Option<oneshot::Receiver<Result<(), String>>> = None;
    let ended = loop {
        tokio::select! {
            durable = async { fence.as_mut().expect("a fence").await }, if fence.is_some() => {
                fence = None;
                match durable {
                    Ok(Ok(())) => {}
                    Ok(Err(e)) => break Err(NetError::Sync(e)),
                    Err(_) => break Err(NetError::HostGone),
                }
            }
            message = incoming.recv(), if checks.len() < CHECKS_AT_ONCE => match message {
                Some(bytes) => {
                    announced |= proved && sync::Message::announces_entries(&bytes);
                    checks.push_back(check(bytes, announced))
                }
                None => {
                    // What came before the end still goes to the hub.
                    while let Some(checked) = checks.next().await {
                        let Ok((verified, bytes)) = checked else { break };
                        let _ = ctx.commands.send(Command::Receive { id, bytes, verified });
                    }
                    break Ok(None);
                }
            },
            Some(checked) = checks.next() => {
                let Ok((verified, bytes)) = checked else { break Err(NetError::HostGone) };
                if ctx.commands.send(Command::Receive { id, bytes, verified }).is_err() {
                    break Err(NetError::HostGone);
                }
            }
            event = events.recv(), if fence.is_none() => match event {
                Some(Out::Fence(durable)) => fence = Some(durable),
                Some(Out::Send(bytes)) => {
                    if outgoing.send(bytes).await.is_err() {
                        break Ok(None);
                    }
                }
                Some(Out::Ready) => proved = true,
                Some(Out::Progress(stored, now_announced)) => {
                    announced |= now_announced > 0;
                    progress(stored, now_announced)
                }
                Some(Out::Closed { summary: Some(summary), .. }) => break Ok(Some(summary)),
                Some(Out::Closed { retry: false, .. }) => break Err(NetError::SelfConnection),
                Some(Out::Closed { reason, .. }) => break Err(NetError::Sync(reason)),
                None => break Err(NetError::HostGone),
            },
        }
    };
    let (reply, gone) = oneshot::channel();
    let _ = ctx.commands.send(Command::Gone { id, reply });
    let after = gone.await.ok().flatten();
    match ended {
        Ok(Some(summary)) => Ok(summary),
        // The transport ended: fine for a live session, not for a one-shot sync before it
        // caught up.
        Ok(None) => match after {
            Some(summary) => Ok(summary),
            None if once => Err(NetError::Disconnected),
            None => Ok(Summary::default()),
        },
        Err(e) => Err(e),
    }
}
