//! The encoding of operations, byte for byte: these are the examples of docs/protocol.md,
//! and a guard against any change of the format.

use bamboo::Hash;
use expect_test::{Expect, expect};
use model::op::{self, Decoded, EventFields, FestivalFields, Payload, ResourceFields, ResourceKind};
use model::{Availability, Id, Operation, TimeFrame, Timestamp};

fn id(byte: u8) -> Id {
    Id(Hash([byte; 64]))
}

fn check(payload: Payload, expect: Expect) {
    let bytes = payload.encode();
    expect.assert_eq(&hex::encode(&bytes));
    assert_eq!(op::decode(&bytes), Decoded::Op(payload), "decodes to what was encoded");
}

fn frame() -> TimeFrame {
    // 2026-07-01T16:00:00Z – 18:00:00Z
    TimeFrame::new(Timestamp(1_782_921_600_000), Timestamp(1_782_928_800_000)).unwrap()
}

#[test]
fn festival_create() {
    check(
        Payload {
            festival: None,
            op: Operation::FestivalCreate {
                parent: None,
                fields: FestivalFields {
                    name: "Fest".into(),
                    description: String::new(),
                    timezone: "Europe/Berlin".into(),
                    frame: None,
                    ticket: None,
                },
            },
        },
        expect!["a4617601626f706f666573746976616c2f63726561746562747a6d4575726f70652f4265726c696e646e616d656446657374"],
    );
}

#[test]
fn negative_numbers_west_of_greenwich_and_south_of_the_equator() {
    // CBOR's negative integers hold -1 - n: -73,985,000 is major type 1 with 73,984,999
    // (3a 04 68 eb e7), -34,603,700 with 34,603,699 (3a 02 10 02 b3).
    let payload = Payload {
        festival: Some(id(0xab)),
        op: Operation::ResourceCreate(ResourceFields {
            name: "Pier".into(),
            kind: ResourceKind::Location,
            description: String::new(),
            geo: Some(model::op::GeoPoint { lat_micro: -34_603_700, lon_micro: -73_985_000 }),
            address: String::new(),
            url: String::new(),
            availability: Availability::Always,
            policy: "fcfs".into(),
            capacity: model::Capacity::ONE,
            needs: Vec::new(),
        }),
    };
    let hex = hex::encode(payload.encode());
    assert!(hex.contains("636c61743a021002b3"), "lat: {hex}");
    assert!(hex.contains("636c6f6e3a0468ebe7"), "lon: {hex}");
    assert_eq!(op::decode(&payload.encode()), Decoded::Op(payload), "decodes to what was encoded");
}

#[test]
fn resource_create_as_first_entry_of_a_log() {
    check(
        Payload {
            festival: Some(id(0xab)),
            op: Operation::ResourceCreate(ResourceFields {
                name: "Stage".into(),
                kind: ResourceKind::Location,
                description: String::new(),
                geo: Some(model::op::GeoPoint { lat_micro: 52_520_000, lon_micro: 13_405_000 }),
                address: String::new(),
                url: String::new(),
                availability: Availability::Windows(vec![frame()]),
                policy: "fcfs".into(),
                capacity: model::Capacity::ONE,
                needs: Vec::new(),
            }),
        },
        expect![
            "a9617601626f706f7265736f757263652f637265617465636c61741a03216440636c6f6e1a00cc8b4864666573745840abababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababab646b696e64686c6f636174696f6e646e616d6565537461676565617661696c81821b0000019f1e689c001b0000019f1ed6790066706f6c6963796466636673"
        ],
    );
}

#[test]
fn event_request_and_confirm() {
    check(
        Payload {
            festival: None,
            op: Operation::EventCreate(EventFields {
                title: "Opening".into(),
                description: String::new(),
                frame: frame(),
                bundle: false,
            }),
        },
        expect![
            "a5617601626f706c6576656e742f63726561746563656e641b0000019f1ed679006573746172741b0000019f1e689c00657469746c65674f70656e696e67"
        ],
    );
    check(
        Payload {
            festival: None,
            op: Operation::RequestCreate { event: id(1), resource: id(2), frame: frame(), replaces: None, until: None },
        },
        expect![
            "a6617601626f706e726571756573742f63726561746563656e641b0000019f1ed6790063726573584002020202020202020202020202020202020202020202020202020202020202020202020202020202020202020202020202020202020202020202020202020202656576656e745840010101010101010101010101010101010101010101010101010101010101010101010101010101010101010101010101010101010101010101010101010101016573746172741b0000019f1e689c00"
        ],
    );
    check(
        Payload { festival: None, op: Operation::Confirm { request: id(3), resource: id(2), frame: None } },
        expect![
            "a4617601626f706c617574682f636f6e6669726d6372657158400303030303030303030303030303030303030303030303030303030303030303030303030303030303030303030303030303030303030303030303030303030363726573584002020202020202020202020202020202020202020202020202020202020202020202020202020202020202020202020202020202020202020202020202020202"
        ],
    );
}

