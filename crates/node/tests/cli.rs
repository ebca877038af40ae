//! The CLI as people use it: several identities, each with its own data directory,
//! exchanging logs as files.

mod support;

use support::{Person, s};

/// ana owns a festival with a stage; bo and cy organise events.
fn festival_with_stage(policy: &str) -> (Person, Person, Person, String, String) {
    let ana = Person::new("Ana");
    let bo = Person::new("Bo");
    let cy = Person::new("Cy");
    let f = ana.json(&[
        "festival",
        "create",
        "--name",
        "Summer Camp",
        "--timezone",
        "Europe/Berlin",
        "--start",
        "2026-07-01T10:00",
        "--end",
        "2026-07-05T22:00",
    ]);
    let festival = s(&f["id"]);
    assert_eq!(f["timezone"], "Europe/Berlin");
    assert_eq!(f["start"], "2026-07-01T08:00:00Z", "local times are read in the festival's zone");
    let r = ana.json(&[
        "resource",
        "create",
        "--festival",
        &festival,
        "--name",
        "Main stage",
        "--kind",
        "location",
        "--lat",
        "52.52",
        "--lon",
        "13.405",
        "--address",
        "Am Wasser 1",
        "--policy",
        policy,
        "--available",
        "2026-07-01T10:00/2026-07-05T22:00",
    ]);
    assert_eq!(r["kind"], "location");
    assert_eq!(r["location"]["lat"], 52.52);
    let stage = s(&r["id"]);
    bo.receive(&ana, &festival);
    cy.receive(&ana, &festival);
    (ana, bo, cy, festival, stage)
}

#[test]
fn request_confirm_deny_flow_between_three_identities() {
    let (ana, bo, cy, festival, stage) = festival_with_stage("manual");
    // bo sees the festival and the stage by its name and owner.
    let resources = bo.json(&["resource", "list", "--festival", &festival]);
    assert_eq!(resources[0]["name"], "Main stage");
    assert_eq!(resources[0]["owner_name"], "Ana");

    let opening = bo.json(&[
        "event",
        "create",
        "--festival",
        &festival,
        "--title",
        "Opening",
        "--start",
        "2026-07-01T18:00",
        "--end",
        "2026-07-01T20:00",
        "--request",
        &stage[..10],
    ]);
    let q_opening = s(&opening["requests"][0]["id"]);
    assert_eq!(opening["requests"][0]["status"], "pending");
    assert_eq!(opening["requests"][0]["resource"], stage.as_str());
    assert_eq!(opening["requests"][0]["start"], "2026-07-01T16:00:00Z");

    ana.receive(&bo, &festival);
    let inbox = ana.json(&["request", "list", "--incoming", "--pending"]);
    assert_eq!(inbox.as_array().unwrap().len(), 1);
    assert_eq!(inbox[0]["id"], q_opening.as_str());
    assert_eq!(inbox[0]["event_title"], "Opening");
    assert_eq!(inbox[0]["author_name"], "Bo");
    let confirmed = ana.json(&["request", "confirm", &q_opening[..8]]);
    assert_eq!(confirmed["status"], "confirmed");

    // cy asks for an overlapping slot; ana's confirm is refused with the conflict named.
    let concert = cy.json(&[
        "event",
        "create",
        "--festival",
        &festival,
        "--title",
        "Concert",
        "--start",
        "2026-07-01T19:00",
        "--end",
        "2026-07-01T22:00",
        "--request",
        &stage,
    ]);
    let q_concert = s(&concert["requests"][0]["id"]);
    ana.receive(&cy, &festival);
    let err = ana.fails(&["request", "confirm", &q_concert]);
    assert_eq!(
        err.trim(),
        format!(
            "error: cannot confirm: overlaps confirmed request {} (Opening, 2026-07-01 18:00–20:00)",
            &q_opening[..8]
        )
    );
    let denied = ana.json(&["request", "deny", &q_concert, "--reason", "the stage is taken; try the meadow"]);
    assert_eq!(denied["status"], "denied");

    // Both organisers learn the decisions from ana's log.
    bo.receive(&ana, &festival);
    cy.receive(&ana, &festival);
    let mine = bo.json(&["request", "list", "--mine"]);
    assert_eq!(mine[0]["status"], "confirmed");
    let mine = cy.json(&["request", "list", "--mine"]);
    assert_eq!(mine[0]["status"], "denied");
    assert_eq!(mine[0]["reason"], "the stage is taken; try the meadow");

    // Only the owner decides; only the organiser withdraws.
    let err = bo.fails(&["request", "deny", &q_concert]);
    assert!(err.contains("only the owner of Main stage decides its requests"), "{err}");
    let err = ana.fails(&["request", "withdraw", &q_opening]);
    assert!(err.contains("only the event's organiser"), "{err}");

    // The schedule shows the booking in the festival's time zone, and as iCalendar.
    let schedule = ana.ok(&["schedule", "--festival", &festival]);
    assert!(
        schedule.contains("2026-07-01") && schedule.contains("18:00–20:00  Main stage  Opening  (confirmed)"),
        "{schedule}"
    );
    let ical = ana.ok(&["schedule", "--festival", &festival, "--ical"]);
    assert!(ical.starts_with("BEGIN:VCALENDAR\r\n") && ical.ends_with("END:VCALENDAR\r\n"), "{ical}");
    assert!(
        ical.contains("DTSTART:20260701T160000Z\r\n")
            && ical.contains("SUMMARY:Opening\r\n")
            && ical.contains("STATUS:CONFIRMED\r\n")
    );
    assert!(!ical.contains("Concert"), "denied requests are not in the calendar");
    assert!(
        ical.contains(&format!("UID:{}", &opening["id"].as_str().unwrap()[..60])),
        "the UID is the event's id: {ical}"
    );
    let frab = ana.ok(&["schedule", "--festival", &festival, "--format", "frab"]);
    assert!(
        frab.starts_with("<?xml")
            && frab.contains("<title>Opening</title>")
            && frab.contains("<room name=\"Main stage\">"),
        "{frab}"
    );
    let c3voc: serde_json::Value =
        serde_json::from_str(&ana.ok(&["schedule", "--festival", &festival, "--format", "json"])).unwrap();
    assert_eq!(c3voc["schedule"]["conference"]["acronym"], "summer_camp");
    assert_eq!(c3voc["schedule"]["conference"]["days"][0]["rooms"]["Main stage"][0]["title"], "Opening");
    let err = ana.fails(&["schedule", "--festival", &festival, "--format", "pdf"]);
    assert!(err.contains("--format \"pdf\" is none of ical, frab, json"), "{err}");
    let json = ana.json(&["schedule", "--festival", &festival]);
    assert_eq!(json[0]["status"], "confirmed");
    assert_eq!(json[0]["event_title"], "Opening");

    // bo withdraws; ana's node releases the slot as soon as it learns of it.
    bo.ok(&["request", "withdraw", &q_opening]);
    let out = ana.receive(&bo, &festival);
    assert!(out.contains("policy agent: release request"), "{out}");
    assert_eq!(
        ana.json(&["request", "list", "--incoming"])
            .as_array()
            .unwrap()
            .iter()
            .find(|q| q["id"] == q_opening.as_str())
            .unwrap()["status"],
        "withdrawn"
    );
    let calendar_free = ana.json(&["schedule", "--festival", &festival]);
    assert_eq!(calendar_free.as_array().unwrap().len(), 0);
}

