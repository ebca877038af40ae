//! The peer-sampling overlay of one festival: HyParView (Leitão, Pereira, Rodrigues 2007),
//! for the simulation (feature `simulation`): nodes do not run it yet, so none of it is on
//! their wire (`ARCHITECTURE.md` says why and what decides its future).
//!
//! Each peer keeps a small *active view* (the neighbours it holds sync sessions with, about
//! ln(N) + 1 of them) and a larger *passive view* (peers it knows of, to replace failed
//! neighbours). Joins travel by random walks, shuffles keep the passive views fresh and
//! random, and a failed or departed neighbour is replaced from the passive view.
//!
//! One addition to the paper: every `rotate_every` shuffles a peer swaps one active
//! neighbour for a random passive peer. Plain HyParView never changes a full active view, so
//! two halves of a festival that lost every link between them during a network partition
//! would stay apart after the network heals; rotation reconnects them, and the sync session
//! on the new link reconciles everything written meanwhile.
//!
//! Sans-I/O: the caller feeds messages, failures and the time, and acts on [`OverlayOutput`]s.
//! Entries are not carried here: the sync sessions with the active neighbours push them.

use std::collections::{BTreeMap, BTreeSet, VecDeque};

use bamboo::Author;
use ciborium::Value;
use rand::rngs::StdRng;
use rand::seq::{IndexedRandom, IteratorRandom, SliceRandom};
use rand::{RngExt, SeedableRng};

use crate::overlay::{Peer, addr_of, peer_of, peer_value};
use crate::wire::{Fields, WireError, as_array, as_uint, parse, to_bytes};

/// The most peers one message may carry.
pub const MAX_PEERS_PER_MESSAGE: usize = 64;

fn peers_value(peers: &[Peer]) -> Value {
    Value::Array(peers.iter().map(peer_value).collect())
}

fn peers_of(v: Value) -> Result<Vec<Peer>, WireError> {
    as_array(v, "peers", MAX_PEERS_PER_MESSAGE)?.into_iter().map(peer_of).collect()
}

/// A message between two HyParView instances of the same festival.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ViewMessage {
    /// A newcomer asks its contact to take it in.
    Join {
        addr: String,
    },
    /// A newcomer's join, on its random walk.
    ForwardJoin {
        peer: Peer,
        ttl: u8,
    },
    /// The sender asks to become (or tells that it became) the receiver's neighbour.
    /// A `high` priority request is always accepted.
    Neighbor {
        addr: String,
        high: bool,
    },
    NeighborReply {
        addr: String,
        accepted: bool,
    },
    /// The sender drops the receiver from its active view; `alive`: it stays in the festival.
    Disconnect {
        alive: bool,
    },
    /// A sample of `origin`'s views, on its random walk.
    Shuffle {
        origin: Peer,
        ttl: u8,
        peers: Vec<Peer>,
    },
    /// The answer to a shuffle: a sample of the receiver's passive view, sent to the origin.
    ShuffleReply {
        peers: Vec<Peer>,
    },
}

mod kind {
    pub const JOIN: u64 = 0;
    pub const FORWARD_JOIN: u64 = 1;
    pub const NEIGHBOR: u64 = 2;
    pub const NEIGHBOR_REPLY: u64 = 3;
    pub const DISCONNECT: u64 = 4;
    pub const SHUFFLE: u64 = 5;
    pub const SHUFFLE_REPLY: u64 = 6;
}

fn ttl_of(f: &mut Fields) -> Result<u8, WireError> {
    u8::try_from(f.uint("ttl")?).map_err(|_| WireError::WrongType { field: "ttl", expected: "an integer below 256" })
}

