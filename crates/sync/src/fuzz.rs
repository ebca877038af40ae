//! The checks the fuzz targets run, shared with the regression test that replays every
//! kept input on stable Rust. Not part of the API.

use std::sync::OnceLock;

use crate::overlay::OverlayMessage;
use crate::session::{Output, Session, SessionConfig};
use crate::store::MemoryStore;
use crate::wire::{Limits, LogHeight, Message};
use crate::writer::Writer;
use crate::{FestivalId, SyncStore};

/// Decodes arbitrary bytes as a sync message; whatever decodes must re-encode to a message
/// that decodes to the same value. Panics on a broken invariant.
pub fn decode_message(data: &[u8]) {
    let limits = Limits::default();
    if let Ok(message) = Message::decode(data, &limits) {
        let again = Message::decode(&message.encode(), &limits);
        assert_eq!(again.as_ref(), Ok(&message), "a decoded message survives re-encoding");
    }
}

/// The same for a standalone overlay message.
pub fn decode_overlay(data: &[u8]) {
    if let Ok(message) = OverlayMessage::decode(data, 64 * 1024) {
        let again = OverlayMessage::decode(&message.encode(), usize::MAX);
        assert_eq!(again.as_ref(), Ok(&message), "a decoded overlay message survives re-encoding");
    }
}

/// A session that finished its handshake and catch-up with an honest peer, its store,
/// every message that peer sent, and valid messages the peer could send next (seeds for
/// the fuzzer). Built once: signing per input would slow the fuzzer down.
pub struct Ready {
    pub session: Session,
    pub store: MemoryStore,
    pub festival: FestivalId,
    pub peer_messages: Vec<Vec<u8>>,
    pub next_messages: Vec<Vec<u8>>,
}

pub fn ready() -> &'static Ready {
    static READY: OnceLock<Ready> = OnceLock::new();
    READY.get_or_init(|| {
        let mut founder = Writer::new([1; 32]);
        let (festival, create) = founder.create_festival("Fuzz", None);
        let mut stores = [MemoryStore::trusting(), MemoryStore::trusting()];
        stores[0].insert(festival, &create.entry, &create.payload).expect("valid");
        for _ in 0..3 {
            let e = founder.post(festival);
            stores[0].insert(festival, &e.entry, &e.payload).expect("valid");
        }
        let mut other = Writer::new([2; 32]);
        for _ in 0..2 {
            let e = other.post(festival);
            stores[1].insert(festival, &e.entry, &e.payload).expect("valid");
        }
        let config = SessionConfig::new([festival]);
        let mut sessions = [
            Session::new(founder.keypair().clone(), config.clone(), [3; 32]),
            Session::new(other.keypair().clone(), config, [4; 32]),
        ];
        let mut peer_messages = Vec::new();
        loop {
            let mut moved = false;
            for side in 0..2 {
                while let Some(output) = sessions[side].poll(&stores[side]) {
                    moved = true;
                    match output {
                        Output::Send(bytes) => {
                            if side == 0 {
                                peer_messages.push(bytes.clone());
                            }
                            sessions[1 - side].receive(&bytes).expect("honest peers agree");
                        }
                        Output::Entries { festival, batch, entries } => {
                            store(&mut stores[side], &mut sessions[side], festival, batch, entries);
                        }
                        _ => {}
                    }
                }
            }
            if !moved {
                break;
            }
        }
        let batches = peer_messages
            .iter()
            .filter(|m| matches!(Message::decode(m, &Limits::default()), Ok(Message::Entries { .. })))
            .count() as u64;
        let next = founder.post(festival);
        // The founder's log now reaches 5: the creation, three posts and `next`.
        let height = LogHeight { author: founder.author(), log_id: 0, seq: 5 };
        // How the founder names the festival to the other side on this session.
        let token = crate::Token::new(&festival, &founder.author(), &[3; 32], &other.author(), &[4; 32]);
        let next_messages = [
            Message::Entries { batch: batches, festival: token, entries: vec![next] },
            Message::Have { festival: token, heights: vec![height], done: true },
            Message::Credit { batches: 1 },
            Message::Overlay {
                festival: token,
                message: OverlayMessage::Introduce { peer: crate::Peer::new(founder.author(), "") },
            },
            Message::Close { code: crate::CloseCode::Normal, reason: "bye".into() },
        ]
        .iter()
        .map(Message::encode)
        .collect();
        let [_, store] = stores;
        let [_, session] = sessions;
        Ready { session, store, festival, peer_messages, next_messages }
    })
}

fn store(
    store: &mut MemoryStore,
    session: &mut Session,
    festival: FestivalId,
    batch: crate::BatchId,
    entries: Vec<crate::ReceivedEntry>,
) -> bool {
    let items: Vec<(&[u8], &[u8])> = entries.iter().map(|e| (&e.bytes[..], &e.payload[..])).collect();
    match store.insert_batch(festival, &items) {
        Ok(_) => {
            session.stored(batch).expect("a batch handed out");
            let heights: Vec<LogHeight> = entries
                .iter()
                .map(|e| LogHeight { author: e.entry.author, log_id: e.entry.log_id, seq: e.entry.seq_num })
                .collect();
            session.notify_heights(&festival, &heights);
            true
        }
        Err(e) => {
            session.rejected(batch, &e.to_string());
            false
        }
    }
}

/// Feeds arbitrary messages (each prefixed by its length, two bytes big-endian) to a session
/// that is live with an honest peer, acting on its outputs as a node does. Panics if the
/// session breaks an invariant: it must never panic, must stay closed after an error, and
/// must never hand out entries outside its festival or beyond its window.
pub fn session_receive(data: &[u8]) {
    let ready = ready();
    let mut session = ready.session.clone();
    let mut store = ready.store.clone();
    let mut rest = data;
    // The clock runs 400 ms a frame, so that lazy push's waits end and its grafts go out.
    let mut now = 0;
    while let [hi, lo, tail @ ..] = rest {
        let len = (u16::from_be_bytes([*hi, *lo]) as usize).min(tail.len());
        let (frame, tail) = tail.split_at(len);
        rest = tail;
        now += 400;
        session.tick(now);
        if session.receive(frame).is_err() {
            assert!(session.is_closed());
            let outputs: Vec<Output> = std::iter::from_fn(|| session.poll(&store)).collect();
            assert!(outputs.len() <= 1 && outputs.iter().all(|o| matches!(o, Output::Send(_))));
            assert!(session.receive(frame).is_err(), "a closed session stays closed");
            return;
        }
        while let Some(output) = session.poll(&store) {
            if let Output::Entries { festival, batch, entries } = output {
                assert_eq!(festival, ready.festival, "only the shared festival");
                assert!(session.in_flight() <= Limits::default().window as usize);
                if !self::store(&mut store, &mut session, festival, batch, entries) {
                    return;
                }
            }
        }
        assert!(store.heights(&ready.festival).len() == store.logs().count(), "nothing outside the festival");
    }
}
