//! `cargo xtask bench`: a festival field of 200 peers on loopback: three quarters real
//! `pandafest serve` processes, each joined from one random earlier node and keeping
//! neighbours by `service::neighbours`, and a quarter browser-like peers in this process
//! (an in-memory node that cannot be dialed, with one live WebSocket session to the node of
//! its invite, as a browser tab has). Reports sessions per node against the bound, the time
//! for an entry written on one node to reach 50 %, 99 % and 100 % of the peers, the sync
//! messages and the entry copies each node receives per entry, and memory per node.
//!
//! `PANDAFEST_FIELD_NODES` sets the number of peers (default 200).

mod common;

use std::collections::HashSet;
use std::io::BufRead;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::Value;
use service::neighbours::Bound;

use common::percentile;

struct Node {
    dir: PathBuf,
    child: Child,
    base: String,
    token: String,
}

impl Drop for Node {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn pandafest(dir: &Path, args: &[&str]) -> Value {
    let out = Command::new(env!("CARGO_BIN_EXE_pandafest")).arg("--data-dir").arg(dir).args(args).output().unwrap();
    assert!(out.status.success(), "{args:?}: {}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap_or(Value::Null)
}

fn serve(dir: &Path) -> Node {
    let mut child = Command::new(env!("CARGO_BIN_EXE_pandafest"))
        .arg("--data-dir")
        .arg(dir)
        .args(["serve", "--listen", "127.0.0.1:0"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut first = String::new();
    std::io::BufReader::new(child.stdout.take().unwrap()).read_line(&mut first).unwrap();
    let url = first.trim().trim_start_matches("pandafest is serving at ");
    let (base, token) = url.split_once("/#token=").unwrap();
    Node { dir: dir.to_path_buf(), child, base: base.to_string(), token: token.to_string() }
}

impl Node {
    fn get(&self, path: &str) -> Value {
        ureq::get(format!("{}/api/v1{path}", self.base))
            .header("Authorization", &format!("Bearer {}", self.token))
            .call()
            .unwrap()
            .body_mut()
            .read_json()
            .unwrap()
    }

    fn address(&self) -> String {
        self.base.trim_start_matches("http://").to_string()
    }

    fn events(&self, festival: &str) -> usize {
        self.get(&format!("/festivals/{festival}/events")).as_array().map_or(0, Vec::len)
    }

    /// (open sessions with proven peers, of them with nodes (neighbours, not `browsers`),
    /// messages sent, entries received) over the sync status, ended sessions included.
    fn sync_counters(&self, browsers: &HashSet<String>) -> Counters {
        let status = self.get("/sync");
        let peers = status["peers"].as_array().cloned().unwrap_or_default();
        let open: Vec<&str> =
            peers.iter().filter(|p| p["connected"] == true).filter_map(|p| p["key"].as_str()).collect();
        Counters {
            sessions: open.len(),
            neighbours: open.iter().filter(|k| !browsers.contains(**k)).count(),
            sent: peers.iter().map(|p| p["sent"].as_u64().unwrap_or(0)).sum(),
            received: peers.iter().map(|p| p["received"].as_u64().unwrap_or(0)).sum(),
        }
    }

    fn rss_kb(&self) -> u64 {
        std::fs::read_to_string(format!("/proc/{}/status", self.child.id()))
            .ok()
            .and_then(|s| {
                let line = s.lines().find(|l| l.starts_with("VmRSS:"))?.to_string();
                line.split_whitespace().nth(1)?.parse().ok()
            })
            .unwrap_or(0)
    }
}

/// What a node's sync status counts.
struct Counters {
    sessions: usize,
    neighbours: usize,
    sent: u64,
    received: u64,
}

/// A browser-like peer: in memory, no address, one live session to its invite's node.
struct Browser {
    node: Arc<Mutex<service::Node>>,
    key: String,
}

impl Browser {
    fn join(runtime: &tokio::runtime::Runtime, festival: model::Id, address: &str) -> Browser {
        let node = service::Node::with_store(store::Store::open_in_memory().unwrap());
        let url = net::ws_url(address);
        let link = service::invite::Invite { festival, peers: vec![url.clone()] }.to_link();
        service::invite::remember_join(&node, &link, &[]).unwrap();
        let key = node.identity().unwrap().public_key;
        let node = Arc::new(Mutex::new(node));
        let ctx = runtime.block_on(async { net::SyncContext::new(node.clone()) });
        runtime.spawn(async move {
            let (tx, rx) = net::connect(&url).await.expect("the browser's node answers");
            let info = net::ConnectionInfo { address: url, direction: net::Direction::Outgoing, once: false };
            let _ = net::drive(&ctx, tx, rx, info, |_, _| {}).await;
        });
        Browser { node, key }
    }

    fn events(&self, festival: &model::Id) -> usize {
        let node = self.node.lock().unwrap();
        node.state().events_in(festival).count()
    }
}

fn main() {
    let total: usize = std::env::var("PANDAFEST_FIELD_NODES").ok().and_then(|v| v.parse().ok()).unwrap_or(200);
    let browsers = total / 4;
    let n = total - browsers;
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let root = tempfile::tempdir().unwrap();
    let started = Instant::now();
    let first = root.path().join("n0");
    let festival =
        pandafest(&first, &["festival", "create", "--name", "Field", "--json"])["id"].as_str().unwrap().to_string();
    let festival_id = model::Id::from_hex(&festival).unwrap();
    let mut nodes = vec![serve(&first)];
    let mut seed = 11u64;
    let mut next = || {
        seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        (seed >> 33) as usize
    };
    for i in 1..n {
        let from = nodes[next() % i].address().replace(':', "%3A");
        let dir = root.path().join(format!("n{i}"));
        let link = format!("pandafest://join?festival={festival}&peer=ws%3A%2F%2F{from}%2Fsync");
        pandafest(&dir, &["join", &link]);
        nodes.push(serve(&dir));
    }
    let tabs: Vec<Browser> =
        (0..browsers).map(|_| Browser::join(&runtime, festival_id, &nodes[next() % n].address())).collect();
    println!(
        "field: {n} nodes and {browsers} browser-like peers started and joined in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    // Let the neighbours settle (shuffles every ~10 s).
    std::thread::sleep(Duration::from_secs(15));
    let browser_keys: HashSet<String> = tabs.iter().map(|t| t.key.clone()).collect();
    let counters = || nodes.iter().map(|n| n.sync_counters(&browser_keys)).collect::<Vec<_>>();
    let before = counters();

    const WRITES: usize = 10;
    let mut reach: [Vec<f64>; 3] = Default::default();
    for w in 0..WRITES {
        let writer = &nodes[(w * 37 + 5) % n];
        let expected = w + 1;
        let t = Instant::now();
        pandafest(
            &writer.dir,
            &[
                "event",
                "create",
                "--festival",
                &festival,
                "--title",
                &format!("Write {w}"),
                "--start",
                "2027-07-02T10:00:00Z",
                "--end",
                "2027-07-02T11:00:00Z",
                "--json",
            ],
        );
        let mut arrived: Vec<Option<f64>> = vec![None; n + browsers];
        while arrived.iter().any(Option::is_none) {
            assert!(t.elapsed() < Duration::from_secs(180), "write {w} did not reach every peer in 180 s");
            for (i, node) in nodes.iter().enumerate() {
                if arrived[i].is_none() && node.events(&festival) >= expected {
                    arrived[i] = Some(t.elapsed().as_secs_f64());
                }
            }
            for (i, tab) in tabs.iter().enumerate() {
                if arrived[n + i].is_none() && tab.events(&festival_id) >= expected {
                    arrived[n + i] = Some(t.elapsed().as_secs_f64());
                }
            }
        }
        let mut times: Vec<f64> = arrived.into_iter().flatten().collect();
        times.sort_by(f64::total_cmp);
        reach[0].push(percentile(&times, 0.5));
        reach[1].push(percentile(&times, 0.99));
        reach[2].push(times[times.len() - 1]);
    }
    let after = counters();
    let rss: Vec<u64> = nodes.iter().map(Node::rss_kb).collect();

    let bound = Bound::for_size(total);
    let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len() as f64;
    let spread = |v: Vec<usize>| {
        let m = mean(&v.iter().map(|s| *s as f64).collect::<Vec<_>>());
        format!("min {}, mean {m:.1}, max {}", v.iter().min().unwrap(), v.iter().max().unwrap())
    };
    let over = after.iter().filter(|a| a.neighbours > bound.total()).count();
    println!(
        "  sessions per node with other nodes (neighbours): {} (bound {}: ⌈ln {total}⌉ + 1; {over} nodes above it; a full mesh would be {})",
        spread(after.iter().map(|a| a.neighbours).collect()),
        bound.total(),
        n - 1
    );
    println!(
        "  sessions per node with browsers too (browsers are not bounded): {}",
        spread(after.iter().map(|a| a.sessions).collect())
    );
    for (name, times) in ["50 %", "99 %", "100 %"].iter().zip(&reach) {
        let mut sorted = times.clone();
        sorted.sort_by(f64::total_cmp);
        println!(
            "  an entry reaches {name:>5} of the peers in: median {:.2} s, worst {:.2} s ({WRITES} writes on nodes; polled, ±0.2 s)",
            percentile(&sorted, 0.5),
            sorted[sorted.len() - 1]
        );
    }
    // Sessions that ended during the writes drop out of the status: the deltas are floors.
    let messages: Vec<f64> =
        before.iter().zip(&after).map(|(b, a)| a.sent.saturating_sub(b.sent) as f64 / WRITES as f64).collect();
    let copies: Vec<f64> =
        before.iter().zip(&after).map(|(b, a)| a.received.saturating_sub(b.received) as f64 / WRITES as f64).collect();
    println!(
        "  per node per entry: {:.1} sync messages sent, {:.2} copies of the entry received (1 is the least; a full mesh sends {})",
        mean(&messages),
        mean(&copies),
        total - 1
    );
    println!(
        "  memory per node: mean {:.1} MB, max {:.1} MB resident (limit for a node: 150 MB)",
        mean(&rss.iter().map(|k| *k as f64 / 1024.0).collect::<Vec<_>>()),
        *rss.iter().max().unwrap() as f64 / 1024.0
    );
}
