//! Sessions between in-process nodes wired by in-memory queues, with real Bamboo logs of
//! model operations, verified and stored by each node.

mod support;

use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};
use support::{Net, Seen, height_of};
use sync::wire::auth_message;
use sync::writer::Writer;
use sync::{CloseCode, Hello, Limits, Message, Session, SessionConfig, SyncError, WireEntry};

fn close_code_sent(net: &Net, link: usize, side: usize) -> Option<CloseCode> {
    net.messages(link, side).into_iter().find_map(|m| match m {
        Message::Close { code, .. } => Some(code),
        _ => None,
    })
}

// Scenario: two peers hold different logs of one festival (the creator's log, and a few
// people's logs of random lengths on each side).
// Assert: after one session both hold exactly the same logs, and each side announced what
// it would send before sending it.
#[test]
fn two_peers_with_disjoint_logs_converge() {
    let mut rng = StdRng::seed_from_u64(1);
    let mut net = Net::new(1);
    let a = net.node(1, &[]);
    let fest = net.create_festival(a, "Fusion", None);
    let b = net.node(2, &[fest]);
    let mut extra = 0;
    for (node, people) in [(a, 10..13), (b, 20..24)] {
        for p in people {
            let mut w = Writer::seeded(p);
            let n = rng.random_range(1..40);
            let entries: Vec<WireEntry> = (0..n).map(|_| w.post(fest)).collect();
            net.give(node, fest, &entries);
            extra += n;
        }
    }
    net.write(a, fest, 5);
    let before = (net.nodes[a].store.len(), net.nodes[b].store.len());
    let link = net.connect(a, b);
    net.run();

    assert_eq!(net.inventory(a), net.inventory(b));
    let total = net.nodes[a].store.len();
    assert_eq!(total, 1 + 5 + extra);
    for (side, held_before) in [before.0, before.1].into_iter().enumerate() {
        let plan = net.links[link].seen[side].iter().find_map(|s| match s {
            Seen::Plan { entries, .. } => Some(*entries),
            _ => None,
        });
        assert_eq!(plan, Some((total - held_before) as u64), "side {side} was told what it lacked");
        assert!(net.links[link].seen[side].contains(&Seen::Live(fest)));
    }
    assert!(net.links[link].errors.iter().all(Option::is_none));
}

// Scenario: three peers in a line, A - B - C, each with its own logs; A and C never talk.
// Assert: all three end with the same logs; what B received from A reached C through B.
#[test]
fn three_peers_in_a_line_converge() {
    let mut rng = StdRng::seed_from_u64(2);
    let mut net = Net::new(2);
    let a = net.node(1, &[]);
    let fest = net.create_festival(a, "Fusion", None);
    let b = net.node(2, &[fest]);
    let c = net.node(3, &[fest]);
    for node in [a, b, c] {
        let n = rng.random_range(1..30);
        net.write(node, fest, n);
    }
    net.connect(a, b);
    net.connect(b, c);
    net.run();
    assert_eq!(net.inventory(a), net.inventory(b));
    assert_eq!(net.inventory(b), net.inventory(c));
    assert_eq!(net.inventory(a).len(), 3, "the creator's log (A writes into it) and the logs of B and C");
}

// Scenario: two peers are synced and live; A appends one entry.
// Assert: B receives exactly that entry, in one batch, and no inventory is sent again.
#[test]
fn live_mode_pushes_a_new_entry() {
    let mut net = Net::new(3);
    let a = net.node(1, &[]);
    let fest = net.create_festival(a, "Fusion", None);
    let b = net.node(2, &[fest]);
    net.write(b, fest, 3);
    let link = net.connect(a, b);
    net.run();
    assert!(net.links[link].seen[1].contains(&Seen::Live(fest)));
    let sent_before = net.links[link].sent[0].len();

    let new = net.write(a, fest, 1);
    net.run();

    let after: Vec<Message> = net.messages(link, 0).split_off(sent_before);
    assert_eq!(after.len(), 1, "one message for one new entry: {after:?}");
    let Message::Entries { entries, .. } = &after[0] else { panic!("expected Entries, got {:?}", after[0]) };
    assert_eq!(entries, &new);
    assert_eq!(net.inventory(a), net.inventory(b));
}

