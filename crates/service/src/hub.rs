//! The one host of a node's sync sessions, natively and in a browser: each connection's
//! [`sync::Session`], received entries verified and stored at once, the festivals to sync,
//! introductions of peers to each other (Spray's join), WebRTC signalling relayed one hop,
//! handshake deadlines, one-shot syncs, and the sync status people see.
//!
//! The transport moves bytes: [`Hub::open`] a connection, [`Hub::receive`] each message,
//! then [`Hub::poll`] it and act on every [`HubEvent`]; [`Hub::remove`] it when the
//! transport is gone. The browser's worker drives it directly; the native node drives it from
//! one thread (`net::Host`), its connections being byte pumps.

use std::collections::{BTreeMap, BTreeSet, VecDeque};

use bamboo::Author;
use model::Id;
use serde::Serialize;
use sync::{FestivalId, Limits, Output, OverlayMessage, Peer, Session, SessionConfig, SyncStore};

use crate::neighbours::{Bound, Ended, Neighbours, is_loopback};
use crate::node::Node;

/// What the host must do for a connection.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum HubEvent {
    /// Send these bytes on the connection.
    Send(Vec<u8>),
    /// The peer proved its key.
    Ready { peer: Author },
    /// `peer` shares a festival with this node and can be reached through this connection's
    /// peer (by signalling).
    Introduce { peer: Author },
    /// WebRTC signalling from `from`, relayed by this connection's peer.
    Signal { from: Author, data: String },
    /// The session is over: close the connection. `retry`: whether dialing this address
    /// again makes sense (not when it was this node itself).
    Closed { reason: String, retry: bool },
}

/// How long to wait before dialing a node again after its connection ended (the
/// `attempt`th time in a row): 1 s doubling to 60 s, each ±25 % (`random` in 0..1) so that many
/// peers do not all come back at the same moment. Native nodes and browsers redial alike.
pub fn redial_delay_ms(attempt: u32, random: f64) -> u64 {
    let base = (REDIAL_FIRST_MS << attempt.min(16)).min(REDIAL_MAX_MS);
    (base as f64 * (0.75 + 0.5 * random.clamp(0.0, 1.0))) as u64
}

/// The first redial delay, and the longest.
pub const REDIAL_FIRST_MS: u64 = 1_000;
pub const REDIAL_MAX_MS: u64 = 60_000;
/// A connection that held this long was a success: the next redial starts over.
pub const REDIAL_RESET_MS: u64 = 10_000;

/// A peer must prove its key this soon after its connection opened.
pub const HANDSHAKE_TIMEOUT_MS: i64 = 10_000;
/// Ended connections the status remembers (the newest), besides the open ones.
pub const STATUS_HISTORY: usize = 32;

/// What a finished session did (a one-shot sync reports it).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Summary {
    pub peer: Option<String>,
    pub festivals: Vec<String>,
    pub received: u64,
    pub stored: u64,
    pub sent: u64,
}

#[derive(Serialize, Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum Direction {
    /// The peer connected to us.
    Incoming,
    /// We connected to the peer.
    Outgoing,
}

/// One peer as people see it in the sync status (`GET /api/v1/sync`), natively and in a
/// browser alike.
#[derive(Serialize, Clone, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PeerStatus {
    pub address: String,
    pub key: Option<String>,
    pub direction: Direction,
    pub connected: bool,
    /// Festivals synced with this peer (hex ids).
    pub festivals: Vec<String>,
    /// Entries the peer announced and this node has not stored yet.
    pub behind: u64,
    /// Every shared festival is caught up and in live mode.
    pub live: bool,
    pub received: u64,
    /// Messages sent.
    pub sent: u64,
    pub error: Option<String>,
}

struct Slot {
    session: Session,
    label: String,
    direction: Direction,
    opened_at: i64,
    /// End once every shared festival is caught up (a one-shot sync).
    once: bool,
    sent: u64,
    peer: Option<Author>,
    events: VecDeque<HubEvent>,
    announced: u64,
    received: u64,
    stored: u64,
    closed: Option<Closing>,
    /// Where the peer can be dialed: the address this node dialed, or the one the peer
    /// introduced itself with. Only such peers are neighbours (`neighbours`).
    addr: Option<String>,
    /// Opened by this node's neighbour rule (`Hub::dials`) for this address.
    dialed: Option<String>,
    /// This node told the peer its own address.
    introduced_self: bool,
}

impl Slot {
    /// Open and not a one-shot sync.
    fn is_live(&self) -> bool {
        self.closed.is_none() && !self.session.is_closed() && !self.once
    }

    /// A live session with a peer that can be dialed (`neighbours`).
    fn is_neighbour(&self) -> bool {
        self.is_live() && self.addr.is_some()
    }
}

#[derive(Clone)]
struct Closing {
    reason: String,
    /// Ended as planned (a one-shot sync that caught up), not by an error.
    done: bool,
    retry: bool,
    reported: bool,
}

impl Closing {
    fn error(reason: String) -> Closing {
        Closing { reason, done: false, retry: true, reported: false }
    }
}

/// Which peers a node introduced to each other (Spray's join): each pair once, and again
/// after a session of either ended (a WebRTC attempt may have failed). Shared by the
/// browser's [`Hub`] and the native node's router.
#[derive(Default)]
pub struct Introductions(BTreeSet<(Author, Author)>);

impl Introductions {
    /// Of `others` (peers syncing the same festival), those `newcomer` is to be introduced
    /// to now, and they to it.
    pub fn due(&mut self, newcomer: Author, others: impl IntoIterator<Item = Author>) -> Vec<Author> {
        others
            .into_iter()
            .filter(|o| *o != newcomer)
            .filter(|o| self.0.insert(if newcomer < *o { (newcomer, *o) } else { (*o, newcomer) }))
            .collect()
    }

    /// `peer`'s session ended.
    pub fn forget(&mut self, peer: Author) {
        self.0.retain(|(a, b)| *a != peer && *b != peer);
    }
}