#[test]
fn first_come_first_served_decides_competing_requests() {
    let (ana, bo, cy, festival, stage) = festival_with_stage("fcfs");
    let a = bo.json(&[
        "event",
        "create",
        "--festival",
        &festival,
        "--title",
        "Yoga",
        "--start",
        "2026-07-02T09:00",
        "--end",
        "2026-07-02T11:00",
        "--request",
        &stage,
    ]);
    let b = cy.json(&[
        "event",
        "create",
        "--festival",
        &festival,
        "--title",
        "Breakfast talk",
        "--start",
        "2026-07-02T10:00",
        "--end",
        "2026-07-02T12:00",
        "--request",
        &stage,
    ]);
    let c = cy.json(&[
        "event",
        "create",
        "--festival",
        &festival,
        "--title",
        "Night swim",
        "--start",
        "2026-07-05T21:00",
        "--end",
        "2026-07-05T23:00",
        "--request",
        &stage,
    ]);
    // ana's node learns of bo's request first.
    let out = ana.receive(&bo, &festival);
    assert!(out.contains("policy agent: confirm request"), "{out}");
    let out = ana.receive(&cy, &festival);
    assert!(out.contains("policy agent: deny request"), "{out}");
    let status = |p: &Person, q: &serde_json::Value| {
        let all = p.json(&["request", "list"]);
        all.as_array().unwrap().iter().find(|x| x["id"] == q["requests"][0]["id"]).unwrap().clone()
    };
    assert_eq!(status(&ana, &a)["status"], "confirmed");
    let talk = status(&ana, &b);
    assert_eq!(talk["status"], "denied");
    let yoga_id = s(&a["requests"][0]["id"]);
    assert_eq!(
        s(&talk["reason"]),
        format!("overlaps confirmed request {} (Yoga, 2026-07-02 09:00–11:00)", &yoga_id[..8])
    );
    let swim = status(&ana, &c);
    assert_eq!(swim["status"], "denied", "outside availability (the stage closes at 22:00)");
    assert_eq!(swim["reason"], "the requested time frame is outside the resource's availability");
    // Never both confirmed, and everyone computes the same.
    cy.receive(&ana, &festival);
    assert_eq!(status(&cy, &b)["status"], "denied");
    assert_eq!(status(&cy, &a)["status"], "confirmed");
}

#[test]
fn the_plan_is_the_same_whatever_the_import_order() {
    let (ana, bo, cy, festival, stage) = festival_with_stage("manual");
    let e1 = bo.json(&[
        "event",
        "create",
        "--festival",
        &festival,
        "--title",
        "Workshop",
        "--start",
        "2026-07-03T10:00",
        "--end",
        "2026-07-03T12:00",
        "--request",
        &stage,
    ]);
    let e2 = cy.json(&[
        "event",
        "create",
        "--festival",
        &festival,
        "--title",
        "Jam",
        "--start",
        "2026-07-03T11:00",
        "--end",
        "2026-07-03T13:00",
        "--request",
        &stage,
    ]);
    ana.receive(&bo, &festival);
    ana.receive(&cy, &festival);
    ana.ok(&["request", "confirm", e2["requests"][0]["id"].as_str().unwrap()]);
    ana.ok(&["request", "deny", e1["requests"][0]["id"].as_str().unwrap()]);
    let files = [ana.export(&festival), bo.export(&festival), cy.export(&festival)];
    // Two newcomers import the same files in opposite orders.
    let dee = Person::new("Dee");
    let eve = Person::new("Eve");
    for f in &files {
        dee.import(f);
    }
    for f in files.iter().rev() {
        // Importing cy's and bo's logs before the festival's creator's: their first
        // entries name a festival not known yet; the plan catches up when it arrives.
        eve.import(f);
    }
    let view = |p: &Person| {
        let mut requests = p.json(&["request", "list"]);
        for q in requests.as_array_mut().unwrap() {
            q.as_object_mut().unwrap().remove("mine");
            q.as_object_mut().unwrap().remove("incoming");
        }
        (
            p.json(&["festival", "show", &festival]),
            p.json(&["event", "list", "--festival", &festival]).to_string().replace("\"mine\":true", "\"mine\":false"),
            requests,
        )
    };
    assert_eq!(view(&dee), view(&eve));
    let requests = dee.json(&["request", "list"]);
    let statuses: Vec<_> =
        requests.as_array().unwrap().iter().map(|q| (s(&q["event_title"]), s(&q["status"]))).collect();
    assert_eq!(
        statuses,
        [("Workshop".to_string(), "denied".to_string()), ("Jam".to_string(), "confirmed".to_string())]
    );
}

