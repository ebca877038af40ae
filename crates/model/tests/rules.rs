//! Data-driven tests of every allocation and authorization rule: operations in,
//! readable state out. Ids are shown by their labels.

mod support;

use expect_test::expect;
use model::op::Payload;
use model::{Availability, OpStatus, Operation};
use support::{World, frame, t};

#[test]
fn two_overlapping_confirms_only_the_first_in_the_owners_log_holds() {
    let mut w = World::new();
    let fest = w.festival("ana", "Fest", None);
    let stage = w.resource("ana", fest, "Stage", Availability::Always, "manual");
    let opening = w.event("bo", fest, "Opening", frame(t(1, 18, 0), t(1, 20, 0)));
    let q1 = w.request("bo", fest, "q-opening", opening, stage, frame(t(1, 18, 0), t(1, 20, 0)));
    let concert = w.event("cy", fest, "Concert", frame(t(1, 19, 0), t(1, 22, 0)));
    let q2 = w.request("cy", fest, "q-concert", concert, stage, frame(t(1, 19, 0), t(1, 22, 0)));
    w.write("ana", fest, Operation::Confirm { request: q2, resource: stage, frame: None }, "confirm-concert");
    w.write("ana", fest, Operation::Confirm { request: q1, resource: stage, frame: None }, "confirm-opening");
    expect![[r#"
        festival Fest: Fest
        resource Stage of ana: Stage
          booked 2026-07-01 19:00–22:00 by q-concert
        event Opening: Opening 2026-07-01 18:00–20:00
        event Concert: Concert 2026-07-01 19:00–22:00
        request q-opening for Stage: invalid (overlaps confirmed request q-concert (Concert, 2026-07-01 19:00–22:00))
        request q-concert for Stage: confirmed
        no effect: auth/confirm confirm-opening: overlaps confirmed request q-concert (Concert, 2026-07-01 19:00–22:00)
    "#]]
    .assert_eq(&w.render(&w.state()));
}

#[test]
fn confirm_outside_availability_has_no_effect() {
    let mut w = World::new();
    let fest = w.festival("ana", "Fest", None);
    let avail = Availability::normalised(vec![frame(t(1, 10, 0), t(1, 18, 0))]);
    let room = w.resource("ana", fest, "Room", avail, "manual");
    let late = w.event("bo", fest, "Late", frame(t(1, 17, 0), t(1, 19, 0)));
    let q = w.request("bo", fest, "q-late", late, room, frame(t(1, 17, 0), t(1, 19, 0)));
    w.write("ana", fest, Operation::Confirm { request: q, resource: room, frame: None }, "confirm-late");
    expect![[r#"
        festival Fest: Fest
        resource Room of ana: Room
        event Late: Late 2026-07-01 17:00–19:00
        request q-late for Room: invalid (the requested time frame is outside the resource's availability)
        no effect: auth/confirm confirm-late: the requested time frame is outside the resource's availability
    "#]]
    .assert_eq(&w.render(&w.state()));
}

#[test]
fn confirm_by_someone_other_than_the_owner_has_no_effect() {
    let mut w = World::new();
    let fest = w.festival("ana", "Fest", None);
    let room = w.resource("ana", fest, "Room", Availability::Always, "manual");
    let talk = w.event("bo", fest, "Talk", frame(t(1, 10, 0), t(1, 11, 0)));
    let q = w.request("bo", fest, "q-talk", talk, room, frame(t(1, 10, 0), t(1, 11, 0)));
    w.write("bo", fest, Operation::Confirm { request: q, resource: room, frame: None }, "bo-confirms");
    expect![[r#"
        festival Fest: Fest
        resource Room of ana: Room
        event Talk: Talk 2026-07-01 10:00–11:00
        request q-talk for Room: pending
        no effect: auth/confirm bo-confirms: only the owner of Room decides its requests
    "#]]
    .assert_eq(&w.render(&w.state()));
}

#[test]
fn release_then_confirm_of_another_request() {
    let mut w = World::new();
    let fest = w.festival("ana", "Fest", None);
    let pa = w.resource("ana", fest, "PA", Availability::Always, "manual");
    let e1 = w.event("bo", fest, "Rehearsal", frame(t(2, 10, 0), t(2, 12, 0)));
    let q1 = w.request("bo", fest, "q-rehearsal", e1, pa, frame(t(2, 10, 0), t(2, 12, 0)));
    let e2 = w.event("cy", fest, "Karaoke", frame(t(2, 11, 0), t(2, 13, 0)));
    let q2 = w.request("cy", fest, "q-karaoke", e2, pa, frame(t(2, 11, 0), t(2, 13, 0)));
    w.write("ana", fest, Operation::Confirm { request: q1, resource: pa, frame: None }, "confirm-rehearsal");
    w.write("ana", fest, Operation::Release { request: q1, resource: pa }, "release-rehearsal");
    w.write("ana", fest, Operation::Confirm { request: q2, resource: pa, frame: None }, "confirm-karaoke");
    w.write("ana", fest, Operation::Release { request: q1, resource: pa }, "release-again");
    expect![[r#"
        festival Fest: Fest
        resource PA of ana: PA
          booked 2026-07-02 11:00–13:00 by q-karaoke
        event Karaoke: Karaoke 2026-07-02 11:00–13:00
        event Rehearsal: Rehearsal 2026-07-02 10:00–12:00
        request q-karaoke for PA: confirmed
        request q-rehearsal for PA: released
        no effect: auth/release release-again: request q-rehearsal is not confirmed, so there is nothing to release
    "#]]
    .assert_eq(&w.render(&w.state()));
}

#[test]
fn withdrawn_request_keeps_its_slot_until_released() {
    let mut w = World::new();
    let fest = w.festival("ana", "Fest", None);
    let bike = w.resource("ana", fest, "Bike", Availability::Always, "manual");
    let tour = w.event("bo", fest, "Tour", frame(t(3, 9, 0), t(3, 17, 0)));
    let q = w.request("bo", fest, "q-tour", tour, bike, frame(t(3, 9, 0), t(3, 17, 0)));
    w.write("ana", fest, Operation::Confirm { request: q, resource: bike, frame: None }, "confirm-tour");
    w.write("bo", fest, Operation::RequestWithdraw { request: q, reason: String::new() }, "withdraw-tour");
    let before_release = w.render(&w.state());
    w.write("ana", fest, Operation::Release { request: q, resource: bike }, "release-tour");
    w.write("bo", fest, Operation::RequestWithdraw { request: q, reason: String::new() }, "withdraw-twice");
    expect![[r#"
        festival Fest: Fest
        resource Bike of ana: Bike
          booked 2026-07-03 09:00–17:00 by q-tour
        event Tour: Tour 2026-07-03 09:00–17:00
        request q-tour for Bike: withdrawn (slot not released yet)
    "#]]
    .assert_eq(&before_release);
    expect![[r#"
        festival Fest: Fest
        resource Bike of ana: Bike
        event Tour: Tour 2026-07-03 09:00–17:00
        request q-tour for Bike: withdrawn
        no effect: request/withdraw withdraw-twice: request q-tour is withdrawn already
    "#]]
    .assert_eq(&w.render(&w.state()));
}

#[test]
fn cancelled_event_withdraws_its_requests() {
    let mut w = World::new();
    let fest = w.festival("ana", "Fest", None);
    let room = w.resource("ana", fest, "Room", Availability::Always, "manual");
    let party = w.event("bo", fest, "Party", frame(t(4, 20, 0), t(4, 23, 0)));
    w.request("bo", fest, "q-party", party, room, frame(t(4, 20, 0), t(4, 23, 0)));
    w.write("bo", fest, Operation::EventCancel { event: party }, "cancel-party");
    w.request("bo", fest, "q-after-cancel", party, room, frame(t(4, 20, 0), t(4, 21, 0)));
    w.write(
        "bo",
        fest,
        Operation::EventUpdate {
            event: party,
            fields: support::event_fields("Party again", frame(t(4, 20, 0), t(4, 23, 0))),
        },
        "update-cancelled",
    );
    expect![[r#"
        festival Fest: Fest
        resource Room of ana: Room
        event Party cancelled: Party 2026-07-04 20:00–23:00
        request q-party for Room: withdrawn
        request q-after-cancel for Room: invalid (Party is cancelled)
        no effect: event/update update-cancelled: Party is cancelled
        no effect: request/create q-after-cancel: Party is cancelled
    "#]]
    .assert_eq(&w.render(&w.state()));
}

#[test]
fn resource_of_a_parent_festival_requested_from_a_sub_festival() {
    let mut w = World::new();
    let city = w.festival("ana", "City", None);
    let venue = w.festival("bo", "Venue", Some(city));
    let other = w.festival("cy", "Other", None);
    let square = w.resource("ana", city, "Square", Availability::Always, "manual");
    let shed = w.resource("cy", other, "Shed", Availability::Always, "manual");
    let gig = w.event("bo", venue, "Gig", frame(t(5, 18, 0), t(5, 21, 0)));
    let q_square = w.request("bo", venue, "q-square", gig, square, frame(t(5, 18, 0), t(5, 21, 0)));
    let q_shed = w.request("bo", venue, "q-shed", gig, shed, frame(t(5, 18, 0), t(5, 21, 0)));
    w.write("ana", city, Operation::Confirm { request: q_square, resource: square, frame: None }, "confirm-square");
    w.write("cy", other, Operation::Confirm { request: q_shed, resource: shed, frame: None }, "confirm-shed");
    expect![[r#"
        festival Other: Other
        festival City: City
        festival Venue (in City): Venue
        resource Shed of cy: Shed
        resource Square of ana: Square
          booked 2026-07-05 18:00–21:00 by q-square
        event Gig: Gig 2026-07-05 18:00–21:00
        request q-shed for Shed: invalid (Shed belongs to Other, which is neither this festival nor one above it; an event can request the resources of its festival and of the festivals above it)
        request q-square for Square: confirmed
        no effect: auth/confirm confirm-shed: request q-shed is invalid: Shed belongs to Other, which is neither this festival nor one above it; an event can request the resources of its festival and of the festivals above it
    "#]].assert_eq(&w.render(&w.state()));
}

#[test]
fn unknown_operation_version_is_kept_without_effect() {
    let mut w = World::new();
    let fest = w.festival("ana", "Fest", None);
    w.resource("ana", fest, "Room", Availability::Always, "manual");
    // Version 2 of some future operation, in canonical CBOR: {"v": 2, "op": "resource/teleport"}.
    let mut future = Vec::new();
    ciborium::into_writer(
        &ciborium::Value::Map(vec![
            (ciborium::Value::Text("v".into()), ciborium::Value::Integer(2.into())),
            (ciborium::Value::Text("op".into()), ciborium::Value::Text("resource/teleport".into())),
        ]),
        &mut future,
    )
    .unwrap();
    let id = w.write_raw("ana", fest, future);
    w.label(id, "future-op");
    // And a later, valid operation still applies.
    w.event("ana", fest, "After", frame(t(1, 10, 0), t(1, 11, 0)));
    expect![[r#"
        festival Fest: Fest
        resource Room of ana: Room
        event After: After 2026-07-01 10:00–11:00
        no effect: resource/teleport future-op: operation version 2 (resource/teleport) is not supported by this version of pandafest; it is kept and passed on
    "#]].assert_eq(&w.render(&w.state()));
}

#[test]
fn malformed_payloads_and_misplaced_festival_names() {
    let mut w = World::new();
    let fest = w.festival("ana", "Fest", None);
    let id = w.write_raw("ana", fest, b"not cbor at all".to_vec());
    w.label(id, "garbage");
    // A first entry that does not say which festival its log belongs to.
    let payload = Payload { festival: None, op: Operation::ProfileSet { name: "Bo".into(), about: String::new() } };
    let id = w.write_raw("bo", fest, payload.encode());
    w.label(id, "bo-unnamed-log");
    let id = w.write_raw(
        "bo",
        fest,
        Payload { festival: None, op: Operation::ProfileSet { name: "Bo".into(), about: String::new() } }.encode(),
    );
    w.label(id, "bo-second");
    // A later entry that names its festival again.
    let id = w.write_raw(
        "ana",
        fest,
        Payload { festival: Some(fest), op: Operation::ProfileSet { name: "Ana".into(), about: String::new() } }
            .encode(),
    );
    w.label(id, "ana-names-again");
    expect![[r#"
        festival Fest: Fest
        no effect: profile/set bo-second: the first entry of this log is invalid, so the log belongs to no festival
        no effect: malformed garbage: malformed operation: not a CBOR map
        no effect: profile/set ana-names-again: only the first entry of a log names its festival
        no effect: profile/set bo-unnamed-log: the first entry of a log must name its festival
    "#]]
    .assert_eq(&w.render(&w.state()));
}

#[test]
fn changes_only_by_the_creator_in_the_creating_log() {
    let mut w = World::new();
    let fest = w.festival("ana", "Fest", None);
    let room = w.resource("ana", fest, "Room", Availability::Always, "manual");
    let talk = w.event("ana", fest, "Talk", frame(t(1, 10, 0), t(1, 11, 0)));
    w.write("bo", fest, Operation::ResourceRetire { resource: room }, "bo-retires-room");
    w.write("bo", fest, Operation::EventCancel { event: talk }, "bo-cancels-talk");
    w.write(
        "bo",
        fest,
        Operation::RequestCreate {
            event: talk,
            resource: room,
            frame: frame(t(1, 10, 0), t(1, 11, 0)),
            replaces: None,
            until: None,
        },
        "bo-requests-for-talk",
    );
    w.write(
        "bo",
        fest,
        Operation::FestivalUpdate {
            festival: fest,
            fields: model::op::FestivalFields {
                name: "Mine".into(),
                description: String::new(),
                timezone: "UTC".into(),
                frame: None,
                ticket: None,
            },
        },
        "bo-renames-fest",
    );
    w.write(
        "ana",
        fest,
        Operation::RequestCreate {
            event: talk,
            resource: room,
            frame: frame(t(1, 9, 0), t(1, 11, 0)),
            replaces: None,
            until: None,
        },
        "ana-outside-event",
    );
    expect![[r#"
        festival Fest: Fest
        resource Room of ana: Room
        event Talk: Talk 2026-07-01 10:00–11:00
        request ana-outside-event for Room: invalid (the requested time lies outside Talk (2026-07-01 10:00–11:00))
        request bo-requests-for-talk for Room: invalid (Talk belongs to someone else: only its organiser can change it)
        no effect: resource/retire bo-retires-room: Room belongs to someone else: only its owner can change it
        no effect: request/create ana-outside-event: the requested time lies outside Talk (2026-07-01 10:00–11:00)
        no effect: event/cancel bo-cancels-talk: Talk belongs to someone else: only its organiser can change it
        no effect: festival/update bo-renames-fest: Fest belongs to someone else: only its creator can change it
        no effect: request/create bo-requests-for-talk: Talk belongs to someone else: only its organiser can change it
    "#]]
    .assert_eq(&w.render(&w.state()));
}

#[test]
fn deny_then_confirm_and_retired_resource() {
    let mut w = World::new();
    let fest = w.festival("ana", "Fest", None);
    let van = w.resource("ana", fest, "Van", Availability::Always, "manual");
    let move_ = w.event("bo", fest, "Move", frame(t(6, 8, 0), t(6, 12, 0)));
    let q = w.request("bo", fest, "q-move", move_, van, frame(t(6, 8, 0), t(6, 12, 0)));
    w.write("ana", fest, Operation::Deny { request: q, resource: van, reason: "needs repair".into() }, "deny-move");
    let denied = w.render(&w.state());
    w.write("ana", fest, Operation::Confirm { request: q, resource: van, frame: None }, "confirm-move");
    w.write("ana", fest, Operation::ResourceRetire { resource: van }, "retire-van");
    let q2 = w.request("bo", fest, "q-move-2", move_, van, frame(t(6, 8, 0), t(6, 9, 0)));
    w.write("ana", fest, Operation::Confirm { request: q2, resource: van, frame: None }, "confirm-after-retire");
    expect![[r#"
        festival Fest: Fest
        resource Van of ana: Van
        event Move: Move 2026-07-06 08:00–12:00
        request q-move for Van: denied (needs repair)
    "#]]
    .assert_eq(&denied);
    expect![[r#"
        festival Fest: Fest
        resource Van of ana retired: Van
          booked 2026-07-06 08:00–12:00 by q-move
        event Move: Move 2026-07-06 08:00–12:00
        request q-move for Van: confirmed
        request q-move-2 for Van: invalid (the resource is retired)
        no effect: auth/confirm confirm-after-retire: the resource is retired
    "#]]
    .assert_eq(&w.render(&w.state()));
}

#[test]
fn confirm_arriving_before_its_request_takes_effect_when_the_request_arrives() {
    let mut w = World::new();
    let fest = w.festival("ana", "Fest", None);
    let room = w.resource("ana", fest, "Room", Availability::Always, "manual");
    let talk = w.event("bo", fest, "Talk", frame(t(1, 10, 0), t(1, 11, 0)));
    let q = w.request("bo", fest, "q-talk", talk, room, frame(t(1, 10, 0), t(1, 11, 0)));
    w.write("ana", fest, Operation::Confirm { request: q, resource: room, frame: None }, "confirm-talk");
    // Deliver ana's log first, bo's later.
    let mut s = model::State::new();
    let ana_key = w.key("ana");
    let (ana, bo): (Vec<_>, Vec<_>) = w.entries.iter().cloned().partition(|e| e.author == ana_key);
    for e in ana {
        s.apply(e);
    }
    let early = w.render(&s);
    for e in bo {
        s.apply(e);
    }
    expect![[r#"
        festival Fest: Fest
        resource Room of ana: Room
        no effect: auth/confirm confirm-talk: request q-talk is not known (yet)
    "#]]
    .assert_eq(&early);
    assert_eq!(w.render(&s), w.render(&w.state()));
    expect![[r#"
        festival Fest: Fest
        resource Room of ana: Room
          booked 2026-07-01 10:00–11:00 by q-talk
        event Talk: Talk 2026-07-01 10:00–11:00
        request q-talk for Room: confirmed
    "#]]
    .assert_eq(&w.render(&s));
}

#[test]
fn field_rules() {
    let mut w = World::new();
    let fest = w.festival("ana", "Fest", None);
    let mut fields = support::resource_fields("", Availability::Always, "fcfs");
    w.write("ana", fest, Operation::ResourceCreate(fields.clone()), "empty-name");
    fields.name = "x".repeat(201);
    w.write("ana", fest, Operation::ResourceCreate(fields.clone()), "long-name");
    fields.name = "Map point".into();
    fields.geo = Some(model::op::GeoPoint::from_degrees(91.0, 13.4));
    w.write("ana", fest, Operation::ResourceCreate(fields.clone()), "bad-lat");
    fields.geo = None;
    fields.policy = "no spaces".into();
    w.write("ana", fest, Operation::ResourceCreate(fields), "bad-policy");
    w.write("ana", fest, Operation::ProfileSet { name: " ".into(), about: String::new() }, "blank-profile");
    expect![[r#"
        festival Fest: Fest
        no effect: resource/create long-name: the name has 201 bytes; at most 200 are allowed
        no effect: profile/set blank-profile: the name must not be empty
        no effect: resource/create bad-lat: latitude 91 is outside -90..=90 degrees
        no effect: resource/create empty-name: the name must not be empty
        no effect: resource/create bad-policy: "no spaces" is not a policy name (letters, digits, '-' and '_')
    "#]]
    .assert_eq(&w.render(&w.state()));
}

/// Scenario: Ana's bike belongs to the festival; Bo's sub-festival's event books it, and
/// Ana's confirm names the slot. Cy holds the festival but not the sub-festival.
/// Assert: Cy sees the bike busy (by a request it does not know), a competing confirm
/// has no effect there as everywhere, and once the sub-festival arrives Cy's plan is Ana's.
#[test]
fn a_confirm_names_its_slot_so_the_owners_log_alone_says_what_is_busy() {
    let mut w = World::new();
    let camp = w.festival("ana", "Camp", None);
    let bike = w.resource("ana", camp, "Bike", Availability::Always, "manual");
    let tent = w.festival("bo", "Tent", Some(camp));
    let repair = w.event("bo", tent, "Repair", frame(t(1, 10, 0), t(1, 12, 0)));
    let q_repair = w.request("bo", tent, "q-repair", repair, bike, frame(t(1, 10, 0), t(1, 12, 0)));
    let named = Some(frame(t(1, 10, 0), t(1, 12, 0)));
    w.write("ana", camp, Operation::Confirm { request: q_repair, resource: bike, frame: named }, "confirm-repair");
    let tour = w.event("cy", camp, "Tour", frame(t(1, 11, 0), t(1, 13, 0)));
    let q_tour = w.request("cy", camp, "q-tour", tour, bike, frame(t(1, 11, 0), t(1, 13, 0)));
    let full = w.state();
    let in_tent = |e: &model::LogEntry| full.log(&e.author, e.log_id).and_then(|l| l.festival) == Some(tent);
    let mut cy = model::State::new();
    for e in w.entries.iter().filter(|e| !in_tent(e)) {
        cy.apply(e.clone());
    }
    expect![[r#"
        festival Camp: Camp
        resource Bike of ana: Bike
          booked 2026-07-01 10:00–12:00 by q-repair
        event Tour: Tour 2026-07-01 11:00–13:00
        request q-tour for Bike: pending
    "#]]
    .assert_eq(&w.render(&cy));
    let ana = w.key("ana");
    let confirm_tour =
        Operation::Confirm { request: q_tour, resource: bike, frame: Some(frame(t(1, 11, 0), t(1, 13, 0))) };
    expect![[r#"Err("overlaps a slot its owner confirmed for an event not held here (request q-repair, 2026-07-01 10:00–12:00 UTC)")"#]]
        .assert_eq(&w.relabel(&format!("{:?}", cy.check_op(&ana, &camp, &confirm_tour).map_err(|r| cy.describe(&r)))));
    for e in w.entries.iter().filter(|e| in_tent(e)) {
        cy.apply(e.clone());
    }
    assert_eq!(w.render(&cy), w.render(&full));
}

/// Scenario: the Opening's stage slot is confirmed; Bo moves the Opening an hour later, so
/// its request is requested anew, replacing the old one, which is withdrawn. Ana decides
/// the new request with the operations the model gives for it.
/// Assert: the old slot stays held while the new request waits; confirming releases the
/// old slot first (the new frame overlaps it), then takes the new one.
#[test]
fn a_moved_request_keeps_its_slot_until_the_new_one_is_decided() {
    let mut w = World::new();
    let fest = w.festival("ana", "Fest", None);
    let stage = w.resource("ana", fest, "Stage", Availability::Always, "manual");
    let opening = w.event("bo", fest, "Opening", frame(t(1, 18, 0), t(1, 20, 0)));
    let old = w.request("bo", fest, "q-old", opening, stage, frame(t(1, 18, 0), t(1, 20, 0)));
    let named = Some(frame(t(1, 18, 0), t(1, 20, 0)));
    w.write("ana", fest, Operation::Confirm { request: old, resource: stage, frame: named }, "confirm-old");
    let fields = support::event_fields("Opening", frame(t(1, 19, 0), t(1, 21, 0)));
    w.write("bo", fest, Operation::EventUpdate { event: opening, fields }, "move");
    let to = frame(t(1, 19, 0), t(1, 21, 0));
    let new = w.write(
        "bo",
        fest,
        Operation::RequestCreate { event: opening, resource: stage, frame: to, replaces: Some(old), until: None },
        "q-new",
    );
    w.write("bo", fest, Operation::RequestWithdraw { request: old, reason: String::new() }, "withdraw-old");
    let s = w.state();
    expect![[r#"
        festival Fest: Fest
        resource Stage of ana: Stage
          booked 2026-07-01 18:00–20:00 by q-old
        event Opening: Opening 2026-07-01 19:00–21:00
        request q-old for Stage: withdrawn (slot not released yet)
        request q-new for Stage: pending
    "#]]
    .assert_eq(&w.render(&s));
    let q = s.request(&new).unwrap();
    assert_eq!(s.confirmable(q), Ok(()), "the old slot does not count against its replacement");
    let ops = s.decision_ops(q, None);
    expect!["[Release { request: Id(q-old), resource: Id(Stage) }, Confirm { request: Id(q-new), resource: Id(Stage), frame: Some([2026-07-01T19:00:00Z, 2026-07-01T21:00:00Z)) }]"].assert_eq(&w.relabel(&format!("{ops:?}")));
    let ana = w.key("ana");
    assert_eq!(s.check_ops(&ana, &fest, &ops), Ok(()));
    assert!(s.check_op(&ana, &fest, ops.last().unwrap()).is_err(), "alone, the confirm overlaps the old slot");
    for (i, op) in ops.into_iter().enumerate() {
        w.write("ana", fest, op, &format!("decide-{i}"));
    }
    expect![[r#"
        festival Fest: Fest
        resource Stage of ana: Stage
          booked 2026-07-01 19:00–21:00 by q-new
        event Opening: Opening 2026-07-01 19:00–21:00
        request q-old for Stage: withdrawn
        request q-new for Stage: confirmed
    "#]]
    .assert_eq(&w.render(&w.state()));
}

#[test]
fn only_the_latest_votes_of_current_members_count() {
    let mut w = World::new();
    let fest = w.festival("ana", "Fest", None);
    let room = w.resource("house", fest, "Room", Availability::Always, "collective");
    let other = w.resource("house", fest, "Yard", Availability::Always, "collective");
    let (ana, bo, cy) = (w.key("ana"), w.key("bo"), w.key("cy"));
    let mut members = vec![ana, bo, cy];
    members.sort();
    w.write("house", fest, Operation::CollectiveSet { members, rule: model::VoteRule::Majority }, "members");
    let talk = w.event("dee", fest, "Talk", frame(t(1, 10, 0), t(1, 11, 0)));
    let q = w.request("dee", fest, "q-talk", talk, room, frame(t(1, 10, 0), t(1, 11, 0)));
    let vote = |yes: bool, resource| Operation::Vote { request: q, resource, yes, reason: String::new() };
    // A non-member's vote, and a vote naming another resource, count for nothing.
    w.write("dee", fest, vote(true, room), "dee-yes");
    w.write("ana", fest, vote(true, other), "ana-yes-for-the-yard");
    // Bo changes their mind: the later vote replaces the earlier.
    w.write("bo", fest, vote(true, room), "bo-yes");
    w.write("bo", fest, vote(false, room), "bo-no");
    w.write("cy", fest, vote(true, room), "cy-yes");
    let s = w.state();
    let tally = s.tally(s.request(&q).unwrap()).unwrap();
    assert_eq!((tally.yes, tally.no.len(), tally.needed, tally.outcome), (vec![cy], 1, 2, None));
    // The collective drops Bo: one yes of two members, with one more yes it would pass.
    let mut members = vec![ana, cy];
    members.sort();
    w.write("house", fest, Operation::CollectiveSet { members, rule: model::VoteRule::Majority }, "without-bo");
    w.write("ana", fest, vote(true, room), "ana-yes");
    let s = w.state();
    let tally = s.tally(s.request(&q).unwrap()).unwrap();
    assert_eq!((tally.yes.len(), tally.no.len(), tally.outcome), (2, 0, Some(true)));
    // The votes decide nothing by themselves: only the collective's own confirm does.
    assert_eq!(s.request_status(&q).unwrap().name(), "pending");
}

#[test]
fn a_ticket_admits_only_when_its_owner_confirms_and_only_while_it_holds() {
    let mut w = World::new();
    let fest = w.festival("ana", "Fest", None);
    let ticket = w.resource("tix", fest, "Ticket", Availability::Always, "manual");
    w.ask_for_ticket("ana", fest, "Fest", ticket, "needs-ticket");
    let apply = w.event("bo", fest, "Application", frame(t(1, 10, 0), t(1, 11, 0)));
    let q = w.request("bo", fest, "q-ticket", apply, ticket, frame(t(1, 10, 0), t(1, 11, 0)));
    let bo = w.key("bo");
    // Someone who is not the ticket's owner "issues" it: no effect, Bo is not admitted.
    w.write("cy", fest, Operation::Confirm { request: q, resource: ticket, frame: None }, "cy-forges");
    let s = w.state();
    assert!(!s.admitted(&fest, &bo));
    assert!(s.admitted(&fest, &w.key("ana")), "the festival's creator needs no ticket");
    assert!(s.admitted(&fest, &w.key("tix")), "nor does the ticket's owner");
    w.write("tix", fest, Operation::Confirm { request: q, resource: ticket, frame: None }, "tix-issues");
    assert!(w.state().admitted(&fest, &bo));
    w.write("tix", fest, Operation::Release { request: q, resource: ticket }, "tix-revokes");
    assert!(!w.state().admitted(&fest, &bo));
}

/// An event's or a request's creation that took effect has no operation record of its own
/// (its event or request holds all of it), and reads back as the record it would be; one
/// without effect is stored, with its rule.
#[test]
fn creations_that_took_effect_read_back_as_records_without_rows_of_their_own() {
    let mut w = World::new();
    let fest = w.festival("ana", "Fest", None);
    let room = w.resource("ana", fest, "Room", Availability::Always, "manual");
    let talk = w.event("bo", fest, "Talk", frame(t(1, 10, 0), t(1, 11, 0)));
    let q = w.request("bo", fest, "q-talk", talk, room, frame(t(1, 10, 0), t(1, 11, 0)));
    let outside = w.request("bo", fest, "q-outside", talk, room, frame(t(1, 12, 0), t(1, 13, 0)));
    let empty = w.event("cy", fest, "", frame(t(1, 10, 0), t(1, 11, 0)));
    let mut s = w.state();
    let stored: Vec<Vec<u8>> =
        s.take_changes().into_iter().filter(|(table, ..)| *table == "ops").map(|(_, key, _)| key).collect();
    let mut out = String::new();
    for id in [fest, room, talk, q, outside, empty] {
        let r = s.op(&id).expect("recorded");
        let row = if stored.iter().any(|k| k.ends_with(&id.0.0)) { "row" } else { "no row" };
        let author = r.author.to_hex()[..8].to_string();
        let status = match &r.status {
            OpStatus::Applied => "applied".to_string(),
            OpStatus::NoEffect(rule) => format!("no effect: {}", s.describe(rule)),
        };
        let same_log = r.log.0 == r.author && r.festival == Some(fest);
        out.push_str(&format!("{} by {author}, entry {}, in Fest's log {same_log}, {status}; {row}\n", r.kind, r.seq));
    }
    let listed = s.ops().filter(|(id, _)| [talk, q, outside].contains(id)).count();
    out.push_str(&format!("listed by ops(): {listed} of 3\n"));
    expect![[r#"
        festival/create by ana, entry 1, in Fest's log true, applied; row
        resource/create by ana, entry 2, in Fest's log true, applied; row
        event/create by bo, entry 1, in Fest's log true, applied; no row
        request/create by bo, entry 2, in Fest's log true, applied; no row
        request/create by bo, entry 3, in Fest's log true, no effect: the requested time lies outside Talk (2026-07-01 10:00–11:00); row
        event/create by cy, entry 1, in Fest's log true, no effect: the title must not be empty; row
        listed by ops(): 3 of 3
    "#]].assert_eq(&w.relabel(&out));
}

// Scenario: a state made from nothing, then two festivals' entries applied in two rounds,
// the second with an owner's confirm before the request it decides.
// Assert: a state just made says anything may have changed; then each round names the
// festivals and kinds of the entries applied in it, and nothing once taken.
#[test]
fn take_changed_names_what_the_entries_applied_since_touched() {
    let mut w = World::new();
    let fest = w.festival("ana", "Fest", None);
    let stage = w.resource("ana", fest, "Stage", Availability::Always, "manual");
    let other = w.festival("bo", "Other", None);
    let opening = w.event("cy", fest, "Opening", frame(t(1, 18, 0), t(1, 20, 0)));
    let q = w.request("cy", fest, "q-opening", opening, stage, frame(t(1, 18, 0), t(1, 20, 0)));
    w.write("ana", fest, Operation::Confirm { request: q, resource: stage, frame: None }, "confirm");
    let mut s = model::State::new();
    let show = |c: Option<model::Changed>| match c {
        None => "anything".to_string(),
        Some(c) => {
            let mut festivals: Vec<String> = c.festivals.iter().map(|f| w.relabel(&f.to_hex())).collect();
            festivals.sort();
            format!("{festivals:?} {:?}", c.kinds)
        }
    };
    let mut seen = Vec::new();
    seen.push(show(s.take_changed()));
    // Ana's and Bo's logs: Fest, Stage, Other; and Cy's event without Cy's request after it.
    let (cy_request, rest): (Vec<_>, Vec<_>) = w.entries.iter().cloned().partition(|e| e.hash == q);
    let (firsts, last) = rest.split_at(3);
    for e in firsts {
        s.apply(e.clone());
    }
    seen.push(show(s.take_changed()));
    seen.push(show(s.take_changed()));
    // Ana's confirm comes before the request it decides; then the request.
    for e in last.iter().chain(&cy_request) {
        s.apply(e.clone());
    }
    seen.push(show(s.take_changed()));
    assert!(s.festival(&other).is_some());
    expect![[r#"
        anything
        ["Fest", "Other"] {"festival/create", "resource/create"}
        [] {}
        ["Fest"] {"auth/confirm", "event/create", "request/create"}"#]]
    .assert_eq(&seen.join("\n"));
}
