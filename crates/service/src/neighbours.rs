//! Which peers a native node holds sync sessions with: a bounded partial view in the manner
//! of HyParView (Leitão, Pereira, Rodrigues 2007), so that a festival field of hundreds of
//! nodes is a sparse random graph rather than everyone connected to everyone.
//!
//! - The *passive view* ([`Neighbours::learn`]) is every address the node has heard of: the
//!   peers it was configured with, those of the invites it joined, those mDNS finds, and
//!   those its neighbours introduce (each node introduces itself and its neighbours over its
//!   sessions, `hub::Hub`). It is bounded; configured and invited peers stay in it.
//! - The *active view* is the live sessions with peers that have an address. For each
//!   festival it syncs, a node dials peers known to hold it until [`Bound::outgoing`]
//!   sessions share that festival, and it keeps at most [`Bound::total`] sessions with
//!   addressable peers: one more evicts a random older session another node dialed, so a
//!   newcomer always gets in and the neighbours a node chose itself stay (an attacker who
//!   dials in again and again cannot push them out).
//!   Peers without an address (browsers, nodes behind a NAT) are this node's clients, not its
//!   neighbours: they are bounded by the HTTP server's limit on sync sessions instead.
//! - Now and then ([`ROTATE_MS`]) a node swaps one of the neighbours it chose for a random
//!   passive peer: plain HyParView never changes a full active view, so two halves of a
//!   festival that lost every link during a partition would otherwise stay apart.
//!
//! Entries travel as before: every session pushes what its node stores, so an entry floods
//! the sparse graph (each node receives it from at most its few neighbours).
//!
//! Sans-I/O: the hub asks [`Neighbours::due`] which addresses to dial now and reports how
//! each attempt ended; time comes from the caller.

use std::collections::{BTreeMap, BTreeSet};

use bamboo::Author;
use rand::seq::IteratorRandom;
use sync::FestivalId;

/// How many neighbours a node keeps, from the size of its festivals.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Bound {
    /// Sessions this node dials.
    pub outgoing: usize,
    /// Sessions others dialed that this node keeps.
    pub incoming: usize,
}

impl Bound {
    /// HyParView's active view for about `peers` peers: ⌈ln N⌉ + 1, at least 4 and at most
    /// 12 (4 up to 20 peers, 5 at 30 to 54, 7 at 200, 8 at 1000), split so that every node's
    /// own choices fit into the others' incoming room (outgoing ≤ incoming).
    pub fn for_size(peers: usize) -> Bound {
        let total = ((peers.max(2) as f64).ln().ceil() as usize + 1).clamp(4, 12);
        Bound { outgoing: total / 2, incoming: total - total / 2 }
    }

    pub fn total(&self) -> usize {
        self.outgoing + self.incoming
    }
}

/// The most addresses kept in the passive view besides configured and invited ones.
pub const PASSIVE_MAX: usize = 64;
/// A node swaps one neighbour it chose for a passive peer about this often (±25 %). Nodes
/// pick neighbours among the peers their neighbours introduce, so the graph clusters and
/// can fall apart into islands whose nodes all have their fill; rotation joins them again
/// within about this long (`crates/node/tests/field.rs` saw islands after fast start-ups).
pub const ROTATE_MS: i64 = 20_000;
/// A node tells a random neighbour of a few peers it knows about this often (±25 %):
/// HyParView's shuffle, which keeps every passive view a fresh sample of the festival.
pub const SHUFFLE_MS: i64 = 10_000;
/// Peers one shuffle names.
pub const SHUFFLE_PEERS: usize = 4;
/// Peers a node names to a newcomer that dialed it.
pub const JOIN_PEERS: usize = 8;
/// After an attempt failed, the address waits 1 s, doubling to this.
const RETRY_MAX_MS: i64 = 60_000;
/// A peer that ended the session (it had enough neighbours, or rotated) is dialed again
/// only after this long, so that the node looks elsewhere first.
const AFTER_EVICTION_MS: i64 = 30_000;

#[derive(Clone, Debug)]
struct Known {
    key: Option<Author>,
    /// The festivals the peer is known to sync; `None`: unknown (found by mDNS), so any.
    festivals: Option<BTreeSet<FestivalId>>,
    /// Configured or invited: kept always, dialed first.
    pinned: bool,
    failures: u32,
    retry_at: i64,
    /// Being dialed, for this festival.
    dialing: Option<FestivalId>,
    /// The address is this node's own.
    myself: bool,
}