// Scenario: B is empty; A holds five logs of 1000 entries each. B's limits are small
// (64 KiB messages, 50 entries a batch, a window of 2) and B stores one batch per round.
// Assert: B catches up completely; no message exceeds B's limit, no batch exceeds 50 entries,
// never more than 2 batches wait for storage at B, A never has more than 2 batches
// uncredited, and A's announced totals are exactly what arrived.
#[test]
fn a_peer_behind_by_thousands_catches_up_in_bounded_batches() {
    let mut net = Net::new(4);
    let a = net.node(1, &[]);
    let fest = net.create_festival(a, "Fusion", None);
    for p in 0..5 {
        let mut w = Writer::seeded(100 + p);
        let entries: Vec<WireEntry> = (0..1000).map(|_| w.post(fest)).collect();
        net.give(a, fest, &entries);
    }
    let b = net.node(2, &[fest]);
    let limits = Limits { max_message_bytes: 64 * 1024, max_batch_entries: 50, window: 2, ..Limits::default() };
    net.nodes[b].limits = limits;
    net.nodes[b].defer = true;
    let link = net.connect(a, b);

    let mut uncredited_max = 0;
    for _ in 0..10_000 {
        let moved = net.step();
        net.store_pending(b, 1);
        let msgs = net.messages(link, 0);
        let batches = msgs.iter().filter(|m| matches!(m, Message::Entries { .. })).count();
        let credits: u32 =
            net.messages(link, 1).iter().map(|m| if let Message::Credit { batches } = m { *batches } else { 0 }).sum();
        uncredited_max = uncredited_max.max(batches as i64 - credits as i64);
        if !moved && net.nodes[b].pending.is_empty() {
            break;
        }
    }

    assert_eq!(net.nodes[b].store.len(), 5001);
    assert_eq!(net.inventory(a), net.inventory(b));
    let largest = net.links[link].sent[0].iter().map(Vec::len).max().unwrap();
    assert!(largest <= 64 * 1024, "largest message {largest}");
    let seen = &net.links[link].seen[1];
    let batches: Vec<(usize, usize)> = seen
        .iter()
        .filter_map(|s| if let Seen::Entries { count, bytes, .. } = s { Some((*count, *bytes)) } else { None })
        .collect();
    assert!(batches.len() >= 5000 / 50, "{} batches", batches.len());
    assert!(batches.iter().all(|&(count, _)| count <= 50));
    // The first batches are an eighth, a quarter and a half of the peer's limit: it checks a
    // batch whole before storing any of it, so it stores sooner.
    assert_eq!(batches.iter().take(5).map(|b| b.0).collect::<Vec<_>>(), [6, 12, 25, 50, 50]);
    assert!(net.max_pending <= 2, "at most the window waits: {}", net.max_pending);
    assert!(uncredited_max <= 2, "at most the window is uncredited: {uncredited_max}");
    let total_bytes: usize = batches.iter().map(|b| b.1).sum();
    assert!(seen.contains(&Seen::Plan { festival: fest, entries: 5001, bytes: total_bytes as u64 }));
}

// Scenario: a festival P with a sub-festival C, and an unrelated festival U. A joined C
// (so it wants C and its ancestor P) and U; B joined only P. Both hold logs of what they
// joined.
// Assert: B receives P's logs and nothing of C or U; A receives B's logs of P; every batch
// either side received is of a festival both want.
#[test]
fn festival_boundaries_hold() {
    let mut net = Net::new(5);
    let a = net.node(1, &[]);
    let p = net.create_festival(a, "Parent", None);
    let c = net.create_festival(a, "Child", Some(p));
    let u = net.create_festival(a, "Unrelated", None);
    for f in [p, c, u] {
        net.write(a, f, 4);
    }
    let b = net.node(2, &[p]);
    net.write(b, p, 3);
    let link = net.connect(a, b);
    net.run();

    let held_by_b: Vec<_> = net.inventory(b).into_iter().map(|(f, _)| f).collect();
    assert!(held_by_b.iter().all(|f| *f == p), "B holds only P's logs");
    assert_eq!(held_by_b.len(), 2, "P's creation log (A writes into it) and B's log of P");
    assert!(net.inventory(a).iter().any(|(f, h)| *f == p && h.author == net.nodes[b].writer.author()));
    for side in 0..2 {
        for s in &net.links[link].seen[side] {
            if let Seen::Entries { festival, .. } | Seen::Started(festival) = s {
                assert_eq!(*festival, p);
            }
        }
    }
}

// Scenario: A holds festivals P and U. An anonymous peer B (a fresh key, no festival)
// connects, and a peer C that was given only U.
// Assert: nothing A sends B carries P's or U's id, and no festival starts; C starts U only,
// and nothing A sends C carries P's id.
#[test]
fn a_peer_learns_only_the_festivals_it_can_name() {
    let mut net = Net::new(31);
    let a = net.node(1, &[]);
    let p = net.create_festival(a, "Private", None);
    let u = net.create_festival(a, "Open", None);
    net.write(a, p, 3);
    net.write(a, u, 3);
    let b = net.node(2, &[]);
    let c = net.node(3, &[u]);
    let to_b = net.connect(a, b);
    let to_c = net.connect(a, c);
    net.run();
    let carries = |bytes: &[u8], f: &sync::FestivalId| bytes.windows(64).any(|w| w == f.0.0);
    assert!(net.links[to_b].sent[0].iter().all(|m| !carries(m, &p) && !carries(m, &u)));
    assert!(net.links[to_b].seen.iter().all(|seen| seen.iter().all(|s| !matches!(s, Seen::Started(_)))));
    assert!(net.links[to_c].sent[0].iter().all(|m| !carries(m, &p)));
    assert!(net.links[to_c].seen[1].contains(&Seen::Live(u)));
    assert!(!net.links[to_c].seen[1].contains(&Seen::Started(p)));
    assert!(net.inventory(c).iter().all(|(f, _)| *f == u));
}

