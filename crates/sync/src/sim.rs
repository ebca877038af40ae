//! A deterministic simulation of whole festivals: many peers, each running the real
//! HyParView [`Overlay`] and real [`Session`]s over a simulated network with latency, churn
//! and a partition. Not part of the API.

use std::cmp::Reverse;
use std::collections::{BTreeMap, BinaryHeap};
use std::fmt;

use bamboo::Author;
use rand::rngs::StdRng;
use rand::seq::IndexedRandom;
use rand::{RngExt, SeedableRng};

use crate::FestivalId;
use crate::hyparview::{Overlay, OverlayConfig, OverlayOutput, ViewMessage};
use crate::overlay::Peer;
use crate::session::{Output, Session, SessionConfig};
use crate::store::MemoryStore;
use crate::wire::{LogHeight, WireEntry};
pub use crate::writer::Writer;

/// What to simulate.
#[derive(Clone, Debug)]
pub struct SimConfig {
    pub seed: u64,
    /// Peers at the start; they join one after another, each through a random earlier peer.
    pub peers: usize,
    /// Entries written after everyone joined, at random times, by random peers that stay.
    pub entries: usize,
    /// Peers that leave during the writing (each crashes or says goodbye, at random)…
    pub leaves: usize,
    /// …and fresh peers that join meanwhile, with empty stores.
    pub joins: usize,
    /// Cut the peers into two random halves for the middle third of the writing time.
    pub partition: bool,
    /// One-way latency of a message, drawn uniformly, in ms.
    pub latency_ms: (u64, u64),
    /// Verify every signature and link on storing (slower; the sessions do not care).
    pub verify: bool,
    /// Peers join this far apart at the start.
    pub join_spacing_ms: u64,
    /// Entries, churn and the partition happen within this span, after everyone joined.
    pub write_span_ms: u64,
    /// The overlay's rotation (see [`OverlayConfig::rotate_every`]); `None`: the default.
    pub rotate_every: Option<u32>,
    /// Plumtree's lazy push, as the product runs it: sessions tick, and a peer that loses an
    /// eager link grafts its lazy ones (`docs/sync.md` §4). False: every session floods.
    pub lazy: bool,
}

impl SimConfig {
    pub fn new(peers: usize, seed: u64) -> SimConfig {
        SimConfig {
            seed,
            peers,
            entries: 100,
            leaves: peers / 10,
            joins: peers / 10,
            partition: true,
            latency_ms: (20, 120),
            verify: false,
            join_spacing_ms: 50,
            write_span_ms: 240_000,
            rotate_every: None,
            lazy: true,
        }
    }
}

/// What a simulation measured.
#[derive(Clone, Debug)]
pub struct Report {
    pub config: SimConfig,
    /// Peers online at the end: each must hold every entry.
    pub peers_at_end: usize,
    /// Peers that ever took part.
    pub peers_total: usize,
    /// Entries written, the festival's creation included.
    pub entries: usize,
    /// (peer, entry) pairs held by the peers at the end, and how many there should be.
    pub delivered: u64,
    pub expected: u64,
    /// Hops from the author over the first arrival of every entry at every peer at the end.
    pub hops_mean: f64,
    pub hops_max: u64,
    /// Time from writing an entry until the last peer that was online then holds it, over
    /// entries written outside the partition: median and maximum, ms.
    pub spread_ms_median: u64,
    pub spread_ms_max: u64,
    /// Entries received per entry newly stored (1.0: no duplicate was ever sent).
    pub copies_per_delivery: f64,
    /// Sync messages of all types (handshakes, inventories, credits, notes, batches) per
    /// entry newly stored at a peer: messages per peer per entry.
    pub sync_messages_per_delivery: f64,
    /// Of those, the `Entries` batches.
    pub batches_per_delivery: f64,
    /// Overlay messages per peer over the whole run.
    pub overlay_messages_per_peer: f64,
    pub sessions_opened: u64,
    /// Active and passive view sizes at the end: min, mean, max.
    pub active_view: (usize, f64, usize),
    pub passive_view: (usize, f64, usize),
    pub active_capacity: usize,
    /// Simulated time, the last write, the heal and the last delivery, ms.
    pub duration_ms: u64,
    pub last_write_ms: u64,
    pub heal_ms: Option<u64>,
    pub complete_ms: u64,
    /// From the heal until every entry written during the partition was at every peer that
    /// was online at the heal and stayed, ms.
    pub heal_to_full_ms: Option<u64>,
}