#[test]
fn bad_files_are_rejected_whole_and_twice_is_once() {
    let (ana, bo, _cy, festival, _stage) = festival_with_stage("manual");
    let file = ana.export(&festival);
    let text = std::fs::read_to_string(&file).unwrap();
    // Flip one hex digit of the second line's signature.
    let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
    let (entry, payload) = lines[1].split_once(' ').unwrap();
    let mut entry = entry.to_string();
    let last = if entry.ends_with('0') { "1" } else { "0" };
    entry.replace_range(entry.len() - 1.., last);
    lines[1] = format!("{entry} {payload}");
    lines.insert(0, "# a comment line is fine".into());
    let bad = bo.path().join("bad.txt");
    std::fs::write(&bad, lines.join("\n")).unwrap();
    let fresh = Person::new("Fay");
    let err = fresh.fails(&["log", "import", bad.to_str().unwrap()]);
    assert_eq!(err.trim(), "error: line 3: the signature does not verify; nothing was imported");
    assert_eq!(fresh.json(&["festival", "list"]).as_array().unwrap().len(), 0);
    // The good file imports, and a second import changes nothing.
    let out = fresh.import(&file);
    assert!(out.contains(": 3 new, 0 already here"), "{out}");
    let out = fresh.import(&file);
    assert!(out.contains(": 0 new, 3 already here"), "{out}");
    // Unreadable input gets a clear message.
    let err = fresh.fails(&["log", "import", "/nonexistent/file"]);
    assert!(err.contains("cannot read /nonexistent/file"), "{err}");
    let err = fresh.fails(&["request", "confirm", "zz"]);
    assert!(err.contains("is not a request id"), "{err}");
    let err = fresh.fails(&[
        "event",
        "create",
        "--festival",
        &festival,
        "--title",
        "T",
        "--start",
        "tomorrow",
        "--end",
        "later",
    ]);
    assert!(err.contains("is not a time"), "{err}");
}

