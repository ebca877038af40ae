//! `cargo xtask bench`: one festival of about a million entries, as issue 15's point 4 asks:
//! 2,000 resources, 200,000 events that each request two of them, and every request decided
//! by its resource's owner (confirmed where the slot is free, else denied). The release
//! binary imports it into an empty data directory and serves it on loopback. Reports, each
//! against its limit: the import's peak memory, how long `serve` takes to answer, its memory
//! idle and after the queries, and the latency of the check, a resource's free time for a
//! day and the festival's schedule page (100 events of a day of its programme, `?limit=`: the
//! first page and the next); a whole day, the whole programme at once, the iCalendar feed and
//! the frab and c3voc schedules are timed too, for comparison.
//!
//! Then an empty node syncs the whole festival from the serving one (time and peak memory).
//!
//! `PANDAFEST_PLAN_EVENTS` scales the festival (events; resources and people follow).
//! `PANDAFEST_PLAN_TICKETS=N` makes it ask for a ticket, which the organisers, the owners and
//! N visitors hold (each an application of the first hour and its confirmed request): what
//! the programme asks of each event's organiser and each resource's owner then costs more.

mod common;

use std::io::Write;
use std::time::{Duration, Instant};

use bamboo::{Keypair, LogWriter};
use model::op::{EventFields, FestivalFields, Payload};
use model::{Id, Operation, TimeFrame, Timestamp};
use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};

use common::{Serving, ms, status_kb};

const HOUR: i64 = 3_600_000;
const BASE: i64 = 1_782_864_000_000; // 2026-07-01T00:00:00Z
/// The festival's length, in hours: a month.
const HOURS: usize = 30 * 24;
/// The events of one schedule page (`?limit=`).
const PAGE: usize = 100;
const RSS_LIMIT_MB: f64 = 150.0;
const START_LIMIT_S: f64 = 1.0;
const QUERY_LIMIT_MS: f64 = 10.0;
const ROOM: &str = "Chairs, a projector, a window to the lake";

struct Festival {
    /// Every entry as signed with its payload, each log in order.
    entries: Vec<(Vec<u8>, Vec<u8>)>,
    resources: Vec<Id>,
}

fn frame(start_hour: usize, hours: usize) -> TimeFrame {
    let start = BASE + start_hour as i64 * HOUR;
    TimeFrame::new(Timestamp(start), Timestamp(start + hours as i64 * HOUR)).unwrap()
}