impl Report {
    pub fn delivery(&self) -> f64 {
        if self.expected == 0 { 1.0 } else { self.delivered as f64 / self.expected as f64 }
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let c = &self.config;
        let s = |ms: u64| format!("{:.1} s", ms as f64 / 1000.0);
        writeln!(
            f,
            "{} peers (+{} joining, -{} leaving), {} entries, seed {}, partition {}, latency {}-{} ms, {}",
            c.peers,
            c.joins,
            c.leaves,
            self.entries,
            c.seed,
            if c.partition { "yes" } else { "no" },
            c.latency_ms.0,
            c.latency_ms.1,
            if c.lazy { "lazy push" } else { "flooding" }
        )?;
        writeln!(
            f,
            "  delivery        {}/{} = {:.2}% ({} peers at the end, {} ever)",
            self.delivered,
            self.expected,
            100.0 * self.delivery(),
            self.peers_at_end,
            self.peers_total
        )?;
        writeln!(f, "  hops            mean {:.2}, max {}", self.hops_mean, self.hops_max)?;
        writeln!(
            f,
            "  spread          median {} ms, max {} ms (entries written outside the partition)",
            self.spread_ms_median, self.spread_ms_max
        )?;
        writeln!(
            f,
            "  partition       entries written during it everywhere {} after the heal",
            match (self.heal_ms, self.heal_to_full_ms) {
                (None, _) => "-".to_string(),
                (Some(_), None) => "never".to_string(),
                (Some(_), Some(ms)) => format!("{ms} ms"),
            }
        )?;
        writeln!(
            f,
            "  timeline        last write {}, heal {}, last delivery {}, end {}",
            s(self.last_write_ms),
            self.heal_ms.map_or("-".to_string(), s),
            s(self.complete_ms),
            s(self.duration_ms)
        )?;
        writeln!(f, "  copies          {:.2} received per entry stored", self.copies_per_delivery)?;
        writeln!(
            f,
            "  sync messages   {:.2} per peer per entry, all types ({:.2} of them entry batches)",
            self.sync_messages_per_delivery, self.batches_per_delivery
        )?;
        writeln!(
            f,
            "  overlay         {:.1} messages per peer; {} sessions opened",
            self.overlay_messages_per_peer, self.sessions_opened
        )?;
        writeln!(
            f,
            "  active view     min {} / mean {:.2} / max {} (capacity {} = ceil(ln N) + 1)",
            self.active_view.0, self.active_view.1, self.active_view.2, self.active_capacity
        )?;
        write!(
            f,
            "  passive view    min {} / mean {:.2} / max {}",
            self.passive_view.0, self.passive_view.1, self.passive_view.2
        )
    }
}

type PeerIx = usize;
type LinkIx = usize;

enum Event {
    /// A sync message on a link, towards side `to` (0 or 1).
    Frame {
        link: LinkIx,
        to: usize,
        bytes: Vec<u8>,
    },
    /// An overlay message between two peers.
    Overlay {
        from: PeerIx,
        to: PeerIx,
        bytes: Vec<u8>,
    },
    /// `at` learns that `failed` cannot be reached.
    Failed {
        at: PeerIx,
        failed: PeerIx,
    },
    Timer {
        peer: PeerIx,
    },
    /// The peer's sessions are told the time (lazy push's waits), as a host does.
    Tick {
        peer: PeerIx,
    },
    Join {
        peer: PeerIx,
    },
    Write,
    Leave {
        peer: PeerIx,
        graceful: bool,
    },
    PartitionStart,
    PartitionEnd,
}

