//! `cargo xtask bench`: a community node. One `pandafest serve` (the release binary, on
//! loopback) holds 1,000 festivals and serves 200 browser-like peers at once over `/sync`,
//! the endpoint the browser peer dials. Each simulated peer is what the browser peer is: an
//! in-memory store in a `service::Node` that joined one festival by its invite link, with
//! its own key, syncing live through the net crate's dialler and driver. Measures the
//! bring-up of all 200 sessions, the server's CPU and memory, and how long a write takes to
//! reach the other live peers of its festival: written by a peer (browser → node → browsers)
//! and by the node's own API (node → browsers). Asserts only that every peer ends up with
//! every entry of its festival.

mod common;

use std::collections::BTreeMap;
use std::io::Write;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bamboo::{Keypair, LogWriter};
use model::op::{EventFields, FestivalFields, Payload};
use model::{Id, Operation, TimeFrame, Timestamp};
use sync::SyncStore;
use tokio::sync::mpsc;

use common::{ms, status_kb};

const FESTIVALS: usize = 1_000;
const AUTHORS: usize = 10;
/// Per festival: its organiser's resources, and guests (other authors) with events that
/// each request one of them.
const RESOURCES: usize = 6;
const GUESTS: usize = 3;
const EVENTS: usize = 4;
const PER_FESTIVAL: usize = 1 + RESOURCES + GUESTS * EVENTS * 2;
/// Festivals the peers join, and peers in each.
const JOINED: usize = 50;
const PEERS_PER_FESTIVAL: usize = 4;
const PEERS: usize = JOINED * PEERS_PER_FESTIVAL;
/// Writes by a peer (one festival each), then by the node's API (other festivals).
const PEER_WRITES: usize = 20;
/// Sessions timed alone before the 200, on festivals none of them joins.
const LONE: usize = 5;
const NODE_WRITES: usize = 10;
const _: () = assert!(PEER_WRITES + NODE_WRITES <= JOINED, "each write goes to a festival of its own");
const _: () = assert!(JOINED + LONE <= FESTIVALS, "the lone sessions join festivals of their own");
/// What the issue allows a node's memory.
const RSS_LIMIT_MB: f64 = 150.0;
const HOUR: i64 = 3_600_000;
const BASE: i64 = 1_782_864_000_000;

fn frame(slot: usize) -> TimeFrame {
    let start = BASE + slot as i64 * 2 * HOUR;
    TimeFrame::new(Timestamp(start), Timestamp(start + 2 * HOUR)).unwrap()
}

/// An entry as signed, and its payload.
type Signed = (Vec<u8>, Vec<u8>);

/// Every festival's entries, each log in order, and the festivals' ids.
fn entries() -> (Vec<Signed>, Vec<Id>) {
    let keys: Vec<Keypair> = (0..AUTHORS).map(|i| Keypair::from_secret([i as u8 + 41; 32])).collect();
    let mut out = Vec::with_capacity(FESTIVALS * PER_FESTIVAL);
    let mut festivals = Vec::with_capacity(FESTIVALS);
    for f in 0..FESTIVALS {
        // One log per author and festival; the festival's number is as good a log id as any.
        let mut organiser = LogWriter::new(keys[f % AUTHORS].clone(), f as u64);
        let mut push = |w: &mut LogWriter, payload: Payload| -> Id {
            let bytes = payload.encode();
            let e = w.append(&bytes);
            out.push((e.bytes, bytes));
            Id(e.hash)
        };
        let create = Operation::FestivalCreate {
            parent: None,
            fields: FestivalFields {
                name: format!("Festival {f}"),
                description: "A weekend in the park".into(),
                timezone: "UTC".into(),
                frame: None,
                ticket: None,
            },
        };
        let festival = push(&mut organiser, Payload { festival: None, op: create });
        festivals.push(festival);
        let mut resources = Vec::new();
        for r in 0..RESOURCES {
            let op = Operation::ResourceCreate(common::location(format!("Stage {r}"), "A stage with chairs"));
            resources.push(push(&mut organiser, Payload { festival: None, op }));
        }
        for g in 0..GUESTS {
            let mut guest = LogWriter::new(keys[(f + 1 + g) % AUTHORS].clone(), f as u64);
            for e in 0..EVENTS {
                let slot = g * EVENTS + e;
                let op = Operation::EventCreate(EventFields {
                    title: format!("Session {slot}"),
                    description: "Bring water".into(),
                    frame: frame(slot),
                    bundle: false,
                });
                let event = push(&mut guest, Payload { festival: (e == 0).then_some(festival), op });
                let op = Operation::RequestCreate {
                    event,
                    resource: resources[slot % RESOURCES],
                    frame: frame(slot),
                    replaces: None,
                    until: None,
                };
                push(&mut guest, Payload { festival: None, op });
            }
        }
    }
    (out, festivals)
}