fn festival(events: usize, visitors: usize) -> Festival {
    let resources = (events / 100).max(20);
    let owners = (resources / 50).max(2);
    let organisers = (events / 500).max(4);
    let mut rng = StdRng::seed_from_u64(15);
    let mut entries = Vec::new();
    let mut push = |w: &mut LogWriter, payload: Payload| -> Id {
        let bytes = payload.encode();
        let e = w.append(&bytes);
        entries.push((e.bytes, bytes));
        Id(e.hash)
    };
    let mut owner_logs: Vec<LogWriter> =
        (0..owners).map(|i| LogWriter::new(Keypair::from_secret(seed(1, i)), 0)).collect();
    let create = Operation::FestivalCreate {
        parent: None,
        fields: FestivalFields {
            name: "A month of everything".into(),
            description: "A million entries".into(),
            timezone: "Europe/Berlin".into(),
            frame: Some(frame(0, HOURS)),
            ticket: None,
        },
    };
    let fest = push(&mut owner_logs[0], Payload { festival: None, op: create });
    for (i, w) in owner_logs.iter_mut().enumerate().skip(1) {
        let _ = i;
        push(w, Payload { festival: Some(fest), op: profile("Owner") });
    }
    let mut rooms = Vec::with_capacity(resources);
    for r in 0..resources {
        let op = Operation::ResourceCreate(common::location(format!("Room {r}"), ROOM));
        rooms.push(push(&mut owner_logs[r % owners], Payload { festival: None, op }));
    }
    // Requests per owner in the order the organisers wrote them: (request, room, frame).
    let mut incoming: Vec<Vec<(Id, usize, TimeFrame)>> = vec![Vec::new(); owners];
    let mut organiser_logs: Vec<LogWriter> =
        (0..organisers).map(|i| LogWriter::new(Keypair::from_secret(seed(2, i)), 0)).collect();
    for (i, w) in organiser_logs.iter_mut().enumerate() {
        push(w, Payload { festival: Some(fest), op: profile(&format!("Organiser {i}")) });
    }
    if visitors > 0 {
        let mut fields = common::location("Ticket".into(), ROOM);
        fields.capacity = model::Capacity::Unlimited;
        let ticket = push(&mut owner_logs[0], Payload { festival: None, op: Operation::ResourceCreate(fields) });
        let fields = FestivalFields {
            name: "A month of everything".into(),
            description: "A million entries".into(),
            timezone: "Europe/Berlin".into(),
            frame: Some(frame(0, HOURS)),
            ticket: Some(ticket),
        };
        push(&mut owner_logs[0], Payload { festival: None, op: Operation::FestivalUpdate { festival: fest, fields } });
        // Everyone but the festival's creator applies: the owners and organisers in their
        // logs of the festival, the visitors in logs that begin here.
        let mut applied = Vec::new();
        let mut apply = |w: &mut LogWriter, festival: Option<Id>| {
            let f = frame(0, 1);
            let op = Operation::EventCreate(EventFields {
                title: "Application".into(),
                description: String::new(),
                frame: f,
                bundle: false,
            });
            let event = push(w, Payload { festival, op });
            let op = Operation::RequestCreate { event, resource: ticket, frame: f, replaces: None, until: None };
            applied.push((push(w, Payload { festival: None, op }), f));
        };
        for w in owner_logs.iter_mut().skip(1).chain(organiser_logs.iter_mut()) {
            apply(w, None);
        }
        for i in 0..visitors {
            apply(&mut LogWriter::new(Keypair::from_secret(seed(3, i)), 0), Some(fest));
        }
        for (request, f) in applied {
            push(
                &mut owner_logs[0],
                Payload { festival: None, op: Operation::Confirm { request, resource: ticket, frame: Some(f) } },
            );
        }
    }
    for e in 0..events {
        let w = &mut organiser_logs[e % organisers];
        let f = frame(rng.random_range(0..HOURS - 3), rng.random_range(1..=3));
        let op = Operation::EventCreate(EventFields {
            title: format!("Workshop {e}"),
            description: "Bring something to share; everyone is welcome.".into(),
            frame: f,
            bundle: false,
        });
        let event = push(w, Payload { festival: None, op });
        let a = rng.random_range(0..resources);
        let b = (a + 1 + rng.random_range(0..resources - 1)) % resources;
        for room in [a, b] {
            let op = Operation::RequestCreate { event, resource: rooms[room], frame: f, replaces: None, until: None };
            let q = push(w, Payload { festival: None, op });
            incoming[room % owners].push((q, room, f));
        }
    }
    // Each owner confirms what fits, hour by hour, and denies the rest.
    let mut taken = vec![vec![false; HOURS]; resources];
    for (o, w) in owner_logs.iter_mut().enumerate() {
        for &(request, room, f) in &incoming[o] {
            let from = ((f.start().0 - BASE) / HOUR) as usize;
            let to = ((f.end().0 - BASE) / HOUR) as usize;
            let op = if taken[room][from..to].iter().any(|t| *t) {
                Operation::Deny { request, resource: rooms[room], reason: "Taken already, sorry".into() }
            } else {
                taken[room][from..to].iter_mut().for_each(|t| *t = true);
                Operation::Confirm { request, resource: rooms[room], frame: Some(f) }
            };
            push(w, Payload { festival: None, op });
        }
    }
    // The owners' logs came first in `entries` only partly: fine, the import takes any order
    // of logs as long as each log is in order.
    Festival { entries, resources: rooms }
}

fn seed(kind: u8, i: usize) -> [u8; 32] {
    let mut s = [kind; 32];
    s[..8].copy_from_slice(&(i as u64).to_le_bytes());
    s
}

fn profile(name: &str) -> Operation {
    Operation::ProfileSet { name: name.into(), about: String::new() }
}

