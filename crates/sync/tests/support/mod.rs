//! Nodes wired by in-memory queues: each node has a verifying store and one session per
//! link, and acts on the sessions' outputs the way a real node would.
#![allow(dead_code)]

use std::collections::VecDeque;

use rand::SeedableRng;
use rand::rngs::StdRng;
use sync::writer::Writer;
use sync::{
    BatchId, FestivalId, Limits, LogHeight, MemoryStore, Message, Output, ReceivedEntry, Session, SessionConfig,
    SyncError, WireEntry,
};

/// What a session reported, kept for assertions.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Seen {
    Ready,
    Started(FestivalId),
    Plan { festival: FestivalId, entries: u64, bytes: u64 },
    Entries { festival: FestivalId, count: usize, bytes: usize },
    Live(FestivalId),
}

pub struct Node {
    pub writer: Writer,
    pub store: MemoryStore,
    pub festivals: Vec<FestivalId>,
    /// When set, the list every session of the node is given instead of `festivals`: one
    /// list shared by all, as a hub gives it.
    pub shared: Option<std::sync::Arc<[FestivalId]>>,
    pub limits: Limits,
    /// Received batches wait here until [`Net::store_pending`] when set.
    pub defer: bool,
    pub pending: VecDeque<(usize, usize, FestivalId, BatchId, Vec<ReceivedEntry>)>,
}

pub type Tamper = Box<dyn FnMut(Vec<u8>) -> Vec<u8>>;

pub struct Link {
    pub ends: [usize; 2],
    pub sessions: [Session; 2],
    /// Messages on their way to each side.
    pub inbox: [VecDeque<Vec<u8>>; 2],
    /// Every message each side sent.
    pub sent: [Vec<Vec<u8>>; 2],
    pub seen: [Vec<Seen>; 2],
    pub errors: [Option<SyncError>; 2],
    /// Applied to each message before it travels: the hostile peer's hook.
    pub tamper: [Option<Tamper>; 2],
}

pub struct Net {
    pub nodes: Vec<Node>,
    pub links: Vec<Link>,
    rng: StdRng,
    /// The most received batches awaiting storage at any node at any time.
    pub max_pending: usize,
    /// The clock passed to the sessions, ms.
    pub now: u64,
}

impl Net {
    pub fn new(seed: u64) -> Net {
        Net { nodes: Vec::new(), links: Vec::new(), rng: StdRng::seed_from_u64(seed), max_pending: 0, now: 0 }
    }

    pub fn node(&mut self, seed: u64, festivals: &[FestivalId]) -> usize {
        self.nodes.push(Node {
            writer: Writer::seeded(seed),
            store: MemoryStore::new(),
            festivals: festivals.to_vec(),
            shared: None,
            limits: Limits::default(),
            defer: false,
            pending: VecDeque::new(),
        });
        self.nodes.len() - 1
    }

    /// The node creates a festival (and wants it).
    pub fn create_festival(&mut self, node: usize, name: &str, parent: Option<FestivalId>) -> FestivalId {
        let (festival, entry) = self.nodes[node].writer.create_festival(name, parent);
        self.nodes[node].festivals.push(festival);
        self.give(node, festival, &[entry]);
        festival
    }

    /// Stores entries written elsewhere (e.g. by a writer outside the net) at a node.
    pub fn give(&mut self, node: usize, festival: FestivalId, entries: &[WireEntry]) {
        for e in entries {
            self.nodes[node].store.insert(festival, &e.entry, &e.payload).expect("valid entries");
        }
        let heights: Vec<LogHeight> = entries.iter().map(height_of).collect();
        self.notify(node, None, festival, &heights);
    }

    /// The node writes `count` entries into its own log of `festival`.
    pub fn write(&mut self, node: usize, festival: FestivalId, count: usize) -> Vec<WireEntry> {
        let entries: Vec<WireEntry> = (0..count).map(|_| self.nodes[node].writer.post(festival)).collect();
        self.give(node, festival, &entries);
        entries
    }

    pub fn connect(&mut self, a: usize, b: usize) -> usize {
        let mut sessions = Vec::new();
        for n in [a, b] {
            let node = &self.nodes[n];
            let festivals = node.shared.clone().unwrap_or_else(|| node.festivals.as_slice().into());
            let config = SessionConfig { limits: node.limits, festivals };
            let mut nonce = [0u8; 32];
            rand::RngExt::fill(&mut self.rng, &mut nonce);
            sessions.push(Session::new(node.writer.keypair().clone(), config, nonce));
        }
        let [sa, sb]: [Session; 2] = sessions.try_into().ok().expect("two sessions");
        self.links.push(Link {
            ends: [a, b],
            sessions: [sa, sb],
            inbox: [VecDeque::new(), VecDeque::new()],
            sent: [Vec::new(), Vec::new()],
            seen: [Vec::new(), Vec::new()],
            errors: [None, None],
            tamper: [None, None],
        });
        self.links.len() - 1
    }

    fn notify(&mut self, node: usize, except: Option<usize>, festival: FestivalId, heights: &[LogHeight]) {
        for (i, link) in self.links.iter_mut().enumerate() {
            for side in 0..2 {
                if link.ends[side] == node && Some(i) != except {
                    link.sessions[side].notify_heights(&festival, heights);
                }
            }
        }
    }