struct SimPeer {
    writer: Writer,
    store: MemoryStore,
    overlay: Overlay,
    online: bool,
    /// Peers that never leave; only they write, so every entry outlives its author's stay.
    stays: bool,
    side: u8,
    /// When it first joined; `u64::MAX` if it never did.
    joined_at: u64,
    links: BTreeMap<PeerIx, LinkIx>,
    timer_at: Option<u64>,
    /// A `Tick` is scheduled.
    ticking: bool,
    /// Hops and time of the first arrival of each entry (by entry index).
    hops: BTreeMap<usize, (u64, u64)>,
}

struct Link {
    ends: [PeerIx; 2],
    sessions: [Session; 2],
    open: bool,
    /// Whether each end's overlay counts the other as a neighbour.
    wanted: [bool; 2],
    /// Delivery time of the last frame in each direction: links are FIFO.
    last_at: [u64; 2],
}

struct Sim {
    config: SimConfig,
    rng: StdRng,
    now: u64,
    seq: u64,
    queue: BinaryHeap<Reverse<(u64, u64)>>,
    events: BTreeMap<u64, Event>,
    festival: FestivalId,
    peers: Vec<SimPeer>,
    links: Vec<Link>,
    partitioned: bool,
    overlay_config: OverlayConfig,
    /// Entry index by (author, log id, seq), and when it was written.
    entry_index: BTreeMap<(Author, u64, u64), usize>,
    written_at: Vec<u64>,
    written_in_partition: Vec<bool>,
    by_key: BTreeMap<Author, PeerIx>,
    overlay_messages: u64,
    sessions_opened: u64,
    /// Entries received in batches, and those new to their receiver.
    copies: u64,
    fresh: u64,
    closed_stats: Vec<crate::Stats>,
    heal_at: Option<u64>,
}