/// All sessions of a node.
#[derive(Default)]
pub struct Hub {
    slots: BTreeMap<u32, Slot>,
    next: u32,
    introduced: Introductions,
    /// Only this festival (and its ancestors): `pandafest sync --festival F`.
    only: Option<Id>,
    history: VecDeque<PeerStatus>,
    neighbours: Neighbours,
    /// The festivals every session was last told of (`notify_all`): one list that the
    /// sessions share (a community node holds a thousand festivals and hundreds of sessions).
    wanted: Option<std::sync::Arc<[FestivalId]>>,
    /// The passive view as last kept in the settings.
    remembered: Option<Vec<String>>,
    /// Entries the host verified already ([`Hub::mark_verified`], [`Hub::mark_verified_entries`]).
    preverified: store::Preverified,
}

/// The most entries checked ahead the hub keeps: the window of a browser's sessions (4 batches
/// of 2048) twice over. In a browser they are hashes (1 MiB); a native node keeps the entries
/// whole ([`Hub::mark_verified_entries`]: payloads and decoded operations, bounded by this
/// count). Those of a batch are taken when the batch is stored; a batch the session
/// refuses leaves them until the bound is reached and everything is forgotten (entries then
/// verified again, nothing worse).
const PREVERIFIED_MAX: usize = 4 * 4096;

/// The hashes of the entries of a sync `Entries` message if every one of them decodes, matches
/// its payload and is signed by its author; none otherwise (another message, or anything
/// wrong: the session that receives the message finds it and says why). The browser peer
/// runs this on a second worker while its first one stores the batch before
/// ([`Hub::mark_verified`]).
pub fn verified_hashes(bytes: &[u8]) -> Vec<bamboo::Hash> {
    checked_entries(bytes).iter().map(|v| v.hash()).collect()
}

/// Checks a message of `count` entries signed here by a throwaway key, as [`verified_hashes`]
/// checks a peer's, and says whether every signature held. A browser compiles wasm in two
/// tiers, a function fast to compile first and for speed only once it has run a while: the
/// second worker calls this as it starts, so that the first batch of a sync is not checked
/// by the first tier (traced in `npm run measure`: 60 ms for a festival's first 256 entries).
pub fn warm_up(count: usize) -> bool {
    let mut log = bamboo::LogWriter::new(bamboo::Keypair::from_secret([0x5a; 32]), 0);
    let entries = (0..count as u64)
        .map(|i| {
            let payload = i.to_be_bytes().to_vec();
            sync::WireEntry { entry: log.append(&payload).bytes, payload }
        })
        .collect();
    let message = sync::Message::Entries { batch: 0, festival: sync::Token([0; 32]), entries }.encode();
    verified_hashes(&message).len() == count
}

/// As [`verified_hashes`], the entries whole, their operations decoded: a native node runs
/// this on a blocking thread while the hub stores the batch before
/// ([`Hub::mark_verified_entries`]), so that the hub's thread only stores.
pub fn verified_entries(bytes: &[u8]) -> Vec<store::VerifiedEntry> {
    checked_entries(bytes).into_iter().map(store::VerifiedEntry::with_op_decoded).collect()
}

/// The entries of an `Entries` message if all of them verify, on the caller's thread only:
/// the host stores on another meanwhile.
fn checked_entries(bytes: &[u8]) -> Vec<store::VerifiedEntry> {
    // The browser's limits admit a native node's messages too (they are larger).
    let limits = sync::Limits::for_browser();
    let Ok(sync::Message::Entries { entries, .. }) = sync::Message::decode(bytes, &limits) else { return Vec::new() };
    let decoded: Result<Vec<_>, _> = entries.into_iter().map(|e| store::decode_entry(e.entry, e.payload)).collect();
    let Ok(decoded) = decoded else { return Vec::new() };
    let verdicts = store::verify_signatures_here(&mut bamboo::SignatureVerifier::default(), decoded);
    verdicts.into_iter().collect::<Result<_, _>>().unwrap_or_default()
}

/// The setting that keeps the passive view across restarts.
const REMEMBERED: &str = "neighbours";

/// Festivals this node syncs: those it holds and those it joined (or only `only`), with
/// their parents as far as they are known; a festival known only by its id names its
/// parent once its first entry is here.
pub fn wanted(node: &Node, only: Option<Id>) -> Vec<FestivalId> {
    let s = node.state();
    let mut ids: BTreeSet<Id> = match only {
        Some(f) => BTreeSet::from([f]),
        None => s.festivals().map(|f| f.id).chain(crate::invite::joined(node).into_iter().map(|(f, _)| f)).collect(),
    };
    for f in ids.clone() {
        ids.extend(s.ancestry(&f));
        if let Some(p) = s.festival(&f).and_then(|f| f.parent) {
            ids.insert(p);
        }
    }
    ids.into_iter().collect()
}

impl Hub {
    /// A hub that syncs only `festival` and its ancestors.
    pub fn only(festival: Id) -> Hub {
        Hub { only: Some(festival), ..Hub::default() }
    }

    /// Entries with these hashes were verified (their signatures checked, by
    /// [`verified_hashes`]): when a session brings them, they are stored without checking
    /// their signatures again. Only the host's own verification may call this.
    pub fn mark_verified(&mut self, hashes: impl IntoIterator<Item = bamboo::Hash>) {
        for hash in hashes {
            self.make_room_ahead();
            self.preverified.mark_signature(hash);
        }
    }

    /// As [`Hub::mark_verified`], the entries whole ([`verified_entries`]): when a session
    /// brings them, they are stored as they are.
    pub fn mark_verified_entries(&mut self, entries: impl IntoIterator<Item = store::VerifiedEntry>) {
        for entry in entries {
            self.make_room_ahead();
            self.preverified.mark_entry(entry);
        }
    }

    fn make_room_ahead(&mut self) {
        if self.preverified.len() >= PREVERIFIED_MAX {
            self.preverified.clear();
        }
    }

    /// Opens a session for a new connection; its first message is ready in [`Hub::poll`].
    pub fn open(&mut self, node: &Node, label: &str, direction: Direction) -> u32 {
        self.open_with(node, label, direction, false, Limits::default())
    }

