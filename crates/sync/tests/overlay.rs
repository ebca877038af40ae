//! The HyParView overlay on its own: peers wired directly, messages delivered in order.

use std::collections::{BTreeMap, VecDeque};

use bamboo::{Author, Keypair};
use sync::Peer;
use sync::hyparview::{Overlay, OverlayConfig, OverlayOutput, ViewMessage};

struct World {
    overlays: Vec<Overlay>,
    index: BTreeMap<Author, usize>,
    queue: VecDeque<(usize, usize, ViewMessage)>,
    online: Vec<bool>,
    now: u64,
    sent: usize,
}

impl World {
    fn new(n: usize, config: OverlayConfig) -> World {
        let mut overlays = Vec::new();
        let mut index = BTreeMap::new();
        for i in 0..n {
            let key = Keypair::from_secret([i as u8 + 1; 32]).author();
            index.insert(key, i);
            overlays.push(Overlay::new(Peer::new(key, format!("peer{i}")), config.clone(), [i as u8; 32]));
        }
        World { overlays, index, queue: VecDeque::new(), online: vec![true; n], now: 0, sent: 0 }
    }

    fn key(&self, i: usize) -> Author {
        self.overlays[i].me().key
    }

    fn drain(&mut self, i: usize) {
        while let Some(output) = self.overlays[i].poll() {
            if let OverlayOutput::Send { to, message } = output {
                self.sent += 1;
                let j = self.index[&to.key];
                // A message must survive its encoding.
                let decoded = ViewMessage::decode(&message.encode(), usize::MAX).unwrap();
                assert_eq!(decoded, message);
                self.queue.push_back((i, j, message));
            }
        }
    }

    fn run(&mut self) {
        for i in 0..self.overlays.len() {
            self.drain(i);
        }
        let mut steps = 0;
        while let Some((from, to, message)) = self.queue.pop_front() {
            steps += 1;
            assert!(steps < 1_000_000, "the overlay does not settle");
            if !self.online[to] {
                let key = self.key(to);
                self.overlays[from].peer_failed(key, self.now);
                self.drain(from);
                continue;
            }
            let key = self.key(from);
            self.overlays[to].handle(key, message, self.now);
            self.drain(to);
        }
    }

    fn tick_all(&mut self, ms: u64) {
        self.now += ms;
        for i in 0..self.overlays.len() {
            if self.online[i] {
                self.overlays[i].tick(self.now);
                self.drain(i);
            }
        }
        self.run();
    }

    fn active(&self, i: usize) -> Vec<usize> {
        self.overlays[i].active().map(|p| self.index[&p.key]).collect()
    }

    /// Whether the active views, as a graph over the online peers, are connected.
    fn connected(&self) -> bool {
        let online: Vec<usize> = (0..self.overlays.len()).filter(|&i| self.online[i]).collect();
        let mut seen = vec![false; self.overlays.len()];
        let mut stack = vec![online[0]];
        seen[online[0]] = true;
        while let Some(i) = stack.pop() {
            for j in self.active(i) {
                if !seen[j] && self.online[j] {
                    seen[j] = true;
                    stack.push(j);
                }
            }
        }
        online.iter().all(|&i| seen[i])
    }
}

// Scenario: 60 peers join one after another, each through a random earlier peer; then the
// timers run for a few shuffle periods.
// Assert: active views are symmetric, within capacity and nearly full, the overlay is
// connected, and shuffles filled the passive views.
#[test]
fn joins_build_a_connected_symmetric_overlay() {
    let config = OverlayConfig::for_size(60);
    let capacity = config.active_capacity;
    let mut w = World::new(60, config);
    for i in 1..60 {
        let contact = w.overlays[(i * 7919) % i].me().clone();
        w.overlays[i].join(contact, 0);
        w.run();
    }
    for _ in 0..6 {
        w.tick_all(30_000);
    }
    for i in 0..60 {
        let active = w.active(i);
        assert!(active.len() <= capacity);
        assert!(active.len() >= capacity - 2, "peer {i} has {} neighbours", active.len());
        for j in active {
            assert!(w.active(j).contains(&i), "{i} -> {j} is not symmetric");
        }
        assert!(w.overlays[i].passive().count() >= capacity, "peer {i} learned of others by shuffling");
    }
    assert!(w.connected());
}

// Scenario: in a settled overlay of 40 peers, a third crash at once (their neighbours learn
// it when messages to them fail), and one more leaves saying goodbye.
// Assert: the leaver's neighbours forget it at once; the survivors refill their active views
// from their passive views, the overlay stays connected, and nobody keeps a departed peer
// as an active neighbour.
#[test]
fn failed_and_departed_neighbours_are_replaced() {
    let config = OverlayConfig::for_size(40);
    let capacity = config.active_capacity;
    let mut w = World::new(40, config);
    for i in 1..40 {
        let contact = w.overlays[(i * 31) % i].me().clone();
        w.overlays[i].join(contact, 0);
        w.run();
    }
    w.tick_all(30_000);
    for i in (0..40).filter(|i| i % 3 == 1) {
        w.online[i] = false;
        let key = w.key(i);
        for j in 0..40 {
            if w.online[j] && w.overlays[j].is_active(&key) {
                w.overlays[j].peer_failed(key, w.now);
                w.drain(j);
            }
        }
    }
    w.run();
    let neighbours = w.active(2);
    assert!(!neighbours.is_empty());
    w.overlays[2].leave();
    w.drain(2);
    w.run();
    w.online[2] = false;
    for &j in &neighbours {
        let gone = !w.overlays[j].is_active(&w.key(2)) && !w.overlays[j].passive().any(|p| p.key == w.key(2));
        assert!(gone, "a goodbye removes the peer from its neighbours' views");
    }
    for _ in 0..4 {
        w.tick_all(30_000);
    }
    for i in (0..40).filter(|&i| w.online[i]) {
        let active = w.active(i);
        assert!(active.iter().all(|&j| w.online[j]), "peer {i} keeps a departed neighbour");
        assert!(active.len() >= capacity - 2, "peer {i} has {} neighbours", active.len());
    }
    assert!(w.connected());
}

// Scenario: overlay messages with too many peers or too long an address.
// Assert: refused by the decoder.
#[test]
fn overlay_decoding_enforces_its_limits() {
    let me = Peer::new(Keypair::from_secret([1; 32]).author(), "x".repeat(256));
    let fine = ViewMessage::ShuffleReply { peers: vec![me.clone(); 64] };
    assert!(ViewMessage::decode(&fine.encode(), usize::MAX).is_ok());
    let crowded = ViewMessage::ShuffleReply { peers: vec![me.clone(); 65] };
    assert!(matches!(
        ViewMessage::decode(&crowded.encode(), usize::MAX),
        Err(sync::WireError::TooMany { count: 65, .. })
    ));
    let long = ViewMessage::Join { addr: "x".repeat(257) };
    assert!(ViewMessage::decode(&long.encode(), usize::MAX).is_err());
    assert!(ViewMessage::decode(&fine.encode(), 100).is_err(), "the byte limit holds");
}