impl ViewMessage {
    fn to_value(&self) -> Value {
        let u = |n: u64| Value::Integer(n.into());
        Value::Array(match self {
            ViewMessage::Join { addr } => vec![u(kind::JOIN), Value::Text(addr.clone())],
            ViewMessage::ForwardJoin { peer, ttl } => vec![u(kind::FORWARD_JOIN), peer_value(peer), u((*ttl).into())],
            ViewMessage::Neighbor { addr, high } => {
                vec![u(kind::NEIGHBOR), Value::Text(addr.clone()), Value::Bool(*high)]
            }
            ViewMessage::NeighborReply { addr, accepted } => {
                vec![u(kind::NEIGHBOR_REPLY), Value::Text(addr.clone()), Value::Bool(*accepted)]
            }
            ViewMessage::Disconnect { alive } => vec![u(kind::DISCONNECT), Value::Bool(*alive)],
            ViewMessage::Shuffle { origin, ttl, peers } => {
                vec![u(kind::SHUFFLE), peer_value(origin), u((*ttl).into()), peers_value(peers)]
            }
            ViewMessage::ShuffleReply { peers } => vec![u(kind::SHUFFLE_REPLY), peers_value(peers)],
        })
    }

    fn from_value(v: Value) -> Result<ViewMessage, WireError> {
        let mut f = Fields::new(as_array(v, "view message", usize::MAX)?, "view message");
        let ty = as_uint(f.next("type")?, "type")?;
        Ok(match ty {
            kind::JOIN => ViewMessage::Join { addr: addr_of(&mut f)? },
            kind::FORWARD_JOIN => ViewMessage::ForwardJoin { peer: peer_of(f.next("peer")?)?, ttl: ttl_of(&mut f)? },
            kind::NEIGHBOR => ViewMessage::Neighbor { addr: addr_of(&mut f)?, high: f.boolean("high")? },
            kind::NEIGHBOR_REPLY => {
                ViewMessage::NeighborReply { addr: addr_of(&mut f)?, accepted: f.boolean("accepted")? }
            }
            kind::DISCONNECT => ViewMessage::Disconnect { alive: f.boolean("alive")? },
            kind::SHUFFLE => ViewMessage::Shuffle {
                origin: peer_of(f.next("origin")?)?,
                ttl: ttl_of(&mut f)?,
                peers: peers_of(f.next("peers")?)?,
            },
            kind::SHUFFLE_REPLY => ViewMessage::ShuffleReply { peers: peers_of(f.next("peers")?)? },
            other => return Err(WireError::UnknownType(other)),
        })
    }

    /// The CBOR encoding (the simulation carries these between its peers).
    pub fn encode(&self) -> Vec<u8> {
        to_bytes(&self.to_value())
    }

    /// Decodes a view message. Never panics.
    pub fn decode(bytes: &[u8], max_bytes: usize) -> Result<ViewMessage, WireError> {
        if bytes.len() > max_bytes {
            return Err(WireError::TooLarge { len: bytes.len(), max: max_bytes.try_into().unwrap_or(u32::MAX) });
        }
        ViewMessage::from_value(parse(bytes)?)
    }
}

/// The parameters of the overlay.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OverlayConfig {
    /// The most neighbours (sync sessions) per festival.
    pub active_capacity: usize,
    /// The most peers kept in reserve.
    pub passive_capacity: usize,
    /// Length of a join's random walk (ARWL).
    pub active_walk: u8,
    /// The hop of a join's walk at which the newcomer enters the passive view (PRWL).
    pub passive_walk: u8,
    /// How many active and passive peers a shuffle carries (besides the origin).
    pub shuffle_active: usize,
    pub shuffle_passive: usize,
    /// Length of a shuffle's random walk.
    pub shuffle_walk: u8,
    pub shuffle_interval_ms: u64,
    /// Swap one active neighbour for a passive peer every this many shuffles (0: never).
    pub rotate_every: u32,
    /// A neighbour request unanswered after this long counts as failed.
    pub neighbor_timeout_ms: u64,
}

impl Default for OverlayConfig {
    fn default() -> OverlayConfig {
        OverlayConfig::for_size(100)
    }
}

