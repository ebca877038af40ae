//! Replication with real processes: several `pandafest serve` on loopback ports, joined by
//! invite links, converging live, after a restart, and across a partition.

mod support;

use serde_json::Value;
use support::{Person, eventually, s, serve, serve_at};

/// What a person sees, without the fields that depend on who looks.
fn view(p: &Person, festival: &str) -> String {
    let mut events = p.json(&["event", "list", "--festival", festival]);
    for e in events.as_array_mut().unwrap() {
        e.as_object_mut().unwrap().remove("mine");
        for q in e["requests"].as_array_mut().unwrap() {
            q.as_object_mut().unwrap().remove("mine");
            q.as_object_mut().unwrap().remove("incoming");
        }
    }
    events.to_string()
}

fn titles(p: &Person, festival: &str) -> Vec<String> {
    let events = p.json(&["event", "list", "--festival", festival]);
    let mut t: Vec<String> = events.as_array().unwrap().iter().map(|e| s(&e["title"])).collect();
    t.sort();
    t
}

fn event(p: &Person, festival: &str, title: &str, hour: u32, request: Option<&str>) -> Value {
    let start = format!("2026-07-01T{hour:02}:00:00Z");
    let end = format!("2026-07-01T{:02}:00:00Z", hour + 2);
    let mut args = vec!["event", "create", "--festival", festival, "--title", title, "--start", &start, "--end", &end];
    if let Some(r) = request {
        args.extend(["--request", r]);
    }
    p.json(&args)
}

#[test]
fn three_nodes_converge_live_and_after_a_restart() {
    // Scenario: A serves a festival; B joins from A's invite and serves; C joins from B's
    // invite and knows only B. Writes on any node reach the others; C is stopped, both
    // sides write, C comes back. Assert: every node shows the same events.
    let a = Person::new("Ana");
    let b = Person::new("Bo");
    let c = Person::new("Cy");
    let festival = s(&a.json(&["festival", "create", "--name", "Triangle"])["id"]);
    let a_srv = serve(&a, &[]);
    let link = a.ok(&["invite", "--festival", &festival, "--peer", &a_srv.address()]);
    let out = b.ok(&["join", link.trim()]);
    assert!(out.contains("Triangle"), "{out}");
    let b_srv = serve(&b, &[]);
    let link = b.ok(&["invite", "--festival", &festival, "--peer", &b_srv.address()]);
    c.ok(&["join", link.trim()]);
    let mut c_srv = Some(serve(&c, &[]));

    event(&a, &festival, "from A", 10, None);
    event(&c, &festival, "from C", 12, None);
    let all = vec!["from A".to_string(), "from C".to_string()];
    eventually(30, "A's and C's events everywhere", || {
        titles(&a, &festival) == all && titles(&b, &festival) == all && titles(&c, &festival) == all
    });

    // C goes down; both sides keep writing.
    drop(c_srv.take());
    event(&a, &festival, "A while C was away", 14, None);
    event(&c, &festival, "C offline", 16, None);
    eventually(30, "B has A's new event", || titles(&b, &festival).len() == 3);
    assert_eq!(titles(&c, &festival).len(), 3, "C has only its own new event");
    let _c_srv = serve(&c, &[]);
    eventually(30, "all four events on every node", || {
        titles(&a, &festival).len() == 4 && titles(&b, &festival).len() == 4 && titles(&c, &festival).len() == 4
    });
    eventually(10, "identical views", || {
        view(&a, &festival) == view(&b, &festival) && view(&b, &festival) == view(&c, &festival)
    });
    // The sync status names the peers.
    let status: Value = ureq::get(format!("{}/api/v1/sync", b_srv.base))
        .header("Authorization", &b_srv.bearer())
        .call()
        .unwrap()
        .body_mut()
        .read_json()
        .unwrap();
    let peers = status["peers"].as_array().unwrap();
    assert!(peers.iter().any(|p| p["connected"] == true && p["key"] == a.json(&["whoami"])["public_key"]), "{status}");
}