    /// As [`Hub::open`], announcing `limits` to the peer (a browser's, or a transport's).
    pub fn open_limited(&mut self, node: &Node, label: &str, direction: Direction, limits: Limits) -> u32 {
        self.open_with(node, label, direction, false, limits)
    }

    /// As [`Hub::open`] for a one-shot sync: once every festival both sides want is caught
    /// up both ways, the hub closes the session ([`HubEvent::Closed`], "caught up").
    pub fn open_once(&mut self, node: &Node, label: &str, direction: Direction) -> u32 {
        self.open_with(node, label, direction, true, Limits::default())
    }

    fn open_with(&mut self, node: &Node, label: &str, direction: Direction, once: bool, limits: Limits) -> u32 {
        self.next += 1;
        let festivals = self.tell_wanted(node);
        let config = SessionConfig { limits, festivals };
        let session = Session::new(node.store.keypair().clone(), config, rand::random());
        self.slots.insert(
            self.next,
            Slot {
                session,
                label: label.to_string(),
                direction,
                opened_at: crate::now().0,
                once,
                sent: 0,
                peer: None,
                events: VecDeque::new(),
                announced: 0,
                received: 0,
                stored: 0,
                closed: None,
                addr: None,
                dialed: None,
                introduced_self: false,
            },
        );
        self.next
    }

    /// As [`Hub::open`], for a connection to `url` that [`Hub::dials`] asked for.
    pub fn open_dialed(&mut self, node: &Node, url: &str) -> u32 {
        let id = self.open_with(node, url, Direction::Outgoing, false, Limits::default());
        if let Some(slot) = self.slots.get_mut(&id) {
            slot.addr = Some(url.to_string());
            slot.dialed = Some(url.to_string());
        }
        id
    }

    /// This node's sync address, which it tells its peers so that they can dial it.
    pub fn set_address(&mut self, url: &str) {
        if let Some(url) = crate::invite::sync_url(url) {
            self.neighbours.set_address(url);
        }
    }

    /// A peer to keep in the passive view: `pinned` for configured and invited peers, with
    /// the festival it was named for.
    pub fn learn(&mut self, url: &str, festival: Option<Id>, pinned: bool) {
        if let Some(url) = crate::invite::sync_url(url) {
            self.neighbours.learn(&url, None, festival, pinned);
        }
    }

    /// How many addressable neighbours this node keeps, from what it knows of its
    /// festivals' size (the peers it heard of).
    pub fn bound(&self) -> Bound {
        Bound::for_size(self.neighbours.known() + 1)
    }

    /// The addresses to dial now (open each with [`Hub::open_dialed`], or report a failed
    /// connection with [`Hub::dial_failed`]): for each festival this node syncs, until
    /// [`Bound::outgoing`] sessions share it. Now and then one session this node dialed is
    /// closed first, so that another passive peer takes its place (`neighbours`).
    pub fn dials(&mut self, node: &Node, now: i64) -> Vec<String> {
        let bound = self.bound();
        let chosen: Vec<u32> = self
            .slots
            .iter()
            .filter(|(_, s)| s.is_live() && s.dialed.is_some() && s.peer.is_some())
            .map(|(id, _)| *id)
            .collect();
        // Any node that chose a neighbour rotates: in a small island every node may have its
        // fill with only one session of its own choosing.
        if self.neighbours.rotate_due(now) && !chosen.is_empty() {
            use rand::seq::IndexedRandom;
            if let Some(id) = chosen.choose(&mut rand::rng()) {
                self.retire(*id, "changing neighbours");
            }
        }
        if self.neighbours.shuffle_due(now) {
            self.shuffle();
            self.remember(node);
        }
        let wanted = wanted(node, self.only);
        let have: Vec<(FestivalId, usize, usize)> = wanted
            .iter()
            .map(|f| {
                let sharing = self.slots.values().filter(|s| s.is_neighbour());
                let sharing: Vec<&Slot> = sharing.filter(|s| s.session.shared_festivals().any(|g| g == f)).collect();
                (*f, sharing.len(), sharing.iter().filter(|s| s.dialed.is_some()).count())
            })
            .collect();
        let connected: BTreeSet<Author> = self.slots.values().filter(|s| s.is_live()).filter_map(|s| s.peer).collect();
        self.neighbours.due(now, bound, &have, &connected)
    }

    /// Tells a random addressable neighbour of a few peers this node knows (HyParView's
    /// shuffle, as introductions): passive views stay a sample of the whole festival, so a
    /// node that loses its neighbours, or a rotation, finds peers beyond its corner.
    fn shuffle(&mut self) {
        use rand::seq::IteratorRandom;
        let Some(slot) = self.slots.values_mut().filter(|s| s.is_neighbour()).choose(&mut rand::rng()) else {
            return;
        };
        let (Some(to), Some(festival)) = (slot.peer, slot.session.shared_festivals().next().copied()) else { return };
        for (key, addr) in self.neighbours.sample(&festival, to, crate::neighbours::SHUFFLE_PEERS) {
            let _ = slot.session.send_overlay(festival, OverlayMessage::Introduce { peer: Peer::new(key, addr) });
        }
    }

    /// Keeps the passive view in the node's settings (when it changed), so that a node
    /// whose configured and invited peers are gone after a restart still finds the others.
    fn remember(&mut self, node: &Node) {
        let known = self.neighbours.remembered();
        if self.remembered.as_ref() == Some(&known) {
            return;
        }
        if node.store.set_setting(REMEMBERED, Some(&known.join(" "))).is_ok() {
            self.remembered = Some(known);
        }
    }

    /// Takes the passive view a previous run remembered (see `remember`).
    pub fn restore(&mut self, node: &Node) {
        let Ok(Some(known)) = node.store.setting(REMEMBERED) else { return };
        for url in known.split_ascii_whitespace() {
            self.learn(url, None, false);
        }
    }

    /// The connection to `url` that [`Hub::dials`] asked for could not be made.
    pub fn dial_failed(&mut self, url: &str, now: i64) {
        self.neighbours.ended(url, None, Ended::Failed, now);
    }