/// Runs one simulation to its end and reports.
pub fn run(config: SimConfig) -> Report {
    let mut rng = StdRng::seed_from_u64(config.seed);
    let total_peers = config.peers + config.joins;
    let mut overlay_config = OverlayConfig::for_size(config.peers);
    if let Some(n) = config.rotate_every {
        overlay_config.rotate_every = n;
    }
    let mut founder = Writer::seeded(config.seed.wrapping_mul(1_000_003));
    let (festival, create) = founder.create_festival("Fusion", None);
    let mut peers = Vec::with_capacity(total_peers);
    for i in 0..total_peers {
        let writer = if i == 0 {
            std::mem::replace(&mut founder, Writer::new([0; 32]))
        } else {
            Writer::seeded(config.seed.wrapping_mul(1_000_003).wrapping_add(i as u64))
        };
        let me = Peer::new(writer.author(), format!("sim://{i}"));
        let mut seed = [0u8; 32];
        rng.fill(&mut seed);
        let store = if config.verify { MemoryStore::new() } else { MemoryStore::trusting() };
        peers.push(SimPeer {
            writer,
            store,
            overlay: Overlay::new(me, overlay_config.clone(), seed),
            online: false,
            stays: true,
            side: 0,
            joined_at: u64::MAX,
            links: BTreeMap::new(),
            timer_at: None,
            ticking: false,
            hops: BTreeMap::new(),
        });
    }
    let mut sim = Sim {
        config: config.clone(),
        rng,
        now: 0,
        seq: 0,
        queue: BinaryHeap::new(),
        events: BTreeMap::new(),
        festival,
        peers,
        links: Vec::new(),
        partitioned: false,
        overlay_config,
        entry_index: BTreeMap::new(),
        written_at: Vec::new(),
        written_in_partition: Vec::new(),
        by_key: BTreeMap::new(),
        overlay_messages: 0,
        sessions_opened: 0,
        copies: 0,
        fresh: 0,
        closed_stats: Vec::new(),
        heal_at: None,
    };
    sim.by_key = sim.peers.iter().enumerate().map(|(i, p)| (p.writer.author(), i)).collect();
    sim.store_local(0, &create);

    // Timeline: joins every 50 ms; then a writing phase with churn and a partition in the
    // middle third; then quiet time for the last entries and the healing to finish.
    let join_spacing = config.join_spacing_ms;
    for i in 0..config.peers {
        sim.schedule(i as u64 * join_spacing, Event::Join { peer: i });
    }
    let write_start = config.peers as u64 * join_spacing + 30_000;
    let write_span = config.write_span_ms;
    let leavers: Vec<PeerIx> = {
        let candidates: Vec<PeerIx> = (1..config.peers).collect();
        candidates.sample(&mut sim.rng, config.leaves.min(candidates.len())).copied().collect()
    };
    for &p in &leavers {
        sim.peers[p].stays = false;
        let at = write_start + sim.rng.random_range(0..write_span);
        let graceful = sim.rng.random_bool(0.5);
        sim.schedule(at, Event::Leave { peer: p, graceful });
    }
    for j in 0..config.joins {
        let at = write_start + sim.rng.random_range(0..write_span);
        sim.schedule(at, Event::Join { peer: config.peers + j });
    }
    let (cut, heal) = (write_start + write_span / 3, write_start + 2 * write_span / 3);
    if config.partition {
        sim.schedule(cut, Event::PartitionStart);
        sim.schedule(heal, Event::PartitionEnd);
    }
    for _ in 0..config.entries {
        let at = write_start + sim.rng.random_range(0..write_span);
        // The author is drawn when the write happens, among the peers online then.
        sim.schedule(at, Event::Write);
    }
    let end = write_start + write_span + 120_000;
    while let Some(Reverse((at, seq))) = sim.queue.pop() {
        if at > end {
            break;
        }
        sim.now = at;
        let event = sim.events.remove(&seq).expect("every queued event is stored");
        sim.handle(event);
    }
    sim.report(end)
}

impl Sim {
    fn schedule(&mut self, at: u64, event: Event) {
        self.seq += 1;
        self.events.insert(self.seq, event);
        self.queue.push(Reverse((at, self.seq)));
    }

    fn latency(&mut self) -> u64 {
        let (lo, hi) = self.config.latency_ms;
        self.rng.random_range(lo..=hi)
    }

    fn reachable(&self, a: PeerIx, b: PeerIx) -> bool {
        self.peers[a].online && self.peers[b].online && (!self.partitioned || self.peers[a].side == self.peers[b].side)
    }