#[test]
fn log_verify_gives_a_verdict_per_line() {
    let ana = Person::new("Ana");
    let f = ana.json(&["festival", "create", "--name", "Tiny"]);
    let file = ana.export(&s(&f["id"]));
    let out = ana.run(&["log", "verify", file.to_str().unwrap(), "--json"]);
    assert_eq!(out.status.code(), Some(0));
    let verdicts: Vec<serde_json::Value> =
        String::from_utf8(out.stdout).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(verdicts.len(), 2, "the festival and the profile");
    assert_eq!(verdicts[1]["seq"], 2);
    assert_eq!(verdicts[1]["ok"], true);
    let text = std::fs::read_to_string(&file).unwrap().replacen("00", "01", 1);
    std::fs::write(&file, text).unwrap();
    let out = ana.run(&["log", "verify", file.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    let out = ana.run(&["log", "verify", "/no/such/file"]);
    assert_eq!(out.status.code(), Some(2));
    let out = ana.run(&["log", "verify"]);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn an_external_command_decides_as_the_owners_policy() {
    let (ana, bo, _cy, festival, _stage) = festival_with_stage("manual");
    // A bot in any language: here a shell pipeline reading the request as JSON.
    let bot = r#"exec:grep -q '"event_title":"Quiet' && echo '{"decision":"confirm"}' || echo '{"decision":"deny","reason":"the bot wants quiet events"}'"#;
    ana.ok(&["policy", "add", "bot", bot]);
    let list = ana.json(&["policy", "list"]);
    assert_eq!(list[0]["name"], "bot");
    let r = ana.json(&["resource", "create", "--festival", &festival, "--name", "Library", "--policy", "bot"]);
    let library = s(&r["id"]);
    bo.receive(&ana, &festival);
    bo.ok(&[
        "event",
        "create",
        "--festival",
        &festival,
        "--title",
        "Quiet reading",
        "--start",
        "2026-07-02T10:00",
        "--end",
        "2026-07-02T11:00",
        "--request",
        &library,
    ]);
    bo.ok(&[
        "event",
        "create",
        "--festival",
        &festival,
        "--title",
        "Drum circle",
        "--start",
        "2026-07-02T12:00",
        "--end",
        "2026-07-02T13:00",
        "--request",
        &library,
    ]);
    let out = ana.receive(&bo, &festival);
    assert!(out.contains("policy agent: confirm request") && out.contains("policy agent: deny request"), "{out}");
    let incoming = ana.json(&["request", "list", "--incoming"]);
    let by_title = |t: &str| incoming.as_array().unwrap().iter().find(|q| q["event_title"] == t).unwrap().clone();
    assert_eq!(by_title("Quiet reading")["status"], "confirmed");
    assert_eq!(by_title("Drum circle")["status"], "denied");
    assert_eq!(by_title("Drum circle")["reason"], "the bot wants quiet events");
    // A broken hook leaves requests to the owner.
    ana.ok(&["policy", "add", "bot", "exec:exit 3"]);
    bo.ok(&[
        "event",
        "create",
        "--festival",
        &festival,
        "--title",
        "Quiet too",
        "--start",
        "2026-07-03T10:00",
        "--end",
        "2026-07-03T11:00",
        "--request",
        &library,
    ]);
    ana.receive(&bo, &festival);
    let pending = ana.json(&["request", "list", "--incoming", "--pending"]);
    assert_eq!(pending[0]["event_title"], "Quiet too");
}

#[test]
fn an_http_endpoint_decides_as_the_owners_policy() {
    use std::io::{BufRead, BufReader, Read, Write};
    // A bot as a tiny HTTP server on loopback: it confirms requests for events whose title
    // starts with "Quiet" and denies the others, and records what it was sent.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/decide", listener.local_addr().unwrap());
    let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::<serde_json::Value>::new()));
    let log = seen.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut length = 0;
            loop {
                let mut line = String::new();
                reader.read_line(&mut line).unwrap();
                if line.trim().is_empty() {
                    break;
                }
                if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                    length = v.trim().parse().unwrap();
                }
            }
            let mut body = vec![0; length];
            reader.read_exact(&mut body).unwrap();
            let request: serde_json::Value = serde_json::from_slice(&body).unwrap();
            let quiet = request["request"]["event_title"].as_str().unwrap_or("").starts_with("Quiet");
            log.lock().unwrap().push(request);
            let answer = if quiet {
                r#"{"decision":"confirm"}"#
            } else {
                r#"{"decision":"deny","reason":"the web bot says no"}"#
            };
            write!(stream, "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{answer}", answer.len()).unwrap();
        }
    });
    let (ana, bo, _cy, festival, _stage) = festival_with_stage("manual");
    ana.ok(&["policy", "add", "webbot", &url]);
    let library =
        s(&ana.json(&["resource", "create", "--festival", &festival, "--name", "Studio", "--policy", "webbot"])["id"]);
    bo.receive(&ana, &festival);
    bo.ok(&[
        "event",
        "create",
        "--festival",
        &festival,
        "--title",
        "Quiet hour",
        "--start",
        "2026-07-02T10:00",
        "--end",
        "2026-07-02T11:00",
        "--request",
        &library,
    ]);
    bo.ok(&[
        "event",
        "create",
        "--festival",
        &festival,
        "--title",
        "Loud hour",
        "--start",
        "2026-07-02T12:00",
        "--end",
        "2026-07-02T13:00",
        "--request",
        &library,
    ]);
    ana.receive(&bo, &festival);
    let incoming = ana.json(&["request", "list", "--incoming"]);
    let by_title = |t: &str| incoming.as_array().unwrap().iter().find(|q| q["event_title"] == t).unwrap().clone();
    assert_eq!(by_title("Quiet hour")["status"], "confirmed");
    assert_eq!(by_title("Loud hour")["reason"], "the web bot says no");
    let seen = seen.lock().unwrap();
    assert_eq!(seen.len(), 2, "one call per pending request");
    assert_eq!(seen[0]["policy"], "webbot");
    assert_eq!(seen[0]["resource"]["name"], "Studio");
    assert!(seen[0]["free"].is_boolean() && seen[0]["festival"]["timezone"] == "Europe/Berlin", "{}", seen[0]);
}

// Scenario: Bo's Opening has the stage confirmed; Bo moves it an hour later, first as a
// dry run; Ana's node learns of it and Ana confirms the moved request.
// Assert: the dry run signs nothing and says what moves for whom; the move withdraws the
// old request and requests the new frame, replacing it; the old slot stays held until Ana
// decides, then the new one holds and the old is released. Only a festival's creator
// changes it. Errors speak the festival's local time.
#[test]
fn an_event_moves_with_its_requests_and_the_slot_follows_the_owners_decision() {
    let (ana, bo, _cy, festival, stage) = festival_with_stage("manual");
    let opening = bo.json(&[
        "event",
        "create",
        "--festival",
        &festival,
        "--title",
        "Opening",
        "--start",
        "2026-07-01T18:00",
        "--end",
        "2026-07-01T20:00",
        "--request",
        &stage,
    ]);
    let event = s(&opening["id"]);
    let old = s(&opening["requests"][0]["id"]);
    ana.receive(&bo, &festival);
    ana.ok(&["request", "confirm", &old]);
    bo.receive(&ana, &festival);

    let err = bo.fails(&["festival", "update", &festival, "--name", "Bo's camp"]);
    assert!(err.contains("belongs to someone else: only its creator can change it"), "{err}");
    let renamed = ana.json(&["festival", "update", &festival, "--name", "Summer Camp 2026"]);
    assert_eq!(renamed["name"], "Summer Camp 2026");
    assert_eq!(renamed["timezone"], "Europe/Berlin", "fields not given stay");

    let dry =
        bo.ok(&["event", "update", &event, "--start", "2026-07-01T19:00", "--end", "2026-07-01T21:00", "--dry-run"]);
    assert!(dry.contains("dry run, nothing signed"), "{dry}");
    assert!(
        dry.contains("would move Main stage (Ana): 2026-07-01 18:00–20:00 → 2026-07-01 19:00–21:00; the confirmed slot stays held until Ana decides"),
        "{dry}"
    );
    assert_eq!(bo.json(&["event", "list", "--festival", &festival])[0]["start"], "2026-07-01T16:00:00Z");

    let err = bo.fails(&["event", "update", &event, "--start", "2026-07-01T16:00", "--end", "2026-07-01T15:00"]);
    assert_eq!(
        err.trim(),
        "error: the time frame 2026-07-01 16:00 – 2026-07-01 15:00 (Europe/Berlin) ends before it starts"
    );

    let moved = bo.json(&["event", "update", &event, "--start", "2026-07-01T19:00", "--end", "2026-07-01T21:00"]);
    assert_eq!(moved["signed"], true);
    assert_eq!(moved["moves"][0]["request"], old.as_str());
    assert_eq!(moved["moves"][0]["confirmed"], true);
    assert_eq!(moved["event"]["start"], "2026-07-01T17:00:00Z");
    let requests = moved["event"]["requests"].as_array().unwrap();
    let new = s(&requests.iter().find(|q| q["status"] == "pending").unwrap()["id"]);

    ana.receive(&bo, &festival);
    let inbox = ana.json(&["request", "list", "--incoming", "--pending"]);
    assert_eq!(inbox.as_array().unwrap().len(), 1);
    assert_eq!(inbox[0]["id"], new.as_str());
    assert_eq!(inbox[0]["replaces"], old.as_str());
    assert_eq!(inbox[0]["moved_from"]["start"], "2026-07-01T16:00:00Z");
    let listing = ana.ok(&["request", "list", "--incoming", "--pending"]);
    assert!(listing.contains("(moved from 2026-07-01 18:00–20:00)"), "{listing}");
    let held = ana.json(&["request", "show", &old]);
    assert_eq!((held["status"].as_str(), held["holds_slot"].as_bool()), (Some("withdrawn"), Some(true)));
    assert_eq!(held["replaced_by"], new.as_str());

    let confirmed = ana.json(&["request", "confirm", &new]);
    assert_eq!(confirmed["status"], "confirmed");
    let released = ana.json(&["request", "show", &old]);
    assert_eq!(released["holds_slot"], false);
    let schedule = ana.ok(&["schedule", "--festival", &festival]);
    assert!(schedule.contains("19:00–21:00  Main stage  Opening  (confirmed)"), "{schedule}");
}