impl OverlayConfig {
    /// Parameters for a festival of about `peers` peers: an active view of ceil(ln N) + 1
    /// (6 at 100 peers, 8 at 1000), a passive view six times as large, HyParView's walks.
    /// A node can estimate N locally as the number of logs in the festival: one per writer.
    pub fn for_size(peers: usize) -> OverlayConfig {
        let active = ((peers.max(2) as f64).ln().ceil() as usize + 1).clamp(3, 12);
        OverlayConfig {
            active_capacity: active,
            passive_capacity: 6 * active,
            active_walk: 6,
            passive_walk: 3,
            shuffle_active: 3,
            shuffle_passive: 4,
            shuffle_walk: 4,
            shuffle_interval_ms: 30_000,
            rotate_every: 4,
            neighbor_timeout_ms: 2_000,
        }
    }
}

/// What the caller must do.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum OverlayOutput {
    /// Send `message` to `to`: over the session with it, or over a new connection.
    Send { to: Peer, message: ViewMessage },
    /// `peer` entered the active view: hold a sync session for this festival with it.
    NeighborUp(Peer),
    /// `peer` left the active view: its session is no longer needed for this festival.
    NeighborDown(Author),
}

struct Pending {
    peer: Peer,
    deadline: u64,
    rotation: bool,
}

/// One peer's overlay for one festival.
pub struct Overlay {
    me: Peer,
    config: OverlayConfig,
    rng: StdRng,
    active: BTreeMap<Author, Peer>,
    passive: BTreeMap<Author, Peer>,
    /// The outstanding neighbour request, if any: one at a time keeps repair traffic low.
    pending: Option<Pending>,
    /// Passive peers that refused a request since the last shuffle.
    refused: BTreeSet<Author>,
    /// Peers sent in the last shuffle: evicted first when its reply arrives.
    last_shuffle: Vec<Author>,
    out: VecDeque<OverlayOutput>,
    now: u64,
    next_shuffle: Option<u64>,
    shuffles: u64,
    left: bool,
}

impl Overlay {
    /// A new overlay for `me`. `seed` drives every random choice, so runs are reproducible.
    pub fn new(me: Peer, config: OverlayConfig, seed: [u8; 32]) -> Overlay {
        Overlay {
            me,
            config,
            rng: StdRng::from_seed(seed),
            active: BTreeMap::new(),
            passive: BTreeMap::new(),
            pending: None,
            refused: BTreeSet::new(),
            last_shuffle: Vec::new(),
            out: VecDeque::new(),
            now: 0,
            next_shuffle: None,
            shuffles: 0,
            left: false,
        }
    }

    pub fn me(&self) -> &Peer {
        &self.me
    }

    pub fn config(&self) -> &OverlayConfig {
        &self.config
    }

    pub fn active(&self) -> impl Iterator<Item = &Peer> {
        self.active.values()
    }

    pub fn passive(&self) -> impl Iterator<Item = &Peer> {
        self.passive.values()
    }

    pub fn is_active(&self, key: &Author) -> bool {
        self.active.contains_key(key)
    }

    /// The next output to act upon.
    pub fn poll(&mut self) -> Option<OverlayOutput> {
        self.out.pop_front()
    }

    /// When [`Overlay::tick`] should be called next.
    pub fn poll_timeout(&self) -> Option<u64> {
        let pending = self.pending.as_ref().map(|p| p.deadline);
        [pending, self.next_shuffle].into_iter().flatten().min()
    }

    /// Enters the festival's overlay through `contact`, a peer already in it.
    pub fn join(&mut self, contact: Peer, now: u64) {
        self.advance(now);
        self.left = false;
        self.add_passive(contact.clone());
        self.send(contact, ViewMessage::Join { addr: self.me.addr.clone() });
    }

