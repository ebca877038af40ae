//! `pandafest serve` as a real process: the API of docs/api.md, its errors, the OpenAPI
//! document, the token, and the live stream seeing a change made by the CLI.

mod support;

use std::io::{BufRead, BufReader, Read};
use std::time::Duration;

use serde_json::{Value, json};
use support::{Person, Server, s, serve};

fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(20)))
        .build()
        .into()
}

fn call(server: &Server, method: &str, path: &str, body: Option<Value>) -> (u16, Value) {
    let url = format!("{}/api/v1{path}", server.base);
    let a = agent();
    let auth = server.bearer();
    let mut response = match (method, body) {
        ("GET", _) => a.get(&url).header("Authorization", &auth).call().unwrap(),
        ("POST", Some(b)) => a.post(&url).header("Authorization", &auth).send_json(&b).unwrap(),
        ("POST", None) => a.post(&url).header("Authorization", &auth).send_json(serde_json::json!({})).unwrap(),
        ("PUT", Some(b)) => a.put(&url).header("Authorization", &auth).send_json(&b).unwrap(),
        _ => unreachable!(),
    };
    let status = response.status().as_u16();
    let text = response.body_mut().read_to_string().unwrap();
    (status, serde_json::from_str(&text).unwrap_or(Value::String(text)))
}