fn main() {
    let events: usize = std::env::var("PANDAFEST_PLAN_EVENTS").ok().and_then(|v| v.parse().ok()).unwrap_or(200_000);
    let visitors: usize = std::env::var("PANDAFEST_PLAN_TICKETS").ok().and_then(|v| v.parse().ok()).unwrap_or(0);
    let dir = tempfile::tempdir().unwrap();
    let t = Instant::now();
    let fest = festival(events, visitors);
    let n = fest.entries.len();
    let file = dir.path().join("entries.txt");
    {
        let mut out = std::io::BufWriter::new(std::fs::File::create(&file).unwrap());
        for (e, p) in &fest.entries {
            writeln!(out, "{} {}", hex::encode(e), hex::encode(p)).unwrap();
        }
    }
    let resources = fest.resources;
    drop(fest.entries);
    let tickets = match visitors {
        0 => String::new(),
        n => format!("; a ticket held by its organisers, owners and {n} visitors"),
    };
    println!(
        "plan: {n} entries ({} resources, {events} events, {} requests, each decided{tickets}) prepared in {:.1} s",
        resources.len(),
        2 * events,
        t.elapsed().as_secs_f64()
    );

    if let Ok(keep) = std::env::var("PANDAFEST_BENCH_FILE") {
        // For profiling the import by hand: keep the file and stop here.
        std::fs::copy(&file, &keep).unwrap();
        return;
    }

    let data = dir.path().join("node");
    let (imported, import_kb, import_secs) =
        common::pandafest(&["--data-dir", data.to_str().unwrap(), "log", "import", file.to_str().unwrap()]);
    assert!(imported, "import failed");
    let db_mb = common::database_mb(&data);
    let festival = common::festival_id(&data);

    // Start: from spawning `serve` to its first answer.
    let t = Instant::now();
    let node = Serving::start(&data, std::process::Stdio::null());
    let base = format!("http://{}/api/v1", node.address);
    let auth = format!("Bearer {}", node.token);
    let get = |path: &str| -> String {
        let mut r = ureq::get(&format!("{base}{path}")).header("Authorization", &auth).call().unwrap();
        r.body_mut().with_config().limit(1 << 30).read_to_string().unwrap()
    };
    get("/identity");
    let start_secs = t.elapsed().as_secs_f64();
    std::thread::sleep(Duration::from_millis(1500));
    let idle_mb = status_kb(node.pid(), "VmRSS:") as f64 / 1024.0;

    let mut rng = StdRng::seed_from_u64(16);
    let mut check = Vec::new();
    let mut free = Vec::new();
    for _ in 0..200 {
        let room = resources[rng.random_range(0..resources.len())];
        let f = frame(rng.random_range(0..HOURS - 3), 2);
        let body = serde_json::json!({
            "resource": room.to_hex(),
            "start": f.start().to_rfc3339(),
            "end": f.end().to_rfc3339(),
        });
        let t = Instant::now();
        ureq::post(&format!("{base}/check")).header("Authorization", &auth).send_json(&body).unwrap();
        check.push(t.elapsed().as_secs_f64());
        let day = frame(rng.random_range(0..HOURS / 24) * 24, 24);
        let path = format!(
            "/resources/{}/calendar?start={}&end={}",
            room.to_hex(),
            day.start().to_rfc3339(),
            day.end().to_rfc3339()
        );
        let t = Instant::now();
        get(&path);
        free.push(t.elapsed().as_secs_f64());
    }
    // The programme overlapping a random day of the month.
    let mut day_path = || {
        let day = frame(rng.random_range(0..HOURS / 24) * 24, 24);
        format!("/festivals/{festival}/programme?start={}&end={}", day.start().to_rfc3339(), day.end().to_rfc3339())
    };
    // A whole day of the programme, for comparison with a page of it.
    let mut page = Vec::new();
    let mut page_events = 0;
    for _ in 0..50 {
        let path = day_path();
        let t = Instant::now();
        let body = get(&path);
        page.push(t.elapsed().as_secs_f64());
        let v: serde_json::Value = serde_json::from_str(&body).unwrap();
        page_events += v["events"].as_array().unwrap().len();
    }
    // The schedule page, as a phone scrolls a day: the first 100 events, then the next 100.
    // What the node reads meanwhile tells a slow page from a slow disk: a page's rows are
    // scattered over the database, one page of it each, and a page the OS no longer caches
    // is fetched from the device.
    let io = || ["rchar:", "read_bytes:", "syscr:"].map(|field| common::io_count(node.pid(), field));
    let io_before = io();
    let mut paged = Vec::new();
    for _ in 0..50 {
        let path = format!("{}&limit={PAGE}", day_path());
        let t = Instant::now();
        let body = get(&path);
        paged.push(t.elapsed().as_secs_f64());
        let v: serde_json::Value = serde_json::from_str(&body).unwrap();
        assert_eq!(v["events"].as_array().unwrap().len(), PAGE, "a day holds more than a page");
        let next = v["next"].as_str().expect("a next page");
        let t = Instant::now();
        get(&format!("{path}&after={next}"));
        paged.push(t.elapsed().as_secs_f64());
    }
    let io_after = io();
    let [read, fetched, calls]: [u64; 3] = std::array::from_fn(|i| io_after[i] - io_before[i]);
    let page_memory_mb = status_kb(node.pid(), "VmRSS:") as f64 / 1024.0;
    // A whole answer fetched twice: its size and each fetch's time.
    let twice = |path: &str| {
        let mut times = Vec::new();
        let mut bytes = 0;
        for _ in 0..2 {
            let t = Instant::now();
            bytes = get(path).len();
            times.push(t.elapsed().as_secs_f64());
        }
        (bytes, times)
    };
    // The whole programme at once, for comparison: every booked event of the month.
    let (programme_bytes, mut programme) = twice(&format!("/festivals/{festival}/programme"));
    // The festival's iCalendar feed, which a calendar app fetches whole.
    let (calendar_bytes, mut calendar) = twice(&format!("/festivals/{festival}/schedule.ics"));
    // The schedule formats offline apps read, laid out by day and room.
    let mut feeds = Vec::new();
    for format in ["xml", "json"] {
        let t = Instant::now();
        let bytes = get(&format!("/festivals/{festival}/schedule.{format}")).len();
        feeds.push((format, bytes, t.elapsed().as_secs_f64()));
    }
    let live_mb = status_kb(node.pid(), "VmRSS:") as f64 / 1024.0;
    let peak_mb = status_kb(node.pid(), "VmHWM:") as f64 / 1024.0;
    // Sync: an empty node takes the whole festival from the serving one, over loopback.
    let empty = dir.path().join("empty");
    let (synced, sync_kb, sync_secs) = common::pandafest(&[
        "--data-dir",
        empty.to_str().unwrap(),
        "sync",
        "--peer",
        &node.address,
        "--festival",
        &festival,
    ]);
    assert!(synced, "sync failed");
    let serving_peak_mb = status_kb(node.pid(), "VmHWM:") as f64 / 1024.0;
    drop(node);

    let import_mb = import_kb as f64 / 1024.0;
    println!("  import: {:.0} entries/s ({import_secs:.1} s), database {db_mb:.0} MB", n as f64 / import_secs);
    println!(
        "  import peak memory:  {import_mb:>7.0} MB = {:.2}× the {RSS_LIMIT_MB:.0} MB limit",
        import_mb / RSS_LIMIT_MB
    );
    println!(
        "  serve, first answer: {start_secs:>7.2} s  = {:.2}× the {START_LIMIT_S:.0} s limit",
        start_secs / START_LIMIT_S
    );
    println!("  serve memory idle:   {idle_mb:>7.0} MB = {:.2}× the limit", idle_mb / RSS_LIMIT_MB);
    println!(
        "  serve memory after the whole programme, the calendar and the schedules too: {live_mb:.0} MB (peak {peak_mb:.0} MB = {:.2}× the limit)",
        peak_mb / RSS_LIMIT_MB
    );
    let worst = |v: &mut Vec<f64>| {
        let p99 = {
            v.sort_by(|a, b| a.total_cmp(b));
            common::percentile(v, 0.99) * 1e3
        };
        format!("{}; p99 = {:.2}× the {QUERY_LIMIT_MS:.0} ms limit", ms(v), p99 / QUERY_LIMIT_MS)
    };
    let sync_mb = sync_kb as f64 / 1024.0;
    println!("  sync into an empty node: {:.0} entries/s ({sync_secs:.1} s)", n as f64 / sync_secs);
    println!("  sync, receiving node's peak memory: {sync_mb:.0} MB = {:.2}× the limit", sync_mb / RSS_LIMIT_MB);
    println!(
        "  serving node's peak over everything (queries, whole programmes, the sync): {serving_peak_mb:.0} MB = {:.2}× the limit",
        serving_peak_mb / RSS_LIMIT_MB
    );
    println!("  check (POST /check, 2 h):            {}", worst(&mut check));
    println!("  free time (a resource's calendar, a day): {}", worst(&mut free));
    println!("  a whole day of the programme ({} events on average): {}", page_events / 50, worst(&mut page));
    println!("  the schedule page ({PAGE} events of a day, the first or the next): {}", worst(&mut paged));
    let pages = paged.len() as f64;
    println!(
        "    each page: {:.0} read calls, {:.1} MB read, of which {:.2} MB from the disk (the rest from the OS's page cache; the request's socket reads are in the calls too)",
        calls as f64 / pages,
        read as f64 / pages / 1e6,
        fetched as f64 / pages / 1e6
    );
    println!(
        "  serve memory after the checks, free times and pages: {page_memory_mb:.0} MB = {:.2}× the limit",
        page_memory_mb / RSS_LIMIT_MB
    );
    println!(
        "  the whole programme at once ({:.1} MB of JSON; not a page): {}",
        programme_bytes as f64 / 1e6,
        ms(&mut programme)
    );
    println!("  the iCalendar feed ({:.1} MB): {}", calendar_bytes as f64 / 1e6, ms(&mut calendar));
    for (format, bytes, secs) in feeds {
        println!("  the schedule.{format} ({:.1} MB): {:.1} s", bytes as f64 / 1e6, secs);
    }
}