    fn handle(&mut self, event: Event) {
        match event {
            Event::Frame { link, to, bytes } => {
                if !self.links[link].open {
                    return;
                }
                let peer = self.links[link].ends[to];
                let l = &mut self.links[link];
                if l.sessions[to].receive(&bytes).is_err() {
                    // A simulation runs honest peers only: any error is a bug.
                    panic!("session error at peer {peer}: {:?}", l.sessions[to].receive(&bytes));
                }
                self.pump_peer(peer);
            }
            Event::Overlay { from, to, bytes } => {
                // A message in flight arrives even if its sender left meanwhile (a goodbye).
                let across = self.partitioned && self.peers[from].side != self.peers[to].side;
                if !self.peers[to].online || across {
                    let at = self.now + self.latency();
                    self.schedule(at, Event::Failed { at: from, failed: to });
                    return;
                }
                let message = ViewMessage::decode(&bytes, usize::MAX).expect("overlay messages decode");
                let key = self.peers[from].writer.author();
                let now = self.now;
                self.peers[to].overlay.handle(key, message, now);
                self.pump_peer(to);
            }
            Event::Failed { at, failed } => {
                if !self.peers[at].online {
                    return;
                }
                let key = self.peers[failed].writer.author();
                let now = self.now;
                self.peers[at].overlay.peer_failed(key, now);
                self.pump_peer(at);
            }
            Event::Timer { peer } => {
                self.peers[peer].timer_at = None;
                if !self.peers[peer].online {
                    return;
                }
                let now = self.now;
                self.peers[peer].overlay.tick(now);
                self.pump_peer(peer);
            }
            Event::Tick { peer } => {
                self.peers[peer].ticking = false;
                if !self.peers[peer].online {
                    return;
                }
                let now = self.now;
                let links: Vec<LinkIx> = self.peers[peer].links.values().copied().collect();
                for l in links {
                    let side = self.side_of(l, peer);
                    self.links[l].sessions[side].tick(now);
                }
                self.pump_peer(peer);
            }
            Event::Join { peer } => {
                self.peers[peer].online = true;
                self.peers[peer].joined_at = self.peers[peer].joined_at.min(self.now);
                if peer >= self.config.peers {
                    self.peers[peer].side = self.rng.random_range(0..2);
                }
                let side = self.peers[peer].side;
                let partitioned = self.partitioned;
                let contacts: Vec<PeerIx> = (0..self.peers.len())
                    .filter(|&p| p != peer && self.peers[p].online && (!partitioned || self.peers[p].side == side))
                    .collect();
                if let Some(&contact) = contacts.choose(&mut self.rng) {
                    let c = self.peers[contact].overlay.me().clone();
                    let now = self.now;
                    self.peers[peer].overlay.join(c, now);
                }
                let now = self.now;
                self.peers[peer].overlay.tick(now);
                self.pump_peer(peer);
            }
            Event::Write => {
                let authors: Vec<PeerIx> =
                    (0..self.peers.len()).filter(|&p| self.peers[p].online && self.peers[p].stays).collect();
                let author = *authors.choose(&mut self.rng).expect("someone is online");
                let festival = self.festival;
                let entry = self.peers[author].writer.post(festival);
                self.store_local(author, &entry);
                self.pump_peer(author);
            }
            Event::Leave { peer, graceful } => {
                if graceful {
                    self.peers[peer].overlay.leave();
                    self.pump_peer(peer);
                }
                self.peers[peer].online = false;
                let links: Vec<(PeerIx, LinkIx)> = self.peers[peer].links.iter().map(|(p, l)| (*p, *l)).collect();
                for (other, link) in links {
                    self.close_link(link);
                    if !graceful {
                        let at = self.now + 1_000;
                        self.schedule(at, Event::Failed { at: other, failed: peer });
                    }
                }
            }
            Event::PartitionStart => {
                self.partitioned = true;
                for p in 0..self.peers.len() {
                    self.peers[p].side = self.rng.random_range(0..2);
                }
                let cut: Vec<LinkIx> = (0..self.links.len())
                    .filter(|&l| {
                        let [a, b] = self.links[l].ends;
                        self.links[l].open && self.peers[a].side != self.peers[b].side
                    })
                    .collect();
                for l in cut {
                    let [a, b] = self.links[l].ends;
                    self.close_link(l);
                    let at = self.now + 1_000;
                    self.schedule(at, Event::Failed { at: a, failed: b });
                    self.schedule(at, Event::Failed { at: b, failed: a });
                }
            }
            Event::PartitionEnd => {
                self.partitioned = false;
                self.heal_at = Some(self.now);
            }
        }
    }

    fn side_of(&self, link: LinkIx, peer: PeerIx) -> usize {
        if self.links[link].ends[0] == peer { 0 } else { 1 }
    }