/// How an attempt to hold a session with an address ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ended {
    /// The connection failed or the session broke before it was of use.
    Failed,
    /// The session ran, then ended (the peer left, evicted or rotated this node).
    Held,
    /// The address is this node itself.
    Myself,
}

/// A node's neighbours, as addresses to dial; the live sessions are the hub's.
#[derive(Debug, Default)]
pub struct Neighbours {
    known: BTreeMap<String, Known>,
    /// This node's own address, for introducing itself.
    me: Option<String>,
    next_rotation: Option<i64>,
    next_shuffle: Option<i64>,
}

impl Neighbours {
    /// This node's address, as others dial it (`ws://host:port/sync`).
    pub fn set_address(&mut self, url: String) {
        self.me = Some(url);
    }

    pub fn address(&self) -> Option<&str> {
        self.me.as_deref()
    }

    /// Adds `url` (a sync URL, checked by the caller) to the passive view, as a peer of
    /// `festival` (`None`: of any). `pinned`: a configured or invited peer, kept and dialed
    /// first.
    pub fn learn(&mut self, url: &str, key: Option<Author>, festival: Option<FestivalId>, pinned: bool) {
        if self.me.as_deref() == Some(url) {
            return;
        }
        if let Some(known) = self.known.get_mut(url) {
            known.pinned |= pinned;
            if key.is_some() {
                known.key = key;
            }
            match (&mut known.festivals, festival) {
                (Some(set), Some(f)) => {
                    set.insert(f);
                }
                (festivals, None) => *festivals = None,
                (None, Some(_)) => {}
            }
            return;
        }
        if !pinned && self.known.values().filter(|k| !k.pinned).count() >= PASSIVE_MAX {
            // Full: a random unpinned peer that is not being dialed makes room.
            let evictable = self.known.iter().filter(|(_, k)| !k.pinned && k.dialing.is_none());
            let Some(out) = evictable.map(|(u, _)| u.clone()).choose(&mut rand::rng()) else { return };
            self.known.remove(&out);
        }
        let known = Known {
            key,
            festivals: festival.map(|f| BTreeSet::from([f])),
            pinned,
            failures: 0,
            retry_at: 0,
            dialing: None,
            myself: false,
        };
        self.known.insert(url.to_string(), known);
    }

    /// The passive view's addresses that are not pinned (configured and invited peers are
    /// remembered elsewhere), for keeping across a restart.
    pub fn remembered(&self) -> Vec<String> {
        self.known.iter().filter(|(_, k)| !k.pinned && !k.myself).map(|(u, _)| u.clone()).collect()
    }

    /// The passive view's size (for the size estimate).
    pub fn known(&self) -> usize {
        self.known.values().filter(|k| !k.myself).count()
    }

    /// Addresses to dial now. For each festival in `have` (with the live sessions that share
    /// it, and how many of those this node dialed), peers known to hold it, as long as this
    /// node chose fewer than `bound.outgoing` of them and fewer than `bound.total() - 1`
    /// share it (one place stays free for a newcomer), counting those being dialed; pinned
    /// peers first, then at random; never a peer in `connected` (by key), one waiting after
    /// a failure, or this node. Each is marked as being dialed until [`Neighbours::ended`].
    ///
    /// So every node chooses `outgoing` neighbours and is chosen by about as many: a mean
    /// degree near the bound, as in HyParView, while the neighbours a node chose itself are
    /// at most half of its sessions.
    pub fn due(
        &mut self,
        now: i64,
        bound: Bound,
        have: &[(FestivalId, usize, usize)],
        connected: &BTreeSet<Author>,
    ) -> Vec<String> {
        let mut picked = Vec::new();
        for (festival, live, chosen) in have {
            let dialing = self.known.values().filter(|k| k.dialing == Some(*festival)).count();
            let by_choice = bound.outgoing.saturating_sub(chosen + dialing);
            let by_room = (bound.total() - 1).saturating_sub(live + dialing);
            let wanted = by_choice.min(by_room);
            let mut chosen: Vec<String> = Vec::new();
            for pinned in [true, false] {
                let room = wanted - chosen.len();
                if room == 0 {
                    break;
                }
                let candidates = self
                    .known
                    .iter()
                    .filter(|(_, k)| k.pinned == pinned && k.dialing.is_none() && !k.myself && k.retry_at <= now)
                    .filter(|(_, k)| k.festivals.as_ref().is_none_or(|fs| fs.contains(festival)))
                    .filter(|(_, k)| k.key.is_none_or(|key| !connected.contains(&key)))
                    .map(|(u, _)| u.clone());
                chosen.extend(candidates.sample(&mut rand::rng(), room));
            }
            for url in &chosen {
                if let Some(k) = self.known.get_mut(url) {
                    k.dialing = Some(*festival);
                }
            }
            picked.extend(chosen);
        }
        picked
    }