// Scenario: an attacker that holds no festival sends A's own festival tokens back to it,
// then a message naming one of them.
// Assert: nothing is shared; the message ends the session with a boundary error.
#[test]
fn echoed_tokens_share_nothing() {
    let mut writer = Writer::seeded(1);
    let (p, create) = writer.create_festival("Private", None);
    let mut store = sync::MemoryStore::new();
    store.insert(p, &create.entry, &create.payload).unwrap();
    let empty = sync::MemoryStore::new();
    let mut a = Session::new(writer.keypair().clone(), SessionConfig::new([p]), [1; 32]);
    let mut m = Session::new(Writer::seeded(2).keypair().clone(), SessionConfig::new([]), [2; 32]);
    let mut from_a = Vec::new();
    for _ in 0..4 {
        while let Some(sync::Output::Send(bytes)) = a.poll(&store) {
            from_a.push(bytes.clone());
            m.receive(&bytes).unwrap();
        }
        while let Some(sync::Output::Send(bytes)) = m.poll(&empty) {
            a.receive(&bytes).unwrap();
        }
    }
    let tokens: Vec<sync::Token> = from_a
        .iter()
        .filter_map(|b| match Message::decode(b, &Limits::default()) {
            Ok(Message::Festivals { tokens, .. }) => Some(tokens),
            _ => None,
        })
        .flatten()
        .collect();
    assert_eq!(tokens.len(), 1);
    a.receive(&Message::Festivals { tokens: tokens.clone(), done: true }.encode()).unwrap();
    assert_eq!(a.shared_festivals().count(), 0);
    let have = Message::Have { festival: tokens[0], heights: vec![], done: true };
    assert!(matches!(a.receive(&have.encode()), Err(SyncError::NotShared { .. })));
}

// Scenario: two peers share 300 festivals, more than a Festivals message may name (256).
// Assert: the announcements are split, and every festival goes live.
#[test]
fn more_festivals_than_one_announcement_holds_all_sync() {
    let mut net = Net::new(32);
    let a = net.node(1, &[]);
    let festivals: Vec<_> = (0..300).map(|i| net.create_festival(a, &format!("F{i}"), None)).collect();
    let b = net.node(2, &festivals);
    let link = net.connect(a, b);
    net.run();
    assert!(net.links[link].errors.iter().all(Option::is_none), "{:?}", net.links[link].errors);
    for f in &festivals {
        assert!(net.links[link].seen[1].contains(&Seen::Live(*f)));
    }
    assert_eq!(net.inventory(a), net.inventory(b));
}

// Scenario: a peer claims another peer's key in its Hello but can only sign with its own.
// Assert: the session ends with an authentication error and a Close with code Auth.
#[test]
fn a_bad_handshake_proof_ends_the_session() {
    let victim_key = Writer::seeded(1);
    let mut victim = Session::new(victim_key.keypair().clone(), SessionConfig::new([]), [7; 32]);
    let store = sync::MemoryStore::new();
    let Some(sync::Output::Send(hello)) = victim.poll(&store) else { panic!("Hello first") };
    let Message::Hello(victim_hello) = Message::decode(&hello, &Limits::default()).unwrap() else { panic!() };

    let impersonated = Writer::seeded(2).author();
    let attacker = Writer::seeded(3);
    let hello = Hello { minor: 0, key: impersonated, nonce: [9; 32], limits: Limits::default() };
    victim.receive(&Message::Hello(hello).encode()).unwrap();
    let forged = attacker.keypair().sign(&auth_message(&victim_hello.nonce, &impersonated, &victim_key.author()));
    let err = victim.receive(&Message::Auth { signature: forged.0 }.encode()).unwrap_err();

    assert_eq!(err, SyncError::AuthFailed(impersonated));
    assert!(victim.is_closed() && victim.peer().is_none());
    let outputs: Vec<_> = std::iter::from_fn(|| victim.poll(&store)).collect();
    let Some(sync::Output::Send(last)) = outputs.last() else { panic!("a Close to send") };
    assert!(matches!(Message::decode(last, &Limits::default()), Ok(Message::Close { code: CloseCode::Auth, .. })));
}

