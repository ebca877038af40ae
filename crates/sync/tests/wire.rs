//! The wire format: pinned example bytes (quoted in docs/sync.md), round trips, and what
//! the decoder refuses.

use bamboo::Keypair;
use expect_test::expect;
use model::Operation;
use sync::writer::Writer;
use sync::{
    CloseCode, FestivalId, Hello, Limits, LogHeight, Message, OverlayMessage, Peer, Token, WireEntry, WireError,
};

fn festival() -> FestivalId {
    Writer::new([1; 32]).create_festival("Fusion", None).0
}

/// How the key of `[1; 32]` (nonce `ab…`) names the festival to the key of `[2; 32]` (nonce `cd…`).
fn token(f: &FestivalId) -> Token {
    let (a, b) = (Keypair::from_secret([1; 32]).author(), Keypair::from_secret([2; 32]).author());
    Token::new(f, &a, &[0xab; 32], &b, &[0xcd; 32])
}

fn decode(bytes: &[u8]) -> Result<Message, WireError> {
    Message::decode(bytes, &Limits::default())
}

// Scenario: the messages of docs/sync.md, built from fixed keys and nonces.
// Assert: their encodings are exactly the documented bytes, and decode back.
#[test]
fn example_messages_have_the_documented_bytes() {
    let key = Keypair::from_secret([1; 32]);
    let hello = Message::Hello(Hello { minor: 0, key: key.author(), nonce: [0xab; 32], limits: Limits::default() });
    expect!["8602000058208a88e3dd7409f195fd52db2d3cba5d72ca6709bf1d94121bf3748801b40f6f5c5820abababababababababababababababababababababababababababababababab851a0010000019040019040019010008"]
    .assert_eq(&hex::encode(hello.encode()));

    let f = festival();
    let t = token(&f);
    let have = Message::Have {
        festival: t,
        heights: vec![LogHeight { author: key.author(), log_id: 0, seq: 12 }],
        done: true,
    };
    expect!["8502035820e5f00d5eea5d53a5777d906c9206c2b74182f4ed4436f7997ac31aa4bfded319818358208a88e3dd7409f195fd52db2d3cba5d72ca6709bf1d94121bf3748801b40f6f5c000cf5"].assert_eq(&hex::encode(have.encode()));

    // Ana's first entry in the festival: her profile, naming the festival.
    let mut ana = Writer::new([2; 32]);
    let entry = ana.write(f, Operation::ProfileSet { name: "Ana".into(), about: String::new() });
    let entries = Message::Entries { batch: 0, festival: t, entries: vec![entry] };
    expect!["850205005820e5f00d5eea5d53a5777d906c9206c2b74182f4ed4436f7997ac31aa4bfded319818258a6008139770ea87d175f56a35466c34c7ecccb8d8a91b4ee37a25df60f5b8fc9b394000163004057b60227933183762f99216d8c07c944048da6f47e387a5270c3265a577e02a0bb326c3c71157f24b5e7786ef40946102fd1930897bc0f1e330fa571b81f6d209cc65e6866abf4ef74495d718cd695b92df8d60c8c46e888cb224b1004937b93f5d744a913470c198fc566cebacc4821a3b173ec8d6a7f06153618913e7fb1085863a4617601626f706b70726f66696c652f7365746466657374584076c0742ce413bc9a15761220aabf59fd6ec831bb093c8eab35e24ca0cc396691941c098ed2e7a0e4e8ed37cff48cde34b280400e90710eec827a464c8930cc72646e616d6563416e61"].assert_eq(&hex::encode(entries.encode()));

    expect!["83020601"].assert_eq(&hex::encode(Message::Credit { batches: 1 }.encode()));
    let festivals = Message::Festivals { tokens: vec![t], done: true };
    expect!["840202815820e5f00d5eea5d53a5777d906c9206c2b74182f4ed4436f7997ac31aa4bfded319f5"]
        .assert_eq(&hex::encode(festivals.encode()));
    let close = Message::Close { code: CloseCode::Auth, reason: "bad proof".into() };
    expect!["84020f03696261642070726f6f66"].assert_eq(&hex::encode(close.encode()));
    let lazy = Message::Lazy { festival: t };
    expect!["83020a5820e5f00d5eea5d53a5777d906c9206c2b74182f4ed4436f7997ac31aa4bfded319"]
        .assert_eq(&hex::encode(lazy.encode()));
    let note = Message::Note { festival: t, heights: vec![LogHeight { author: key.author(), log_id: 0, seq: 13 }] };
    expect!["84020b5820e5f00d5eea5d53a5777d906c9206c2b74182f4ed4436f7997ac31aa4bfded319818358208a88e3dd7409f195fd52db2d3cba5d72ca6709bf1d94121bf3748801b40f6f5c000d"].assert_eq(&hex::encode(note.encode()));
    for m in [hello, have, entries] {
        assert_eq!(decode(&m.encode()), Ok(m));
    }
}