    /// After session `id` knows its peer (and maybe its address): at most one session per
    /// peer (the one dialed by the smaller key, which both ends agree on), and at most
    /// [`Bound::total`] with addressable peers (a random older one another node dialed
    /// makes room).
    fn keep_bound(&mut self, node: &Node, id: u32) {
        let me = node.store.keypair().author();
        let Some(peer) = self.slots.get(&id).filter(|s| s.is_live()).and_then(|s| s.peer) else { return };
        let dialer = |s: &Slot| if s.direction == Direction::Outgoing { me } else { s.peer.unwrap_or(me) };
        // Only between neighbour sessions: a one-shot `pandafest sync` from a node's data
        // directory shares the key of that node's server, and must not be cut.
        let twin =
            self.slots.iter().find(|(o, s)| **o != id && s.is_neighbour() && s.peer == Some(peer)).map(|(o, _)| *o);
        if let Some(twin) = twin {
            let mine = dialer(&self.slots[&id]);
            let theirs = dialer(&self.slots[&twin]);
            let loser = if (mine.0, id) > (theirs.0, twin) { id } else { twin };
            self.retire(loser, "already connected");
            if loser == id {
                return;
            }
        }
        let incoming: Vec<u32> = self
            .slots
            .iter()
            .filter(|(o, s)| **o != id && s.is_neighbour() && s.dialed.is_none())
            .map(|(o, _)| *o)
            .collect();
        let addressable = self.slots.values().filter(|s| s.is_neighbour()).count();
        if addressable > self.bound().total() {
            use rand::seq::IndexedRandom;
            if let Some(out) = incoming.choose(&mut rand::rng()) {
                self.retire(*out, "this node has enough neighbours");
            }
        }
    }

    /// Closes the sessions whose peer has not proven its key within
    /// [`HANDSHAKE_TIMEOUT_MS`], and tells every session the time (a lazy festival asks for
    /// noted entries that did not come: [`sync::Session::tick`]). Call it about once a
    /// second (both hosts do), then poll every session.
    pub fn expire(&mut self) {
        let now = crate::now().0;
        for slot in self.slots.values_mut() {
            slot.session.tick(u64::try_from(now).unwrap_or(0));
        }
        let late: Vec<u32> = self
            .slots
            .iter()
            .filter(|(_, s)| s.peer.is_none() && s.closed.is_none() && now - s.opened_at > HANDSHAKE_TIMEOUT_MS)
            .map(|(id, _)| *id)
            .collect();
        for id in late {
            self.close(id, "the peer did not prove its key in time");
        }
    }

    /// What session `id` did so far.
    pub fn summary(&self, id: u32) -> Option<Summary> {
        let s = self.slots.get(&id)?;
        Some(Summary {
            peer: s.peer.map(|k| k.to_hex()),
            festivals: s.session.shared_festivals().map(|f| f.to_hex()).collect(),
            received: s.received,
            stored: s.stored,
            sent: s.sent,
        })
    }

    /// Entries stored from session `id`'s peer, and the total its plans announced: a
    /// progress bar.
    pub fn progress(&self, id: u32) -> Option<(u64, u64)> {
        self.slots.get(&id).map(|s| (s.stored, s.announced.max(s.stored)))
    }

    /// Whether a one-shot session is over: the peer's festivals are known, every shared one
    /// is live both ways, nothing waits to be stored, and no festival became wanted meanwhile
    /// (one that arrived may name a parent this node wants too).
    fn caught_up(&mut self, node: &Node, id: u32) -> bool {
        let Some(slot) = self.slots.get(&id) else { return false };
        let s = &slot.session;
        let live = s.heard_festivals() && s.shared_festivals().all(|f| s.is_live(f)) && s.in_flight() == 0;
        if !live {
            return false;
        }
        let before = s.shared_festivals().count();
        let wanted = self.tell_wanted(node);
        let Some(slot) = self.slots.get_mut(&id) else { return false };
        slot.session.add_festivals(wanted);
        slot.session.shared_festivals().count() == before
    }

    /// A message from the connection's peer. Problems end the session (see [`HubEvent::Closed`]).
    pub fn receive(&mut self, node: &mut Node, id: u32, bytes: &[u8]) {
        self.take(id, bytes);
        self.run(node, id);
    }

    /// [`Hub::receive`] of several messages, which may be of several connections: each
    /// session takes all of its messages before the hub runs it, so that batches of entries
    /// that came one after the other are stored in one transaction (a native host hands over
    /// what arrived while the hub stored: in a sync of 100,000 entries, a commit for each batch
    /// of 1,024 was a quarter of the hub's time).
    pub fn receive_all(&mut self, node: &mut Node, messages: impl IntoIterator<Item = (u32, Vec<u8>)>) {
        let mut ids = Vec::new();
        for (id, bytes) in messages {
            self.take(id, &bytes);
            if !ids.contains(&id) {
                ids.push(id);
            }
        }
        for id in ids {
            self.run(node, id);
        }
    }

    /// Hands a message to its session, without running it.
    fn take(&mut self, id: u32, bytes: &[u8]) {
        let Some(slot) = self.slots.get_mut(&id) else { return };
        if let Err(e) = slot.session.receive(bytes) {
            let normal = matches!(e, sync::SyncError::PeerClosed { code: sync::CloseCode::Normal, .. });
            let retry = !matches!(e, sync::SyncError::SelfConnection);
            // The peer ending a session normally is no error, unless a one-shot sync was not
            // caught up yet.
            let all_live = slot.session.shared_festivals().all(|f| slot.session.is_live(f));
            let done = normal && (!slot.once || all_live);
            slot.closed.get_or_insert(Closing { reason: e.to_string(), done, retry, reported: false });
        }
    }