// Scenario: a peer's Hello carries wire version 3.
// Assert: refused with an error naming both versions; the Close (code Version) reaches the
// other peer, whose session ends too.
#[test]
fn another_major_version_is_refused() {
    let mut net = Net::new(6);
    let a = net.node(1, &[]);
    let b = net.node(2, &[]);
    let link = net.connect(a, b);
    net.links[link].tamper[1] = Some(Box::new(|mut bytes: Vec<u8>| {
        // [major, type, ...]: the major version is the byte after the array head.
        if bytes[2] == 0x00 {
            bytes[1] = 0x03;
        }
        bytes
    }));
    net.run();
    assert_eq!(net.links[link].errors[0], Some(SyncError::IncompatibleVersion { ours: 2, theirs: 3 }));
    assert_eq!(close_code_sent(&net, link, 0), Some(CloseCode::Version));
    assert!(matches!(net.links[link].errors[1], Some(SyncError::PeerClosed { code: CloseCode::Version, .. })));
}

/// Two live peers of one festival, A holding a little; the link and the festival.
fn live_pair(seed: u64) -> (Net, usize, sync::FestivalId) {
    let mut net = Net::new(seed);
    let a = net.node(1, &[]);
    let fest = net.create_festival(a, "Fusion", None);
    let b = net.node(2, &[fest]);
    net.write(a, fest, 2);
    let link = net.connect(a, b);
    net.run();
    assert!(net.links[link].seen[1].contains(&Seen::Live(fest)));
    (net, link, fest)
}

// Scenario: after the handshake a peer sends bytes that are not CBOR.
// Assert: the session ends with a malformed-message error and a Close with code Malformed.
#[test]
fn a_malformed_message_ends_the_session() {
    let (mut net, link, _) = live_pair(7);
    net.links[link].inbox[1].push_back(vec![0x85, 0x01, 0x05, 0xff, 0x00]);
    net.run();
    assert!(matches!(net.links[link].errors[1], Some(SyncError::Wire(_))), "{:?}", net.links[link].errors[1]);
    assert_eq!(close_code_sent(&net, link, 1), Some(CloseCode::Malformed));
}

// Scenario: a peer sends a batch of one entry more than the limit allows, then, on a second
// session, a message larger than the 64 KiB limit.
// Assert: each ends the session with a limit error before anything is handed out.
#[test]
fn an_oversized_batch_ends_the_session() {
    let (mut net, link, fest) = live_pair(8);
    let mut w = Writer::seeded(50);
    let over = sync::Limits::default().max_batch_entries as usize + 1;
    let entries: Vec<WireEntry> = (0..over).map(|_| w.post(fest)).collect();
    let token = net.links[link].sessions[0].token_of(&fest).unwrap();
    let batch = Message::Entries { batch: 0, festival: token, entries };
    let bytes = batch.encode();
    net.links[link].inbox[1].push_back(bytes.clone());
    let stored_before = net.nodes[1].store.len();
    net.run();
    assert!(
        matches!(net.links[link].errors[1], Some(SyncError::Wire(sync::WireError::TooMany { count, .. })) if count == over),
        "{:?}",
        net.links[link].errors[1]
    );
    assert_eq!(close_code_sent(&net, link, 1), Some(CloseCode::Limit));
    assert_eq!(net.nodes[1].store.len(), stored_before);

    let (mut net, link, _) = live_pair(9);
    net.nodes[1].limits.max_message_bytes = 64 * 1024;
    let link2 = net.connect(0, 1);
    net.run();
    assert!(bytes.len() > 64 * 1024);
    net.links[link2].inbox[1].push_back(bytes);
    net.run();
    assert!(matches!(net.links[link2].errors[1], Some(SyncError::Wire(sync::WireError::TooLarge { .. }))));
    assert!(net.links[link].errors[1].is_none(), "other sessions go on");
}

// Scenario: the signature of the last entry of a batch is damaged on its way (the session
// cannot tell; the receiving node's verification can). A damaged first entry of a log is
// caught earlier: its hash, hence its festival, changes.
// Assert: the node reports the batch rejected, the session ends with code InvalidEntry, and
// nothing of that batch is stored, not even its valid entries.
#[test]
fn an_entry_whose_signature_fails_ends_the_session() {
    let mut net = Net::new(10);
    let a = net.node(1, &[]);
    let fest = net.create_festival(a, "Fusion", None);
    net.write(a, fest, 3);
    let b = net.node(2, &[fest]);
    let link = net.connect(a, b);
    net.links[link].tamper[0] = Some(Box::new(|bytes: Vec<u8>| match Message::decode(&bytes, &Limits::default()) {
        Ok(Message::Entries { batch, festival, mut entries }) => {
            let damaged = entries.last_mut().unwrap();
            let last = damaged.entry.len() - 1;
            damaged.entry[last] ^= 0x01;
            Message::Entries { batch, festival, entries }.encode()
        }
        _ => bytes,
    }));
    net.run();
    assert!(
        matches!(&net.links[link].errors[1], Some(SyncError::Rejected { batch: 0, reason }) if reason.contains("signature")),
        "{:?}",
        net.links[link].errors
    );
    assert_eq!(close_code_sent(&net, link, 1), Some(CloseCode::InvalidEntry));
    assert!(net.nodes[b].store.is_empty());
    assert!(matches!(net.links[link].errors[0], Some(SyncError::PeerClosed { code: CloseCode::InvalidEntry, .. })));
}