#[test]
fn plan_a_festival_over_http() {
    let ana = Person::new("Ana");
    let server = serve(&ana, &[]);
    let (status, me) = call(&server, "GET", "/identity", None);
    assert_eq!((status, me["name"].as_str()), (200, Some("Ana")));

    let (status, f) =
        call(&server, "POST", "/festivals", Some(json!({"name": "Lake Fest", "timezone": "Europe/Berlin"})));
    assert_eq!(status, 201, "{f}");
    let festival = s(&f["id"]);
    let (status, sub) = call(&server, "POST", "/festivals", Some(json!({"name": "Beach", "parent": &festival[..12]})));
    assert_eq!(status, 201, "{sub}");
    let (_, f) = call(&server, "GET", &format!("/festivals/{festival}"), None);
    assert_eq!(f["children"][0], sub["id"]);

    let (status, r) = call(
        &server,
        "POST",
        &format!("/festivals/{festival}/resources"),
        Some(json!({
            "name": "Boat", "kind": "thing", "policy": "fcfs",
            "availability": [{"start": "2026-07-01T08:00:00Z", "end": "2026-07-01T20:00:00Z"}]
        })),
    );
    assert_eq!(status, 201, "{r}");
    assert_eq!(r["availability"][0]["end"], "2026-07-01T20:00:00Z");
    let boat = s(&r["id"]);
    // The sub-festival can request its parent's resources.
    let (_, list) = call(&server, "GET", &format!("/festivals/{}/resources", s(&sub["id"])), None);
    assert_eq!(list[0]["id"], boat.as_str());

    let (status, check) = call(
        &server,
        "POST",
        "/check",
        Some(json!({"resource": boat, "start": "2026-07-01T10:00:00Z", "end": "2026-07-01T12:00:00Z"})),
    );
    assert_eq!((status, check["free"].as_bool()), (200, Some(true)));
    let (status, e) = call(
        &server,
        "POST",
        &format!("/festivals/{}/events", s(&sub["id"])),
        Some(json!({
            "title": "Regatta", "start": "2026-07-01T10:00:00Z", "end": "2026-07-01T12:00:00Z", "requests": [{"resource": boat}]
        })),
    );
    assert_eq!(status, 201, "{e}");
    // fcfs: the owner's node (this one) confirmed at once.
    assert_eq!(e["requests"][0]["status"], "confirmed");
    let (_, check) = call(
        &server,
        "POST",
        "/check",
        Some(json!({"resource": boat, "start": "2026-07-01T11:00:00Z", "end": "2026-07-01T13:00:00Z"})),
    );
    assert_eq!(check["free"], false);
    assert_eq!(check["conflicts"][0]["event_title"], "Regatta");
    assert!(check["reason"].as_str().unwrap().starts_with("overlaps confirmed request"), "{check}");

    let (_, cal) = call(
        &server,
        "GET",
        &format!("/resources/{boat}/calendar?start=2026-07-01T00:00:00Z&end=2026-07-02T00:00:00Z"),
        None,
    );
    assert_eq!(cal["confirmed"].as_array().unwrap().len(), 1);
    assert_eq!(cal["free"][0]["end"], "2026-07-01T10:00:00Z");
    assert_eq!(cal["free"][1]["start"], "2026-07-01T12:00:00Z");

    // A second request overlapping: fcfs denies; a manual confirm of it is refused with 409.
    let (_, e2) = call(
        &server,
        "POST",
        &format!("/festivals/{festival}/events"),
        Some(json!({
            "title": "Fishing", "start": "2026-07-01T11:00:00Z", "end": "2026-07-01T13:00:00Z", "requests": [{"resource": boat}]
        })),
    );
    assert_eq!(e2["requests"][0]["status"], "denied");
    let q2 = s(&e2["requests"][0]["id"]);
    let (status, err) = call(&server, "POST", &format!("/requests/{q2}/confirm"), None);
    assert_eq!(status, 409);
    assert!(err["error"].as_str().unwrap().starts_with("cannot confirm: overlaps confirmed request"), "{err}");

    // The programme, whole or a day at a time (the range is in the festival's time zone
    // unless it says otherwise), and an event moved to another day moves page.
    let (status, breakfast) = call(
        &server,
        "POST",
        &format!("/festivals/{festival}/events"),
        Some(json!({"title": "Breakfast", "start": "2026-07-02T08:00:00Z", "end": "2026-07-02T09:00:00Z"})),
    );
    assert_eq!(status, 201, "{breakfast}");
    let titles = |query: &str| -> Vec<String> {
        let (status, p) = call(&server, "GET", &format!("/festivals/{festival}/programme{query}"), None);
        assert_eq!(status, 200, "{p}");
        p["events"].as_array().unwrap().iter().map(|e| s(&e["title"])).collect()
    };
    assert_eq!(titles(""), ["Regatta", "Breakfast"]);
    assert_eq!(titles("?start=2026-07-01T00:00:00Z&end=2026-07-02T00:00:00Z"), ["Regatta"]);
    assert_eq!(titles("?start=2026-07-02T00:00&end=2026-07-03T00:00"), ["Breakfast"]);
    assert_eq!(
        titles("?start=2026-07-01T11:30:00Z&end=2026-07-01T11:45:00Z"),
        ["Regatta"],
        "overlapping, not starting"
    );
    let (status, moved) = call(
        &server,
        "PUT",
        &format!("/events/{}", s(&breakfast["id"])),
        Some(json!({"start": "2026-07-03T08:00:00Z", "end": "2026-07-03T09:00:00Z"})),
    );
    assert_eq!(status, 200, "{moved}");
    assert!(titles("?start=2026-07-02T00:00&end=2026-07-03T00:00").is_empty());
    assert_eq!(titles("?start=2026-07-03T00:00&end=2026-07-04T00:00"), ["Breakfast"]);
    let (status, err) = call(&server, "GET", &format!("/festivals/{festival}/programme?start=2026-07-01T00:00"), None);
    assert_eq!((status, s(&err["error"])), (400, "give both start and end, or neither".to_string()));
    // A page at a time: at most `limit` events after `after` (the previous page's `next`).
    let page = |query: &str| -> (Vec<String>, Option<String>) {
        let (status, p) = call(&server, "GET", &format!("/festivals/{festival}/programme{query}"), None);
        assert_eq!(status, 200, "{p}");
        let titles = p["events"].as_array().unwrap().iter().map(|e| s(&e["title"])).collect();
        (titles, p["next"].as_str().map(str::to_string))
    };
    let (first, next) = page("?limit=1");
    assert_eq!(first, ["Regatta"]);
    let next = next.expect("a next page");
    assert_eq!(page(&format!("?limit=1&after={next}")), (vec!["Breakfast".to_string()], None));
    assert_eq!(page("?limit=2"), (vec!["Regatta".to_string(), "Breakfast".to_string()], None));
    assert_eq!(
        page(&format!("?start=2026-07-03T00:00&end=2026-07-04T00:00&limit=1&after={next}")),
        (vec!["Breakfast".to_string()], None)
    );
    for (query, error) in [
        ("?limit=0".to_string(), "limit must be a number from 1 to 1000, not \"0\""),
        ("?limit=1&after=x".to_string(), "\"x\" is not a programme cursor (give a page's \"next\")"),
        (format!("?after={next}"), "after pages only with a limit"),
    ] {
        let (status, err) = call(&server, "GET", &format!("/festivals/{festival}/programme{query}"), None);
        assert_eq!((status, s(&err["error"])), (400, error.to_string()), "{query}");
    }

    // Errors are JSON with a sentence.
    let (status, err) = call(&server, "GET", "/festivals/abcdef", None);
    assert_eq!(status, 404, "{err}");
    let (status, err) = call(&server, "POST", "/festivals", Some(json!({"name": "X", "timezone": "Mars/Olympus"})));
    assert_eq!(status, 400);
    assert_eq!(err["error"], "\"Mars/Olympus\" is not an IANA time zone (e.g. Europe/Berlin)");
    let (status, err) = call(&server, "POST", "/festivals", Some(json!({"nam": "typo"})));
    assert_eq!(status, 400, "{err}");
    let (status, _) = call(&server, "GET", "/nothing/here", None);
    assert_eq!(status, 404);

    let (_, ics) = {
        let mut r = agent()
            .get(format!("{}/api/v1/festivals/{}/schedule.ics", server.base, s(&sub["id"])))
            .header("Authorization", &server.bearer())
            .call()
            .unwrap();
        assert_eq!(r.headers().get("content-type").unwrap(), "text/calendar; charset=utf-8");
        (0, r.body_mut().read_to_string().unwrap())
    };
    assert!(ics.contains("SUMMARY:Regatta"), "{ics}");
}