    /// Leaves the festival: every neighbour is told, and the overlay forgets its views.
    pub fn leave(&mut self) {
        for (key, peer) in std::mem::take(&mut self.active) {
            self.send(peer, ViewMessage::Disconnect { alive: false });
            self.out.push_back(OverlayOutput::NeighborDown(key));
        }
        self.passive.clear();
        self.pending = None;
        self.next_shuffle = None;
        self.left = true;
    }

    /// Handles a message from `from`, the authenticated sender.
    pub fn handle(&mut self, from: Author, message: ViewMessage, now: u64) {
        self.advance(now);
        if from == self.me.key || self.left {
            return;
        }
        match message {
            ViewMessage::Join { addr } => self.on_join(Peer { key: from, addr }),
            ViewMessage::ForwardJoin { peer, ttl } => self.on_forward_join(from, peer, ttl),
            ViewMessage::Neighbor { addr, high } => self.on_neighbor(Peer { key: from, addr }, high),
            ViewMessage::NeighborReply { addr, accepted } => self.on_neighbor_reply(Peer { key: from, addr }, accepted),
            ViewMessage::Disconnect { alive } => {
                let peer = self.active.get(&from).cloned();
                self.remove_active(&from);
                if let Some(peer) = peer.filter(|_| alive) {
                    self.add_passive(peer);
                } else {
                    self.passive.remove(&from);
                }
                self.fill_active();
            }
            ViewMessage::Shuffle { origin, ttl, peers } => self.on_shuffle(from, origin, ttl, peers),
            ViewMessage::ShuffleReply { peers } => {
                let sent = std::mem::take(&mut self.last_shuffle);
                self.integrate(peers, &sent);
            } // For the node, not for the view: introductions and signalling.
        }
    }

    /// The transport lost the connection to `peer`, or could not reach it.
    pub fn peer_failed(&mut self, peer: Author, now: u64) {
        self.advance(now);
        self.passive.remove(&peer);
        if self.pending.as_ref().is_some_and(|p| p.peer.key == peer) {
            self.pending = None;
        }
        self.remove_active(&peer);
        self.fill_active();
    }

    /// Runs the timers: shuffles, rotation and timed-out neighbour requests.
    pub fn tick(&mut self, now: u64) {
        self.advance(now);
        if self.left {
            return;
        }
        if let Some(p) = self.pending.as_ref().filter(|p| p.deadline <= now) {
            let key = p.peer.key;
            self.pending = None;
            self.passive.remove(&key);
            self.fill_active();
        }
        match self.next_shuffle {
            Some(at) if at <= now => {
                self.schedule_shuffle();
                self.shuffle();
            }
            None => self.schedule_shuffle(),
            _ => {}
        }
    }

    fn advance(&mut self, now: u64) {
        self.now = self.now.max(now);
    }

    fn schedule_shuffle(&mut self) {
        // Jitter keeps peers that joined together from shuffling in lockstep.
        let interval = self.config.shuffle_interval_ms;
        let jitter = self.rng.random_range(0..=interval / 2);
        self.next_shuffle = Some(self.now + interval / 2 + jitter);
    }

    fn send(&mut self, to: Peer, message: ViewMessage) {
        self.out.push_back(OverlayOutput::Send { to, message });
    }

    fn random_active_except(&mut self, except: &[&Author]) -> Option<Peer> {
        self.active.values().filter(|p| !except.contains(&&p.key)).choose(&mut self.rng).cloned()
    }

    fn add_active(&mut self, peer: Peer) {
        if peer.key == self.me.key {
            return;
        }
        if let Some(known) = self.active.get_mut(&peer.key) {
            if !peer.addr.is_empty() {
                known.addr = peer.addr;
            }
            return;
        }
        self.passive.remove(&peer.key);
        if self.active.len() >= self.config.active_capacity
            && let Some(dropped) = self.active.values().choose(&mut self.rng).cloned()
        {
            self.remove_active(&dropped.key);
            self.send(dropped.clone(), ViewMessage::Disconnect { alive: true });
            self.add_passive(dropped);
        }
        self.active.insert(peer.key, peer.clone());
        self.out.push_back(OverlayOutput::NeighborUp(peer));
    }

