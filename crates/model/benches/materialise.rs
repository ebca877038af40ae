//! `cargo xtask bench`: materialising and querying a big festival.
//!
//! 10k resources, 100k events each requesting one resource (every third two), half of the
//! requests confirmed by
//! the owners (some confirms conflict). Measures the fold (signatures already checked,
//! as after ingest) in operations per second against the goal of 100k/s, and the
//! conflict check, free-time and overlap queries in microseconds against the goal of
//! well under a millisecond. Then the same entries with capacities (a third of the
//! resources five at a time, a third without limit) and bundles (the events with two
//! requests all or nothing), as ratios to the run without.

use std::hint::black_box;
use std::time::Instant;

use bamboo::{Keypair, LogWriter};
use model::op::{EventFields, FestivalFields, Payload, ResourceFields, ResourceKind};
use model::{Availability, Id, Key, LogEntry, Operation, State, TimeFrame, Timestamp};
use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};

const PEOPLE: usize = 100;
const RESOURCES: usize = 10_000;
const EVENTS: usize = 100_000;
const HOUR: i64 = 3_600_000;
const BASE: i64 = 1_782_864_000_000; // 2026-07-01T00:00:00Z

struct Writer {
    w: LogWriter,
    first: bool,
}

struct Figures {
    rate: f64,
    conflict: f64,
    free: f64,
    booked: f64,
}

fn main() {
    let plain = run("one at a time, no bundles", &|_| model::Capacity::ONE, false);
    let mixed = run(
        "with capacities and bundles",
        &|i| match i % 3 {
            0 => model::Capacity::ONE,
            1 => model::Capacity::limited(5).unwrap(),
            _ => model::Capacity::Unlimited,
        },
        true,
    );
    println!("capacities and bundles against neither, same entries and probes (1.00 = as fast):");
    println!("  fold rate:            {:>10.2}×", mixed.rate / plain.rate);
    println!("  conflict check time:  {:>10.2}×", mixed.conflict / plain.conflict);
    println!("  free time query time: {:>10.2}×", mixed.free / plain.free);
    println!("  booked? query time:   {:>10.2}×", mixed.booked / plain.booked);
}