/// What the peers' tasks report, with when it happened.
enum Report {
    /// Entries stored so far from the node.
    Stored(usize, u64, Instant),
    Ended(usize, String),
}

struct Peer {
    node: Arc<Mutex<service::Node>>,
    ctx: net::SyncContext,
    /// Index into the joined festivals.
    festival: usize,
}

/// A browser peer: an in-memory store, joined to `festival` by its invite link to `address`,
/// with its own session host (a `Hub` is one node's: one key, one store).
fn peer(address: &str, festival: Id, index: usize) -> Peer {
    let store = store::Store::open_in_memory().unwrap();
    let node = service::Node::with_store(store);
    let link = service::invite::Invite { festival, peers: vec![address.to_string()] }.to_link();
    service::invite::remember_join(&node, &link, &[]).unwrap();
    let node = Arc::new(Mutex::new(node));
    Peer { ctx: net::SyncContext::new(node.clone()), node, festival: index }
}

/// Dials the node and keeps the session live, reporting every stored batch.
fn start(i: usize, p: &Peer, address: &str, reports: &mpsc::UnboundedSender<Report>) -> tokio::task::JoinHandle<()> {
    let ctx = p.ctx.clone();
    let address = address.to_string();
    let reports = reports.clone();
    tokio::spawn(async move {
        let ended = match net::connect(&address).await {
            Ok((tx, rx)) => {
                let info = net::ConnectionInfo {
                    address: net::ws_url(&address),
                    direction: net::Direction::Outgoing,
                    once: false,
                };
                let progress = reports.clone();
                let result = net::drive(&ctx, tx, rx, info, move |stored, _| {
                    let _ = progress.send(Report::Stored(i, stored, Instant::now()));
                })
                .await;
                match result {
                    Ok(_) => "the session ended".to_string(),
                    Err(e) => e.to_string(),
                }
            }
            Err(e) => e.to_string(),
        };
        let _ = reports.send(Report::Ended(i, ended));
    })
}

/// Entries each peer stored from the node, and when each count was reached.
struct Progress {
    stored: Vec<u64>,
    reached: Vec<Vec<(u64, Instant)>>,
}

impl Progress {
    fn new(n: usize) -> Progress {
        Progress { stored: vec![0; n], reached: vec![Vec::new(); n] }
    }

    /// Takes reports until `done` holds; a session that ends or a wait past `limit` is a failure.
    async fn until(
        &mut self,
        reports: &mut mpsc::UnboundedReceiver<Report>,
        limit: Duration,
        what: &str,
        done: impl Fn(&Progress) -> bool,
    ) {
        let deadline = tokio::time::Instant::now() + limit;
        while !done(self) {
            match tokio::time::timeout_at(deadline, reports.recv()).await {
                Ok(Some(Report::Stored(i, n, at))) => {
                    self.stored[i] = n;
                    self.reached[i].push((n, at));
                }
                Ok(Some(Report::Ended(i, why))) => panic!("peer {i}'s session ended while {what}: {why}"),
                Ok(None) => panic!("every peer is gone"),
                Err(_) => panic!("{what}: not done after {limit:?} (stored: {:?})", self.stored),
            }
        }
    }

    /// When peer `i` first held `n` entries from the node.
    fn when(&self, i: usize, n: u64) -> Instant {
        self.reached[i].iter().find(|(m, _)| *m >= n).map(|(_, at)| *at).unwrap()
    }
}