// Scenario: a request outside the stage's availability (manual policy), and a sub-festival's
// event booking the stage, seen by Cy, who holds the festival but not the sub-festival.
// Assert: Ana's node denies what can never be confirmed under every policy, saying why; Cy
// sees the stage busy at the sub-festival's slot without seeing its event.
#[test]
fn unconfirmable_requests_are_denied_and_sub_festival_bookings_are_busy_for_everyone() {
    let (ana, bo, cy, festival, stage) = festival_with_stage("manual");
    let late = bo.json(&[
        "event",
        "create",
        "--festival",
        &festival,
        "--title",
        "After party",
        "--start",
        "2026-07-06T20:00",
        "--end",
        "2026-07-06T23:00",
        "--request",
        &stage,
    ]);
    let q_late = s(&late["requests"][0]["id"]);
    let out = ana.receive(&bo, &festival);
    assert!(out.contains("policy agent: deny request"), "{out}");
    let denied = ana.json(&["request", "show", &q_late]);
    assert_eq!(denied["status"], "denied");
    assert_eq!(denied["reason"], "the requested time frame is outside the resource's availability");

    // Shrinking the stage's times: the dry run names what would be turned away; the update
    // then denies it.
    let talk = bo.json(&[
        "event",
        "create",
        "--festival",
        &festival,
        "--title",
        "Morning talk",
        "--start",
        "2026-07-03T10:00",
        "--end",
        "2026-07-03T11:00",
        "--request",
        &stage,
    ]);
    ana.receive(&bo, &festival);
    let dry = ana.ok(&["resource", "update", &stage, "--available", "2026-07-01T10:00/2026-07-02T22:00", "--dry-run"]);
    assert!(dry.contains("dry run, nothing signed"), "{dry}");
    assert!(
        dry.contains("would be denied: Morning talk 2026-07-03 10:00–11:00 by Bo (the requested time frame is outside the resource's availability)"),
        "{dry}"
    );
    let q_talk = s(&talk["requests"][0]["id"]);
    assert_eq!(ana.json(&["request", "show", &q_talk])["status"], "pending", "a dry run signs nothing");
    ana.ok(&["resource", "update", &stage, "--available", "2026-07-01T10:00/2026-07-02T22:00"]);
    assert_eq!(ana.json(&["request", "show", &q_talk])["status"], "denied");

    let tent = ana.json(&["festival", "create", "--name", "Workshop tent", "--parent", &festival]);
    let tent = s(&tent["id"]);
    let repair = ana.json(&[
        "event",
        "create",
        "--festival",
        &tent,
        "--title",
        "Bike repair",
        "--start",
        "2026-07-02T10:00",
        "--end",
        "2026-07-02T12:00",
        "--request",
        &stage,
    ]);
    ana.ok(&["request", "confirm", &s(&repair["requests"][0]["id"])]);
    cy.receive(&ana, &festival);
    let err = cy.fails(&["festival", "show", &tent]);
    assert!(err.contains("no festival"), "Cy has not joined the sub-festival: {err}");
    let busy = cy.json(&["schedule", "--festival", &festival, "--resource", &stage]);
    let slot = busy
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["start"] == "2026-07-02T08:00:00Z")
        .unwrap_or_else(|| panic!("the slot is busy: {busy}"));
    assert_eq!((slot["status"].as_str(), slot["event"].as_str()), (Some("confirmed"), None));
}