    fn remove_active(&mut self, key: &Author) {
        if self.active.remove(key).is_some() {
            self.out.push_back(OverlayOutput::NeighborDown(*key));
        }
    }

    fn add_passive(&mut self, peer: Peer) {
        if peer.key == self.me.key || self.active.contains_key(&peer.key) {
            return;
        }
        if let Some(known) = self.passive.get_mut(&peer.key) {
            if !peer.addr.is_empty() {
                known.addr = peer.addr;
            }
            return;
        }
        if self.passive.len() >= self.config.passive_capacity {
            let victim = *self.passive.keys().choose(&mut self.rng).expect("a full view is not empty");
            self.passive.remove(&victim);
        }
        self.passive.insert(peer.key, peer);
    }

    /// Asks passive peers, one at a time, until the active view is full again.
    fn fill_active(&mut self) {
        if self.left || self.pending.is_some() || self.active.len() >= self.config.active_capacity {
            return;
        }
        let Some(peer) =
            self.passive.values().filter(|p| !self.refused.contains(&p.key)).choose(&mut self.rng).cloned()
        else {
            return;
        };
        // An isolated peer insists: a request of high priority is always accepted.
        let high = self.active.is_empty();
        self.request_neighbor(peer, high, false);
    }

    fn request_neighbor(&mut self, peer: Peer, high: bool, rotation: bool) {
        let deadline = self.now + self.config.neighbor_timeout_ms;
        self.pending = Some(Pending { peer: peer.clone(), deadline, rotation });
        self.send(peer, ViewMessage::Neighbor { addr: self.me.addr.clone(), high });
    }

    fn on_join(&mut self, newcomer: Peer) {
        self.add_active(newcomer.clone());
        self.send(newcomer.clone(), ViewMessage::Neighbor { addr: self.me.addr.clone(), high: true });
        let others: Vec<Peer> = self.active.values().filter(|p| p.key != newcomer.key).cloned().collect();
        for peer in others {
            self.send(peer, ViewMessage::ForwardJoin { peer: newcomer.clone(), ttl: self.config.active_walk });
        }
    }

    fn on_forward_join(&mut self, from: Author, newcomer: Peer, ttl: u8) {
        if newcomer.key == self.me.key {
            return;
        }
        if ttl == 0 || self.active.len() <= 1 {
            if !self.active.contains_key(&newcomer.key) {
                self.add_active(newcomer.clone());
                self.send(newcomer, ViewMessage::Neighbor { addr: self.me.addr.clone(), high: true });
            }
            return;
        }
        if ttl == self.config.passive_walk {
            self.add_passive(newcomer.clone());
        }
        match self.random_active_except(&[&from, &newcomer.key]) {
            Some(next) => self.send(next, ViewMessage::ForwardJoin { peer: newcomer, ttl: ttl - 1 }),
            None => {
                if !self.active.contains_key(&newcomer.key) {
                    self.add_active(newcomer.clone());
                    self.send(newcomer, ViewMessage::Neighbor { addr: self.me.addr.clone(), high: true });
                }
            }
        }
    }

    fn on_neighbor(&mut self, peer: Peer, high: bool) {
        let accepted = self.active.contains_key(&peer.key) || high || self.active.len() < self.config.active_capacity;
        if accepted {
            self.add_active(peer.clone());
            if self.pending.as_ref().is_some_and(|p| p.peer.key == peer.key) {
                self.pending = None;
            }
        } else {
            self.add_passive(peer.clone());
        }
        self.send(peer, ViewMessage::NeighborReply { addr: self.me.addr.clone(), accepted });
    }

