//! The fuzz target of the API (`cargo xtask fuzz`): any method, path and body from outside
//! must get an answer, never a panic, on a node that holds a small festival.

use crate::node::{NewEvent, NewFestival, NewRequest, Node, ResourceInput};

/// A node holding a festival, a resource (manual), an event and its pending request; and
/// the ids that `{f}`, `{r}`, `{e}`, `{q}` in a fuzzed path stand for.
pub fn node() -> (Node, [String; 4]) {
    let mut node = Node::with_store(store::Store::open_in_memory().expect("in-memory store"));
    let f = node.create_festival(NewFestival { name: "Fuzz".into(), ..Default::default() }).expect("festival").id;
    let input = ResourceInput { name: Some("Stage".into()), policy: Some("manual".into()), ..Default::default() };
    let r = node.create_resource(&f, input).expect("resource").id;
    let event = NewEvent {
        title: "Show".into(),
        start: "2026-07-01T10:00:00Z".into(),
        end: "2026-07-01T12:00:00Z".into(),
        requests: vec![NewRequest { resource: r.clone(), start: None, end: None, until: None }],
        ..Default::default()
    };
    let e = node.create_event(&f, event).expect("event");
    let q = e.requests[0].id.clone();
    (node, [f, r, e.id, q])
}

/// One call: the first byte picks the method, the rest is `path NUL body`.
pub fn api_call(node: &mut Node, ids: &[String; 4], data: &[u8]) {
    let Some((&m, rest)) = data.split_first() else { return };
    let method = ["GET", "POST", "PUT", "DELETE"][usize::from(m % 4)];
    let (path, body) = match rest.iter().position(|b| *b == 0) {
        Some(at) => (&rest[..at], Some(&rest[at + 1..])),
        None => (rest, None),
    };
    let ids = |text: &[u8]| {
        String::from_utf8_lossy(text)
            .replace("{f}", &ids[0])
            .replace("{r}", &ids[1])
            .replace("{e}", &ids[2])
            .replace("{q}", &ids[3])
    };
    let body = body.map(ids);
    let _ = crate::api::handle(node, method, &ids(path), body.as_deref());
}

/// Valid calls to start the fuzzer from.
pub fn seeds() -> Vec<Vec<u8>> {
    let calls: [(u8, &str, &str); 14] = [
        (0, "/festivals", ""),
        (0, "/festivals/{f}/events", ""),
        (0, "/resources/{r}/calendar?start=2026-07-01T00:00&end=2026-07-02T00:00", ""),
        (0, "/requests?incoming&pending=1&festival={f}", ""),
        (0, "/festivals/{f}/schedule", ""),
        (0, "/ops/{q}", ""),
        (1, "/festivals", r#"{"name":"New","timezone":"Europe/Berlin"}"#),
        (
            1,
            "/festivals/{f}/resources",
            r#"{"name":"Bike","availability":[{"start":"2026-07-01T00:00","end":"2026-07-03T00:00"}]}"#,
        ),
        (
            1,
            "/festivals/{f}/events",
            r#"{"title":"Talk","start":"2026-07-01T12:00","end":"2026-07-01T13:00","requests":[{"resource":"{r}"}]}"#,
        ),
        (1, "/requests/{q}/confirm", "{}"),
        (1, "/requests/{q}/deny", r#"{"reason":"no"}"#),
        (1, "/check", r#"{"resource":"{r}","start":"2026-07-01T10:00","end":"2026-07-01T11:00"}"#),
        (2, "/resources/{r}", r#"{"policy":"fcfs","lat":52.5,"lon":13.4}"#),
        (1, "/events/{e}/cancel", "{}"),
    ];
    calls
        .iter()
        .map(|(m, path, body)| {
            let mut bytes = vec![*m];
            bytes.extend_from_slice(path.as_bytes());
            if !body.is_empty() {
                bytes.push(0);
                bytes.extend_from_slice(body.as_bytes());
            }
            bytes
        })
        .collect()
}