// Scenario: Ana's node runs with two notification hooks, one that appends each notice to a
// file and one that always fails; Bo's request for her stage arrives (imported while the
// node runs), then Ana confirms from the CLI (her own write: no news to her).
// Assert: the working hook gets one JSON notice, "requested", naming the event; the failing
// one is retried and its failure is listed by `hook list`.
#[test]
fn notification_hooks_hear_of_requests_and_failures_are_logged() {
    let (ana, bo, _cy, festival, stage) = festival_with_stage("manual");
    let file = ana.path().join("notices.jsonl");
    ana.ok(&["hook", "add", "log", &format!("exec:cat >> '{}'; echo >> '{}'", file.display(), file.display())]);
    ana.ok(&["hook", "add", "broken", "exec:exit 3"]);
    let _server = support::serve(&ana, &[]);
    bo.json(&[
        "event",
        "create",
        "--festival",
        &festival,
        "--title",
        "Opening",
        "--start",
        "2026-07-01T18:00",
        "--end",
        "2026-07-01T20:00",
        "--request",
        &stage,
    ]);
    ana.receive(&bo, &festival);
    support::eventually(20, "the notice reaches the hook", || {
        std::fs::read_to_string(&file).is_ok_and(|t| t.contains("requested"))
    });
    let lines: Vec<serde_json::Value> = std::fs::read_to_string(&file)
        .unwrap()
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert_eq!(lines[0]["hook"], "log");
    assert_eq!(lines[0]["notice"]["kind"], "requested");
    assert_eq!(lines[0]["notice"]["text"], "Bo asks for Main stage for Opening, 2026-07-01 18:00–20:00");
    support::eventually(20, "the failure is logged", || ana.ok(&["hook", "list"]).contains("failed"));
    let listed = ana.json(&["hook", "list"]);
    let broken = listed.as_array().unwrap().iter().find(|h| h["name"] == "broken").unwrap();
    assert!(broken["failures"][0][1].as_str().unwrap().contains("exited with exit status: 3"), "{broken}");
}

#[test]
fn a_fleet_takes_as_many_overlapping_bookings_as_it_has_and_tickets_have_no_limit() {
    let (ana, bo, cy, festival, _) = festival_with_stage("manual");
    let r = ana.json(&[
        "resource",
        "create",
        "--festival",
        &festival,
        "--name",
        "Cargo bikes",
        "--kind",
        "thing",
        "--policy",
        "fcfs",
        "--capacity",
        "2",
    ]);
    assert_eq!(r["capacity"], 2);
    let bikes = s(&r["id"]);
    assert!(ana.fails(&["resource", "update", &bikes, "--capacity", "0"]).contains("not a capacity"));
    assert!(
        ana.ok(&["resource", "list", "--festival", &festival])
            .contains("Cargo bikes  [thing, fcfs, owner Ana]  2 at a time")
    );
    bo.receive(&ana, &festival);
    cy.receive(&ana, &festival);
    let event = |p: &Person, title: &str, start: &str, end: &str| {
        let e = p.json(&[
            "event",
            "create",
            "--festival",
            &festival,
            "--title",
            title,
            "--start",
            start,
            "--end",
            end,
            "--request",
            &bikes,
        ]);
        s(&e["requests"][0]["id"])
    };
    let tour = event(&bo, "Bike tour", "2026-07-02T10:00", "2026-07-02T12:00");
    let run = event(&cy, "Cargo run", "2026-07-02T11:00", "2026-07-02T13:00");
    let third = event(&cy, "Market trip", "2026-07-02T11:30", "2026-07-02T12:30");
    ana.receive(&bo, &festival);
    ana.receive(&cy, &festival);
    let status = |id: &str| ana.json(&["request", "show", id]);
    assert_eq!(status(&tour)["status"], "confirmed");
    assert_eq!(status(&run)["status"], "confirmed", "two bikes: both overlapping requests hold");
    let denied = status(&third);
    assert_eq!(denied["status"], "denied");
    assert_eq!(s(&denied["reason"]), "all 2 are booked 2026-07-02 11:30–12:00, among them Bike tour");
    // 12:00–13:00 only the Cargo run holds a bike; 11:00–12:00 both are out.
    assert_eq!(
        ana.ok(&["resource", "check", &bikes, "--start", "2026-07-02T12:00", "--end", "2026-07-02T14:00"]),
        "free: 1 of 2 left\n  booked  2026-07-02 11:00–13:00  Cargo run\n"
    );
    let busy = ana.ok(&["resource", "check", &bikes, "--start", "2026-07-02T11:00", "--end", "2026-07-02T12:00"]);
    assert!(busy.starts_with("not free: all 2 are booked"), "{busy}");
    let cal = ana.json(&["resource", "check", &bikes, "--start", "2026-07-02T09:00", "--end", "2026-07-02T14:00"]);
    assert_eq!(cal["left"], 0);
    assert_eq!(cal["conflicts"].as_array().unwrap().len(), 2);
    // As tickets: no limit at all, and what was confirmed stays.
    ana.ok(&["resource", "update", &bikes, "--capacity", "unlimited"]);
    assert_eq!(
        ana.ok(&["resource", "check", &bikes, "--start", "2026-07-02T11:00", "--end", "2026-07-02T12:00"])
            .lines()
            .next(),
        Some("free: no limit")
    );
    // Everyone computes the same from the owner's log.
    cy.receive(&ana, &festival);
    assert_eq!(cy.json(&["request", "show", &third])["status"], "denied");
    assert_eq!(cy.json(&["request", "show", &run])["status"], "confirmed");
}