#[test]
fn competing_requests_across_a_partition_are_never_both_confirmed() {
    // Scenario: A owns a first-come-first-served stage. D is connected to A; C reaches A
    // only through B. B stops (a partition): D and C request the same slot on either side.
    // Assert: A's node confirms D's at once; C's stays pending until B is back, then A's
    // node denies it naming the conflict; no node ever shows both confirmed.
    let a = Person::new("Ana");
    let b = Person::new("Bo");
    let c = Person::new("Cy");
    let d = Person::new("Dee");
    let festival = s(&a.json(&["festival", "create", "--name", "Split"])["id"]);
    let stage =
        s(&a.json(&["resource", "create", "--festival", &festival, "--name", "Stage", "--policy", "fcfs"])["id"]);
    let a_srv = serve(&a, &[]);
    let a_link = a.ok(&["invite", "--festival", &festival, "--peer", &a_srv.address()]);
    b.ok(&["join", a_link.trim()]);
    d.ok(&["join", a_link.trim()]);
    let b_srv = serve(&b, &[]);
    // B's own invite would also name A (whom B learnt the festival from); C gets a link to B only.
    let b_link =
        format!("pandafest://join?festival={festival}&peer=ws%3A%2F%2F{}%2Fsync", b_srv.address().replace(':', "%3A"));
    c.ok(&["join", &b_link]);
    let _d_srv = serve(&d, &[]);
    let b_address = b_srv.address();
    drop(b_srv);
    // C starts serving only now: it knows B alone, so B's neighbours never introduced A to it.
    let _c_srv = serve(&c, &[]);

    let d_event = event(&d, &festival, "Dee's talk", 10, Some(&stage));
    let c_event = event(&c, &festival, "Cy's gig", 11, Some(&stage));
    let q_d = s(&d_event["requests"][0]["id"]);
    let q_c = s(&c_event["requests"][0]["id"]);
    let status = |p: &Person, q: &str| -> Option<String> {
        let all = p.json(&["request", "list"]);
        all.as_array().unwrap().iter().find(|x| x["id"] == q).map(|x| s(&x["status"]))
    };
    eventually(30, "A confirms D's request", || status(&a, &q_d).as_deref() == Some("confirmed"));
    eventually(30, "D sees its request confirmed", || status(&d, &q_d).as_deref() == Some("confirmed"));
    assert_eq!(status(&c, &q_c).as_deref(), Some("pending"), "C cannot reach the owner");
    assert_eq!(status(&a, &q_c), None, "A has not seen C's request");

    // B comes back where it was.
    let b_srv = serve_at(&b, &b_address, &[]);
    eventually(60, "A denies C's request", || status(&a, &q_c).as_deref() == Some("denied"));
    eventually(30, "C learns it", || status(&c, &q_c).as_deref() == Some("denied"));
    let reason = c.json(&["request", "list", "--mine"])[0]["reason"].clone();
    assert!(s(&reason).starts_with(&format!("overlaps confirmed request {}", &q_d[..8])), "{reason}");
    for p in [&a, &b, &c, &d] {
        let confirmed =
            p.json(&["request", "list"]).as_array().unwrap().iter().filter(|q| q["status"] == "confirmed").count();
        assert!(confirmed <= 1, "{} shows {confirmed} confirmed requests", p.name);
    }
    drop(b_srv);
}

#[test]
fn sync_once_from_the_command_line() {
    let a = Person::new("Ana");
    let b = Person::new("Bo");
    let festival = s(&a.json(&["festival", "create", "--name", "Once"])["id"]);
    for i in 0..30 {
        event(&a, &festival, &format!("e{i}"), 8, None);
    }
    let a_srv = serve(&a, &[]);
    // Naming a festival not held yet by its full id fetches it.
    let summary = b.json(&["sync", "--peer", &a_srv.address(), "--festival", &festival]);
    assert_eq!(summary["stored"], 32, "{summary}");
    assert_eq!(summary["peer"], a.json(&["whoami"])["public_key"]);
    assert_eq!(titles(&b, &festival).len(), 30);
    let again = b.json(&["sync", "--peer", &a_srv.address()]);
    assert_eq!(again["stored"], 0, "unchanged logs send nothing: {again}");
    let err = b.fails(&["sync", "--peer", "127.0.0.1:9"]);
    assert!(err.contains("cannot connect to ws://127.0.0.1:9/sync"), "{err}");
}

#[test]
fn a_peer_sending_a_forged_entry_is_disconnected_and_nothing_of_it_is_stored() {
    // Scenario: Mallory joins A's festival over the real sync endpoint and sends an entry
    // whose signature does not verify. Assert: A's node ends the session with an error,
    // and stores nothing of Mallory's.
    use bamboo::{Keypair, LogWriter};
    use model::op::Payload;
    use model::{Id, Operation};

    let a = Person::new("Ana");
    let festival = s(&a.json(&["festival", "create", "--name", "Guarded"])["id"]);
    let f = Id::from_hex(&festival).unwrap();
    let a_srv = serve(&a, &[]);

    let mallory = Keypair::from_secret([66; 32]);
    let mut store = sync::MemoryStore::trusting();
    let mut writer = LogWriter::new(mallory.clone(), 0);
    let payload =
        Payload { festival: Some(f), op: Operation::ProfileSet { name: "Mallory".into(), about: String::new() } }
            .encode();
    let mut forged = writer.append(&payload).bytes;
    let last = forged.len() - 1;
    forged[last] ^= 1;
    store.insert(f, &forged, &payload).unwrap();

    let runtime = tokio::runtime::Runtime::new().unwrap();
    let ended = runtime.block_on(async {
        let (tx, mut rx) = net::connect(&a_srv.address()).await.unwrap();
        let mut session = sync::Session::new(mallory, sync::SessionConfig::new([f]), [7; 32]);
        loop {
            while let Some(out) = session.poll(&store) {
                if let sync::Output::Send(bytes) = out {
                    let _ = tx.send(bytes).await;
                }
            }
            match tokio::time::timeout(std::time::Duration::from_secs(20), rx.recv()).await {
                Ok(Some(bytes)) => {
                    if let Err(e) = session.receive(&bytes) {
                        return e.to_string();
                    }
                }
                Ok(None) => return "connection closed".to_string(),
                Err(_) => return "no answer".to_string(),
            }
        }
    });
    assert!(ended.contains("rejected") || ended.contains("signature"), "the node must refuse the entry: {ended}");
    let export = std::fs::read_to_string(a.export(&festival)).unwrap();
    assert_eq!(export.lines().count(), 2, "only Ana's festival and profile");
    let status: serde_json::Value = ureq::get(format!("{}/api/v1/sync", a_srv.base))
        .header("Authorization", &a_srv.bearer())
        .call()
        .unwrap()
        .body_mut()
        .read_json()
        .unwrap();
    let err = status["peers"][0]["error"].as_str().unwrap_or_default().to_string();
    assert!(err.contains("signature"), "the sync status says why: {status}");
}