    /// Stores an entry written here and tells every session.
    fn store_local(&mut self, peer: PeerIx, entry: &WireEntry) {
        let festival = self.festival;
        let decoded = bamboo::Entry::decode(&entry.entry).expect("written entries decode");
        let index = self.written_at.len();
        self.entry_index.insert((decoded.author, decoded.log_id, decoded.seq_num), index);
        self.written_at.push(self.now);
        self.written_in_partition.push(self.partitioned);
        self.peers[peer].store.insert(festival, &entry.entry, &entry.payload).expect("a valid local entry");
        let now = self.now;
        self.peers[peer].hops.insert(index, (0, now));
        let height = LogHeight { author: decoded.author, log_id: decoded.log_id, seq: decoded.seq_num };
        self.notify(peer, None, &[height]);
    }

    fn notify(&mut self, peer: PeerIx, except: Option<LinkIx>, heights: &[LogHeight]) {
        let festival = self.festival;
        let links: Vec<LinkIx> = self.peers[peer].links.values().copied().filter(|l| Some(*l) != except).collect();
        for l in links {
            let side = self.side_of(l, peer);
            self.links[l].sessions[side].notify_heights(&festival, heights);
        }
    }

    fn open_link(&mut self, a: PeerIx, b: PeerIx) -> LinkIx {
        let config = SessionConfig { limits: crate::Limits::default(), festivals: [self.festival].into() };
        let mut nonces = [[0u8; 32]; 2];
        self.rng.fill(&mut nonces[0]);
        self.rng.fill(&mut nonces[1]);
        let mut sa = Session::new(self.peers[a].writer.keypair().clone(), config.clone(), nonces[0]);
        let mut sb = Session::new(self.peers[b].writer.keypair().clone(), config, nonces[1]);
        if self.config.lazy {
            // A host's sessions know the time from the start.
            sa.tick(self.now);
            sb.tick(self.now);
        }
        let ix = self.links.len();
        self.links.push(Link { ends: [a, b], sessions: [sa, sb], open: true, wanted: [false; 2], last_at: [0; 2] });
        self.peers[a].links.insert(b, ix);
        self.peers[b].links.insert(a, ix);
        self.sessions_opened += 1;
        ix
    }

    fn close_link(&mut self, link: LinkIx) {
        let l = &mut self.links[link];
        if !l.open {
            return;
        }
        l.open = false;
        let [a, b] = l.ends;
        let festival = self.festival;
        let eager = [0, 1].map(|side| l.sessions[side].is_live(&festival) && !l.sessions[side].is_lazy(&festival));
        self.closed_stats.push(l.sessions[0].stats().clone());
        self.closed_stats.push(l.sessions[1].stats().clone());
        self.peers[a].links.remove(&b);
        self.peers[b].links.remove(&a);
        if !self.config.lazy {
            return;
        }
        // As the product's hub does: an eager link gone, the lazy ones become eager.
        for (side, peer) in [a, b].into_iter().enumerate() {
            if !eager[side] || !self.peers[peer].online {
                continue;
            }
            let links: Vec<LinkIx> = self.peers[peer].links.values().copied().collect();
            for l in links {
                let s = self.side_of(l, peer);
                self.links[l].sessions[s].graft_now(&festival);
            }
            self.schedule_tick(peer, self.now);
        }
    }

    /// Schedules a `Tick` for `peer` at `at`, unless one is due already.
    fn schedule_tick(&mut self, peer: PeerIx, at: u64) {
        if !self.peers[peer].ticking {
            self.peers[peer].ticking = true;
            self.schedule(at, Event::Tick { peer });
        }
    }

    /// Acts on every output of one peer's overlay and sessions until none is left.
    fn pump_peer(&mut self, peer: PeerIx) {
        if !self.peers[peer].online {
            return;
        }
        loop {
            let mut progressed = false;
            while let Some(output) = self.peers[peer].overlay.poll() {
                progressed = true;
                self.on_overlay_output(peer, output);
            }
            let links: Vec<LinkIx> = self.peers[peer].links.values().copied().collect();
            for l in links {
                let side = self.side_of(l, peer);
                loop {
                    let link = &mut self.links[l];
                    if !link.open {
                        break;
                    }
                    let Some(output) = link.sessions[side].poll(&self.peers[peer].store) else { break };
                    progressed = true;
                    self.on_session_output(peer, l, side, output);
                }
            }
            if !progressed {
                break;
            }
        }
        self.schedule_timer(peer);
        // Ticks only while a session waits for noted entries: a host ticks every second,
        // the simulation only when it matters.
        let awaits = self.peers[peer].links.values().any(|&l| {
            let side = self.side_of(l, peer);
            self.links[l].sessions[side].awaits_notes()
        });
        if self.config.lazy && awaits {
            self.schedule_tick(peer, self.now + crate::GRAFT_AFTER_MS / 2);
        }
    }