    /// Everything the host must do now for connection `id`.
    pub fn poll(&mut self, node: &mut Node, id: u32) -> Vec<HubEvent> {
        self.run(node, id);
        if self.slots.get(&id).is_some_and(|s| s.once && s.closed.is_none()) && self.caught_up(node, id) {
            if let Some(slot) = self.slots.get_mut(&id) {
                slot.session.close("caught up");
                slot.closed = Some(Closing { reason: "caught up".into(), done: true, retry: true, reported: false });
            }
            self.run(node, id);
        }
        let Some(slot) = self.slots.get_mut(&id) else { return Vec::new() };
        let mut events: Vec<HubEvent> = slot.events.drain(..).collect();
        if let Some(closing) = slot.closed.as_mut()
            && slot.session.is_closed()
            && !closing.reported
        {
            // Reported once; the slot stays for the status until the host removes it.
            closing.reported = true;
            events.push(HubEvent::Closed { reason: closing.reason.clone(), retry: closing.retry });
        }
        events
    }

    /// Whether session `id` ended as planned (a one-shot sync that caught up) rather than by
    /// an error.
    pub fn ended_well(&self, id: u32) -> bool {
        self.slots.get(&id).and_then(|s| s.closed.as_ref()).is_some_and(|c| c.done)
    }

    /// Sends WebRTC signalling to `to` through the peer of connection `id`.
    pub fn signal(&mut self, node: &Node, id: u32, to: Author, data: String) -> Result<(), String> {
        let from = node.store.keypair().author();
        let slot = self.slots.get_mut(&id).ok_or("no such connection")?;
        let festival =
            slot.session.shared_festivals().next().copied().ok_or("the connection shares no festival yet")?;
        slot.session.send_overlay(festival, OverlayMessage::Signal { to, from, data }).map_err(|e| e.to_string())
    }

    /// Ends connection `id` as the neighbour rule decided: a normal end, not an error
    /// (hosts log errors as warnings, and the e2e suites fail on warnings).
    fn retire(&mut self, id: u32, reason: &str) {
        if let Some(slot) = self.slots.get_mut(&id) {
            slot.session.close(reason);
            slot.closed.get_or_insert(Closing { reason: reason.to_string(), done: true, retry: true, reported: false });
        }
    }

    /// Ends connection `id`.
    pub fn close(&mut self, id: u32, reason: &str) {
        if let Some(slot) = self.slots.get_mut(&id) {
            slot.session.close(reason);
            slot.closed.get_or_insert(Closing {
                reason: reason.to_string(),
                done: false,
                retry: true,
                reported: false,
            });
        }
    }

    /// Forgets a connection whose transport is gone; its peer may be introduced again by a
    /// later session. The status keeps the last [`STATUS_HISTORY`] ended connections.
    pub fn remove(&mut self, id: u32) {
        let Some(mut status) = self.status_of(id) else { return };
        if let Some(slot) = self.slots.remove(&id) {
            // An eager link is gone: the tree of pushes may be cut in two. Lazy links of
            // the festival become eager at once rather than a graft delay after the next
            // entry; duplicates make the surplus lazy again.
            let eager: Vec<FestivalId> = slot
                .session
                .shared_festivals()
                .filter(|f| slot.session.is_live(f) && !slot.session.is_lazy(f))
                .copied()
                .collect();
            for other in self.slots.values_mut() {
                for f in &eager {
                    other.session.graft_now(f);
                }
            }
            if let Some(url) = &slot.dialed {
                let how = match (&slot.closed, slot.peer) {
                    (Some(c), _) if !c.retry => Ended::Myself,
                    (_, Some(_)) => Ended::Held,
                    (_, None) => Ended::Failed,
                };
                self.neighbours.ended(url, slot.peer, how, crate::now().0);
            }
            if let Some(peer) = slot.peer {
                self.introduced.forget(peer);
            }
        }
        status.connected = false;
        self.history.push_front(status);
        self.history.truncate(STATUS_HISTORY);
    }

    /// The store gained entries (a local write): every session pushes the new heights and
    /// learns of newly wanted festivals.
    pub fn notify_all(&mut self, node: &Node) {
        // A node of a thousand festivals and hundreds of sessions hears this after every
        // write: tell sessions of festivals only when the list changed (sessions opened since
        // got it at open), and read each festival's heights once.
        self.tell_wanted(node);
        let mut heights: BTreeMap<FestivalId, Vec<sync::LogHeight>> = BTreeMap::new();
        for slot in self.slots.values_mut() {
            let shared: Vec<FestivalId> = slot.session.shared_festivals().copied().collect();
            for f in shared {
                let h = heights.entry(f).or_insert_with(|| SyncStore::heights(&node.store, &f));
                slot.session.notify_heights(&f, h);
            }
        }
    }

    /// The festivals this node wants, as one list every session shares; if they changed since
    /// the sessions were last told, every session is told now.
    fn tell_wanted(&mut self, node: &Node) -> std::sync::Arc<[FestivalId]> {
        let wanted = wanted(node, self.only);
        if let Some(told) = self.wanted.as_ref().filter(|told| told[..] == wanted[..]) {
            return told.clone();
        }
        let told: std::sync::Arc<[FestivalId]> = wanted.into();
        for slot in self.slots.values_mut() {
            slot.session.add_festivals(told.clone());
        }
        self.wanted = Some(told.clone());
        told
    }

    pub fn ids(&self) -> Vec<u32> {
        self.slots.keys().copied().collect()
    }

    /// Every open connection, then the last ended ones, newest first.
    pub fn status(&self) -> Vec<PeerStatus> {
        let open = self.slots.keys().filter_map(|id| self.status_of(*id));
        open.chain(self.history.iter().cloned()).collect()
    }

    fn status_of(&self, id: u32) -> Option<PeerStatus> {
        let s = self.slots.get(&id)?;
        Some(PeerStatus {
            address: s.label.clone(),
            key: s.peer.map(|k| k.to_hex()),
            direction: s.direction,
            sent: s.sent,
            connected: !s.session.is_closed(),
            festivals: s.session.shared_festivals().map(|f| f.to_hex()).collect(),
            behind: s.announced.saturating_sub(s.received),
            live: s.session.heard_festivals() && s.session.shared_festivals().all(|f| s.session.is_live(f)),
            received: s.received,
            error: s.closed.as_ref().filter(|c| !c.done).map(|c| c.reason.clone()),
        })
    }