    /// The session dialed to `url` is up: it counts as a live session from now on.
    pub fn connected(&mut self, url: &str, key: Author) {
        if let Some(k) = self.known.get_mut(url) {
            k.dialing = None;
            k.key = Some(key);
            k.failures = 0;
        }
    }

    /// The attempt to hold a session with `url` ended; `key` is the peer's, if it proved it.
    pub fn ended(&mut self, url: &str, key: Option<Author>, how: Ended, now: i64) {
        let Some(k) = self.known.get_mut(url) else { return };
        k.dialing = None;
        if key.is_some() {
            k.key = key;
        }
        match how {
            Ended::Myself => k.myself = true,
            Ended::Held => {
                k.failures = 0;
                k.retry_at = now + AFTER_EVICTION_MS;
            }
            Ended::Failed => {
                k.failures += 1;
                let delay = (1_000i64 << k.failures.min(16)).min(RETRY_MAX_MS);
                k.retry_at = now + delay;
            }
        }
    }

    /// Whether it is time to swap one chosen neighbour for a passive peer; the next time is
    /// set at random around [`ROTATE_MS`] from now.
    pub fn rotate_due(&mut self, now: i64) -> bool {
        let next = *self.next_rotation.get_or_insert_with(|| now + jitter(ROTATE_MS));
        if now < next {
            return false;
        }
        self.next_rotation = Some(now + jitter(ROTATE_MS));
        true
    }
}

impl Neighbours {
    /// Whether it is time for a shuffle; the next one is set at random around
    /// [`SHUFFLE_MS`] from now.
    pub fn shuffle_due(&mut self, now: i64) -> bool {
        let next = *self.next_shuffle.get_or_insert_with(|| now + jitter(SHUFFLE_MS));
        if now < next {
            return false;
        }
        self.next_shuffle = Some(now + jitter(SHUFFLE_MS));
        true
    }

    /// Up to `n` random peers of `festival` whose key and address are known, not `to` (the
    /// neighbour they are for).
    pub fn sample(&self, festival: &FestivalId, to: Author, n: usize) -> Vec<(Author, String)> {
        let mut rng = rand::rng();
        let others = self
            .known
            .iter()
            .filter(|(_, k)| !k.myself && k.festivals.as_ref().is_none_or(|fs| fs.contains(festival)))
            .filter_map(|(url, k)| k.key.filter(|key| *key != to).map(|key| (key, url.clone())));
        others.sample(&mut rng, n)
    }
}

