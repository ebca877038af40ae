//! One sync session: the protocol between two peers over one connection.
//!
//! Handshake (`Hello`, `Auth`), then the festivals both want (`Festivals`, as blinded
//! tokens), then per shared festival: inventories of log heights (`Have`), the catch-up
//! announced (`Plan`), streamed in log order (`Entries`, credited by `Credit`) and finished
//! (`Done`), then live pushes of new entries.

mod ours;

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::sync::Arc;

use bamboo::{Author, Entry, Keypair, LogKey};
use ed25519_zebra::{Signature, VerificationKey};
use thiserror::Error;

use crate::FestivalId;
use crate::overlay::OverlayMessage;
use crate::store::SyncStore;
use crate::wire::{
    self, CloseCode, Hello, Limits, LogHeight, Message, Token, VERSION_MAJOR, VERSION_MINOR, WireEntry, WireError,
    auth_message, entries_frame_len, entry_item_len,
};
use ours::Ours;

/// Heights the peer may announce for logs this side does not hold, beyond those it holds:
/// a peer must not make a session's memory grow without bound.
const MAX_FOREIGN_HEIGHTS: usize = 65_536;

/// How long an entry a lazy peer noted may take to come by another path before this side
/// asks that peer to push again (`Eager`), counted from the first [`Session::tick`] after
/// the note. An entry crosses a field of 200 nodes in about 0.3 s (`docs/sync.md` §10).
pub const GRAFT_AFTER_MS: u64 = 500;

/// What a session is told at its start.
#[derive(Clone, Debug)]
pub struct SessionConfig {
    /// What this side accepts; announced in `Hello`.
    pub limits: Limits,
    /// The festivals this side holds and wants: those it joined and their ancestors. A host
    /// that gives every session the same list, sorted, has it held once.
    pub festivals: Arc<[FestivalId]>,
}

impl SessionConfig {
    pub fn new(festivals: impl IntoIterator<Item = FestivalId>) -> SessionConfig {
        SessionConfig { limits: Limits::default(), festivals: festivals.into_iter().collect() }
    }
}

/// Names one received batch between [`Output::Entries`] and [`Session::stored`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct BatchId(pub u64);

/// A received entry, decoded (structure only: signatures and links are the caller's to check).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReceivedEntry {
    pub entry: Entry,
    pub bytes: Vec<u8>,
    pub payload: Vec<u8>,
}

/// What the caller must act upon, in order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Output {
    /// Send these bytes to the peer as one message (one WebSocket binary frame).
    Send(Vec<u8>),
    /// The peer proved it holds this key.
    Ready { peer: Author },
    /// Both sides want this festival: it is being synced (and may carry overlay messages).
    Started { festival: FestivalId },
    /// The peer's catch-up of this festival will bring this much: the total of a progress bar.
    Plan { festival: FestivalId, entries: u64, bytes: u64 },
    /// Entries to verify and store, in log order per log. Then call [`Session::stored`], or
    /// [`Session::rejected`] if any fails verification.
    Entries { festival: FestivalId, batch: BatchId, entries: Vec<ReceivedEntry> },
    /// Both catch-ups of this festival are complete; from now on only new entries flow.
    Live { festival: FestivalId },
    /// An overlay message for this festival's [`crate::Overlay`].
    Overlay { festival: FestivalId, message: OverlayMessage },
}