// Scenario: every message type, with every overlay message inside an Overlay message.
// Assert: each decodes to itself.
#[test]
fn every_message_round_trips() {
    let f = festival();
    let t = token(&f);
    let key = Keypair::from_secret([2; 32]).author();
    let peer = Peer::new(key, "wss://example.org/sync");
    let overlay = [
        OverlayMessage::Introduce { peer: peer.clone() },
        OverlayMessage::Signal {
            to: key,
            from: Keypair::from_secret([3; 32]).author(),
            data: "{\"sdp\":\"…\"}".into(),
        },
    ];
    let mut messages = vec![
        Message::Hello(Hello { minor: 3, key, nonce: [7; 32], limits: Limits::MIN }),
        Message::Auth { signature: [9; 64] },
        Message::Festivals { tokens: vec![t, t], done: false },
        Message::Have { festival: t, heights: vec![], done: false },
        Message::Plan { festival: t, entries: u64::MAX, bytes: 0 },
        Message::Entries { batch: 1 << 40, festival: t, entries: vec![WireEntry { entry: vec![1], payload: vec![] }] },
        Message::Credit { batches: u32::MAX },
        Message::Done { festival: t },
        Message::Lazy { festival: t },
        Message::Note { festival: t, heights: vec![LogHeight { author: key, log_id: 3, seq: u64::MAX }] },
        Message::Eager { festival: t, heights: vec![] },
        Message::Close { code: CloseCode::Other(99), reason: "é".repeat(10) },
    ];
    messages.extend(overlay.into_iter().map(|message| Message::Overlay { festival: t, message }));
    for m in messages {
        assert_eq!(decode(&m.encode()), Ok(m));
    }
}