#[test]
fn openapi_documents_every_route() {
    let ana = Person::new("Ana");
    let server = serve(&ana, &[]);
    let (status, doc) = call(&server, "GET", "/openapi.json", None);
    assert_eq!(status, 200);
    assert_eq!(doc["openapi"], "3.1.0");
    let paths = doc["paths"].as_object().unwrap();
    for (method, path) in pandafest::openapi::documented() {
        assert!(paths[&format!("/api/v1{path}")].get(method).is_some(), "{method} {path}");
        // Every documented route exists: a path without ids answers something other than
        // the API's "no such call" 404 (unknown ids give 404 with another message).
        let concrete = path.replace("{id}", "abcdef123456");
        let (status, body) = match method {
            "get" if path != "/stream" => call(&server, "GET", &concrete, None),
            "post" => call(&server, "POST", &concrete, Some(json!({}))),
            "put" => call(&server, "PUT", &concrete, Some(json!({}))),
            _ => continue,
        };
        let text = body.to_string();
        assert!(!(status == 404 && text.contains("no such API call")), "{method} {path} is not routed");
    }
}

#[test]
fn the_token_is_required() {
    let ana = Person::new("Ana");
    let server = serve(&ana, &["--token", "s3cret"]);
    let mut denied = agent().get(format!("{}/api/v1/festivals", server.base)).call().unwrap();
    assert_eq!(denied.status().as_u16(), 401);
    assert!(denied.body_mut().read_to_string().unwrap().contains("token"));
    // Without --token, the node's own token (which `pandafest token` prints) is required.
    let bo = Person::new("Bo");
    let server = serve(&bo, &[]);
    assert_eq!(bo.ok(&["token"]).trim(), server.token);
    let denied = agent().get(format!("{}/api/v1/identity", server.base)).call().unwrap();
    assert_eq!(denied.status().as_u16(), 401);
    drop(server);
    let again = serve(&bo, &[]);
    assert_eq!(again.token, bo.ok(&["token"]).trim(), "the token stays across restarts");
    let server = serve(&ana, &["--token", "s3cret"]);
    let mut ok = agent()
        .get(format!("{}/api/v1/festivals", server.base))
        .header("Authorization", "Bearer s3cret")
        .call()
        .unwrap();
    assert_eq!(ok.status().as_u16(), 200);
    assert_eq!(ok.body_mut().read_to_string().unwrap(), "[]");
    let ok = agent().get(format!("{}/api/v1/festivals?token=s3cret", server.base)).call().unwrap();
    assert_eq!(ok.status().as_u16(), 200);
    // Calendar feeds take a read-only key instead of the token, and nothing else does.
    let mut me = agent().get(format!("{}/api/v1/identity?token=s3cret", server.base)).call().unwrap();
    let me: Value = serde_json::from_str(&me.body_mut().read_to_string().unwrap()).unwrap();
    let key = s(&me["calendar_key"]);
    assert_ne!(key, "s3cret");
    let f =
        agent().post(format!("{}/api/v1/festivals?token=s3cret", server.base)).send_json(json!({"name": "F"})).unwrap();
    assert_eq!(f.status().as_u16(), 201);
    let mut list = agent().get(format!("{}/api/v1/festivals?token=s3cret", server.base)).call().unwrap();
    let list: Value = serde_json::from_str(&list.body_mut().read_to_string().unwrap()).unwrap();
    let id = s(&list[0]["id"]);
    let ics = agent().get(format!("{}/api/v1/festivals/{id}/schedule.ics?key={key}", server.base)).call().unwrap();
    assert_eq!(ics.status().as_u16(), 200);
    let denied = agent().get(format!("{}/api/v1/festivals?key={key}", server.base)).call().unwrap();
    assert_eq!(denied.status().as_u16(), 401);
}