/// Every third event asks for two resources; with `bundles` it is all or nothing.
fn run(name: &str, capacity: &dyn Fn(usize) -> model::Capacity, bundles: bool) -> Figures {
    println!("== {name}");
    let mut rng = StdRng::seed_from_u64(7);
    let started = Instant::now();
    let mut entries: Vec<LogEntry> = Vec::new();
    let push = |entries: &mut Vec<LogEntry>, w: &mut Writer, festival: Id, op: Operation| -> Id {
        let payload = Payload { festival: (!w.first).then_some(festival), op }.encode();
        w.first = true;
        let signed = w.w.append(&payload);
        let id = Id(signed.hash);
        entries.push(LogEntry {
            hash: id,
            author: Key(signed.entry.author),
            log_id: 0,
            seq: signed.entry.seq_num,
            payload,
        });
        id
    };
    let mut writers: Vec<Writer> = (0..PEOPLE)
        .map(|i| Writer { w: LogWriter::new(Keypair::from_secret([i as u8 + 1; 32]), 0), first: false })
        .collect();
    let fest_payload = Payload {
        festival: None,
        op: Operation::FestivalCreate {
            parent: None,
            fields: FestivalFields {
                name: "Big".into(),
                description: String::new(),
                timezone: "Europe/Berlin".into(),
                frame: None,
                ticket: None,
            },
        },
    }
    .encode();
    let signed = writers[0].w.append(&fest_payload);
    writers[0].first = true;
    let festival = Id(signed.hash);
    entries.push(LogEntry {
        hash: festival,
        author: Key(signed.entry.author),
        log_id: 0,
        seq: 1,
        payload: fest_payload,
    });

    let mut resources = Vec::with_capacity(RESOURCES);
    for i in 0..RESOURCES {
        let owner = i % PEOPLE;
        let fields = ResourceFields {
            name: format!("Room {i}"),
            kind: ResourceKind::Location,
            description: String::new(),
            geo: None,
            address: String::new(),
            url: String::new(),
            availability: Availability::Always,
            policy: "fcfs".into(),
            capacity: capacity(i),
            needs: Vec::new(),
        };
        resources.push((push(&mut entries, &mut writers[owner], festival, Operation::ResourceCreate(fields)), owner));
    }
    let mut requests = Vec::with_capacity(EVENTS);
    let mut events = Vec::with_capacity(EVENTS);
    for i in 0..EVENTS {
        let organiser = rng.random_range(0..PEOPLE);
        let start = BASE + rng.random_range(0..24 * 30) * HOUR;
        let frame = TimeFrame::new(Timestamp(start), Timestamp(start + rng.random_range(1..4) * HOUR)).unwrap();
        let pair = i % 3 == 0;
        let fields =
            EventFields { title: format!("Event {i}"), description: String::new(), frame, bundle: bundles && pair };
        let event = push(&mut entries, &mut writers[organiser], festival, Operation::EventCreate(fields));
        events.push(event);
        for _ in 0..if pair { 2 } else { 1 } {
            let (resource, owner) = resources[rng.random_range(0..RESOURCES)];
            let request = push(
                &mut entries,
                &mut writers[organiser],
                festival,
                Operation::RequestCreate { event, resource, frame, replaces: None, until: None },
            );
            requests.push((request, resource, owner));
        }
    }
    for (request, resource, owner) in requests.iter().filter(|_| rng.random_bool(0.5)) {
        push(
            &mut entries,
            &mut writers[*owner],
            festival,
            Operation::Confirm { request: *request, resource: *resource, frame: None },
        );
    }
    // Deliver log by log interleaved, as a sync would.
    entries.sort_by_key(|e| (e.seq, e.author));
    println!("prepared {} entries in {:.1}s", entries.len(), started.elapsed().as_secs_f64());

    let n = entries.len();
    let mut best = f64::MAX;
    let mut state = State::new();
    for _ in 0..3 {
        let batch = entries.clone();
        let start = Instant::now();
        let mut s = State::new();
        for e in batch {
            s.apply(e);
        }
        best = best.min(start.elapsed().as_secs_f64());
        state = s;
    }
    let rate = n as f64 / best;
    let start = Instant::now();
    let rows = state.take_changes();
    let changes_time = start.elapsed().as_secs_f64();
    let confirmed = state.resources().map(|r| r.alloc.active().count()).sum::<usize>();

    // Queries on random resources and frames.
    const Q: usize = 20_000;
    let probes: Vec<(Id, TimeFrame)> = (0..Q)
        .map(|_| {
            let start = BASE + rng.random_range(0..24 * 30) * HOUR;
            (
                resources[rng.random_range(0..RESOURCES)].0,
                TimeFrame::new(Timestamp(start), Timestamp(start + 2 * HOUR)).unwrap(),
            )
        })
        .collect();
    let time_query = |f: &dyn Fn(&Id, &TimeFrame)| {
        let start = Instant::now();
        for (r, frame) in &probes {
            f(r, frame);
        }
        start.elapsed().as_secs_f64() / Q as f64 * 1e6
    };
    let conflict = time_query(&|r, f| {
        black_box(state.resource(r).unwrap().alloc.can_confirm(f).is_ok());
    });
    let week = |f: &TimeFrame| TimeFrame::new(f.start(), Timestamp(f.start().0 + 7 * 24 * HOUR)).unwrap();
    let free = time_query(&|r, f| {
        black_box(state.resource(r).unwrap().alloc.free_in(&week(f)));
    });
    let overlapping = time_query(&|r, f| {
        black_box(state.requests_overlapping(r, f));
    });
    let event_probes: Vec<Id> = (0..Q).map(|_| events[rng.random_range(0..EVENTS)]).collect();
    let start = Instant::now();
    for e in &event_probes {
        black_box(state.is_booked(state.event(e).unwrap()));
    }
    let booked = start.elapsed().as_secs_f64() / Q as f64 * 1e6;
    let status = time_query(&|r, _| {
        let q = state.requests_for(r).next();
        black_box(q.map(|q| state.request_status(&q.id)));
    });

    println!(
        "materialise: {n} operations ({RESOURCES} resources, {EVENTS} events and requests, {confirmed} active confirms)"
    );
    println!("  fold:                 {:>10.0} ops/s   (goal >= 100000: ratio {:.2})", rate, rate / 100_000.0);
    println!(
        "  changed rows:         {:>10} rows in {:.2}s (what a store writes after the batch)",
        rows.len(),
        changes_time
    );
    println!("queries over {Q} random probes (goal well under 1000 µs):");
    println!("  conflict check:       {conflict:>10.2} µs");
    println!("  free time in a week:  {free:>10.2} µs");
    println!("  overlapping requests: {overlapping:>10.2} µs");
    println!("  request status:       {status:>10.2} µs");
    println!("  is the event booked:  {booked:>10.2} µs");
    Figures { rate, conflict, free, booked }
}