    /// Drains every session's outputs once; true if anything happened.
    fn pump(&mut self) -> bool {
        let mut progressed = false;
        for l in 0..self.links.len() {
            for side in 0..2 {
                let node = self.links[l].ends[side];
                while let Some(output) = self.links[l].sessions[side].poll(&self.nodes[node].store) {
                    progressed = true;
                    self.on_output(l, side, output);
                }
            }
        }
        progressed
    }

    fn on_output(&mut self, l: usize, side: usize, output: Output) {
        let link = &mut self.links[l];
        match output {
            Output::Send(bytes) => {
                let bytes = match &mut link.tamper[side] {
                    Some(f) => f(bytes),
                    None => bytes,
                };
                link.sent[side].push(bytes.clone());
                link.inbox[1 - side].push_back(bytes);
            }
            Output::Ready { .. } => link.seen[side].push(Seen::Ready),
            Output::Started { festival } => link.seen[side].push(Seen::Started(festival)),
            Output::Plan { festival, entries, bytes } => link.seen[side].push(Seen::Plan { festival, entries, bytes }),
            Output::Live { festival } => link.seen[side].push(Seen::Live(festival)),
            Output::Overlay { .. } => {}
            Output::Entries { festival, batch, entries } => {
                let bytes = entries.iter().map(|e| e.bytes.len() + e.payload.len()).sum();
                link.seen[side].push(Seen::Entries { festival, count: entries.len(), bytes });
                let node = link.ends[side];
                self.nodes[node].pending.push_back((l, side, festival, batch, entries));
                let pending = self.nodes[node].pending.len();
                self.max_pending = self.max_pending.max(pending);
                if !self.nodes[node].defer {
                    self.store_pending(node, usize::MAX);
                }
            }
        }
    }

    /// Verifies and stores up to `max` waiting batches at `node`, as a node does.
    pub fn store_pending(&mut self, node: usize, max: usize) {
        for _ in 0..max {
            let Some((l, side, festival, batch, entries)) = self.nodes[node].pending.pop_front() else { return };
            if self.links[l].errors[side].is_some() {
                continue;
            }
            let items: Vec<(&[u8], &[u8])> = entries.iter().map(|e| (&e.bytes[..], &e.payload[..])).collect();
            let failure = self.nodes[node].store.insert_batch(festival, &items).err().map(|e| e.to_string());
            let heights: Vec<LogHeight> = entries
                .iter()
                .map(|e| LogHeight { author: e.entry.author, log_id: e.entry.log_id, seq: e.entry.seq_num })
                .collect();
            let session = &mut self.links[l].sessions[side];
            match failure {
                Some(reason) => self.links[l].errors[side] = Some(session.rejected(batch, &reason)),
                None => session.stored(batch).expect("a batch handed out"),
            }
            self.notify(node, Some(l), festival, &heights);
        }
    }

    /// Delivers every message in flight, one at a time in order; true if any moved.
    fn deliver(&mut self) -> bool {
        let mut progressed = false;
        for link in &mut self.links {
            for side in 0..2 {
                while let Some(bytes) = link.inbox[side].pop_front() {
                    progressed = true;
                    if link.errors[side].is_some() || link.sessions[side].is_closed() {
                        continue;
                    }
                    if let Err(e) = link.sessions[side].receive(&bytes) {
                        link.errors[side] = Some(e);
                    }
                }
            }
        }
        progressed
    }

    /// One round: every session's outputs, then every message in flight.
    pub fn step(&mut self) -> bool {
        let pumped = self.pump();
        let delivered = self.deliver();
        pumped || delivered
    }

    /// Advances the clock by `ms` and ticks every session, as a host does once a second.
    pub fn tick(&mut self, ms: u64) {
        self.now += ms;
        for link in &mut self.links {
            for session in &mut link.sessions {
                session.tick(self.now);
            }
        }
    }

    /// Cuts a link: whatever its sessions send from now on is lost.
    pub fn cut(&mut self, link: usize) {
        self.links[link].errors = [Some(SyncError::Closed), Some(SyncError::Closed)];
    }

    /// Entries received that were held already, over every session of the net.
    pub fn duplicates(&self) -> u64 {
        self.links.iter().flat_map(|l| &l.sessions).map(|s| s.stats().duplicates_received).sum()
    }

    /// Runs until nothing moves (deferred batches stay waiting).
    pub fn run(&mut self) {
        for _ in 0..100_000 {
            if !self.step() {
                return;
            }
        }
        panic!("the net did not settle");
    }

    /// The id the next batch from `side`'s peer must carry.
    pub fn next_batch(&self, link: usize, side: usize) -> u64 {
        self.messages(link, 1 - side).iter().filter(|m| matches!(m, Message::Entries { .. })).count() as u64
    }

    /// Messages one side of a link sent, decoded.
    pub fn messages(&self, link: usize, side: usize) -> Vec<Message> {
        self.links[link].sent[side].iter().map(|b| Message::decode(b, &Limits::default()).expect("decodes")).collect()
    }

    /// (author, log id, height) of every log a node holds, sorted.
    pub fn inventory(&self, node: usize) -> Vec<(FestivalId, LogHeight)> {
        let mut logs: Vec<_> = self.nodes[node].store.logs().collect();
        logs.sort();
        logs
    }
}

pub fn height_of(e: &WireEntry) -> LogHeight {
    let entry = bamboo::Entry::decode(&e.entry).expect("entries decode");
    LogHeight { author: entry.author, log_id: entry.log_id, seq: entry.seq_num }
}