/// Whether `address` (a URL, or a socket address as a connection's label) is on this
/// machine's loopback. A node listening on 127.0.0.1 (the default) names itself with that
/// address, which means something else on any other machine: such an address is told to and
/// learnt from peers on the loopback only.
pub fn is_loopback(address: &str) -> bool {
    let with_scheme = if address.contains("://") { address.to_string() } else { format!("ws://{address}") };
    let Ok(uri) = with_scheme.parse::<http::Uri>() else { return false };
    let host = uri.host().unwrap_or_default().trim_start_matches('[').trim_end_matches(']');
    host.eq_ignore_ascii_case("localhost") || host.parse::<std::net::IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

fn jitter(ms: i64) -> i64 {
    (ms as f64 * (0.75 + 0.5 * rand::random::<f64>())) as i64
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(n: u8) -> Author {
        Author([n; 32])
    }

    #[test]
    fn the_bound_grows_with_the_log_of_the_festival() {
        let totals: Vec<(usize, usize, usize)> = [2, 10, 30, 100, 200, 1000, 1_000_000]
            .iter()
            .map(|n| Bound::for_size(*n))
            .map(|b| (b.outgoing, b.incoming, b.total()))
            .collect();
        assert_eq!(totals, vec![(2, 2, 4), (2, 2, 4), (2, 3, 5), (3, 3, 6), (3, 4, 7), (4, 4, 8), (6, 6, 12)]);
    }

    fn fest(n: u8) -> FestivalId {
        model::Id(bamboo::Hash([n; 64]))
    }

    #[test]
    fn dials_pinned_peers_first_then_at_random_and_never_too_many() {
        let mut n = Neighbours::default();
        n.set_address("ws://me/sync".into());
        n.learn("ws://me/sync", None, None, true);
        for i in 0..10 {
            n.learn(&format!("ws://p{i}/sync"), Some(key(i)), Some(fest(1)), false);
        }
        n.learn("ws://pinned/sync", None, Some(fest(1)), true);
        n.learn("ws://elsewhere/sync", None, Some(fest(2)), true);
        let bound = Bound { outgoing: 3, incoming: 3 };
        let connected = BTreeSet::from([key(0), key(1)]);
        let first = n.due(0, bound, &[(fest(1), 0, 0)], &connected);
        assert_eq!(first.len(), 3);
        assert_eq!(first[0], "ws://pinned/sync");
        assert!(!first.contains(&"ws://me/sync".to_string()), "never itself");
        assert!(!first.contains(&"ws://elsewhere/sync".to_string()), "only peers of the festival");
        assert!(!first.contains(&"ws://p0/sync".to_string()) && !first.contains(&"ws://p1/sync".to_string()));
        assert!(n.due(0, bound, &[(fest(1), 0, 0)], &connected).is_empty(), "three dials are under way");
        assert!(n.due(0, bound, &[(fest(1), 3, 3)], &connected).is_empty(), "it chose enough");
        assert!(n.due(0, bound, &[(fest(1), 5, 0)], &connected).is_empty(), "one place stays free");
        // One fails: it waits, another is dialed instead.
        n.ended(&first[1], None, Ended::Failed, 0);
        let next = n.due(0, bound, &[(fest(1), 0, 0)], &connected);
        assert_eq!(next.len(), 1);
        assert_ne!(next[0], first[1]);
        n.ended(&next[0], None, Ended::Myself, 0);
        let later = n.due(100_000, bound, &[(fest(1), 0, 0)], &connected);
        assert!(!later.contains(&next[0]), "never an address that was itself");
        // Another festival's peers are dialed for it.
        assert_eq!(n.due(0, bound, &[(fest(2), 0, 0)], &connected), vec!["ws://elsewhere/sync".to_string()]);
    }

    #[test]
    fn the_passive_view_is_bounded_but_keeps_pinned_peers() {
        let mut n = Neighbours::default();
        n.learn("ws://pinned/sync", None, None, true);
        for i in 0..(PASSIVE_MAX + 40) {
            n.learn(&format!("ws://p{i}/sync"), None, None, false);
        }
        assert_eq!(n.known(), PASSIVE_MAX + 1);
        assert!(n.known.contains_key("ws://pinned/sync"));
    }

    #[test]
    fn loopback_addresses_are_recognised() {
        for a in ["ws://127.0.0.1:7878/sync", "127.0.0.1:51234", "[::1]:7878", "ws://localhost:7878/sync"] {
            assert!(is_loopback(a), "{a}");
        }
        for a in ["ws://10.0.0.2:7878/sync", "192.168.1.4:5555", "wss://camp.example.org/sync", "", "::"] {
            assert!(!is_loopback(a), "{a}");
        }
    }

    #[test]
    fn rotation_comes_about_once_a_minute() {
        let mut n = Neighbours::default();
        assert!(!n.rotate_due(0));
        assert!(!n.rotate_due(ROTATE_MS * 3 / 4 - 1));
        assert!(n.rotate_due(ROTATE_MS * 5 / 4 + 1));
        assert!(!n.rotate_due(ROTATE_MS * 5 / 4 + 2));
    }
}