    fn on_neighbor_reply(&mut self, peer: Peer, accepted: bool) {
        let was_pending = self.pending.as_ref().is_some_and(|p| p.peer.key == peer.key);
        if !was_pending {
            if !accepted {
                // It dropped us while we counted it as a neighbour.
                self.remove_active(&peer.key);
                self.add_passive(peer);
                self.fill_active();
            }
            return;
        }
        let rotation = self.pending.take().is_some_and(|p| p.rotation);
        if accepted {
            if rotation && self.active.len() >= self.config.active_capacity {
                // Make the room the swap promised, so the view does not grow.
                if let Some(dropped) = self.random_active_except(&[&peer.key]) {
                    self.remove_active(&dropped.key);
                    self.send(dropped.clone(), ViewMessage::Disconnect { alive: true });
                    self.add_passive(dropped);
                }
            }
            self.add_active(peer);
        } else {
            self.refused.insert(peer.key);
            self.add_passive(peer);
        }
        self.fill_active();
    }

    fn shuffle(&mut self) {
        self.shuffles += 1;
        self.refused.clear();
        let Some(target) = self.active.values().choose(&mut self.rng).cloned() else {
            self.fill_active();
            return;
        };
        let mut peers = vec![self.me.clone()];
        let actives: Vec<Peer> = self.active.values().filter(|p| p.key != target.key).cloned().collect();
        peers.extend(actives.sample(&mut self.rng, self.config.shuffle_active).cloned());
        let passives: Vec<Peer> = self.passive.values().cloned().collect();
        let sampled: Vec<Peer> = passives.sample(&mut self.rng, self.config.shuffle_passive).cloned().collect();
        self.last_shuffle = sampled.iter().map(|p| p.key).collect();
        peers.extend(sampled);
        self.send(target, ViewMessage::Shuffle { origin: self.me.clone(), ttl: self.config.shuffle_walk, peers });
        let rotate = self.config.rotate_every > 0 && self.shuffles.is_multiple_of(self.config.rotate_every.into());
        if rotate
            && self.pending.is_none()
            && self.active.len() >= self.config.active_capacity
            && let Some(peer) = self.passive.values().choose(&mut self.rng).cloned()
        {
            self.request_neighbor(peer, true, true);
        }
        self.fill_active();
    }

    fn on_shuffle(&mut self, from: Author, origin: Peer, ttl: u8, peers: Vec<Peer>) {
        if origin.key == self.me.key {
            return;
        }
        if ttl > 0
            && self.active.len() > 1
            && let Some(next) = self.random_active_except(&[&from, &origin.key])
        {
            self.send(next, ViewMessage::Shuffle { origin, ttl: ttl - 1, peers });
            return;
        }
        let mut reply: Vec<Peer> = self.passive.values().filter(|p| p.key != origin.key).cloned().collect();
        reply.shuffle(&mut self.rng);
        reply.truncate(peers.len());
        let sent: Vec<Author> = reply.iter().map(|p| p.key).collect();
        self.send(origin, ViewMessage::ShuffleReply { peers: reply });
        self.integrate(peers, &sent);
    }

    /// Adds shuffled peers to the passive view, evicting first the peers in `sent`.
    fn integrate(&mut self, peers: Vec<Peer>, sent: &[Author]) {
        let mut evictable: Vec<Author> = sent.iter().filter(|k| self.passive.contains_key(k)).copied().collect();
        for peer in peers.into_iter().take(MAX_PEERS_PER_MESSAGE) {
            if peer.key == self.me.key || self.active.contains_key(&peer.key) {
                continue;
            }
            if self.passive.contains_key(&peer.key) {
                self.add_passive(peer);
                continue;
            }
            if self.passive.len() >= self.config.passive_capacity
                && let Some(victim) = evictable.pop()
            {
                self.passive.remove(&victim);
            }
            self.add_passive(peer);
        }
        self.fill_active();
    }
}