#[test]
fn a_bundle_falls_apart_cleanly_when_one_owner_denies_and_deadlines_withdraw() {
    let (ana, bo, cy, festival, stage) = festival_with_stage("fcfs");
    // Bo's sound engineer is decided by hand; Ana's PA cannot go without it.
    let engineer = s(&bo.json(&[
        "resource",
        "create",
        "--festival",
        &festival,
        "--name",
        "Sound engineer",
        "--kind",
        "skill",
    ])["id"]);
    ana.receive(&bo, &festival);
    let pa = ana.json(&[
        "resource",
        "create",
        "--festival",
        &festival,
        "--name",
        "PA",
        "--kind",
        "thing",
        "--policy",
        "fcfs",
        "--needs",
        &engineer,
    ]);
    assert_eq!(pa["needs"][0], engineer);
    let pa = s(&pa["id"]);
    cy.receive(&ana, &festival);
    cy.receive(&bo, &festival);
    // Cy asks for the stage and the PA; the engineer comes with the PA, all or nothing.
    let e = cy.json(&[
        "event",
        "create",
        "--festival",
        &festival,
        "--title",
        "Concert",
        "--start",
        "2026-07-03T20:00",
        "--end",
        "2026-07-03T22:00",
        "--request",
        &stage,
        "--request",
        &pa,
    ]);
    assert_eq!(e["all_or_nothing"], true);
    assert_eq!(e["requests"].as_array().unwrap().len(), 3, "stage, PA and the engineer the PA needs");
    let event = s(&e["id"]);
    ana.receive(&cy, &festival);
    let shown = ana.ok(&["event", "list", "--festival", &festival]);
    assert!(shown.contains("Concert  by Cy  (all or nothing: 2 of 3 confirmed)"), "{shown}");
    // Not in the programme while the engineer is pending.
    let programme = ana.ok(&["schedule", "--festival", &festival, "--format", "json"]);
    assert!(!programme.contains("Concert"), "{programme}");
    bo.receive(&cy, &festival);
    let engineer_request =
        e["requests"].as_array().unwrap().iter().find(|q| q["resource"] == engineer).unwrap().clone();
    bo.ok(&["request", "deny", &s(&engineer_request["id"]), "--reason", "on tour"]);
    // Cy's node withdraws the stage and the PA; Ana's node then releases both slots.
    let out = cy.receive(&bo, &festival);
    assert!(out.contains("withdraw"), "{out}");
    cy.receive(&ana, &festival);
    ana.receive(&cy, &festival);
    let check = ana.json(&["resource", "check", &stage, "--start", "2026-07-03T20:00", "--end", "2026-07-03T22:00"]);
    assert_eq!(check["free"], true, "the stage is free again: {check}");
    let e = ana.json(&["event", "list", "--festival", &festival]);
    let concert = e.as_array().unwrap().iter().find(|x| x["id"] == event).unwrap();
    let statuses: Vec<&str> =
        concert["requests"].as_array().unwrap().iter().map(|q| q["status"].as_str().unwrap()).collect();
    assert_eq!(statuses, ["withdrawn", "withdrawn", "denied"]);
    assert_eq!(
        concert["requests"][0]["reason"],
        "withdrawn by the organiser's node: all or nothing: Sound engineer is not available"
    );
    assert_eq!(concert["booked"], false);

    // A deadline: a request still pending then is withdrawn by the organiser's node.
    assert!(
        cy.fails(&[
            "event",
            "create",
            "--festival",
            &festival,
            "--title",
            "Late",
            "--start",
            "2026-07-04T10:00",
            "--end",
            "2026-07-04T11:00",
            "--request",
            &engineer,
            "--until",
            "2020-01-01T00:00"
        ])
        .contains("has passed already")
    );
    let soon = (chrono_like_now_plus(2)).to_string();
    let e = cy.json(&[
        "event",
        "create",
        "--festival",
        &festival,
        "--title",
        "Soundcheck",
        "--start",
        "2026-07-04T10:00",
        "--end",
        "2026-07-04T11:00",
        "--request",
        &engineer,
        "--until",
        &soon,
    ]);
    assert_eq!(e["requests"][0]["status"], "pending");
    assert!(e["requests"][0]["until"].is_string());
    std::thread::sleep(std::time::Duration::from_millis(2500));
    let out = cy.receive(&bo, &festival);
    assert!(out.contains("withdraw"), "the deadline passed: {out}");
    let late = cy.json(&["request", "show", &s(&e["requests"][0]["id"])]);
    assert_eq!(late["status"], "withdrawn");
    assert_eq!(late["reason"], "withdrawn by the organiser's node: the deadline passed while it was pending");
}

/// RFC 3339 (UTC) `seconds` from now.
fn chrono_like_now_plus(seconds: u64) -> String {
    let t = std::time::SystemTime::now() + std::time::Duration::from_secs(seconds);
    let ms = t.duration_since(std::time::UNIX_EPOCH).unwrap().as_millis() as i64;
    model::Timestamp(ms).to_rfc3339()
}