    /// Drains session `id`'s outputs: stores received batches, relays signalling,
    /// introduces peers; repeats until the session has nothing more to say.
    fn run(&mut self, node: &mut Node, id: u32) {
        let mut stored_any = false;
        // Batches of entries the session gave one after the other, stored together when
        // something else comes or nothing does: one transaction, all of them or none.
        let mut batches: Vec<(sync::BatchId, Vec<sync::ReceivedEntry>)> = Vec::new();
        loop {
            let Some(slot) = self.slots.get_mut(&id) else { return };
            let output = slot.session.poll(&node.store);
            if let Some(Output::Entries { batch, entries, .. }) = output {
                slot.received += entries.len() as u64;
                batches.push((batch, entries));
                continue;
            }
            let stored_now = !batches.is_empty();
            if stored_now {
                stored_any |= self.store_batches(node, id, std::mem::take(&mut batches));
            }
            let Some(output) = output else {
                // What the session says once its batches are stored (their credit) is polled next.
                if stored_now {
                    continue;
                }
                break;
            };
            let Some(slot) = self.slots.get_mut(&id) else { return };
            match output {
                Output::Send(bytes) => {
                    slot.sent += 1;
                    slot.events.push_back(HubEvent::Send(bytes));
                }
                Output::Ready { peer } => {
                    slot.peer = Some(peer);
                    slot.events.push_back(HubEvent::Ready { peer });
                    if let Some(url) = &slot.dialed {
                        self.neighbours.connected(url, peer);
                    }
                    if slot.addr.is_some() {
                        self.keep_bound(node, id);
                    }
                }
                Output::Plan { entries, .. } => slot.announced += entries,
                Output::Started { festival } => {
                    self.introduce_self(node, id, festival);
                    self.introduce_around(id, festival);
                }
                Output::Live { .. } | Output::Entries { .. } => {}
                Output::Overlay { festival, message } => self.on_overlay(node, id, festival, message),
            }
        }
        if stored_any {
            // Entries from this peer go on to the others.
            self.notify_all(node);
            let others: Vec<u32> = self.slots.keys().copied().filter(|o| *o != id).collect();
            for other in others {
                self.run(node, other);
            }
        }
    }

    /// Stores session `id`'s received batches in one transaction and tells the session; returns
    /// whether anything was new. If any entry fails, none is stored and the session ends (as
    /// it would at the first failing batch; the batches before it come again, from this peer
    /// or another).
    fn store_batches(
        &mut self,
        node: &mut Node,
        id: u32,
        batches: Vec<(sync::BatchId, Vec<sync::ReceivedEntry>)>,
    ) -> bool {
        let ids: Vec<sync::BatchId> = batches.iter().map(|(batch, _)| *batch).collect();
        let items =
            batches.into_iter().flat_map(|(_, entries)| entries).map(|e| (e.bytes, e.payload)).collect::<Vec<_>>();
        let stored = store_batch(node, items, &mut self.preverified);
        let Some(slot) = self.slots.get_mut(&id) else { return false };
        match stored {
            Ok(new) => {
                slot.stored += new;
                for batch in ids {
                    if let Err(e) = slot.session.stored(batch) {
                        slot.closed.get_or_insert(Closing::error(e.to_string()));
                    }
                }
                new > 0
            }
            Err(reason) => {
                let e = slot.session.rejected(ids[0], &reason);
                slot.closed.get_or_insert(Closing::error(e.to_string()));
                false
            }
        }
    }

    fn on_overlay(&mut self, node: &Node, id: u32, festival: FestivalId, message: OverlayMessage) {
        let me = node.store.keypair().author();
        let Some(from_peer) = self.slots.get(&id).and_then(|s| s.peer) else { return };
        match message {
            OverlayMessage::Introduce { peer } if peer.key == from_peer => {
                // The peer tells where it can be dialed: it is a neighbour, not a client.
                let Some(url) = crate::invite::sync_url(&peer.addr) else { return };
                if !self.may_learn(id, &url) {
                    return;
                }
                self.neighbours.learn(&url, Some(peer.key), Some(festival), false);
                if let Some(slot) = self.slots.get_mut(&id)
                    && slot.addr.is_none()
                {
                    slot.addr = Some(url.clone());
                    self.keep_bound(node, id);
                    // A newcomer's only peers are those its contact names: a random sample of
                    // all this node knows (HyParView's join walk does the same job), so that it
                    // does not choose its neighbours within one corner of the festival.
                    let sample = self.neighbours.sample(&festival, from_peer, crate::neighbours::JOIN_PEERS);
                    if let Some(slot) = self.slots.get_mut(&id) {
                        for (key, addr) in sample {
                            let _ = slot
                                .session
                                .send_overlay(festival, OverlayMessage::Introduce { peer: Peer::new(key, addr) });
                        }
                    }
                    // The introductions made when its session started had no address: tell
                    // the other neighbours of the festival where to find it now.
                    let introduce = OverlayMessage::Introduce { peer: Peer::new(from_peer, url) };
                    for (_, other) in self.slots.iter_mut().filter(|(o, s)| **o != id && s.is_neighbour()) {
                        if other.session.shared_festivals().any(|f| *f == festival) {
                            let _ = other.session.send_overlay(festival, introduce.clone());
                        }
                    }
                }
            }
            OverlayMessage::Introduce { peer } if peer.key != me => {
                if let Some(url) = crate::invite::sync_url(&peer.addr).filter(|url| self.may_learn(id, url)) {
                    self.neighbours.learn(&url, Some(peer.key), Some(festival), false);
                }
                if let Some(slot) = self.slots.get_mut(&id) {
                    slot.events.push_back(HubEvent::Introduce { peer: peer.key });
                }
            }
            OverlayMessage::Signal { to, from, data } if to == me => {
                if let Some(slot) = self.slots.get_mut(&id) {
                    slot.events.push_back(HubEvent::Signal { from, data });
                }
            }
            OverlayMessage::Signal { to, from, data } if from == from_peer => {
                // One hop: forward to the addressee if this node holds a session with it.
                if let Some(target) = self.slots.values_mut().find(|s| s.peer == Some(to) && !s.session.is_closed()) {
                    let festival = if target.session.shared_festivals().any(|f| *f == festival) {
                        festival
                    } else {
                        match target.session.shared_festivals().next() {
                            Some(f) => *f,
                            None => return,
                        }
                    };
                    let _ = target.session.send_overlay(festival, OverlayMessage::Signal { to, from, data });
                }
            }
            _ => {}
        }
    }