/// CPU seconds (user + system) of process `pid` so far.
fn cpu_secs(pid: u32) -> f64 {
    let s = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
    // The command name may hold spaces; the fields after it are plain.
    let rest: Vec<&str> = s[s.rfind(')').unwrap() + 2..].split_whitespace().collect();
    let ticks: f64 = rest[11].parse::<f64>().unwrap() + rest[12].parse::<f64>().unwrap();
    // SAFETY: sysconf has no preconditions.
    ticks / unsafe { libc::sysconf(libc::_SC_CLK_TCK) } as f64
}

/// CPU seconds (user + system) of this process so far: the 200 peers.
fn own_cpu_secs() -> f64 {
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: getrusage with a valid pointer.
    unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut usage) };
    let t = |v: libc::timeval| v.tv_sec as f64 + v.tv_usec as f64 / 1e6;
    t(usage.ru_utime) + t(usage.ru_stime)
}

/// The kernel's count of connections dropped because a listen queue was full (all
/// processes): each drop costs its dialler a SYN retransmission, 1 s later.
fn listen_overflows() -> u64 {
    let s = std::fs::read_to_string("/proc/net/netstat").unwrap_or_default();
    let mut tcp = s.lines().filter(|l| l.starts_with("TcpExt:"));
    let (Some(names), Some(values)) = (tcp.next(), tcp.next()) else { return 0 };
    names
        .split_whitespace()
        .zip(values.split_whitespace())
        .find(|(n, _)| *n == "ListenOverflows")
        .map_or(0, |(_, v)| v.parse().unwrap_or(0))
}

fn mb(kb: i64) -> f64 {
    kb as f64 / 1024.0
}

/// Every log of `festival` in a data directory and its height, from `pandafest log export`.
fn exported_heights(data: &Path, festival: &Id) -> BTreeMap<(bamboo::Author, u64), u64> {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_pandafest"))
        .args(["--data-dir", data.to_str().unwrap(), "log", "export", "--festival", &festival.to_hex()])
        .output()
        .unwrap();
    assert!(out.status.success(), "log export failed: {}", String::from_utf8_lossy(&out.stderr));
    let mut heights = BTreeMap::new();
    for line in String::from_utf8(out.stdout).unwrap().lines() {
        let entry = hex::decode(line.split_whitespace().next().unwrap()).unwrap();
        let e = bamboo::Entry::decode(&entry).unwrap();
        let h = heights.entry((e.author, e.log_id)).or_insert(0);
        *h = (*h).max(e.seq_num);
    }
    heights
}

fn peer_heights(p: &Peer, festival: &Id) -> BTreeMap<(bamboo::Author, u64), u64> {
    let node = p.node.lock().unwrap();
    SyncStore::heights(&node.store, festival).into_iter().map(|h| ((h.author, h.log_id), h.seq)).collect()
}