#[test]
fn the_live_stream_shows_a_confirm_made_from_the_cli_and_a_write_through_the_api() {
    let ana = Person::new("Ana");
    let bo = Person::new("Bo");
    let f = ana.json(&["festival", "create", "--name", "Live"]);
    let festival = s(&f["id"]);
    let stage = s(&ana.json(&["resource", "create", "--festival", &festival, "--name", "Stage"])["id"]);
    bo.receive(&ana, &festival);
    let e = bo.json(&[
        "event",
        "create",
        "--festival",
        &festival,
        "--title",
        "Talk",
        "--start",
        "2026-07-01T10:00:00Z",
        "--end",
        "2026-07-01T11:00:00Z",
        "--request",
        &stage,
    ]);
    let server = serve(&ana, &[]);
    let response = agent().get(format!("{}/api/v1/stream?token={}", server.base, server.token)).call().unwrap();
    let mut reader = BufReader::new(response.into_body().into_reader());
    let mut hello = String::new();
    reader.read_line(&mut hello).unwrap();
    assert_eq!(hello.trim(), "event: hello");
    // bo's request arrives by import into the served data directory, then ana confirms from the CLI.
    ana.receive(&bo, &festival);
    ana.ok(&["request", "confirm", e["requests"][0]["id"].as_str().unwrap()]);
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut buf = [0u8; 4096];
        while let Ok(n) = reader.read(&mut buf) {
            if n == 0 || tx.send(String::from_utf8_lossy(&buf[..n]).into_owned()).is_err() {
                break;
            }
        }
    });
    let mut text = String::new();
    let mut wait_for = |what: &str, text: &mut String| {
        while !text.contains(what) {
            text.push_str(&rx.recv_timeout(Duration::from_secs(20)).expect("a change event within 20 s"));
        }
    };
    // Entries other processes stored, with the plan's rows they wrote: named from their records.
    wait_for("\"request\"", &mut text);
    assert!(text.contains("event: change") && text.contains(&festival), "{text}");
    let (_, q) = call(&server, "GET", &format!("/requests/{}", s(&e["requests"][0]["id"])), None);
    assert_eq!(q["status"], "confirmed");
    // A write through the server's own API: named by the fold.
    text.clear();
    let (status, _) = call(
        &server,
        "POST",
        &format!("/festivals/{festival}/events"),
        Some(json!({"title": "Late show", "start": "2026-07-01T20:00:00Z", "end": "2026-07-01T21:00:00Z"})),
    );
    assert_eq!(status, 201);
    wait_for("\"event\"", &mut text);
    assert!(text.contains("event: change") && text.contains(&festival), "{text}");
}