/// Why a session ended. Every error from [`Session::receive`] and [`Session::rejected`]
/// ends the session: after it, [`Session::poll`] yields only the `Close` message to send
/// (none when the peer closed), and the caller disconnects. [`SyncError::UnknownBatch`] and
/// [`SyncError::Closed`] report the caller's mistakes and change nothing.
#[derive(Clone, Debug, PartialEq, Eq, Error)]
pub enum SyncError {
    #[error("malformed message: {0}")]
    Wire(WireError),
    #[error("the peer speaks wire version {theirs}, this peer speaks {ours}")]
    IncompatibleVersion { ours: u64, theirs: u64 },
    #[error("the peer failed to prove it holds key {0}")]
    AuthFailed(Author),
    #[error("the peer presents this peer's own key")]
    SelfConnection,
    #[error("the peer announces {what} = {value}, below the minimum of {min}")]
    LimitTooLow { what: &'static str, value: u32, min: u32 },
    #[error("unexpected {message}: {context}")]
    Unexpected { message: &'static str, context: &'static str },
    #[error("a message {message} for a festival that is not shared (token {})", token.short())]
    NotShared { message: &'static str, token: Token },
    #[error("overlay message for festival {} that is not shared", festival.short())]
    OverlayNotShared { festival: FestivalId },
    #[error("the peer sent a batch beyond its credit of {window}")]
    CreditExceeded { window: u32 },
    #[error("batch {got} out of order: expected batch {expected}")]
    BatchOutOfOrder { expected: u64, got: u64 },
    #[error("an empty batch")]
    EmptyBatch,
    #[error("malformed entry: {0}")]
    MalformedEntry(bamboo::DecodeError),
    #[error("entry {seq} declares a payload of {declared} bytes but carries {actual}")]
    PayloadSize { seq: u64, declared: u64, actual: u64 },
    #[error("entry {got} of log {author}/{log_id} is out of log order: expected at most {expected}")]
    NotInLogOrder { author: Author, log_id: u64, expected: u64, got: u64 },
    #[error("log {author}/{log_id} does not belong to festival {}", festival.short())]
    WrongFestival { author: Author, log_id: u64, festival: FestivalId },
    #[error("batch {batch} held an invalid entry: {reason}")]
    Rejected { batch: u64, reason: String },
    #[error("no batch {0} awaits storing")]
    UnknownBatch(u64),
    #[error("the peer closed the session (code {}): {reason}", code.to_u64())]
    PeerClosed { code: CloseCode, reason: String },
    #[error("the session is closed")]
    Closed,
}

impl SyncError {
    /// The code sent to the peer in `Close`.
    pub fn close_code(&self) -> CloseCode {
        match self {
            SyncError::Wire(WireError::TooMany { .. } | WireError::TooLarge { .. }) => CloseCode::Limit,
            SyncError::Wire(_) | SyncError::MalformedEntry(_) | SyncError::PayloadSize { .. } => CloseCode::Malformed,
            SyncError::IncompatibleVersion { .. } => CloseCode::Version,
            SyncError::AuthFailed(_) | SyncError::SelfConnection => CloseCode::Auth,
            SyncError::LimitTooLow { .. } | SyncError::CreditExceeded { .. } => CloseCode::Limit,
            SyncError::NotShared { .. } | SyncError::OverlayNotShared { .. } | SyncError::WrongFestival { .. } => {
                CloseCode::Boundary
            }
            SyncError::Rejected { .. } => CloseCode::InvalidEntry,
            SyncError::Unexpected { .. }
            | SyncError::BatchOutOfOrder { .. }
            | SyncError::EmptyBatch
            | SyncError::NotInLogOrder { .. } => CloseCode::Protocol,
            SyncError::UnknownBatch(_) | SyncError::PeerClosed { .. } | SyncError::Closed => CloseCode::Normal,
        }
    }
}

/// Counters for reports and tests; messages are counted by type number.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Stats {
    pub messages_sent: [u64; 16],
    pub messages_received: [u64; 16],
    pub bytes_sent: u64,
    pub bytes_received: u64,
    /// The largest message sent.
    pub largest_sent: usize,
    pub entries_sent: u64,
    pub entries_received: u64,
    /// Received entries that were already held when their batch was stored.
    pub duplicates_received: u64,
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Phase {
    AwaitHello,
    AwaitAuth,
    Ready,
    Closed,
}

#[derive(Clone)]
struct PeerInfo {
    key: Author,
    minor: u64,
    nonce: [u8; 32],
    limits: Limits,
}

/// A received batch awaiting [`Session::stored`]: for each log, the first and last seq.
#[derive(Clone)]
struct InBatch {
    festival: FestivalId,
    spans: BTreeMap<LogKey, (u64, u64)>,
}

/// Where the peer's catch-up of a festival stands, as this side receives it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
enum Receiving {
    /// This side's inventory is not sent yet.
    #[default]
    Unstarted,
    /// The inventory is sent; the peer's `Plan` comes next.
    AwaitPlan,
    /// The `Plan` came; its entries are streaming in.
    CatchingUp,
    /// The peer's `Done` came: from now on it pushes new entries.
    Done,
}

/// Where this side's catch-up of a festival stands, as it sends to the peer.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
enum Sending {
    /// The peer's inventory is not complete yet.
    #[default]
    AwaitInventory,
    /// The inventory is complete: the `Plan` is due.
    PlanDue,
    /// The `Plan` is sent; the entries it announced are streaming out.
    CatchingUp,
    /// `Done` is sent: from now on new entries are pushed.
    Done,
}

/// The state of one shared festival.
#[derive(Default, Clone)]
struct Fest {
    receiving: Receiving,
    sending: Sending,
    /// `Output::Live` was reported.
    live: bool,
    /// Heights held here, as far as this session knows.
    local: BTreeMap<LogKey, u64>,
    /// Heights the peer holds, as far as this session knows.
    remote: BTreeMap<LogKey, u64>,
    /// The last seq handed out in batches not stored yet.
    in_store: BTreeMap<LogKey, u64>,
    /// The catch-up still to send: the height each log must reach.
    initial: BTreeMap<LogKey, u64>,
    /// Logs with entries to push.
    dirty: BTreeSet<LogKey>,
    /// Logs whose next entry is too large to send, or missing from the store.
    parked: BTreeSet<LogKey>,
    /// The link is lazy: new entries are noted to the peer, not pushed. `Lazy`, sent or
    /// received, makes it so; `Eager`, sent or received, ends it (Plumtree's eager and lazy
    /// sets, one link at a time: both ends agree, but for messages crossing).
    lazy: bool,
    /// Logs with new entries to note to the peer, while `lazy`.
    notes: BTreeSet<LogKey>,
    /// The heights noted to the peer.
    noted: BTreeMap<LogKey, u64>,
    /// Heights the peer noted that this side has not reached, with the tick at which the
    /// wait began (none before the first tick after the note).
    wanted: BTreeMap<LogKey, (u64, Option<u64>)>,
    /// Logs the peer noted since this side last sent `Eager`, which tells it their heights,
    /// so that it does not push again what came by other paths meanwhile.
    heard: BTreeSet<LogKey>,
}

impl Fest {
    fn local(&self, key: &LogKey) -> u64 {
        self.local.get(key).copied().unwrap_or(0)
    }

    fn remote(&self, key: &LogKey) -> u64 {
        self.remote.get(key).copied().unwrap_or(0)
    }

    /// The highest seq held or on its way to the store.
    fn reached(&self, key: &LogKey) -> u64 {
        self.local(key).max(self.in_store.get(key).copied().unwrap_or(0))
    }

    /// Re-derives what must be sent for one log after a height changed.
    fn refresh(&mut self, key: &LogKey) {
        let (local, remote) = (self.local(key), self.remote(key));
        if self.initial.get(key).is_some_and(|&target| remote >= target) {
            self.initial.remove(key);
        }
        let waiting = self.sending == Sending::AwaitInventory;
        if local <= remote || waiting || self.parked.contains(key) {
            self.dirty.remove(key);
            self.notes.remove(key);
        } else if self.lazy {
            self.dirty.remove(key);
            if local > self.noted.get(key).copied().unwrap_or(0) {
                self.notes.insert(*key);
            } else {
                self.notes.remove(key);
            }
        } else {
            self.dirty.insert(*key);
            self.notes.remove(key);
        }
    }

    /// Switches between pushing and noting. Only a change re-derives every log: a peer
    /// repeating `Lazy` or `Eager` costs nothing more.
    fn set_lazy(&mut self, lazy: bool) {
        if self.lazy != lazy {
            self.lazy = lazy;
            self.refresh_all();
        }
    }

    fn refresh_all(&mut self) {
        let keys: Vec<LogKey> = self.local.keys().copied().collect();
        for key in &keys {
            self.refresh(key);
        }
    }

    /// Raises what the peer holds from a height it announced (within the foreign-log bound).
    /// False if the log is foreign and there is no room for it.
    fn raise_remote(&mut self, h: &LogHeight) -> bool {
        let key = (h.author, h.log_id);
        let known = self.local.contains_key(&key) || self.remote.contains_key(&key);
        if !known && self.remote.len() >= self.local.len() + MAX_FOREIGN_HEIGHTS {
            return false;
        }
        if h.seq > self.remote(&key) {
            self.remote.insert(key, h.seq);
        }
        true
    }

    fn raise_local(&mut self, key: LogKey, seq: u64) {
        if seq > self.local(&key) {
            self.local.insert(key, seq);
        }
        self.refresh(&key);
    }
}

/// One sync session with one peer: a sans-I/O state machine.
///
/// Drive it with [`Session::receive`] for every incoming message, [`Session::stored`] /
/// [`Session::rejected`] for every [`Output::Entries`], [`Session::notify_heights`] whenever
/// the store gains entries, and drain [`Session::poll`] after each of these.
#[derive(Clone)]
pub struct Session {
    keypair: Keypair,
    me: Author,
    limits: Limits,
    nonce: [u8; 32],
    phase: Phase,
    peer: Option<PeerInfo>,
    /// This side's festivals, and the tokens the peer names them by once its `Hello` is
    /// known. A token the peer sends that names none of them is dropped.
    ours: Ours,
    /// The peer's whole first announcement arrived (it may be empty).
    heard_festivals: bool,
    fests: BTreeMap<FestivalId, Fest>,
    out: VecDeque<Output>,
    /// Batches this side may still send.
    credit: u64,
    next_batch_out: u64,
    /// The festival whose batch went last: batches take turns between festivals.
    cursor: Option<FestivalId>,
    next_batch_in: u64,
    inflight: BTreeMap<u64, InBatch>,
    stats: Stats,
    /// Something changed since [`Session::work`] last found nothing to do.
    stirred: bool,
    /// The time of the last [`Session::tick`], in milliseconds; a session never ticked never
    /// asks for lazy push, since it could not ask for the entries back.
    now: Option<u64>,
    /// Festivals with heights in `wanted`: what a tick looks at.
    waiting: BTreeSet<FestivalId>,
}

impl Session {
    /// Starts a session; its `Hello` is the first output. `nonce` must be fresh randomness:
    /// the peer signs it to prove its key.
    pub fn new(keypair: Keypair, config: SessionConfig, nonce: [u8; 32]) -> Session {
        let me = keypair.author();
        let mut session = Session {
            keypair,
            me,
            limits: config.limits,
            nonce,
            phase: Phase::AwaitHello,
            peer: None,
            ours: Ours::new(config.festivals),
            heard_festivals: false,
            fests: BTreeMap::new(),
            out: VecDeque::new(),
            credit: 0,
            next_batch_out: 0,
            cursor: None,
            next_batch_in: 0,
            inflight: BTreeMap::new(),
            stats: Stats::default(),
            stirred: true,
            now: None,
            waiting: BTreeSet::new(),
        };
        let hello = Hello { minor: VERSION_MINOR, key: me, nonce, limits: config.limits };
        session.queue(&Message::Hello(hello));
        session
    }

    /// The peer's key, once it proved it.
    pub fn peer(&self) -> Option<Author> {
        self.peer.as_ref().filter(|_| matches!(self.phase, Phase::Ready)).map(|p| p.key)
    }

    pub fn is_closed(&self) -> bool {
        self.phase == Phase::Closed
    }

    /// The festivals both sides want.
    pub fn shared_festivals(&self) -> impl Iterator<Item = &FestivalId> {
        self.fests.keys()
    }

    /// Whether the peer's list of festivals arrived, so that [`Session::shared_festivals`]
    /// is known (a one-shot sync is over once these are all live).
    pub fn heard_festivals(&self) -> bool {
        self.heard_festivals
    }

    /// How this side names `festival` to the peer on this session (once the peer's `Hello`
    /// arrived and if this side wants the festival).
    pub fn token_of(&self, festival: &FestivalId) -> Option<Token> {
        let peer = self.peer.as_ref()?;
        self.ours.contains(festival).then(|| Token::new(festival, &self.me, &self.nonce, &peer.key, &peer.nonce))
    }

    /// Whether both catch-ups of `festival` are complete.
    pub fn is_live(&self, festival: &FestivalId) -> bool {
        self.fests.get(festival).is_some_and(|f| f.live)
    }

    /// Whether the link is lazy for `festival`: new entries go to the peer as notes.
    pub fn is_lazy(&self, festival: &FestivalId) -> bool {
        self.fests.get(festival).is_some_and(|f| f.lazy)
    }

    /// Whether noted entries are awaited: [`Session::tick`] has something to look at.
    pub fn awaits_notes(&self) -> bool {
        !self.waiting.is_empty()
    }

    /// Makes a lazy link eager again at once, asking the peer to push (`Eager`): the host
    /// lost another path for `festival`'s entries (an eager link closed).
    pub fn graft_now(&mut self, festival: &FestivalId) {
        if self.phase == Phase::Ready && self.is_lazy(festival) {
            self.stirred = true;
            self.graft(*festival);
        }
    }

    /// Received batches handed out and not yet stored: at most the window of [`Limits`].
    pub fn in_flight(&self) -> usize {
        self.inflight.len()
    }

    pub fn stats(&self) -> &Stats {
        &self.stats
    }

    /// The next output, reading from `store` when entries or heights must be sent.
    pub fn poll(&mut self, store: &(impl SyncStore + ?Sized)) -> Option<Output> {
        loop {
            if let Some(output) = self.out.pop_front() {
                return Some(output);
            }
            // Polling is frequent and mostly idle: look at the store only after a change.
            if self.phase != Phase::Ready || !self.stirred {
                return None;
            }
            if !self.work(store) {
                self.stirred = false;
                return None;
            }
        }
    }

    /// Handles one message from the peer. An error ends the session: send what
    /// [`Session::poll`] still yields (a `Close` naming the error), then disconnect.
    pub fn receive(&mut self, bytes: &[u8]) -> Result<(), SyncError> {
        if self.phase == Phase::Closed {
            return Err(SyncError::Closed);
        }
        self.stats.bytes_received += bytes.len() as u64;
        self.stirred = true;
        let message = match Message::decode(bytes, &self.limits) {
            Ok(m) => m,
            Err(WireError::UnsupportedVersion { major }) => {
                return Err(self.fail(SyncError::IncompatibleVersion { ours: VERSION_MAJOR, theirs: major }));
            }
            Err(e) => return Err(self.fail(SyncError::Wire(e))),
        };
        self.stats.messages_received[message.type_number() as usize & 15] += 1;
        self.handle(message).map_err(|e| self.fail(e))
    }

    /// The caller verified and stored every entry of `batch`: more may come.
    pub fn stored(&mut self, batch: BatchId) -> Result<(), SyncError> {
        if self.phase == Phase::Closed {
            return Err(SyncError::Closed);
        }
        let b = self.inflight.remove(&batch.0).ok_or(SyncError::UnknownBatch(batch.0))?;
        self.stirred = true;
        let may_pull_lazily = self.may_pull_lazily();
        let fest = self.fests.get_mut(&b.festival).expect("batches belong to shared festivals");
        let (mut duplicates, mut entries) = (0, 0);
        for (key, (first, last)) in b.spans {
            duplicates += fest.local(&key).min(last).saturating_sub(first - 1);
            entries += last - first + 1;
            if fest.in_store.get(&key).is_some_and(|&r| r <= last) {
                fest.in_store.remove(&key);
            }
            fest.raise_local(key, last);
        }
        // Plumtree's prune: a live push that brought nothing new came by another path
        // first; from now on the peer notes instead, and `tick` asks again if a noted entry
        // does not come by another path in time.
        let prune = duplicates == entries && fest.receiving == Receiving::Done && !fest.lazy && may_pull_lazily;
        if prune {
            fest.set_lazy(true);
        }
        self.stats.duplicates_received += duplicates;
        self.queue(&Message::Credit { batches: 1 });
        if prune {
            self.queue(&Message::Lazy { festival: self.token(&b.festival) });
        }
        Ok(())
    }

    /// The caller found an invalid entry in `batch`: the session ends.
    pub fn rejected(&mut self, batch: BatchId, reason: &str) -> SyncError {
        self.fail(SyncError::Rejected { batch: batch.0, reason: reason.to_string() })
    }

    /// The time passed, in milliseconds of any clock that does not go back (call it about
    /// once a second, and drain [`Session::poll`] after). A lazy festival whose noted entries
    /// have not come by another path within [`GRAFT_AFTER_MS`] asks the peer to push again.
    pub fn tick(&mut self, now_ms: u64) {
        self.now = Some(now_ms);
        if self.phase != Phase::Ready {
            return;
        }
        let waiting: Vec<FestivalId> = self.waiting.iter().copied().collect();
        for festival in waiting {
            let fest = self.fests.get_mut(&festival).expect("waiting festivals are shared");
            let reached: BTreeMap<LogKey, u64> = fest.wanted.keys().map(|k| (*k, fest.reached(k))).collect();
            fest.wanted.retain(|key, (seq, _)| reached[key] < *seq);
            let mut late = false;
            for (_, since) in fest.wanted.values_mut() {
                let since = *since.get_or_insert(now_ms);
                late |= now_ms.saturating_sub(since) >= GRAFT_AFTER_MS;
            }
            if fest.wanted.is_empty() {
                self.waiting.remove(&festival);
            } else if late {
                self.graft(festival);
            }
        }
    }

    /// The store now holds these heights of `festival`'s logs (a local append, or entries
    /// stored from any session): new entries are pushed to the peer, or noted to it.
    pub fn notify_heights(&mut self, festival: &FestivalId, heights: &[LogHeight]) {
        if self.phase == Phase::Closed {
            return;
        }
        // Before the start the store is read anyway.
        let Some(fest) = self.fests.get_mut(festival).filter(|f| f.receiving != Receiving::Unstarted) else { return };
        self.stirred = true;
        for h in heights {
            fest.raise_local((h.author, h.log_id), h.seq);
        }
    }

    /// Adds festivals this side wants while the session runs: those of `festivals` it does
    /// not hold yet. A host that gives every session the same list, sorted, has it held once.
    pub fn add_festivals(&mut self, festivals: impl Into<Arc<[FestivalId]>>) {
        let new = self.ours.add(festivals.into());
        if self.peer.is_some() && !new.is_empty() {
            self.expect_tokens();
        }
        if self.phase != Phase::Ready || new.is_empty() {
            return;
        }
        self.stirred = true;
        // The peer may have named these before this side held them; it dropped this side's
        // tokens then, and learns of them now. Sharing starts when its answer comes.
        self.send_festivals(&new);
    }

    /// Sends an overlay message for a shared festival.
    pub fn send_overlay(&mut self, festival: FestivalId, message: OverlayMessage) -> Result<(), SyncError> {
        match self.phase {
            Phase::Ready => {}
            Phase::Closed => return Err(SyncError::Closed),
            _ => return Err(SyncError::Unexpected { message: "Overlay", context: "the handshake is not over" }),
        }
        if !self.fests.contains_key(&festival) {
            return Err(SyncError::OverlayNotShared { festival });
        }
        self.queue(&Message::Overlay { festival: self.token(&festival), message });
        Ok(())
    }

    /// Ends the session normally; [`Session::poll`] yields the `Close` to send.
    pub fn close(&mut self, reason: &str) {
        if self.phase != Phase::Closed {
            self.out.clear();
            self.queue(&Message::Close { code: CloseCode::Normal, reason: reason.to_string() });
            self.phase = Phase::Closed;
        }
    }

    // -----------------------------------------------------------------------------------

    fn queue(&mut self, message: &Message) {
        let bytes = message.encode();
        self.stats.messages_sent[message.type_number() as usize & 15] += 1;
        self.stats.bytes_sent += bytes.len() as u64;
        self.stats.largest_sent = self.stats.largest_sent.max(bytes.len());
        self.out.push_back(Output::Send(bytes));
    }

    fn fail(&mut self, error: SyncError) -> SyncError {
        if self.phase != Phase::Closed {
            self.out.clear();
            if !matches!(error, SyncError::PeerClosed { .. }) {
                let mut reason = error.to_string();
                truncate_utf8(&mut reason, wire::MAX_REASON_BYTES);
                self.queue(&Message::Close { code: error.close_code(), reason });
            }
            self.phase = Phase::Closed;
        }
        error
    }

    fn peer_limits(&self) -> Limits {
        self.peer.as_ref().map_or(Limits::MIN, |p| p.limits)
    }

    /// Indexes the peer's token of each of this side's festivals, once both `Hello`s are known.
    fn expect_tokens(&mut self) {
        let peer = self.peer.as_ref().expect("after the peer's Hello");
        let (me, nonce) = (self.me, self.nonce);
        self.ours.expect(|f| Token::new(f, &peer.key, &peer.nonce, &me, &nonce));
    }

    /// The festival the peer names by `token`, if this side holds it.
    fn named_by(&self, token: &Token) -> Option<FestivalId> {
        let peer = self.peer.as_ref()?;
        self.ours.named(token, |f| Token::new(f, &peer.key, &peer.nonce, &self.me, &self.nonce))
    }

    /// This side's token of one of its festivals, once the peer's `Hello` is known.
    fn token(&self, festival: &FestivalId) -> Token {
        let peer = self.peer.as_ref().expect("a festival is named to a peer after its Hello");
        Token::new(festival, &self.me, &self.nonce, &peer.key, &peer.nonce)
    }

    /// Names `festivals` to the peer, split to its limits (any number of festivals works).
    fn send_festivals(&mut self, festivals: &[FestivalId]) {
        let limits = self.peer_limits();
        // A token takes 34 bytes on the wire; stay well inside the peer's message limit.
        let per_message = (limits.max_message_bytes as usize / 40).min(limits.max_festivals as usize).max(1);
        let tokens: Vec<Token> = festivals.iter().map(|f| self.token(f)).collect();
        let chunks: Vec<&[Token]> = if tokens.is_empty() { vec![&[]] } else { tokens.chunks(per_message).collect() };
        let last = chunks.len() - 1;
        for (i, chunk) in chunks.into_iter().enumerate() {
            self.queue(&Message::Festivals { tokens: chunk.to_vec(), done: i == last });
        }
    }

    /// The festival the peer names by `token` in a per-festival message. A token of one of
    /// this side's festivals that it has not seen yet counts as the peer naming it (the peer
    /// names a festival before it sends anything about it, but its `Festivals` may have
    /// arrived before this side held the festival).
    fn named(&mut self, message: &'static str, token: Token) -> Result<FestivalId, SyncError> {
        let festival = self.named_by(&token).ok_or(SyncError::NotShared { message, token })?;
        self.start(festival);
        Ok(festival)
    }

    fn start(&mut self, festival: FestivalId) {
        if let std::collections::btree_map::Entry::Vacant(slot) = self.fests.entry(festival) {
            slot.insert(Fest::default());
            self.out.push_back(Output::Started { festival });
        }
    }

    fn handle(&mut self, message: Message) -> Result<(), SyncError> {
        if let Message::Close { code, reason } = message {
            return Err(SyncError::PeerClosed { code, reason });
        }
        match self.phase {
            Phase::AwaitHello => match message {
                Message::Hello(hello) => self.on_hello(hello),
                other => Err(SyncError::Unexpected { message: other.name(), context: "expected Hello" }),
            },
            Phase::AwaitAuth => match message {
                Message::Auth { signature } => self.on_auth(signature),
                other => Err(SyncError::Unexpected { message: other.name(), context: "expected Auth" }),
            },
            Phase::Ready => self.on_ready_message(message),
            Phase::Closed => Err(SyncError::Closed),
        }
    }

    fn on_hello(&mut self, hello: Hello) -> Result<(), SyncError> {
        if hello.key == self.me {
            return Err(SyncError::SelfConnection);
        }
        if let Some((what, value, min)) = hello.limits.below_minimum() {
            return Err(SyncError::LimitTooLow { what, value, min });
        }
        let signature = self.keypair.sign(&auth_message(&hello.nonce, &self.me, &hello.key));
        self.peer = Some(PeerInfo { key: hello.key, minor: hello.minor, nonce: hello.nonce, limits: hello.limits });
        self.expect_tokens();
        self.credit = hello.limits.window.into();
        self.phase = Phase::AwaitAuth;
        self.queue(&Message::Auth { signature: signature.0 });
        Ok(())
    }

    fn on_auth(&mut self, signature: [u8; 64]) -> Result<(), SyncError> {
        let key = self.peer.as_ref().expect("Hello came first").key;
        let signed = auth_message(&self.nonce, &key, &self.me);
        let valid = VerificationKey::try_from(key.0)
            .is_ok_and(|vk| vk.verify(&Signature::from_bytes(&signature), &signed).is_ok());
        if !valid {
            return Err(SyncError::AuthFailed(key));
        }
        self.phase = Phase::Ready;
        self.out.push_back(Output::Ready { peer: key });
        let ours = self.ours.festivals().to_vec();
        // An empty list still tells the peer where this side stands.
        self.send_festivals(&ours);
        Ok(())
    }

    fn shared(&mut self, message: &'static str, token: Token) -> Result<(FestivalId, &mut Fest), SyncError> {
        let festival = self.named(message, token)?;
        Ok((festival, self.fests.get_mut(&festival).expect("started")))
    }

    fn on_ready_message(&mut self, message: Message) -> Result<(), SyncError> {
        match message {
            Message::Hello(_) | Message::Auth { .. } => {
                Err(SyncError::Unexpected { message: message.name(), context: "the handshake is over" })
            }
            Message::Festivals { tokens, done } => {
                self.heard_festivals |= done;
                // Tokens of festivals this side does not hold are dropped unremembered.
                let shared: Vec<FestivalId> = tokens.iter().filter_map(|t| self.named_by(t)).collect();
                for f in shared {
                    self.start(f);
                }
                Ok(())
            }
            Message::Have { festival, heights, done } => {
                let (_, fest) = self.shared("Have", festival)?;
                if fest.sending != Sending::AwaitInventory {
                    return Err(SyncError::Unexpected { message: "Have", context: "after the inventory" });
                }
                for h in &heights {
                    fest.raise_remote(h);
                }
                if done {
                    fest.sending = Sending::PlanDue;
                }
                Ok(())
            }
            Message::Plan { festival, entries, bytes } => {
                let (festival, fest) = self.shared("Plan", festival)?;
                if fest.receiving != Receiving::AwaitPlan {
                    return Err(SyncError::Unexpected { message: "Plan", context: "not after this side's inventory" });
                }
                fest.receiving = Receiving::CatchingUp;
                self.out.push_back(Output::Plan { festival, entries, bytes });
                Ok(())
            }
            Message::Entries { batch, festival, entries } => self.on_entries(batch, festival, entries),
            Message::Credit { batches } => {
                self.credit = self.credit.saturating_add(batches.into());
                Ok(())
            }
            Message::Done { festival } => {
                let (festival, fest) = self.shared("Done", festival)?;
                if fest.receiving != Receiving::CatchingUp {
                    return Err(SyncError::Unexpected { message: "Done", context: "not after a Plan" });
                }
                fest.receiving = Receiving::Done;
                self.check_live(festival);
                Ok(())
            }
            Message::Overlay { festival, message } => {
                let (festival, _) = self.shared("Overlay", festival)?;
                self.out.push_back(Output::Overlay { festival, message });
                Ok(())
            }
            Message::Lazy { festival } => {
                let (_, fest) = self.shared("Lazy", festival)?;
                if fest.sending != Sending::Done {
                    return Err(SyncError::Unexpected { message: "Lazy", context: "before this side's Done" });
                }
                fest.set_lazy(true);
                Ok(())
            }
            Message::Note { festival, heights } => {
                let (festival, fest) = self.shared("Note", festival)?;
                if fest.receiving != Receiving::Done {
                    return Err(SyncError::Unexpected { message: "Note", context: "before the peer's Done" });
                }
                // Whatever this side thinks of the link (a note may cross its `Eager`), a noted
                // entry that does not come in time is asked for: nothing is left waiting.
                let mut waits = false;
                for h in &heights {
                    if !fest.raise_remote(h) {
                        continue;
                    }
                    let key = (h.author, h.log_id);
                    fest.refresh(&key);
                    fest.heard.insert(key);
                    if h.seq > fest.reached(&key) {
                        let wait = fest.wanted.entry(key).or_insert((0, None));
                        wait.0 = wait.0.max(h.seq);
                        waits = true;
                    }
                }
                if waits && self.now.is_none() {
                    // A host that does not tick could never ask later: ask now.
                    self.graft(festival);
                } else if waits {
                    self.waiting.insert(festival);
                }
                Ok(())
            }
            Message::Eager { festival, heights } => {
                let (_, fest) = self.shared("Eager", festival)?;
                if fest.sending != Sending::Done {
                    return Err(SyncError::Unexpected { message: "Eager", context: "before this side's Done" });
                }
                for h in &heights {
                    if fest.raise_remote(h) {
                        fest.refresh(&(h.author, h.log_id));
                    }
                }
                fest.set_lazy(false);
                Ok(())
            }
            Message::Close { .. } => unreachable!("handled before the phase"),
        }
    }

    fn on_entries(&mut self, batch: u64, token: Token, entries: Vec<WireEntry>) -> Result<(), SyncError> {
        let window = self.limits.window;
        let inflight = self.inflight.len();
        let expected_batch = self.next_batch_in;
        let (festival, fest) = self.shared("Entries", token)?;
        if fest.receiving == Receiving::Unstarted {
            return Err(SyncError::Unexpected { message: "Entries", context: "before this side's inventory" });
        }
        if batch != expected_batch {
            return Err(SyncError::BatchOutOfOrder { expected: expected_batch, got: batch });
        }
        if inflight >= window as usize {
            return Err(SyncError::CreditExceeded { window });
        }
        if entries.is_empty() {
            return Err(SyncError::EmptyBatch);
        }
        let mut spans: BTreeMap<LogKey, (u64, u64)> = BTreeMap::new();
        let mut received = Vec::with_capacity(entries.len());
        for WireEntry { entry: bytes, payload } in entries {
            let entry = Entry::decode(&bytes).map_err(SyncError::MalformedEntry)?;
            let seq = entry.seq_num;
            if payload.len() as u64 != entry.payload_size {
                return Err(SyncError::PayloadSize { seq, declared: entry.payload_size, actual: payload.len() as u64 });
            }
            let key = (entry.author, entry.log_id);
            let in_order = match spans.get(&key) {
                Some(&(_, last)) => seq == last + 1,
                // Entries held already may come again (the peer may not know yet), but
                // never past a gap: each log arrives in log order.
                None => seq <= fest.reached(&key) + 1,
            };
            if !in_order {
                let expected = spans.get(&key).map_or(fest.reached(&key) + 1, |&(_, last)| last + 1);
                return Err(SyncError::NotInLogOrder { author: key.0, log_id: key.1, expected, got: seq });
            }
            if seq == 1 && crate::log_festival(&bytes, &payload) != Some(festival) {
                return Err(SyncError::WrongFestival { author: key.0, log_id: key.1, festival });
            }
            spans.entry(key).and_modify(|s| s.1 = seq).or_insert((seq, seq));
            received.push(ReceivedEntry { entry, bytes, payload });
        }
        for (key, &(_, last)) in &spans {
            if last > fest.in_store.get(key).copied().unwrap_or(0) {
                fest.in_store.insert(*key, last);
            }
            if last > fest.remote(key) {
                fest.remote.insert(*key, last);
            }
            fest.refresh(key);
        }
        self.stats.entries_received += received.len() as u64;
        self.inflight.insert(batch, InBatch { festival, spans });
        self.next_batch_in += 1;
        self.out.push_back(Output::Entries { festival, batch: BatchId(batch), entries: received });
        Ok(())
    }

    fn check_live(&mut self, festival: FestivalId) {
        let fest = self.fests.get_mut(&festival).expect("a shared festival");
        if !fest.live && fest.sending == Sending::Done && fest.receiving == Receiving::Done {
            fest.live = true;
            self.out.push_back(Output::Live { festival });
        }
    }

    /// Queues the next piece of store-backed work; false when there is none.
    fn work(&mut self, store: &(impl SyncStore + ?Sized)) -> bool {
        let next = |phase: &dyn Fn(&Fest) -> bool| self.fests.iter().find(|(_, f)| phase(f)).map(|(id, _)| *id);
        if let Some(festival) = next(&|f| f.receiving == Receiving::Unstarted) {
            self.send_inventory(festival, store);
            return true;
        }
        if let Some(festival) = next(&|f| f.sending == Sending::PlanDue) {
            self.send_plan(festival, store);
            return true;
        }
        if let Some(festival) = next(&|f| !f.notes.is_empty()) {
            self.send_notes(festival);
            return true;
        }
        while self.credit > 0 {
            // Festivals take turns: the next one after the last served that has work.
            let next = {
                let mut with_work = self.fests.iter().filter(|(_, f)| !f.dirty.is_empty()).map(|(id, _)| *id);
                let all: Vec<FestivalId> = with_work.by_ref().collect();
                all.iter().find(|id| Some(**id) > self.cursor).or(all.first()).copied()
            };
            let Some(festival) = next else { return false };
            if self.send_batch(festival, store) {
                return true;
            }
        }
        false
    }

    fn heights_per_message(&self) -> usize {
        let limits = self.peer_limits();
        // A height takes at most 53 bytes on the wire.
        ((limits.max_message_bytes as usize - 128) / 53).min(limits.max_heights as usize).max(1)
    }

    fn send_inventory(&mut self, festival: FestivalId, store: &(impl SyncStore + ?Sized)) {
        let heights = store.heights(&festival);
        let per_message = self.heights_per_message();
        let fest = self.fests.get_mut(&festival).expect("a shared festival");
        fest.receiving = Receiving::AwaitPlan;
        for h in &heights {
            let key = (h.author, h.log_id);
            fest.local.insert(key, h.seq.max(fest.local(&key)));
        }
        let chunks: Vec<&[LogHeight]> =
            if heights.is_empty() { vec![&[]] } else { heights.chunks(per_message).collect() };
        let last = chunks.len() - 1;
        let token = self.token(&festival);
        for (i, chunk) in chunks.into_iter().enumerate() {
            self.queue(&Message::Have { festival: token, heights: chunk.to_vec(), done: i == last });
        }
    }

    /// Notes the new heights of a festival whose peer asked for notes.
    fn send_notes(&mut self, festival: FestivalId) {
        let per_message = self.heights_per_message();
        let fest = self.fests.get_mut(&festival).expect("a shared festival");
        let heights: Vec<LogHeight> = std::mem::take(&mut fest.notes)
            .into_iter()
            .map(|key| {
                let seq = fest.local(&key);
                fest.noted.insert(key, seq);
                LogHeight { author: key.0, log_id: key.1, seq }
            })
            .collect();
        let token = self.token(&festival);
        for chunk in heights.chunks(per_message) {
            self.queue(&Message::Note { festival: token, heights: chunk.to_vec() });
        }
    }

    /// Asks the peer to push `festival`'s entries again, telling it how far this side got
    /// in the logs it noted (Plumtree's graft).
    fn graft(&mut self, festival: FestivalId) {
        let per_message = self.heights_per_message();
        let fest = self.fests.get_mut(&festival).expect("a shared festival");
        fest.set_lazy(false);
        fest.wanted.clear();
        let heights: Vec<LogHeight> = std::mem::take(&mut fest.heard)
            .into_iter()
            .filter_map(|key| {
                let seq = fest.reached(&key);
                (seq > 0).then_some(LogHeight { author: key.0, log_id: key.1, seq })
            })
            .collect();
        self.waiting.remove(&festival);
        let token = self.token(&festival);
        let chunks: Vec<&[LogHeight]> =
            if heights.is_empty() { vec![&[]] } else { heights.chunks(per_message).collect() };
        for chunk in chunks {
            self.queue(&Message::Eager { festival: token, heights: chunk.to_vec() });
        }
    }

    /// Whether this side may ask the peer for notes: the host ticks (so a noted entry that
    /// does not come can be asked for), and the peer speaks minor version 1.
    fn may_pull_lazily(&self) -> bool {
        self.now.is_some() && self.peer.as_ref().is_some_and(|p| p.minor >= 1)
    }

    fn send_plan(&mut self, festival: FestivalId, store: &(impl SyncStore + ?Sized)) {
        let fest = self.fests.get_mut(&festival).expect("a shared festival");
        fest.sending = Sending::CatchingUp;
        let (mut entries, mut bytes) = (0u64, 0u64);
        let keys: Vec<LogKey> = fest.local.keys().copied().collect();
        for key in &keys {
            let (local, remote) = (fest.local(key), fest.remote(key));
            if local > remote {
                fest.initial.insert(*key, local);
                entries += local - remote;
                bytes += store.bytes_between(&key.0, key.1, remote + 1, local);
            }
            fest.refresh(key);
        }
        let done = fest.initial.is_empty();
        let token = self.token(&festival);
        self.queue(&Message::Plan { festival: token, entries, bytes });
        if done {
            self.fests.get_mut(&festival).expect("a shared festival").sending = Sending::Done;
            self.queue(&Message::Done { festival: token });
            self.check_live(festival);
        }
    }

    /// Sends one batch of `festival`, or parks logs that cannot be sent. True if a batch went.
    fn send_batch(&mut self, festival: FestivalId, store: &(impl SyncStore + ?Sized)) -> bool {
        let limits = self.peer_limits();
        let max_bytes = limits.max_message_bytes as usize;
        let batch = self.next_batch_out;
        // The session's first batches are an eighth, a quarter and a half of the limit: the
        // peer checks a batch's signatures before it stores any of it, so a small first batch
        // has it storing sooner, while the next ones are checked.
        let ramp = 3 - batch.min(3);
        let max_entries = ((limits.max_batch_entries as usize).min(4096) >> ramp).max(1);
        let fest = self.fests.get_mut(&festival).expect("a shared festival");
        let mut items: Vec<WireEntry> = Vec::new();
        let mut items_len = 0usize;
        let keys: Vec<LogKey> = fest.dirty.iter().copied().collect();
        'logs: for key in keys {
            let room_count = max_entries - items.len();
            if room_count == 0 {
                break;
            }
            // Room left once the frame's own heads are counted (and 11 bytes of item heads).
            let used = entries_frame_len(batch, max_entries, items_len);
            let room_bytes = max_bytes.saturating_sub(used + 11);
            let (local, remote) = (fest.local(&key), fest.remote(&key));
            let want = usize::try_from(local.saturating_sub(remote)).unwrap_or(usize::MAX).min(room_count);
            if want == 0 {
                fest.refresh(&key);
                continue;
            }
            let got = store.entries(&key.0, key.1, remote + 1, want, room_bytes);
            if got.is_empty() {
                if items.is_empty() {
                    fest.parked.insert(key);
                    fest.initial.remove(&key);
                    fest.refresh(&key);
                    continue;
                }
                break;
            }
            let mut added = 0u64;
            for e in got.into_iter().take(want) {
                let item = entry_item_len(e.entry.len(), e.payload.len());
                if entries_frame_len(batch, max_entries, items_len + item) > max_bytes {
                    if items.is_empty() {
                        // Only a store breaking its contract gets here; never loop on it.
                        fest.parked.insert(key);
                        fest.initial.remove(&key);
                        fest.refresh(&key);
                        continue 'logs;
                    }
                    fest.remote.insert(key, remote + added);
                    fest.refresh(&key);
                    break 'logs;
                }
                items_len += item;
                items.push(e);
                added += 1;
            }
            fest.remote.insert(key, remote + added);
            fest.refresh(&key);
        }
        let finished = fest.sending == Sending::CatchingUp && fest.initial.is_empty();
        if finished {
            fest.sending = Sending::Done;
        }
        if !items.is_empty() {
            self.cursor = Some(festival);
            self.credit -= 1;
            self.next_batch_out += 1;
            self.stats.entries_sent += items.len() as u64;
            self.queue(&Message::Entries { batch, festival: self.token(&festival), entries: items });
        }
        if finished {
            self.queue(&Message::Done { festival: self.token(&festival) });
            self.check_live(festival);
        }
        batch != self.next_batch_out || finished
    }
}

fn truncate_utf8(s: &mut String, max: usize) {
    if s.len() > max {
        let mut at = max;
        while !s.is_char_boundary(at) {
            at -= 1;
        }
        s.truncate(at);
    }
}