    /// Connection `id` now syncs `festival`: bridge its peer and a few random other peers of
    /// that festival to each other.
    fn introduce_around(&mut self, id: u32, festival: FestivalId) {
        let Some(newcomer) = self.slots.get(&id).and_then(|s| s.peer) else { return };
        let newcomer_addr = self.slots.get(&id).and_then(|s| s.addr.clone()).unwrap_or_default();
        let others: Vec<(u32, Author, String)> = self
            .slots
            .iter()
            .filter(|(o, s)| {
                **o != id && !s.session.is_closed() && s.session.shared_festivals().any(|f| *f == festival)
            })
            .filter_map(|(o, s)| s.peer.map(|p| (*o, p, s.addr.clone().unwrap_or_default())))
            .collect();
        // A few random ones, as Spray's join does: in a festival of hundreds, introducing a
        // newcomer to everyone would have every browser open a connection to every other.
        let sample = {
            use rand::seq::IteratorRandom;
            others.into_iter().sample(&mut rand::rng(), self.bound().total())
        };
        let due = self.introduced.due(newcomer, sample.iter().map(|(_, k, _)| *k));
        for (other, key, addr) in sample.into_iter().filter(|(_, k, _)| due.contains(k)) {
            if let Some(s) = self.slots.get_mut(&id) {
                let _ = s.session.send_overlay(festival, OverlayMessage::Introduce { peer: Peer::new(key, addr) });
            }
            if let Some(s) = self.slots.get_mut(&other) {
                let introduce = OverlayMessage::Introduce { peer: Peer::new(newcomer, newcomer_addr.clone()) };
                let _ = s.session.send_overlay(festival, introduce);
            }
        }
    }

    /// A loopback address means this machine only: learnt only from a peer on it.
    fn may_learn(&self, id: u32, url: &str) -> bool {
        !is_loopback(url) || self.slots.get(&id).is_some_and(|s| is_loopback(&s.label))
    }

    /// A node with an address tells each peer where to dial it, once per session (a
    /// loopback address only to peers on this machine).
    fn introduce_self(&mut self, node: &Node, id: u32, festival: FestivalId) {
        let Some(me) = self.neighbours.address().map(str::to_string) else { return };
        if !self.may_learn(id, &me) {
            return;
        }
        let key = node.store.keypair().author();
        if let Some(s) = self.slots.get_mut(&id)
            && !s.introduced_self
        {
            s.introduced_self = true;
            let _ = s.session.send_overlay(festival, OverlayMessage::Introduce { peer: Peer::new(key, me) });
        }
    }
}