fn main() {
    let dir = tempfile::tempdir().unwrap();
    let started = Instant::now();
    let (entries, festivals) = entries();
    let n = entries.len();
    let file = dir.path().join("entries.txt");
    {
        let mut out = std::io::BufWriter::new(std::fs::File::create(&file).unwrap());
        for (e, p) in &entries {
            writeln!(out, "{} {}", hex::encode(e), hex::encode(p)).unwrap();
        }
    }
    drop(entries);
    println!(
        "prepared {n} entries: {FESTIVALS} festivals by {AUTHORS} authors, {PER_FESTIVAL} entries each, in {:.1}s",
        started.elapsed().as_secs_f64()
    );
    let data = dir.path().join("node");
    let t = Instant::now();
    let import = std::process::Command::new(env!("CARGO_BIN_EXE_pandafest"))
        .args(["--data-dir", data.to_str().unwrap(), "log", "import", file.to_str().unwrap()])
        .stdout(std::process::Stdio::null())
        .status()
        .unwrap();
    assert!(import.success(), "import failed");
    let import_secs = t.elapsed().as_secs_f64();

    // The node, its log kept to look for warnings afterwards.
    let log_path = dir.path().join("serve.log");
    let t = Instant::now();
    let server = common::Serving::start(&data, std::fs::File::create(&log_path).unwrap().into());
    let pid = server.pid();
    let serve_secs = t.elapsed().as_secs_f64();
    let (address, token) = (server.address.clone(), server.token.clone());
    // Let the watcher's first round (plan flush when idle) pass before calling it idle.
    std::thread::sleep(Duration::from_millis(1500));
    let idle_rss = status_kb(pid, "VmRSS:");
    let idle_cpu = cpu_secs(pid);

    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
    let joined: Vec<Id> = festivals[..JOINED].to_vec();
    let figures = runtime.block_on(async {
        let (reports_tx, mut reports) = mpsc::unbounded_channel();

        // The peer to compare with: one session alone, on festivals none of the 200 joins;
        // the median of a few, as the first may meet the node's start-up work.
        let mut lone = Vec::new();
        for k in 0..LONE {
            let alone = peer(&address, festivals[FESTIVALS - 1 - k], usize::MAX);
            let mut p = Progress::new(1);
            let t = Instant::now();
            let task = start(0, &alone, &address, &reports_tx);
            p.until(&mut reports, Duration::from_secs(30), "one session syncing alone", |p| {
                p.stored[0] >= PER_FESTIVAL as u64
            })
            .await;
            lone.push(p.when(0, PER_FESTIVAL as u64).duration_since(t).as_secs_f64());
            task.abort();
            drop(alone);
            // Its session's end must not be taken for one of the 200.
            tokio::time::sleep(Duration::from_millis(100)).await;
            while reports.try_recv().is_ok() {}
        }
        lone.sort_by(|a, b| a.total_cmp(b));
        let lone_secs = lone[LONE / 2];

        // The 200: stores made first (a browser opens its store before it dials), then
        // every session dialled at once.
        let peers: Vec<Peer> =
            (0..PEERS).map(|i| peer(&address, joined[i / PEERS_PER_FESTIVAL], i / PEERS_PER_FESTIVAL)).collect();
        let before_cpu = cpu_secs(pid);
        let own_before = own_cpu_secs();
        let overflows_before = listen_overflows();
        let t0 = Instant::now();
        let tasks: Vec<_> = peers.iter().enumerate().map(|(i, p)| start(i, p, &address, &reports_tx)).collect();
        let mut progress = Progress::new(PEERS);
        progress
            .until(&mut reports, Duration::from_secs(120), "the 200 sessions synced", |p| {
                p.stored.iter().all(|s| *s >= PER_FESTIVAL as u64)
            })
            .await;
        let bring_up = t0.elapsed().as_secs_f64();
        let bring_up_cpu = cpu_secs(pid) - before_cpu;
        let bring_up_own_cpu = own_cpu_secs() - own_before;
        let overflows = listen_overflows() - overflows_before;
        let mut per_session: Vec<f64> =
            (0..PEERS).map(|i| progress.when(i, PER_FESTIVAL as u64).duration_since(t0).as_secs_f64()).collect();

        // All live and idle.
        let idle_from = cpu_secs(pid);
        tokio::time::sleep(Duration::from_secs(5)).await;
        let live_idle_cpu = cpu_secs(pid) - idle_from;
        let live_rss = status_kb(pid, "VmRSS:");
        let threads = status_kb(pid, "Threads:");

        // Writes, one at a time: a peer's new event reaches the other three of its festival.
        let mut written = vec![0u64; JOINED];
        let writes_cpu_from = cpu_secs(pid);
        let writes_from = Instant::now();
        let mut peer_latency = Vec::new();
        for w in 0..PEER_WRITES {
            let f = w % JOINED;
            let writer = f * PEERS_PER_FESTIVAL + w / JOINED % PEERS_PER_FESTIVAL;
            let others: Vec<usize> =
                (f * PEERS_PER_FESTIVAL..(f + 1) * PEERS_PER_FESTIVAL).filter(|o| *o != writer).collect();
            let target: Vec<u64> = others.iter().map(|o| progress.stored[*o] + 1).collect();
            let t = Instant::now();
            {
                let mut node = peers[writer].node.lock().unwrap();
                let slot = frame(100 + w);
                let event = service::node::NewEvent {
                    title: format!("Late addition {w}"),
                    start: slot.start().to_rfc3339(),
                    end: slot.end().to_rfc3339(),
                    ..Default::default()
                };
                node.create_event(&joined[f].to_hex(), event).unwrap();
            }
            // As the browser peer does after every write: its sessions push it.
            peers[writer].ctx.notify();
            written[f] += 1;
            progress
                .until(&mut reports, Duration::from_secs(10), "a peer's write travelled", |p| {
                    others.iter().zip(&target).all(|(o, n)| p.stored[*o] >= *n)
                })
                .await;
            for (o, n) in others.iter().zip(&target) {
                peer_latency.push(progress.when(*o, *n).duration_since(t).as_secs_f64());
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }

        // The node's own user adds an event through its API: it reaches all four peers.
        let mut node_latency = Vec::new();
        let mut http_answer = Vec::new();
        for w in 0..NODE_WRITES {
            let f = PEER_WRITES + w;
            let all: Vec<usize> = (f * PEERS_PER_FESTIVAL..(f + 1) * PEERS_PER_FESTIVAL).collect();
            let target: Vec<u64> = all.iter().map(|o| progress.stored[*o] + 1).collect();
            let slot = frame(200 + w);
            let url = format!("http://{address}/api/v1/festivals/{}/events", joined[f].to_hex());
            let body = serde_json::json!({
                "title": format!("Announced {w}"),
                "start": slot.start().to_rfc3339(),
                "end": slot.end().to_rfc3339(),
            });
            let auth = format!("Bearer {token}");
            let t = Instant::now();
            let status = tokio::task::spawn_blocking(move || {
                ureq::post(&url).header("Authorization", &auth).send_json(&body).map(|r| r.status().as_u16())
            })
            .await
            .unwrap()
            .unwrap();
            http_answer.push(t.elapsed().as_secs_f64());
            assert_eq!(status, 201, "the node's API created the event");
            written[f] += 1;
            progress
                .until(&mut reports, Duration::from_secs(10), "the node's write travelled", |p| {
                    all.iter().zip(&target).all(|(o, n)| p.stored[*o] >= *n)
                })
                .await;
            for (o, n) in all.iter().zip(&target) {
                node_latency.push(progress.when(*o, *n).duration_since(t).as_secs_f64());
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let writes_wall = writes_from.elapsed().as_secs_f64();
        let writes_cpu = cpu_secs(pid) - writes_cpu_from;
        let peak_rss = status_kb(pid, "VmHWM:");
        // Nothing ended meanwhile: every session is still live.
        while let Ok(r) = reports.try_recv() {
            if let Report::Ended(i, why) = r {
                panic!("peer {i}'s session ended: {why}");
            }
        }
        for task in &tasks {
            assert!(!task.is_finished(), "every session stays live");
        }
        Figures {
            lone_secs,
            bring_up,
            bring_up_cpu,
            bring_up_own_cpu,
            overflows,
            per_session: ms(&mut per_session),
            live_idle_cpu,
            live_rss,
            threads,
            peer_latency: ms(&mut peer_latency),
            peer_deliveries: peer_latency.len(),
            node_latency: ms(&mut node_latency),
            node_deliveries: node_latency.len(),
            http_answer: ms(&mut http_answer),
            writes_wall,
            writes_cpu,
            peak_rss,
            written,
            peers,
        }
    });
    let total_cpu = cpu_secs(pid);
    let uptime = t.elapsed().as_secs_f64();
    drop(server);

    // The point: every peer holds every entry of its festival, as the node does.
    for (f, festival) in joined.iter().enumerate() {
        let on_node = exported_heights(&data, festival);
        let held: u64 = on_node.values().sum();
        assert_eq!(held, (PER_FESTIVAL as u64) + figures.written[f], "the node holds festival {f} and its new events");
        for p in figures.peers.iter().filter(|p| p.festival == f) {
            assert_eq!(peer_heights(p, festival), on_node, "a peer of festival {f} holds every entry the node holds");
        }
    }
    let log = std::fs::read_to_string(&log_path).unwrap_or_default();
    let warnings: Vec<&str> = log.lines().filter(|l| l.contains("WARN") || l.contains("ERROR")).collect();
    runtime.shutdown_background();

    let f = &figures;
    println!(
        "community: one `pandafest serve` holding {FESTIVALS} festivals ({n} entries), {PEERS} live sessions over /sync \
         ({PEERS_PER_FESTIVAL} browser-like peers in each of {JOINED} festivals)"
    );
    println!("  import {import_secs:.1} s; serve up and listening in {serve_secs:.2} s");
    println!(
        "  bring-up: {PEERS} sessions dialled at once, every one synced ({PER_FESTIVAL} entries) in {:.2} s",
        f.bring_up
    );
    println!("  per session, dial to synced: {}", f.per_session);
    println!("    (one session alone, same size, median of {LONE}: {:.1} ms)", f.lone_secs * 1e3);
    println!(
        "    (connections the kernel dropped meanwhile, listen queue full: {}; each redials its SYN 1 s later)",
        f.overflows
    );
    println!(
        "  server CPU during bring-up: {:.2} s = {:.2} of wall time ({:.2} of the machine's 2 cores); the 200 peers in the bench took {:.2} s",
        f.bring_up_cpu,
        f.bring_up_cpu / f.bring_up,
        f.bring_up_cpu / f.bring_up / 2.0,
        f.bring_up_own_cpu
    );
    println!(
        "  server CPU with {PEERS} idle live sessions: {:.3} s over 5 s = {:.3} of wall time",
        f.live_idle_cpu,
        f.live_idle_cpu / 5.0
    );
    println!(
        "  server CPU over its whole life: {total_cpu:.2} s in {uptime:.1} s = {:.2} of wall time (idle start-up: {idle_cpu:.2} s)",
        total_cpu / uptime
    );
    println!(
        "  server RSS: idle {:.1} MB, with {PEERS} sessions {:.1} MB, peak (VmHWM) {:.1} MB = {:.2} of the {RSS_LIMIT_MB:.0} MB limit; {} threads",
        mb(idle_rss),
        mb(f.live_rss),
        mb(f.peak_rss),
        mb(f.peak_rss) / RSS_LIMIT_MB,
        f.threads
    );
    println!(
        "  RSS per session: ({:.1} − {:.1} MB) / {PEERS} = {:.1} KB ({:.0} sessions would fill the limit's headroom)",
        mb(f.live_rss),
        mb(idle_rss),
        (f.live_rss - idle_rss) as f64 / PEERS as f64,
        (RSS_LIMIT_MB - mb(idle_rss)) * 1024.0 / ((f.live_rss - idle_rss).max(1) as f64 / PEERS as f64)
    );
    println!(
        "  latency, a peer's write to each other live peer of its festival (browser → node → browser), {PEER_WRITES} writes, {} deliveries: {}",
        f.peer_deliveries, f.peer_latency
    );
    println!(
        "  latency, the node's API write to each live peer of the festival, {NODE_WRITES} writes, {} deliveries: {}",
        f.node_deliveries, f.node_latency
    );
    println!("    (the API's answer to the write itself: {})", f.http_answer);
    println!(
        "  server CPU during the writes: {:.2} s over {:.1} s = {:.3} of wall time",
        f.writes_cpu,
        f.writes_wall,
        f.writes_cpu / f.writes_wall
    );
    println!("  every peer holds every entry of its festival: checked against the node's export");
    if warnings.is_empty() {
        println!("  the node logged no warnings");
    } else {
        println!("  the node logged {} warnings, the first:", warnings.len());
        for w in warnings.iter().take(5) {
            println!("    {w}");
        }
    }
}

struct Figures {
    lone_secs: f64,
    bring_up: f64,
    bring_up_cpu: f64,
    bring_up_own_cpu: f64,
    overflows: u64,
    per_session: String,
    live_idle_cpu: f64,
    live_rss: i64,
    threads: i64,
    peer_latency: String,
    peer_deliveries: usize,
    node_latency: String,
    node_deliveries: usize,
    http_answer: String,
    writes_wall: f64,
    writes_cpu: f64,
    peak_rss: i64,
    written: Vec<u64>,
    peers: Vec<Peer>,
}