// Scenario: a peer sends, for the festival both want, the first entry of a log that
// belongs to another festival.
// Assert: the session ends with a boundary error; the entry is never handed to the node.
#[test]
fn entries_of_another_festival_end_the_session() {
    let (mut net, link, fest) = live_pair(11);
    let mut w = Writer::seeded(60);
    let (other, create) = w.create_festival("Elsewhere", None);
    assert_ne!(other, fest);
    let token = net.links[link].sessions[0].token_of(&fest).unwrap();
    let batch = Message::Entries { batch: net.next_batch(link, 1), festival: token, entries: vec![create] };
    net.links[link].inbox[1].push_back(batch.encode());
    let seen_before = net.links[link].seen[1].len();
    net.run();
    assert!(matches!(net.links[link].errors[1], Some(SyncError::WrongFestival { .. })));
    assert_eq!(close_code_sent(&net, link, 1), Some(CloseCode::Boundary));
    assert_eq!(net.links[link].seen[1].len(), seen_before, "nothing handed out");
    assert!(net.nodes[1].store.festival_of(&w.author(), 0).is_none());
}

// Scenario: a peer sends more batches than the receiver granted credit for (the default
// window, the receiver stores nothing meanwhile), and on another session a batch that skips
// entries.
// Assert: the batch beyond the window ends the session; the gap ends the other.
#[test]
fn batches_beyond_credit_or_out_of_log_order_end_the_session() {
    let window = Limits::default().window;
    let (mut net, link, fest) = live_pair(12);
    net.nodes[1].defer = true;
    let mut w = Writer::seeded(70);
    let entries: Vec<WireEntry> = (0..=window).map(|_| w.post(fest)).collect();
    let first = net.next_batch(link, 1);
    let token = net.links[link].sessions[0].token_of(&fest).unwrap();
    for (i, e) in entries.iter().enumerate() {
        let batch = Message::Entries { batch: first + i as u64, festival: token, entries: vec![e.clone()] };
        net.links[link].inbox[1].push_back(batch.encode());
    }
    net.run();
    assert_eq!(net.links[link].errors[1], Some(SyncError::CreditExceeded { window }));
    assert_eq!(net.links[link].sessions[1].in_flight(), window as usize);

    let (mut net, link, fest) = live_pair(13);
    let token = net.links[link].sessions[0].token_of(&fest).unwrap();
    let batch = Message::Entries { batch: net.next_batch(link, 1), festival: token, entries: vec![entries[2].clone()] };
    net.links[link].inbox[1].push_back(batch.encode());
    net.run();
    assert!(matches!(net.links[link].errors[1], Some(SyncError::NotInLogOrder { expected: 1, got: 3, .. })));
}

// Scenario: two live peers with several logs; A appends entries to one log, three times.
// Assert: pushes send only the new entries (no heights at all after the catch-up); the same
// in a triangle of three peers writing many entries.
#[test]
fn unchanged_heights_are_not_resent() {
    let mut net = Net::new(14);
    let a = net.node(1, &[]);
    let fest = net.create_festival(a, "Fusion", None);
    let b = net.node(2, &[fest]);
    for p in 0..6 {
        let mut w = Writer::seeded(200 + p);
        let entries: Vec<WireEntry> = (0..3).map(|_| w.post(fest)).collect();
        net.give(if p % 2 == 0 { a } else { b }, fest, &entries);
    }
    let link = net.connect(a, b);
    net.run();
    let haves = |net: &Net, side| net.messages(link, side).iter().filter(|m| matches!(m, Message::Have { .. })).count();
    let before = (haves(&net, 0), haves(&net, 1));
    for _ in 0..3 {
        net.write(a, fest, 1);
        net.run();
    }
    assert_eq!((haves(&net, 0), haves(&net, 1)), before);
    assert_eq!(net.inventory(a), net.inventory(b));

    // Three peers in a triangle writing many entries: no height is announced after the
    // inventories, and all converge.
    let mut net = Net::new(15);
    let a = net.node(1, &[]);
    let fest = net.create_festival(a, "Fusion", None);
    let b = net.node(2, &[fest]);
    let c = net.node(3, &[fest]);
    let links = [net.connect(a, b), net.connect(b, c), net.connect(a, c)];
    net.run();
    let mut rng = StdRng::seed_from_u64(15);
    for _ in 0..40 {
        let node = rng.random_range(0..3);
        net.write(node, fest, 1);
        net.run();
    }
    for link in links {
        for side in 0..2 {
            let mut inventory_done = false;
            for m in net.messages(link, side) {
                let Message::Have { done, .. } = m else { continue };
                assert!(!inventory_done, "a Have after the inventory on link {link}");
                inventory_done |= done;
            }
        }
    }
    assert_eq!(net.inventory(a), net.inventory(b));
    assert_eq!(net.inventory(b), net.inventory(c));
}