/// Verifies a batch and stores it all or nothing, then lets the policy agent decide.
fn store_batch(
    node: &mut Node,
    items: Vec<(Vec<u8>, Vec<u8>)>,
    preverified: &mut store::Preverified,
) -> Result<u64, String> {
    let mut verified = Vec::with_capacity(items.len());
    let verdicts = store::verify_entries_checked(items, preverified);
    for (i, v) in verdicts.into_iter().enumerate() {
        verified.push(v.map_err(|e| format!("entry {i} of the batch: {e}"))?);
    }
    // Not waiting for the disk: the host holds back what it sends after this (the credit
    // that acknowledges the batch) until the commit is durable (`Store::last_deferred`).
    let (report, _) = node.store.ingest_deferred(verified).map_err(|e| e.to_string())?;
    if !report.stored.is_empty() {
        let _ = node.run_agent();
    }
    Ok(report.stored.len() as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_passive_view_outlives_a_restart() {
        let node = Node::with_store(store::Store::open_in_memory().unwrap());
        let mut hub = Hub::default();
        hub.learn("10.0.0.7:7878", None, false);
        hub.learn("camp.example.org", None, true);
        hub.remember(&node);
        let mut after = Hub::default();
        after.restore(&node);
        assert_eq!(after.neighbours.remembered(), vec!["ws://10.0.0.7:7878/sync".to_string()]);
    }

    #[test]
    fn a_warm_up_checks_its_own_entries() {
        assert!(warm_up(128));
        assert!(warm_up(1));
    }

    // Scenario: a batch of three entries as a sync `Entries` message; the same with one
    // signature broken; another message.
    // Assert: the hashes of the three; none when any signature is bad; none for the other.
    // Stored through the checked path, a marked hash skips the signature check only for the
    // very bytes it was computed from.
    #[test]
    fn verified_hashes_name_only_entries_whose_signatures_hold() {
        let mut writer = sync::writer::Writer::seeded(3);
        let (festival, create) = writer.create_festival("Fusion", None);
        let mut entries = vec![create];
        entries.extend((0..2).map(|_| writer.post(festival)));
        let token = sync::Token([1; 32]);
        let message =
            |entries: Vec<sync::WireEntry>| sync::Message::Entries { batch: 0, festival: token, entries }.encode();
        let hashes: Vec<bamboo::Hash> = entries.iter().map(|e| bamboo::Hash::of(&e.entry)).collect();
        assert_eq!(verified_hashes(&message(entries.clone())), hashes);

        let mut forged = entries.clone();
        let last = forged[2].entry.len() - 1;
        forged[2].entry[last] ^= 1; // the signature's last byte
        assert!(verified_hashes(&message(forged.clone())).is_empty());
        assert!(verified_hashes(&sync::Message::Credit { batches: 1 }.encode()).is_empty());

        // The forged entry passes only if its own hash was marked; the genuine one's does not
        // cover it.
        let item = |e: &sync::WireEntry| vec![(e.entry.clone(), e.payload.clone())];
        let mut marked = store::Preverified::default();
        marked.mark_signature(hashes[2]);
        let verdict = store::verify_entries_checked(item(&forged[2]), &mut marked);
        assert!(verdict[0].is_err(), "a genuine entry's mark does not cover a forged one");
        assert_eq!(marked.len(), 1);
        let verdict = store::verify_entries_checked(item(&entries[2]), &mut marked);
        assert!(verdict[0].is_ok() && marked.is_empty(), "a mark is used once");

        // Whole entries checked ahead: stored as they are, their operations decoded; one
        // does not pass for other bytes or another payload.
        let whole = verified_entries(&message(entries.clone()));
        assert_eq!(whole.iter().map(|v| v.hash()).collect::<Vec<_>>(), hashes);
        assert!(verified_entries(&message(forged.clone())).is_empty());
        let mut marked = store::Preverified::default();
        marked.mark_entry(whole[2].clone());
        let verdict = store::verify_entries_checked(item(&forged[2]), &mut marked);
        assert!(verdict[0].is_err(), "an entry checked ahead stands only for itself");
        let mut other_payload = item(&entries[2]);
        other_payload[0].1.push(0);
        let verdict = store::verify_entries_checked(other_payload, &mut marked);
        assert!(verdict[0].is_err(), "nor for its bytes with another payload");
        assert_eq!(marked.len(), 1);
        let verdict = store::verify_entries_checked(item(&entries[2]), &mut marked);
        assert_eq!(verdict[0].as_ref().map(|v| v.hash()).ok(), Some(hashes[2]));
        assert!(marked.is_empty(), "a mark is used once");
    }

    /// Two hubs over no transport: each side's messages are handed to the other all at once
    /// (`Hub::receive_all`, as the native host does with what arrived while it stored).
    /// `tamper` may change a message from `a` on its way. Returns once neither has more to say.
    fn exchange(a: (&mut Hub, &mut Node, u32), b: (&mut Hub, &mut Node, u32), tamper: &mut dyn FnMut(&mut Vec<u8>)) {
        let sends = |events: Vec<HubEvent>| -> Vec<Vec<u8>> {
            events.into_iter().filter_map(|e| if let HubEvent::Send(bytes) = e { Some(bytes) } else { None }).collect()
        };
        for _ in 0..1000 {
            let mut from_a = sends(a.0.poll(a.1, a.2));
            let from_b = sends(b.0.poll(b.1, b.2));
            if from_a.is_empty() && from_b.is_empty() {
                return;
            }
            from_a.iter_mut().for_each(&mut *tamper);
            b.0.receive_all(b.1, from_a.into_iter().map(|m| (b.2, m)));
            a.0.receive_all(a.1, from_b.into_iter().map(|m| (a.2, m)));
        }
        panic!("the hubs kept talking");
    }

    fn festival_of(entries: usize) -> (Node, Id) {
        let mut node = Node::with_store(store::Store::open_in_memory().unwrap());
        let f = node.create_festival(crate::node::NewFestival { name: "Big".into(), ..Default::default() }).unwrap().id;
        for i in 1..entries {
            let event = crate::node::NewEvent {
                title: format!("talk {i}"),
                start: "2026-07-01T10:00:00Z".into(),
                end: "2026-07-01T11:00:00Z".into(),
                ..Default::default()
            };
            node.create_event(&f, event).unwrap();
        }
        (node, Id::from_hex(&f).unwrap())
    }

    // Scenario: a node holds a festival of 1,920 entries (four batches: a session's first
    // three are an eighth, a quarter and a half of 1,024, all sent at once within the credit
    // of a window); an empty node syncs it once, taking each round's messages together, so that
    // the four batches are stored in one transaction.
    // Assert: the empty node holds every entry, and the sync ended well. When an entry of the
    // last batch is forged on the way, none of the four batches is stored and the session
    // ends with an error.
    #[test]
    fn batches_received_together_are_stored_whole_or_not_at_all() {
        let (mut full, festival) = festival_of(1_920);
        let count = |node: &Node| node.store.entry_count().unwrap();
        assert_eq!(count(&full), 1_920);

        let (mut hub_a, mut empty) = (Hub::default(), Node::with_store(store::Store::open_in_memory().unwrap()));
        let mut hub_b = Hub::only(festival);
        let a = hub_a.open(&full, "b", Direction::Incoming);
        let b = hub_b.open_once(&empty, "a", Direction::Outgoing);
        exchange((&mut hub_a, &mut full, a), (&mut hub_b, &mut empty, b), &mut |_| {});
        assert_eq!(count(&empty), 1_920);
        assert!(hub_b.ended_well(b), "{:?}", hub_b.summary(b));

        // Again, the last batch's last entry forged (its signature's last byte).
        let (mut hub_a, mut empty) = (Hub::default(), Node::with_store(store::Store::open_in_memory().unwrap()));
        let mut hub_b = Hub::only(festival);
        let a = hub_a.open(&full, "b", Direction::Incoming);
        let b = hub_b.open_once(&empty, "a", Direction::Outgoing);
        let mut batches = 0;
        let mut forge = |bytes: &mut Vec<u8>| {
            let limits = sync::Limits::for_browser();
            let Ok(sync::Message::Entries { batch, festival, mut entries }) = sync::Message::decode(bytes, &limits)
            else {
                return;
            };
            batches += 1;
            if batches == 4 {
                let last = entries.last_mut().unwrap();
                let end = last.entry.len() - 1;
                last.entry[end] ^= 1;
                *bytes = sync::Message::Entries { batch, festival, entries }.encode();
            }
        };
        exchange((&mut hub_a, &mut full, a), (&mut hub_b, &mut empty, b), &mut forge);
        assert_eq!(batches, 4, "the four batches came in one round");
        assert_eq!(count(&empty), 0, "nothing of the batches taken together is stored");
        assert!(!hub_b.ended_well(b));
    }
}