/// Version 2: a request that replaces another (its event moved) and a confirm that names
/// its slot. Each is written with the lowest version that has its fields.
#[test]
fn version_two_fields() {
    check(
        Payload {
            festival: None,
            op: Operation::RequestCreate {
                event: id(1),
                resource: id(2),
                frame: frame(),
                replaces: Some(id(4)),
                until: None,
            },
        },
        expect![
            "a7617602626f706e726571756573742f63726561746563656e641b0000019f1ed6790063726573584002020202020202020202020202020202020202020202020202020202020202020202020202020202020202020202020202020202020202020202020202020202647265706c584004040404040404040404040404040404040404040404040404040404040404040404040404040404040404040404040404040404040404040404040404040404656576656e745840010101010101010101010101010101010101010101010101010101010101010101010101010101010101010101010101010101010101010101010101010101016573746172741b0000019f1e689c00"
        ],
    );
    check(
        Payload { festival: None, op: Operation::Confirm { request: id(3), resource: id(2), frame: Some(frame()) } },
        expect![
            "a6617602626f706c617574682f636f6e6669726d63656e641b0000019f1ed6790063726571584003030303030303030303030303030303030303030303030303030303030303030303030303030303030303030303030303030303030303030303030303030303637265735840020202020202020202020202020202020202020202020202020202020202020202020202020202020202020202020202020202020202020202020202020202026573746172741b0000019f1e689c00"
        ],
    );
    let map = |v: u64, with_frame: bool| {
        let mut entries = vec![
            (ciborium::Value::Text("v".into()), ciborium::Value::Integer(v.into())),
            (ciborium::Value::Text("op".into()), ciborium::Value::Text("auth/confirm".into())),
            (ciborium::Value::Text("req".into()), ciborium::Value::Bytes(vec![3; 64])),
            (ciborium::Value::Text("res".into()), ciborium::Value::Bytes(vec![2; 64])),
        ];
        if with_frame {
            entries.push((ciborium::Value::Text("end".into()), ciborium::Value::Integer(2.into())));
            entries.push((ciborium::Value::Text("start".into()), ciborium::Value::Integer(1.into())));
        }
        let mut out = Vec::new();
        ciborium::into_writer(&ciborium::Value::Map(entries), &mut out).unwrap();
        format!("{:?}", op::decode(&out))
    };
    // A version 1 confirm has no frame; a version 2 one without a frame is not canonical
    // (it is version 1), nor is it in version 3 (it is version 2); a later version is kept
    // and passed on, not interpreted.
    expect![[r#"Malformed { error: UnknownField("end"), festival: None }"#]].assert_eq(&map(1, true));
    expect![[r#"Malformed { error: NotCanonical, festival: None }"#]].assert_eq(&map(2, false));
    expect![[r#"Malformed { error: NotCanonical, festival: None }"#]].assert_eq(&map(3, true));
    expect![[r#"Unsupported { version: 4, kind: "auth/confirm", festival: None }"#]].assert_eq(&map(4, true));
}

#[test]
fn version_three_bundles_deadlines_and_needs() {
    check(
        Payload {
            festival: None,
            op: Operation::EventCreate(EventFields {
                title: "Concert".into(),
                description: String::new(),
                frame: frame(),
                bundle: true,
            }),
        },
        expect![
            "a6617603626f706c6576656e742f63726561746563616c6cf563656e641b0000019f1ed679006573746172741b0000019f1e689c00657469746c6567436f6e63657274"
        ],
    );
    check(
        Payload {
            festival: None,
            op: Operation::RequestCreate {
                event: id(1),
                resource: id(2),
                frame: frame(),
                replaces: None,
                until: Some(Timestamp(1_782_900_000_000)),
            },
        },
        expect![
            "a7617603626f706e726571756573742f63726561746563656e641b0000019f1ed6790063726573584002020202020202020202020202020202020202020202020202020202020202020202020202020202020202020202020202020202020202020202020202020202656576656e745840010101010101010101010101010101010101010101010101010101010101010101010101010101010101010101010101010101010101010101010101010101016573746172741b0000019f1e689c0065756e74696c1b0000019f1d1f0500"
        ],
    );
    let pa = |needs: Vec<Id>| ResourceFields {
        name: "PA".into(),
        kind: ResourceKind::Thing,
        description: String::new(),
        geo: None,
        address: String::new(),
        url: String::new(),
        availability: Availability::Always,
        policy: "fcfs".into(),
        capacity: model::Capacity::ONE,
        needs,
    };
    check(
        Payload { festival: None, op: Operation::ResourceCreate(pa(vec![id(5), id(7)])) },
        expect![
            "a6617603626f706f7265736f757263652f637265617465646b696e64657468696e67646e616d65625041656e656564738258400505050505050505050505050505050505050505050505050505050505050505050505050505050505050505050505050505050505050505050505050505050558400707070707070707070707070707070707070707070707070707070707070707070707070707070707070707070707070707070707070707070707070707070766706f6c6963796466636673"
        ],
    );
    // Needs out of order (or twice) are malformed: each resource has one encoding.
    let swapped = Payload { festival: None, op: Operation::ResourceCreate(pa(vec![id(7), id(5)])) }.encode();
    expect!["Malformed { error: UnsortedNeeds, festival: None }"].assert_eq(&format!("{:?}", op::decode(&swapped)));
}

#[test]
fn version_three_collectives_and_votes() {
    let members = vec![model::Key(bamboo::Author([1; 32])), model::Key(bamboo::Author([2; 32]))];
    check(
        Payload { festival: None, op: Operation::CollectiveSet { members, rule: model::VoteRule::Majority } },
        expect![
            "a4617603626f706e636f6c6c6563746976652f7365746472756c65686d616a6f72697479676d656d62657273825820010101010101010101010101010101010101010101010101010101010101010158200202020202020202020202020202020202020202020202020202020202020202"
        ],
    );
    check(
        Payload {
            festival: None,
            op: Operation::Vote { request: id(3), resource: id(2), yes: false, reason: "busy".into() },
        },
        expect![
            "a6617603626f7069617574682f766f7465637265715840030303030303030303030303030303030303030303030303030303030303030303030303030303030303030303030303030303030303030303030303030303036372657358400202020202020202020202020202020202020202020202020202020202020202020202020202020202020202020202020202020202020202020202020202020263796573f466726561736f6e6462757379"
        ],
    );
    // Members out of order, a rule with a leading zero, and a vote of version 2 are malformed.
    let set = |members: Vec<ciborium::Value>, rule: &str, v: u64| {
        let entries = vec![
            (ciborium::Value::Text("v".into()), ciborium::Value::Integer(v.into())),
            (ciborium::Value::Text("op".into()), ciborium::Value::Text("collective/set".into())),
            (ciborium::Value::Text("rule".into()), ciborium::Value::Text(rule.into())),
            (ciborium::Value::Text("members".into()), ciborium::Value::Array(members)),
        ];
        let mut out = Vec::new();
        ciborium::into_writer(&ciborium::Value::Map(entries), &mut out).unwrap();
        format!("{:?}", op::decode(&out))
    };
    let k = |b: u8| ciborium::Value::Bytes(vec![b; 32]);
    expect!["Malformed { error: UnsortedMembers, festival: None }"].assert_eq(&set(vec![k(2), k(1)], "any", 3));
    expect![[r#"Malformed { error: UnknownVoteRule("02"), festival: None }"#]].assert_eq(&set(
        vec![k(1), k(2)],
        "02",
        3,
    ));
    expect![[r#"Unsupported { version: 2, kind: "collective/set", festival: None }"#]].assert_eq(&set(
        vec![k(1), k(2)],
        "any",
        2,
    ));
}

#[test]
fn version_three_capacity() {
    let bikes = |capacity| ResourceFields {
        name: "Bikes".into(),
        kind: ResourceKind::Thing,
        description: String::new(),
        geo: None,
        address: String::new(),
        url: String::new(),
        availability: Availability::Always,
        policy: "fcfs".into(),
        capacity,
        needs: Vec::new(),
    };
    check(
        Payload { festival: None, op: Operation::ResourceCreate(bikes(model::Capacity::limited(10).unwrap())) },
        expect![
            "a6617603626f706f7265736f757263652f637265617465636361700a646b696e64657468696e67646e616d656542696b657366706f6c6963796466636673"
        ],
    );
    check(
        Payload { festival: None, op: Operation::ResourceCreate(bikes(model::Capacity::Unlimited)) },
        expect![
            "a6617603626f706f7265736f757263652f6372656174656363617000646b696e64657468696e67646e616d656542696b657366706f6c6963796466636673"
        ],
    );
    let map = |v: u64, cap: Option<i64>| {
        let mut entries = vec![
            (ciborium::Value::Text("v".into()), ciborium::Value::Integer(v.into())),
            (ciborium::Value::Text("op".into()), ciborium::Value::Text("resource/create".into())),
            (ciborium::Value::Text("kind".into()), ciborium::Value::Text("thing".into())),
            (ciborium::Value::Text("name".into()), ciborium::Value::Text("Bikes".into())),
            (ciborium::Value::Text("policy".into()), ciborium::Value::Text("fcfs".into())),
        ];
        if let Some(cap) = cap {
            entries.insert(2, (ciborium::Value::Text("cap".into()), ciborium::Value::Integer(cap.into())));
        }
        let mut out = Vec::new();
        ciborium::into_writer(&ciborium::Value::Map(entries), &mut out).unwrap();
        match op::decode(&out) {
            Decoded::Op(p) => match p.op {
                Operation::ResourceCreate(f) => format!("{:?}", f.capacity),
                other => format!("{other:?}"),
            },
            other => format!("{other:?}"),
        }
    };
    // One is the default, so `cap: 1` is not canonical; version 2 has no `cap`; a capacity
    // is a 32-bit count.
    expect![[r#"Limited(10)"#]].assert_eq(&map(3, Some(10)));
    expect![[r#"Unlimited"#]].assert_eq(&map(3, Some(0)));
    expect![[r#"Malformed { error: NotCanonical, festival: None }"#]].assert_eq(&map(3, Some(1)));
    expect![[r#"Malformed { error: NotCanonical, festival: None }"#]].assert_eq(&map(3, None));
    expect![[r#"Malformed { error: UnknownField("cap"), festival: None }"#]].assert_eq(&map(2, Some(10)));
    expect![[r#"Malformed { error: WrongType { field: "cap", expected: "an integer from 0 to 4294967295" }, festival: None }"#]]
        .assert_eq(&map(3, Some(-1)));
    expect![[r#"Malformed { error: WrongType { field: "cap", expected: "an integer from 0 to 4294967295" }, festival: None }"#]]
        .assert_eq(&map(3, Some(1 << 32)));
}

#[test]
fn non_canonical_encodings_are_rejected() {
    let good = Payload { festival: None, op: Operation::EventCancel { event: id(1) } }.encode();
    // The same map with its keys in another order: {"op": …, "v": 1, "id": …}.
    let mut reordered = Vec::new();
    ciborium::into_writer(
        &ciborium::Value::Map(vec![
            (ciborium::Value::Text("op".into()), ciborium::Value::Text("event/cancel".into())),
            (ciborium::Value::Text("v".into()), ciborium::Value::Integer(1.into())),
            (ciborium::Value::Text("id".into()), ciborium::Value::Bytes(vec![1; 64])),
        ]),
        &mut reordered,
    )
    .unwrap();
    assert_ne!(good, reordered);
    assert!(matches!(op::decode(&reordered), Decoded::Malformed { error: op::FormatError::NotCanonical, .. }));
    // The version as a two-byte integer (0x18 0x01 instead of 0x01).
    let wide = hex::decode(hex::encode(&good).replacen("617601", "61761801", 1)).unwrap();
    assert!(matches!(op::decode(&wide), Decoded::Malformed { error: op::FormatError::NotCanonical, .. }));
    // Trailing bytes.
    let mut trailing = good.clone();
    trailing.push(0);
    assert!(matches!(op::decode(&trailing), Decoded::Malformed { .. }));
    // An unknown field in a known version.
    let mut extra = Vec::new();
    ciborium::into_writer(
        &ciborium::Value::Map(vec![
            (ciborium::Value::Text("v".into()), ciborium::Value::Integer(1.into())),
            (ciborium::Value::Text("id".into()), ciborium::Value::Bytes(vec![1; 64])),
            (ciborium::Value::Text("op".into()), ciborium::Value::Text("event/cancel".into())),
            (ciborium::Value::Text("why".into()), ciborium::Value::Text("rain".into())),
        ]),
        &mut extra,
    )
    .unwrap();
    expect![[r#"Malformed { error: UnknownField("why"), festival: None }"#]]
        .assert_eq(&format!("{:?}", op::decode(&extra)));
}

#[test]
fn arbitrary_bytes_never_panic_and_decoded_ops_reencode_exactly() {
    use proptest::prelude::*;
    let mut runner = proptest::test_runner::TestRunner::default();
    runner
        .run(&prop::collection::vec(any::<u8>(), 0..300), |bytes| {
            if let Decoded::Op(p) = op::decode(&bytes) {
                prop_assert_eq!(p.encode(), bytes);
            }
            Ok(())
        })
        .unwrap();
}