// Scenario: malformed and foreign inputs.
// Assert: each is refused with the error that names the problem; extra trailing fields
// (a newer minor version) are ignored, trailing bytes are not.
#[test]
fn the_decoder_refuses_what_it_must() {
    let f = festival();
    let t = token(&f);
    let done = Message::Done { festival: t }.encode();
    let mut trailing = done.clone();
    trailing.push(0);
    assert_eq!(decode(&trailing), Err(WireError::TrailingBytes(1)));

    // [2, 7, festival, "extra"]: a field a newer minor version might add.
    let mut extended = vec![0x84];
    extended.extend_from_slice(&done[1..]);
    extended.extend_from_slice(&[0x65, b'e', b'x', b't', b'r', b'a']);
    assert_eq!(decode(&extended), Ok(Message::Done { festival: t }));

    let mut foreign = done.clone();
    foreign[1] = 0x01;
    assert_eq!(decode(&foreign), Err(WireError::UnsupportedVersion { major: 1 }));
    // A Close keeps its layout in every version, so a refusal can always be read.
    let close = Message::Close { code: CloseCode::Version, reason: "speak 1".into() }.encode();
    let mut foreign_close = close.clone();
    foreign_close[1] = 0x01;
    assert_eq!(decode(&foreign_close), decode(&close));

    assert_eq!(decode(&[0x82, 0x02, 0x0d]), Err(WireError::UnknownType(13)));
    assert_eq!(decode(&[0x81, 0x01]), Err(WireError::NotAMessage));
    assert_eq!(decode(&[0xa0]), Err(WireError::NotAMessage));
    assert!(matches!(decode(&[0x82, 0x01]), Err(WireError::NotCbor(_))));
    assert!(matches!(decode(&[0x82, 0x02, 0x07]), Err(WireError::MissingField { field: "festival", .. })));
    let zero = Message::Have {
        festival: t,
        heights: vec![LogHeight { author: bamboo::Author([0; 32]), log_id: 0, seq: 1 }],
        done: true,
    };
    let mut zero = zero.encode();
    let at = zero.len() - 2;
    assert_eq!(zero[at], 0x01, "the seq of the one height");
    zero[at] = 0x00;
    assert_eq!(decode(&zero), Err(WireError::ZeroHeight));
    // Deep nesting is refused before it can exhaust the stack.
    let mut deep = vec![0x83, 0x01, 0x02];
    deep.extend(std::iter::repeat_n(0x81, 10_000));
    deep.push(0x00);
    assert!(matches!(decode(&deep), Err(WireError::NotCbor(_))));
    let many = Message::Festivals { tokens: vec![t; 257], done: true };
    assert!(matches!(decode(&many.encode()), Err(WireError::TooMany { what: "tokens", count: 257, max: 256 })));
}

// Scenario: limits for a transport with a smaller largest message (a WebRTC data channel),
// and a browser's limits on a WebSocket.
// Assert: the message limit is capped by the transport but never below the minimum; the
// browser's batches are larger than the default.
#[test]
fn limits_fit_their_transport() {
    let d = Limits::default();
    assert_eq!(d.within_transport(262_144).max_message_bytes, 262_144);
    assert_eq!(d.within_transport(u32::MAX), d);
    assert_eq!(d.within_transport(1_000).max_message_bytes, Limits::MIN.max_message_bytes);
    assert_eq!(d.within_transport(262_144).max_batch_entries, d.max_batch_entries);
    let b = Limits::for_browser();
    assert!(b.max_batch_entries > d.max_batch_entries && b.below_minimum().is_none());
    // A batch of the browser's size of typical entries (about 650 bytes) fits its messages.
    assert!(b.max_batch_entries as u64 * 650 < b.max_message_bytes as u64);
}

// Scenario: a host looks at each message as it arrives, to start checking entries on
// other threads once the peer announced some (`Message::announces_entries`).
// Assert: only a well-formed `Plan` of at least one entry counts; other messages, a `Plan`
// of nothing, truncated or padded bytes and garbage do not, and none of them panics.
#[test]
fn only_a_plan_of_entries_announces_entries() {
    let t = token(&festival());
    let plan = |entries| Message::Plan { festival: t, entries, bytes: 1 << 20 }.encode();
    assert!(Message::announces_entries(&plan(1)));
    assert!(Message::announces_entries(&plan(u64::MAX)));
    assert!(!Message::announces_entries(&plan(0)));
    let full = plan(5);
    assert!(!Message::announces_entries(&full[..full.len() - 1]));
    assert!(!Message::announces_entries(&[full.clone(), vec![0]].concat()));
    let others = [
        Message::Entries { batch: 1, festival: t, entries: vec![WireEntry { entry: vec![1], payload: vec![] }] },
        Message::Have { festival: t, heights: vec![], done: true },
        Message::Done { festival: t },
        Message::Credit { batches: 4 },
    ];
    for m in others {
        assert!(!Message::announces_entries(&m.encode()), "{}", m.name());
    }
    assert!(!Message::announces_entries(&[]));
    assert!(!Message::announces_entries(&[0xff; 64]));
    assert!(!Message::announces_entries(&[0x9f; 4096]));
}
