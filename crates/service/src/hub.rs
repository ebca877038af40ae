//! The sync sessions of a single-threaded node (the browser peer): each connection's
//! [`sync::Session`], received entries verified and stored at once, introductions of
//! peers to each other (Spray's join), and WebRTC signalling relayed one hop.
//!
//! The host moves bytes: [`Hub::receive`] for each message of a connection, then
//! [`Hub::poll`] and act on every [`HubEvent`]. The native node runs the same protocol with
//! one task per connection (`crates/net`).

use std::collections::{BTreeMap, BTreeSet, VecDeque};

use bamboo::Author;
use model::Id;
use serde::Serialize;
use sync::{FestivalId, Output, OverlayMessage, Peer, Session, SessionConfig, SyncStore};

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
    /// The session is over: close the connection.
    Closed { reason: String },
}

#[derive(Serialize, Clone, Copy, Debug, PartialEq, Eq)]
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
    sent: u64,
    peer: Option<Author>,
    events: VecDeque<HubEvent>,
    announced: u64,
    received: u64,
    closed: Option<String>,
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
}

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
    /// Opens a session for a new connection; its first message is ready in [`Hub::poll`].
    pub fn open(&mut self, node: &Node, label: &str, direction: Direction) -> u32 {
        self.next += 1;
        let session =
            Session::new(node.store.keypair().clone(), SessionConfig::new(wanted(node, None)), rand::random());
        self.slots.insert(
            self.next,
            Slot {
                session,
                label: label.to_string(),
                direction,
                sent: 0,
                peer: None,
                events: VecDeque::new(),
                announced: 0,
                received: 0,
                closed: None,
            },
        );
        self.next
    }

    /// A message from the connection's peer. Problems end the session (see [`HubEvent::Closed`]).
    pub fn receive(&mut self, node: &mut Node, id: u32, bytes: &[u8]) {
        let Some(slot) = self.slots.get_mut(&id) else { return };
        if let Err(e) = slot.session.receive(bytes) {
            slot.closed.get_or_insert(e.to_string());
        }
        self.run(node, id);
    }

    /// Everything the host must do now for connection `id`.
    pub fn poll(&mut self, node: &mut Node, id: u32) -> Vec<HubEvent> {
        self.run(node, id);
        let Some(slot) = self.slots.get_mut(&id) else { return Vec::new() };
        let mut events: Vec<HubEvent> = slot.events.drain(..).collect();
        if let Some(reason) = slot.closed.clone()
            && slot.session.is_closed()
            && !events.iter().any(|e| matches!(e, HubEvent::Closed { .. }))
        {
            events.push(HubEvent::Closed { reason });
            // Reported once; the slot stays for the status until the host closes it.
            slot.closed = Some(String::new());
        }
        events.retain(|e| !matches!(e, HubEvent::Closed { reason } if reason.is_empty()));
        events
    }

    /// Sends WebRTC signalling to `to` through the peer of connection `id`.
    pub fn signal(&mut self, node: &Node, id: u32, to: Author, data: String) -> Result<(), String> {
        let from = node.store.keypair().author();
        let slot = self.slots.get_mut(&id).ok_or("no such connection")?;
        let festival =
            slot.session.shared_festivals().next().copied().ok_or("the connection shares no festival yet")?;
        slot.session.send_overlay(festival, OverlayMessage::Signal { to, from, data }).map_err(|e| e.to_string())
    }

    /// Ends connection `id`.
    pub fn close(&mut self, id: u32, reason: &str) {
        if let Some(slot) = self.slots.get_mut(&id) {
            slot.session.close(reason);
            slot.closed.get_or_insert(reason.to_string());
        }
    }

    /// Forgets a closed connection; its peer may be introduced again by a later session.
    pub fn remove(&mut self, id: u32) {
        if let Some(peer) = self.slots.remove(&id).and_then(|s| s.peer) {
            self.introduced.forget(peer);
        }
    }

    /// The store gained entries (a local write): every session pushes the new heights and
    /// learns of newly wanted festivals.
    pub fn notify_all(&mut self, node: &Node) {
        let wanted = wanted(node, None);
        for slot in self.slots.values_mut() {
            slot.session.add_festivals(&wanted);
            let shared: Vec<FestivalId> = slot.session.shared_festivals().copied().collect();
            for f in shared {
                slot.session.notify_heights(&f, &SyncStore::heights(&node.store, &f));
            }
        }
    }

    pub fn ids(&self) -> Vec<u32> {
        self.slots.keys().copied().collect()
    }

    pub fn status(&self) -> Vec<PeerStatus> {
        self.slots
            .values()
            .map(|s| PeerStatus {
                address: s.label.clone(),
                key: s.peer.map(|k| k.to_hex()),
                direction: s.direction,
                sent: s.sent,
                connected: !s.session.is_closed(),
                festivals: s.session.shared_festivals().map(|f| f.to_hex()).collect(),
                behind: s.announced.saturating_sub(s.received),
                live: s.session.heard_festivals() && s.session.shared_festivals().all(|f| s.session.is_live(f)),
                received: s.received,
                error: s.closed.clone().filter(|r| !r.is_empty()),
            })
            .collect()
    }

    /// Drains session `id`'s outputs: stores received batches, relays signalling,
    /// introduces peers; repeats until the session has nothing more to say.
    fn run(&mut self, node: &mut Node, id: u32) {
        let mut stored_any = false;
        loop {
            let Some(slot) = self.slots.get_mut(&id) else { return };
            let Some(output) = slot.session.poll(&node.store) else { break };
            match output {
                Output::Send(bytes) => {
                    slot.sent += 1;
                    slot.events.push_back(HubEvent::Send(bytes));
                }
                Output::Ready { peer } => {
                    slot.peer = Some(peer);
                    slot.events.push_back(HubEvent::Ready { peer });
                }
                Output::Plan { entries, .. } => slot.announced += entries,
                Output::Started { festival } => self.introduce_around(id, festival),
                Output::Live { .. } => {}
                Output::Entries { batch, entries, .. } => {
                    slot.received += entries.len() as u64;
                    let items = entries.into_iter().map(|e| (e.bytes, e.payload)).collect();
                    match store_batch(node, items) {
                        Ok(new) => {
                            stored_any |= new > 0;
                            if let Err(e) = slot.session.stored(batch) {
                                slot.closed.get_or_insert(e.to_string());
                            }
                        }
                        Err(reason) => {
                            let e = slot.session.rejected(batch, &reason);
                            slot.closed.get_or_insert(e.to_string());
                        }
                    }
                }
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

    fn on_overlay(&mut self, node: &Node, id: u32, festival: FestivalId, message: OverlayMessage) {
        let me = node.store.keypair().author();
        let Some(from_peer) = self.slots.get(&id).and_then(|s| s.peer) else { return };
        match message {
            OverlayMessage::Introduce { peer } if peer.key != me => {
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

    /// Connection `id` now syncs `festival`: bridge its peer and the other peers of that
    /// festival to each other.
    fn introduce_around(&mut self, id: u32, festival: FestivalId) {
        let Some(newcomer) = self.slots.get(&id).and_then(|s| s.peer) else { return };
        let others: Vec<(u32, Author)> = self
            .slots
            .iter()
            .filter(|(o, s)| {
                **o != id && !s.session.is_closed() && s.session.shared_festivals().any(|f| *f == festival)
            })
            .filter_map(|(o, s)| s.peer.map(|p| (*o, p)))
            .collect();
        let due = self.introduced.due(newcomer, others.iter().map(|(_, k)| *k));
        for (other, key) in others.into_iter().filter(|(_, k)| due.contains(k)) {
            if let Some(s) = self.slots.get_mut(&id) {
                let _ = s.session.send_overlay(festival, OverlayMessage::Introduce { peer: Peer::new(key, "") });
            }
            if let Some(s) = self.slots.get_mut(&other) {
                let _ = s.session.send_overlay(festival, OverlayMessage::Introduce { peer: Peer::new(newcomer, "") });
            }
        }
    }
}

/// Verifies a batch and stores it all or nothing, then lets the policy agent decide.
pub fn store_batch(node: &mut Node, items: Vec<(Vec<u8>, Vec<u8>)>) -> Result<u64, String> {
    let mut verified = Vec::with_capacity(items.len());
    for (i, v) in store::verify_entries(items).into_iter().enumerate() {
        verified.push(v.map_err(|e| format!("entry {i} of the batch: {e}"))?);
    }
    let report = node.store.ingest(verified).map_err(|e| e.to_string())?;
    if !report.stored.is_empty() {
        let _ = node.run_agent();
    }
    Ok(report.stored.len() as u64)
}