// Scenario: during a session, both peers join a second festival.
// Assert: it starts syncing without a new connection.
#[test]
fn festivals_added_during_a_session_start_syncing() {
    let (mut net, link, _) = live_pair(17);
    let mut w = Writer::seeded(80);
    let (second, create) = w.create_festival("Second", None);
    net.give(0, second, &[create]);
    net.write(0, second, 3);
    net.links[link].sessions[0].add_festivals([second]);
    net.run();
    assert!(!net.links[link].seen[1].contains(&Seen::Started(second)), "only A wants it yet");
    net.links[link].sessions[1].add_festivals([second]);
    net.run();
    assert!(net.links[link].seen[1].contains(&Seen::Live(second)));
    assert_eq!(net.inventory(0), net.inventory(1));
}

// Scenario: a node connects to itself.
// Assert: refused.
#[test]
fn a_connection_to_oneself_is_refused() {
    let mut net = Net::new(18);
    let a = net.node(1, &[]);
    let link = net.connect(a, a);
    net.run();
    assert_eq!(net.links[link].errors[0], Some(SyncError::SelfConnection));
}

// Scenario: the peer's first log entry names the festival (no creation log), and the entry
// whose payload is not an operation at all.
// Assert: the session reads the festival of a log as the materialiser does (one rule, `model::op::log_festival`).
#[test]
fn the_festival_rule_agrees_with_the_model() {
    let mut w = Writer::seeded(90);
    let (fest, create) = w.create_festival("Fusion", None);
    let joined = Writer::seeded(91).post(fest);
    let mut other = bamboo::LogWriter::new(bamboo::Keypair::from_secret([3; 32]), 9);
    let junk = other.append(b"not an operation");
    for (e, payload) in [
        (&create.entry, &create.payload),
        (&joined.entry, &joined.payload),
        (&junk.bytes, &b"not an operation".to_vec()),
    ] {
        let entry = bamboo::Entry::decode(e).unwrap();
        let hash = bamboo::Hash::of(e);
        let mut state = model::State::new();
        state.apply(model::LogEntry {
            hash: model::Id(hash),
            author: model::Key(entry.author),
            log_id: entry.log_id,
            seq: 1,
            payload: payload.clone(),
        });
        let by_model = state.log(&model::Key(entry.author), entry.log_id).and_then(|p| p.festival);
        if entry.seq_num == 1 {
            assert_eq!(sync::log_festival(e, payload), by_model);
        }
    }
    assert_eq!(height_of(&joined).seq, 1, "the joined log's first entry");
}

/// A's next entry goes to B pushed, in one message, on the eager link.
fn assert_next_write_is_pushed(net: &mut Net, link: usize, fest: sync::FestivalId) {
    let sent_by_a = net.links[link].sent[0].len();
    let new = net.write(0, fest, 1);
    net.run();
    let from_a: Vec<Message> = net.messages(link, 0).split_off(sent_by_a);
    assert!(matches!(&from_a[..], [Message::Entries { entries, .. }] if entries == &new), "{from_a:?}");
}

/// A live pair whose sessions tick, where B already asked A for notes: B got A's next
/// entry by another path before A's push came (Plumtree's prune).
fn lazy_pair(seed: u64) -> (Net, usize, sync::FestivalId) {
    let (mut net, link, fest) = live_pair(seed);
    net.tick(1_000);
    let (a, b) = (0, 1);
    let new = net.write(a, fest, 1);
    net.give(b, fest, &new);
    net.run();
    let lazy = |m: &Message| matches!(m, Message::Lazy { .. });
    assert_eq!(net.messages(link, 1).iter().filter(|m| lazy(m)).count(), 1, "B asks for notes after a duplicate push");
    (net, link, fest)
}

