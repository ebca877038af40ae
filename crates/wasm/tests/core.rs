//! The core running in wasm (in Node.js, by `wasm-bindgen-test-runner`): two browser
//! peers and a relay, in memory, plan and sync through the same API as the web UI.
#![cfg(target_arch = "wasm32")]

use js_sys::{Array, Reflect, Uint8Array};
use pandafest_wasm::WasmNode;
use serde_json::{Value, json};
use wasm_bindgen::JsValue;
use wasm_bindgen_test::wasm_bindgen_test;

fn call(node: &mut WasmNode, method: &str, path: &str, body: Option<Value>) -> (u16, Value) {
    let answer: Value = serde_json::from_str(&node.request(method, path, body.map(|b| b.to_string()))).unwrap();
    (answer["status"].as_u64().unwrap() as u16, answer["body"].clone())
}

fn field(event: &JsValue, name: &str) -> JsValue {
    Reflect::get(event, &name.into()).unwrap()
}

/// Moves every pending message between connection `a` of `x` and connection `b` of `y`
/// until both are quiet; returns the events other than sends.
fn pump(x: &mut WasmNode, a: u32, y: &mut WasmNode, b: u32) -> Vec<(String, String)> {
    let mut seen = Vec::new();
    loop {
        let mut moved = false;
        for (from, from_id, to, to_id) in [(0, a, 1, b), (1, b, 0, a)] {
            let events: Array = if from == 0 { x.sync_poll(from_id) } else { y.sync_poll(from_id) };
            for event in events.iter() {
                let kind = field(&event, "type").as_string().unwrap();
                if kind == "send" {
                    let bytes = Uint8Array::new(&field(&event, "bytes")).to_vec();
                    if to == 0 {
                        x.sync_receive(to_id, &bytes)
                    } else {
                        y.sync_receive(to_id, &bytes)
                    }
                    moved = true;
                } else {
                    let detail = ["peer", "from", "reason"]
                        .iter()
                        .find_map(|k| field(&event, k).as_string())
                        .unwrap_or_default();
                    seen.push((kind, detail));
                }
            }
        }
        if !moved {
            return seen;
        }
    }
}

#[wasm_bindgen_test]
fn two_browser_peers_plan_and_sync_in_wasm() {
    let mut ana = WasmNode::open_in_memory().unwrap();
    let mut bo = WasmNode::open_in_memory().unwrap();
    let (status, f) =
        call(&mut ana, "POST", "/festivals", Some(json!({"name": "Wasm Fest", "timezone": "Europe/Berlin"})));
    assert_eq!(status, 201, "{f}");
    let festival = f["id"].as_str().unwrap().to_string();
    let (_, r) = call(
        &mut ana,
        "POST",
        &format!("/festivals/{festival}/resources"),
        Some(json!({"name": "Tent", "policy": "fcfs"})),
    );
    let tent = r["id"].as_str().unwrap().to_string();

    // Bo joins by an invite (no peer address: the link names only the festival here).
    let (status, joined) =
        call(&mut bo, "POST", "/join", Some(json!({"link": format!("pandafest://join?festival={festival}")})));
    assert_eq!(status, 202, "{joined}");
    let a = ana.sync_open("bo", true, Some(256 * 1024)); // as over a data channel
    let b = bo.sync_open("ana", false, Some(256 * 1024));
    let events = pump(&mut ana, a, &mut bo, b);
    assert!(events.iter().any(|(k, p)| k == "ready" && *p == bo.public_key()), "{events:?}");
    let (_, list) = call(&mut bo, "GET", "/festivals", None);
    assert_eq!(list[0]["name"], "Wasm Fest");

    // Bo requests the tent; Ana's node (fcfs) confirms; Bo sees it.
    let (status, e) = call(
        &mut bo,
        "POST",
        &format!("/festivals/{festival}/events"),
        Some(json!({
            "title": "Story night", "start": "2026-07-01T18:00:00Z", "end": "2026-07-01T20:00:00Z", "requests": [{"resource": tent}]
        })),
    );
    assert_eq!(status, 201, "{e}");
    assert_eq!(e["requests"][0]["status"], "pending");
    pump(&mut ana, a, &mut bo, b);
    let (_, q) = call(&mut bo, "GET", &format!("/requests/{}", e["requests"][0]["id"].as_str().unwrap()), None);
    assert_eq!(q["status"], "confirmed", "{q}");
    let changes: Value = serde_json::from_str(&bo.take_changes()).unwrap();
    assert!(changes[0]["kinds"].as_array().unwrap().iter().any(|k| k == "request"), "{changes}");
    let (_, status) = call(&mut bo, "GET", "/sync", None);
    assert_eq!(status["peers"][0]["live"], true, "{status}");
}