    fn schedule_timer(&mut self, peer: PeerIx) {
        if let Some(t) = self.peers[peer].overlay.poll_timeout() {
            let t = t.max(self.now + 1);
            if self.peers[peer].timer_at.is_none_or(|at| t < at) {
                self.peers[peer].timer_at = Some(t);
                self.schedule(t, Event::Timer { peer });
            }
        }
    }

    fn on_overlay_output(&mut self, peer: PeerIx, output: OverlayOutput) {
        match output {
            OverlayOutput::Send { to, message } => {
                let to = self.index_of(&to.key);
                self.overlay_messages += 1;
                let at = self.now + self.latency();
                self.schedule(at, Event::Overlay { from: peer, to, bytes: message.encode() });
            }
            OverlayOutput::NeighborUp(p) => {
                let other = self.index_of(&p.key);
                if !self.reachable(peer, other) {
                    let at = self.now + self.latency();
                    self.schedule(at, Event::Failed { at: peer, failed: other });
                    return;
                }
                let link = match self.peers[peer].links.get(&other) {
                    Some(&l) => l,
                    None => {
                        let l = self.open_link(peer, other);
                        self.pump_peer(other);
                        l
                    }
                };
                let side = self.side_of(link, peer);
                self.links[link].wanted[side] = true;
            }
            OverlayOutput::NeighborDown(key) => {
                let other = self.index_of(&key);
                if let Some(&link) = self.peers[peer].links.get(&other) {
                    let side = self.side_of(link, peer);
                    self.links[link].wanted[side] = false;
                    // The connection goes when neither end counts the other as a neighbour;
                    // a link the other end never claimed goes at once.
                    if !self.links[link].wanted[1 - side] {
                        self.close_link(link);
                    }
                }
            }
        }
    }

    fn on_session_output(&mut self, peer: PeerIx, link: LinkIx, side: usize, output: Output) {
        match output {
            Output::Send(bytes) => {
                let latency = self.latency();
                let l = &mut self.links[link];
                let at = (self.now + latency).max(l.last_at[side]);
                l.last_at[side] = at;
                self.schedule(at, Event::Frame { link, to: 1 - side, bytes });
            }
            Output::Entries { festival, batch, entries } => {
                let from = self.links[link].ends[1 - side];
                let mut heights = Vec::new();
                for e in &entries {
                    let key = (e.entry.author, e.entry.log_id, e.entry.seq_num);
                    let fresh = self.peers[peer]
                        .store
                        .insert(festival, &e.bytes, &e.payload)
                        .expect("honest peers send valid entries")
                        == bamboo::Admission::New;
                    if fresh {
                        heights.push(LogHeight { author: key.0, log_id: key.1, seq: key.2 });
                        if let Some(&index) = self.entry_index.get(&key) {
                            let hop = self.peers[from].hops.get(&index).map_or(0, |h| h.0) + 1;
                            let now = self.now;
                            self.peers[peer].hops.insert(index, (hop, now));
                        }
                    }
                }
                self.links[link].sessions[side].stored(batch).expect("a batch handed out");
                self.copies += entries.len() as u64;
                self.fresh += heights.len() as u64;
                self.notify(peer, Some(link), &heights);
            }
            Output::Ready { .. }
            | Output::Started { .. }
            | Output::Plan { .. }
            | Output::Live { .. }
            | Output::Overlay { .. } => {}
        }
    }