// Scenario: B asked A for notes; A writes an entry; B's clock runs.
// Assert: A sends a Note, not the entry; B asks A to push again (Eager) only once the entry
// has been missing for GRAFT_AFTER_MS from the first tick after the note, then has it; A
// pushes the next entry at once.
#[test]
fn a_noted_entry_that_does_not_come_is_asked_for_after_the_graft_delay() {
    let (mut net, link, fest) = lazy_pair(40);
    let sent_by_a = net.links[link].sent[0].len();
    net.write(0, fest, 1);
    net.run();
    let from_a: Vec<Message> = net.messages(link, 0).split_off(sent_by_a);
    assert!(matches!(from_a[..], [Message::Note { ref heights, .. }] if heights.len() == 1), "{from_a:?}");
    assert_ne!(net.inventory(0), net.inventory(1), "the entry itself waits");

    let eager = |net: &Net| net.messages(link, 1).iter().filter(|m| matches!(m, Message::Eager { .. })).count();
    net.tick(300); // the wait starts at the first tick after the note
    net.run();
    net.tick(sync::GRAFT_AFTER_MS - 1);
    net.run();
    assert_eq!(eager(&net), 0, "too early to ask");
    net.tick(1);
    net.run();
    assert_eq!(eager(&net), 1);
    let graft = net.messages(link, 1).into_iter().find(|m| matches!(m, Message::Eager { .. }));
    let Some(Message::Eager { heights, .. }) = graft else { unreachable!() };
    let held = net.inventory(1).into_iter().map(|(_, h)| h).find(|h| h.author == heights[0].author);
    assert_eq!((heights.len(), held.map(|h| h.seq - 1)), (1, Some(heights[0].seq)), "B tells how far it got");
    assert_eq!(net.inventory(0), net.inventory(1), "A pushed the noted entry after the graft");

    assert_next_write_is_pushed(&mut net, link, fest);
}

// Scenario: B asked A for notes; A writes; the entry reaches B by another path before B's
// clock says it is late.
// Assert: B never asks A to push again.
#[test]
fn a_noted_entry_that_comes_by_another_path_is_not_asked_for() {
    let (mut net, link, fest) = lazy_pair(41);
    let new = net.write(0, fest, 1);
    net.run();
    net.tick(100);
    net.give(1, fest, &new);
    net.run();
    for _ in 0..5 {
        net.tick(sync::GRAFT_AFTER_MS);
        net.run();
    }
    assert!(!net.messages(link, 1).iter().any(|m| matches!(m, Message::Eager { .. })));
    assert_eq!(net.inventory(0), net.inventory(1));
}

// Scenario: sessions of a host that never ticks (it could not ask for a noted entry
// back), and peers of minor version 0.
// Assert: a duplicate push never makes them ask for notes.
#[test]
fn sessions_without_a_clock_or_of_minor_0_keep_pushing() {
    let (mut net, link, fest) = live_pair(42);
    let new = net.write(0, fest, 1);
    net.give(1, fest, &new);
    net.run();
    assert_eq!(net.duplicates(), 2, "each side pushes the entry the other got by another path");
    assert!(!net.messages(link, 1).iter().any(|m| matches!(m, Message::Lazy { .. })));

    // B speaks minor 0 (its Hello says so): A's session, ticked and receiving a
    // duplicate from B, keeps B pushing.
    let mut net = Net::new(43);
    let a = net.node(1, &[]);
    let fest = net.create_festival(a, "Fusion", None);
    let b = net.node(2, &[fest]);
    let link = net.connect(a, b);
    net.links[link].tamper[1] = Some(Box::new(|bytes| match Message::decode(&bytes, &Limits::default()) {
        Ok(Message::Hello(hello)) => Message::Hello(Hello { minor: 0, ..hello }).encode(),
        _ => bytes,
    }));
    net.run();
    net.tick(1_000);
    let new = net.write(b, fest, 1);
    net.give(a, fest, &new);
    net.run();
    assert_eq!(net.duplicates(), 2, "each side pushes the entry the other got by another path");
    assert!(!net.messages(link, 0).iter().any(|m| matches!(m, Message::Lazy { .. })));
}

/// Six peers of one festival, each linked to every other, all live; with clocks or not.
fn mesh(seed: u64, ticking: bool) -> (Net, Vec<usize>, sync::FestivalId) {
    let mut net = Net::new(seed);
    let first = net.node(1, &[]);
    let fest = net.create_festival(first, "Fusion", None);
    let mut nodes = vec![first];
    for n in 2..=6 {
        nodes.push(net.node(n, &[fest]));
    }
    let mut links = Vec::new();
    for i in 0..nodes.len() {
        for j in i + 1..nodes.len() {
            links.push(net.connect(nodes[i], nodes[j]));
        }
    }
    net.run();
    if ticking {
        net.tick(1_000);
    }
    (net, links, fest)
}

/// Random writes on random peers, each followed by rounds of messages and ticks; the
/// duplicates received meanwhile.
fn write_around(net: &mut Net, fest: sync::FestivalId, rng: &mut StdRng, writes: usize, ticking: bool) -> u64 {
    let before = net.duplicates();
    for _ in 0..writes {
        let node = rng.random_range(0..6);
        net.write(node, fest, rng.random_range(1..3));
        net.run();
        for _ in 0..3 {
            if ticking {
                net.tick(sync::GRAFT_AFTER_MS);
            }
            net.run();
        }
    }
    net.duplicates() - before
}