#[wasm_bindgen_test]
fn signalling_is_relayed_through_a_common_peer_and_peers_are_introduced() {
    // Scenario: A and B are each connected to N only. Assert: N introduces them to each
    // other, and a signal from A to B arrives at B through N.
    let mut n = WasmNode::open_in_memory().unwrap();
    let mut a = WasmNode::open_in_memory().unwrap();
    let mut b = WasmNode::open_in_memory().unwrap();
    let (_, f) = call(&mut n, "POST", "/festivals", Some(json!({"name": "Mesh"})));
    let link = format!("pandafest://join?festival={}", f["id"].as_str().unwrap());
    call(&mut a, "POST", "/join", Some(json!({"link": link})));
    call(&mut b, "POST", "/join", Some(json!({"link": link})));
    let (na, an) = (n.sync_open("a", false, None), a.sync_open("n", true, None));
    let (nb, bn) = (n.sync_open("b", false, None), b.sync_open("n", true, None));
    pump(&mut n, na, &mut a, an);
    let events_b = pump(&mut n, nb, &mut b, bn);
    let events_a = pump(&mut n, na, &mut a, an);
    assert!(events_b.iter().any(|(k, p)| k == "introduce" && *p == a.public_key()), "{events_b:?}");
    assert!(events_a.iter().any(|(k, p)| k == "introduce" && *p == b.public_key()), "{events_a:?}");
    a.sync_signal(an, &b.public_key(), r#"{"sdp":{"type":"offer","sdp":"v=0"}}"#.into()).unwrap();
    pump(&mut n, na, &mut a, an);
    let events_b = pump(&mut n, nb, &mut b, bn);
    assert!(events_b.iter().any(|(k, from)| k == "signal" && *from == a.public_key()), "{events_b:?}");
}

#[wasm_bindgen_test]
fn keys_export_and_import_only_before_writing() {
    let a = WasmNode::open_in_memory().unwrap();
    let mut b = WasmNode::open_in_memory().unwrap();
    let secret = a.export_key();
    b.import_key(&secret).unwrap();
    assert_eq!(a.public_key(), b.public_key());
    call(&mut b, "POST", "/festivals", Some(json!({"name": "Mine"})));
    assert!(b.import_key(&WasmNode::open_in_memory().unwrap().export_key()).is_err());
}

#[wasm_bindgen_test]
fn a_browser_peer_withdraws_its_request_when_the_deadline_comes() {
    let mut ana = WasmNode::open_in_memory().unwrap();
    let (_, f) = call(&mut ana, "POST", "/festivals", Some(json!({"name": "Deadline Fest"})));
    let festival = f["id"].as_str().unwrap().to_string();
    let (_, r) = call(&mut ana, "POST", &format!("/festivals/{festival}/resources"), Some(json!({"name": "Van"})));
    let until = js_sys::Date::now() + 300.0;
    let until = js_sys::Date::new(&JsValue::from_f64(until)).to_iso_string().as_string().unwrap();
    let (status, e) = call(
        &mut ana,
        "POST",
        &format!("/festivals/{festival}/events"),
        Some(json!({
            "title": "Move out", "start": "2026-07-01T08:00:00Z", "end": "2026-07-01T12:00:00Z",
            "requests": [{"resource": r["id"], "until": until}]
        })),
    );
    assert_eq!(status, 201, "{e}");
    assert!(!ana.run_due(), "not due yet");
    let later = js_sys::Date::now() + 400.0;
    while js_sys::Date::now() < later {}
    assert!(ana.run_due(), "the deadline came: the agent withdraws the request");
    let (_, q) = call(&mut ana, "GET", &format!("/requests/{}", e["requests"][0]["id"].as_str().unwrap()), None);
    assert_eq!(q["status"], "withdrawn", "{q}");
    assert!(!ana.run_due(), "nothing left to do");
}