    fn index_of(&self, key: &Author) -> PeerIx {
        self.by_key[key]
    }

    fn report(&mut self, end: u64) -> Report {
        let entries = self.written_at.len();
        let at_end: Vec<&SimPeer> = self.peers.iter().filter(|p| p.online).collect();
        let expected = (at_end.len() * entries) as u64;
        let delivered = at_end.iter().map(|p| p.hops.len() as u64).sum();
        let hops: Vec<u64> = at_end.iter().flat_map(|p| p.hops.values().map(|&(h, _)| h)).collect();
        let hops_mean = hops.iter().sum::<u64>() as f64 / hops.len().max(1) as f64;
        let mut spreads: Vec<u64> = Vec::new();
        let mut complete_at = 0;
        let mut healed_at = None;
        let mut healed = true;
        for index in 0..entries {
            let written = self.written_at[index];
            let mut last = written;
            for p in &at_end {
                if let Some(&(_, at)) = p.hops.get(&index) {
                    complete_at = complete_at.max(at);
                    if p.joined_at <= written {
                        last = last.max(at);
                    }
                }
            }
            if !self.written_in_partition[index] && index > 0 {
                spreads.push(last - written);
            }
            if let (true, Some(heal)) = (self.written_in_partition[index], self.heal_at) {
                for p in at_end.iter().filter(|p| p.joined_at <= heal) {
                    match p.hops.get(&index) {
                        Some(&(_, at)) => healed_at = Some(healed_at.unwrap_or(heal).max(at)),
                        None => healed = false,
                    }
                }
            }
        }
        spreads.sort_unstable();
        let mut stats = self.closed_stats.clone();
        for l in self.links.iter().filter(|l| l.open) {
            stats.push(l.sessions[0].stats().clone());
            stats.push(l.sessions[1].stats().clone());
        }
        let messages: u64 = stats.iter().map(|s| s.messages_sent.iter().sum::<u64>()).sum();
        let batches: u64 = stats.iter().map(|s| s.messages_sent[crate::wire::kind::ENTRIES as usize]).sum();
        let views = |sizes: Vec<usize>| {
            let min = sizes.iter().copied().min().unwrap_or(0);
            let max = sizes.iter().copied().max().unwrap_or(0);
            (min, sizes.iter().sum::<usize>() as f64 / sizes.len().max(1) as f64, max)
        };
        let peers_total = self.peers.iter().filter(|p| p.joined_at != u64::MAX).count();
        Report {
            config: self.config.clone(),
            peers_at_end: at_end.len(),
            peers_total,
            entries,
            delivered,
            expected,
            hops_mean,
            hops_max: hops.iter().copied().max().unwrap_or(0),
            spread_ms_median: spreads.get(spreads.len() / 2).copied().unwrap_or(0),
            spread_ms_max: spreads.last().copied().unwrap_or(0),
            copies_per_delivery: self.copies as f64 / self.fresh.max(1) as f64,
            sync_messages_per_delivery: messages as f64 / self.fresh.max(1) as f64,
            batches_per_delivery: batches as f64 / self.fresh.max(1) as f64,
            overlay_messages_per_peer: self.overlay_messages as f64 / peers_total.max(1) as f64,
            sessions_opened: self.sessions_opened,
            active_view: views(at_end.iter().map(|p| p.overlay.active().count()).collect()),
            passive_view: views(at_end.iter().map(|p| p.overlay.passive().count()).collect()),
            active_capacity: self.overlay_config.active_capacity,
            duration_ms: end,
            last_write_ms: self.written_at.iter().copied().max().unwrap_or(0),
            heal_ms: self.heal_at,
            complete_ms: complete_at,
            heal_to_full_ms: healed_at.zip(self.heal_at).filter(|_| healed).map(|(full, heal)| full - heal),
        }
    }
}