// Scenario: six peers linked to every other write entries at random, once flooding (no
// clock: every session pushes every new entry) and once with clocks (duplicates make
// links lazy, Plumtree-style); then a link of the lazy mesh is cut and writing goes on.
// Assert: every peer holds every entry in both; once the lazy mesh has settled, its
// duplicates are under a fifth of the flood's; after the cut, everything still arrives.
#[test]
fn lazy_push_delivers_everything_with_few_duplicates() {
    let mut results = Vec::new();
    for ticking in [false, true] {
        let (mut net, links, fest) = mesh(44, ticking);
        let mut rng = StdRng::seed_from_u64(44);
        write_around(&mut net, fest, &mut rng, 10, ticking);
        let settled = write_around(&mut net, fest, &mut rng, 30, ticking);
        for n in 1..6 {
            assert_eq!(net.inventory(0), net.inventory(n), "ticking {ticking}: peer {n}");
        }
        results.push(settled);
        if ticking {
            // Cut the path 0-1-2-3-4-5 out of the mesh (links are numbered row by row:
            // 0-1 is 0, 1-2 is 5, …), whatever of it the entries took, and write on.
            for link in [0, 5, 9, 12, 14] {
                net.cut(links[link]);
            }
            let grafts = |net: &Net| {
                let mut eager = 0;
                for l in 0..net.links.len() {
                    for side in 0..2 {
                        eager += net.messages(l, side).iter().filter(|m| matches!(m, Message::Eager { .. })).count();
                    }
                }
                eager
            };
            let before = grafts(&net);
            write_around(&mut net, fest, &mut rng, 20, ticking);
            assert!(grafts(&net) > before, "lazy links took over from the cut ones");
            for n in 1..6 {
                assert_eq!(net.inventory(0), net.inventory(n), "after the cut: peer {n}");
            }
        }
    }
    let [flood, lazy] = results[..] else { unreachable!() };
    assert!(lazy * 5 < flood, "duplicates: {lazy} lazy against {flood} flooding");
}

// Scenario: a lazy link whose host lost another path (an eager link of the festival closed).
// Assert: `graft_now` asks the peer to push again at once, and the next entry comes pushed;
// on an eager link it sends nothing.
#[test]
fn a_host_that_lost_a_path_makes_a_lazy_link_eager_at_once() {
    let (mut net, link, fest) = lazy_pair(45);
    assert!(net.links[link].sessions[1].is_lazy(&fest));
    net.links[link].sessions[1].graft_now(&fest);
    net.run();
    assert!(!net.links[link].sessions[0].is_lazy(&fest) && !net.links[link].sessions[1].is_lazy(&fest));
    let sent_by_b = net.links[link].sent[1].len();
    net.links[link].sessions[1].graft_now(&fest);
    net.run();
    assert_eq!(net.links[link].sent[1].len(), sent_by_b, "an eager link asks nothing");

    assert_next_write_is_pushed(&mut net, link, fest);
}

// Scenario: a peer sends `Lazy`, `Note` or `Eager` for a festival whose catch-up is not over,
// or for a token that names nothing.
// Assert: each ends the session with code 5 (protocol) or 6 (boundary).
#[test]
fn lazy_push_messages_out_of_turn_end_the_session() {
    let height = |net: &Net| sync::LogHeight { author: net.nodes[0].writer.author(), log_id: 0, seq: 9 };
    let messages: [fn(sync::Token, sync::LogHeight) -> Message; 3] = [
        |festival, _| Message::Lazy { festival },
        |festival, h| Message::Note { festival, heights: vec![h] },
        |festival, h| Message::Eager { festival, heights: vec![h] },
    ];
    for (i, make) in messages.into_iter().enumerate() {
        for foreign in [false, true] {
            // Both catch-ups stall: one entry a batch, one batch in flight, none stored.
            let mut net = Net::new(46 + i as u64);
            let a = net.node(1, &[]);
            let fest = net.create_festival(a, "Fusion", None);
            let b = net.node(2, &[fest]);
            for node in [a, b] {
                net.write(node, fest, 3);
                net.nodes[node].limits = Limits { max_batch_entries: 1, window: 1, ..Limits::default() };
                net.nodes[node].defer = true;
            }
            let link = net.connect(a, b);
            net.run();
            assert!(!net.links[link].sessions[1].is_live(&fest));
            let token =
                if foreign { sync::Token([7; 32]) } else { net.links[link].sessions[0].token_of(&fest).unwrap() };
            let message = make(token, height(&net));
            net.links[link].inbox[1].push_back(message.encode());
            net.run();
            let expected = if foreign { CloseCode::Boundary } else { CloseCode::Protocol };
            assert_eq!(close_code_sent(&net, link, 1), Some(expected), "{} (foreign token: {foreign})", message.name());
        }
    }
}