#[test]
fn a_collective_of_three_decides_by_majority_from_its_members_devices() {
    let (ana, bo, cy, festival, _) = festival_with_stage("manual");
    let house = Person::new("Hausprojekt");
    let dee = Person::new("Dee");
    house.receive(&ana, &festival);
    let key = |p: &Person| s(&p.json(&["whoami"])["public_key"]);
    let workshop = s(&house.json(&[
        "resource",
        "create",
        "--festival",
        &festival,
        "--name",
        "Workshop",
        "--kind",
        "location",
        "--policy",
        "collective",
    ])["id"]);
    // A key that is not a member's is refused before anything is signed.
    assert!(house.fails(&["collective", "set", "--festival", &festival, "--member", "beef"]).contains("is not a key"));
    let members = format!("{},{},{}", key(&ana), key(&bo), key(&cy));
    let out = house.ok(&["collective", "set", "--festival", &festival, "--member", &members, "--rule", "majority"]);
    assert!(out.contains("rule majority"), "{out}");
    assert_eq!(out.matches("member ").count(), 3, "{out}");
    dee.receive(&house, &festival);
    let e = dee.json(&[
        "event",
        "create",
        "--festival",
        &festival,
        "--title",
        "Screen printing",
        "--start",
        "2026-07-02T14:00",
        "--end",
        "2026-07-02T17:00",
        "--request",
        &workshop,
    ]);
    let q = s(&e["requests"][0]["id"]);
    for p in [&ana, &bo, &cy, &house] {
        p.receive(&dee, &festival);
        p.receive(&house, &festival);
    }
    // Members see it among their incoming requests; a non-member cannot vote.
    let incoming = ana.ok(&["request", "list", "--incoming"]);
    assert!(
        incoming.contains("Screen printing @ Workshop") && incoming.contains("0 yes, 0 no of 3; 2 yes needed"),
        "{incoming}"
    );
    assert!(dee.fails(&["request", "vote", &q, "--yes"]).contains("not a member"));
    let voted = ana.json(&["request", "vote", &q, "--yes"]);
    assert_eq!((voted["incoming"].as_bool(), voted["voter"].as_bool()), (Some(true), Some(true)));
    assert_eq!(voted["votes"]["mine"], true);
    bo.json(&["request", "vote", &q, "--no", "--reason", "we paint that day"]);
    house.receive(&ana, &festival);
    house.receive(&bo, &festival);
    let shown = house.json(&["request", "show", &q]);
    assert_eq!(shown["status"], "pending", "one yes of the two needed: {shown}");
    assert_eq!(shown["votes"]["no"][0]["reason"], "we paint that day");
    // Cy's yes is the majority: the collective's node confirms, as the single owner.
    cy.json(&["request", "vote", &q, "--yes"]);
    let out = house.receive(&cy, &festival);
    assert!(out.contains("policy agent: confirm request"), "{out}");
    dee.receive(&house, &festival);
    let seen = dee.json(&["request", "show", &q]);
    assert_eq!(seen["status"], "confirmed");
    assert_eq!(seen["votes"]["outcome"], true);
    assert_eq!(seen["votes"]["yes"].as_array().unwrap().len(), 2);
}

#[test]
fn only_ticket_holders_organise_and_a_released_ticket_takes_their_events_out_again() {
    let (ana, bo, _cy, festival, stage) = festival_with_stage("fcfs");
    let ticket = s(&ana.json(&[
        "resource",
        "create",
        "--festival",
        &festival,
        "--name",
        "Organiser ticket",
        "--kind",
        "other",
        "--capacity",
        "unlimited",
        "--policy",
        "manual",
    ])["id"]);
    let f = ana.json(&["festival", "update", &festival, "--ticket", &ticket]);
    assert_eq!(f["ticket"], ticket);
    bo.receive(&ana, &festival);
    // Without a ticket, Bo's event is kept but waits for admission; the stage's fcfs policy
    // leaves it alone, and it is not in the programme.
    let jam = bo.json(&[
        "event",
        "create",
        "--festival",
        &festival,
        "--title",
        "Jam",
        "--start",
        "2026-07-02T18:00",
        "--end",
        "2026-07-02T20:00",
        "--request",
        &stage,
    ]);
    assert_eq!(jam["admitted"], false);
    assert_eq!(bo.json(&["festival", "show", &festival])["admitted"], false);
    let application = bo.json(&[
        "event",
        "create",
        "--festival",
        &festival,
        "--title",
        "Bo wants to organise",
        "--start",
        "2026-07-01T10:00",
        "--end",
        "2026-07-01T11:00",
        "--request",
        &ticket,
    ]);
    assert_eq!(application["application"], true);
    ana.receive(&bo, &festival);
    let listed = ana.ok(&["event", "list", "--festival", &festival]);
    assert!(listed.contains("Jam  by Bo  (waiting for admission: the festival requires a ticket)"), "{listed}");
    assert!(listed.contains("Bo wants to organise  by Bo  (application for the festival's ticket)"), "{listed}");
    let jam_request = s(&jam["requests"][0]["id"]);
    assert_eq!(ana.json(&["request", "show", &jam_request])["status"], "pending");
    assert!(!ana.ok(&["schedule", "--festival", &festival, "--format", "json"]).contains("Jam"));
    // Ana admits Bo: her node's policy then decides his stage request at once.
    let out = ana.ok(&["request", "confirm", &s(&application["requests"][0]["id"])]);
    assert!(out.contains("confirmed"), "{out}");
    assert_eq!(ana.json(&["request", "show", &jam_request])["status"], "confirmed");
    let programme = ana.ok(&["schedule", "--festival", &festival, "--format", "json"]);
    assert!(programme.contains("Jam") && !programme.contains("Bo wants to organise"), "{programme}");
    bo.receive(&ana, &festival);
    assert_eq!(bo.json(&["festival", "show", &festival])["admitted"], true);
    ana.receive(&bo, &festival);
    // A released ticket takes Bo's events out of the programme again, on every peer.
    ana.ok(&["request", "release", &s(&application["requests"][0]["id"])]);
    assert!(!ana.ok(&["schedule", "--festival", &festival, "--format", "json"]).contains("Jam"));
    bo.receive(&ana, &festival);
    assert_eq!(bo.json(&["event", "list", "--festival", &festival])[0]["admitted"], false);
}