/// Scenario: a festival whose answers are larger than what the node keeps in memory for one
/// (1 MiB; more goes to a file in the data directory): 300 events with descriptions of 4,000
/// characters, which asked for nothing, so that all are in the programme.
/// Assert: the whole programme is every event with its description, and equals its pages
/// put together; the iCalendar feed and the c3voc schedule hold every event; no spool file
/// is left in the data directory.
#[test]
fn large_answers_come_whole_through_a_spool_file() {
    let ana = Person::new("Ana");
    let server = serve(&ana, &[]);
    let (status, f) = call(&server, "POST", "/festivals", Some(json!({"name": "Long Fest", "timezone": "UTC"})));
    assert_eq!(status, 201, "{f}");
    let festival = s(&f["id"]);
    for n in 0..300 {
        let description = format!("{n:04} {}", "x".repeat(3_990));
        let start = format!("2026-07-{:02}T{:02}:{:02}:00Z", 1 + n / 100, n / 10 % 10 + 8, n % 10 * 5);
        let end = format!("2026-07-{:02}T20:00:00Z", 1 + n / 100);
        let body = json!({"title": format!("Talk {n}"), "description": description, "start": start, "end": end});
        let (status, e) = call(&server, "POST", &format!("/festivals/{festival}/events"), Some(body));
        assert_eq!(status, 201, "{e}");
    }
    let files = || {
        let mut names: Vec<String> =
            std::fs::read_dir(ana.path()).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into()).collect();
        names.sort();
        names
    };
    let before = files();

    let (status, whole) = call(&server, "GET", &format!("/festivals/{festival}/programme"), None);
    assert_eq!(status, 200);
    let events = whole["events"].as_array().unwrap();
    assert_eq!(events.len(), 300);
    assert!(serde_json::to_string(&whole).unwrap().len() > 1 << 20, "the answer is larger than the spool's memory");
    let mut descriptions: Vec<&str> = events.iter().map(|e| e["description"].as_str().unwrap()).collect();
    descriptions.sort();
    assert!(descriptions.iter().enumerate().all(|(n, d)| d.starts_with(&format!("{n:04} ")) && d.len() == 3_995));
    let mut paged = Vec::new();
    let mut after = String::new();
    loop {
        let (status, page) = call(&server, "GET", &format!("/festivals/{festival}/programme?limit=100{after}"), None);
        assert_eq!(status, 200, "{page}");
        paged.extend(page["events"].as_array().unwrap().iter().cloned());
        let Some(next) = page["next"].as_str() else { break };
        after = format!("&after={next}");
    }
    assert_eq!(&paged, events);

    let (status, ics) = call(&server, "GET", &format!("/festivals/{festival}/schedule.ics"), None);
    assert_eq!(status, 200);
    let ics = ics.as_str().unwrap();
    assert_eq!((ics.matches("BEGIN:VEVENT").count(), ics.ends_with("END:VCALENDAR\r\n")), (300, true));
    let (status, c3voc) = call(&server, "GET", &format!("/festivals/{festival}/schedule.json"), None);
    assert_eq!(status, 200);
    let days = c3voc["schedule"]["conference"]["days"].as_array().unwrap();
    let held: usize = days
        .iter()
        .flat_map(|d| d["rooms"].as_object().unwrap().values())
        .map(|events| events.as_array().unwrap().len())
        .sum();
    assert_eq!(held, 300);
    assert_eq!(files(), before, "no spool file is left");
}
