//! A festival field: 30 `pandafest serve` processes on loopback in one festival, each
//! knowing only the node it joined from. They find each other through introductions, keep a
//! bounded number of neighbours (`service::neighbours`), and every entry reaches every live
//! node, also after a fifth of them were killed and came back.

mod support;

use serde_json::Value;
use service::neighbours::Bound;
use support::{Person, Server, eventually, s, serve, serve_at};

const NODES: usize = 30;

fn get(server: &Server, path: &str) -> Value {
    ureq::get(format!("{}/api/v1{path}", server.base))
        .header("Authorization", &server.bearer())
        .call()
        .unwrap()
        .body_mut()
        .read_json()
        .unwrap()
}

fn event_count(server: &Server, festival: &str) -> usize {
    get(server, &format!("/festivals/{festival}/events")).as_array().map_or(0, Vec::len)
}

/// Open sessions with peers that proved their key.
fn sessions(server: &Server) -> usize {
    let status = get(server, "/sync");
    status["peers"].as_array().unwrap().iter().filter(|p| p["connected"] == true && p["key"].is_string()).count()
}

/// The sessions per live node at a first look, and the nodes over `bound` in each of three
/// looks 200 ms apart. A newcomer's session counts from its handshake, but it becomes a
/// neighbour, and the node makes room for it, only once the peer introduced itself, a few
/// milliseconds later (`Hub::keep_bound`): one look can catch a node with one session too many
/// while neighbours change. One look found a node with 6 of 5 twice in about 110 runs (once in
/// `cargo xtask test`), after the restarts. Too many in every look is too many.
fn over_bound(servers: &[Option<Server>], bound: usize) -> (Vec<usize>, Vec<usize>) {
    let look = || -> Vec<usize> { servers.iter().flatten().map(sessions).collect() };
    let first = look();
    let mut over: Vec<usize> = (0..first.len()).filter(|i| first[*i] > bound).collect();
    for _ in 0..2 {
        if over.is_empty() {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(200));
        let counts = look();
        over.retain(|i| counts[*i] > bound);
    }
    (first, over)
}

fn write_event(p: &Person, festival: &str, title: &str) {
    p.json(&[
        "event",
        "create",
        "--festival",
        festival,
        "--title",
        title,
        "--start",
        "2027-07-02T10:00:00Z",
        "--end",
        "2027-07-02T11:00:00Z",
    ]);
}

/// A link to the festival naming only the node at `address`.
fn link(festival: &str, address: &str) -> String {
    format!("pandafest://join?festival={festival}&peer=ws%3A%2F%2F{}%2Fsync", address.replace(':', "%3A"))
}

#[test]
fn thirty_nodes_keep_few_neighbours_and_every_entry_reaches_every_live_node() {
    let people: Vec<Person> = (0..NODES).map(|i| Person::new(Box::leak(format!("n{i}").into_boxed_str()))).collect();
    let festival = s(&people[0].json(&["festival", "create", "--name", "Field"])["id"]);
    let mut servers: Vec<Option<Server>> = vec![Some(serve(&people[0], &[]))];
    let mut addresses = vec![servers[0].as_ref().unwrap().address()];
    // Each newcomer joins from one earlier node, picked at random (a fixed seed): nobody is
    // told of more than that one peer.
    let mut seed = 7u64;
    for (i, person) in people.iter().enumerate().skip(1) {
        seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        let from = (seed >> 33) as usize % i;
        person.ok(&["join", &link(&festival, &addresses[from])]);
        let server = serve(person, &[]);
        addresses.push(server.address());
        servers.push(Some(server));
    }
    for (i, p) in people.iter().enumerate() {
        write_event(p, &festival, &format!("from n{i}"));
    }
    let live = |servers: &Vec<Option<Server>>| servers.iter().flatten().count();
    // FIELD_DEBUG=1 prints every node's events and neighbours while a stage waits.
    let debug = std::env::var_os("FIELD_DEBUG").is_some();
    let mut polls = 0;
    let mut everywhere = |servers: &Vec<Option<Server>>, n: usize| {
        polls += 1;
        let ok = servers.iter().flatten().all(|srv| event_count(srv, &festival) == n);
        if !ok && debug && polls % 50 == 0 {
            for srv in servers.iter().flatten() {
                let status = get(srv, "/sync");
                let peers: Vec<&str> = status["peers"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .filter(|p| p["connected"] == true)
                    .filter_map(|p| p["address"].as_str())
                    .collect();
                eprintln!("{} has {} events, peers {peers:?}", srv.address(), event_count(srv, &festival));
            }
        }
        ok
    };
    let clock = std::time::Instant::now();
    eventually(120, "every node has all 30 events", || everywhere(&servers, NODES));
    eprintln!("all 30 events everywhere after {:.1} s", clock.elapsed().as_secs_f64());

    // No node holds more sessions than the bound for a festival of this size.
    let bound = Bound::for_size(NODES).total();
    let (counts, over) = over_bound(&servers, bound);
    eprintln!("sessions per node: {counts:?} (bound {bound})");
    assert!(over.is_empty(), "nodes {over:?} over the bound {bound} in three looks; the first: {counts:?}");

    // A fifth of the nodes die without warning; the others keep writing.
    let killed: Vec<usize> = (0..NODES).filter(|i| i % 5 == 2).collect();
    for &i in &killed {
        let mut server = servers[i].take().unwrap();
        server.child.kill().unwrap(); // SIGKILL
        server.child.wait().unwrap();
    }
    assert_eq!(live(&servers), NODES - killed.len());
    let writers: Vec<usize> = (0..NODES).filter(|i| !killed.contains(i)).step_by(2).collect();
    for &i in &writers {
        write_event(&people[i], &festival, &format!("n{i} while others were down"));
    }
    let total = NODES + writers.len();
    let clock = std::time::Instant::now();
    eventually(120, "the live nodes have every new event", || everywhere(&servers, total));
    eprintln!("the live nodes had every new event after {:.1} s", clock.elapsed().as_secs_f64());

    // They come back at their addresses and write too.
    for &i in &killed {
        servers[i] = Some(serve_at(&people[i], &addresses[i], &[]));
        write_event(&people[i], &festival, &format!("n{i} back"));
    }
    let total = total + killed.len();
    let clock = std::time::Instant::now();
    eventually(120, "every node has every event", || everywhere(&servers, total));
    eprintln!("every node had every event after {:.1} s", clock.elapsed().as_secs_f64());
    let (counts, over) = over_bound(&servers, bound);
    eprintln!("sessions per node after the restarts: {counts:?}");
    assert!(over.is_empty(), "nodes {over:?} over the bound {bound} in three looks; the first: {counts:?}");
}
