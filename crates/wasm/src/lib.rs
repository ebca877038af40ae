//! The browser peer: a whole pandafest node (store, plan, policy agent, sync sessions)
//! compiled to WebAssembly for a dedicated Web Worker. `docs/browser.md` describes the
//! [`WasmNode`] API that the worker script uses.
//!
//! Nothing here holds rules of its own: requests go to `service::api::handle`, sessions
//! to `service::hub::Hub`, exactly as on a native node.
#![cfg(target_arch = "wasm32")]

use std::path::Path;

use js_sys::{Array, Object, Reflect, Uint8Array};
use service::Node;
use service::hub::{Hub, HubEvent};
use store::Store;
use wasm_bindgen::prelude::*;

fn err(message: impl std::fmt::Display) -> JsValue {
    js_sys::Error::new(&message.to_string()).into()
}

/// A node's sync endpoint from an address as people type it (`service::invite::sync_url`):
/// the one rule of native nodes and browsers.
#[wasm_bindgen(js_name = syncUrl)]
pub fn sync_url(address: &str) -> Option<String> {
    service::invite::sync_url(address)
}

/// How long to wait before dialing a node again (`service::hub::redial_delay_ms`).
#[wasm_bindgen(js_name = redialDelayMs)]
pub fn redial_delay_ms(attempt: u32, random: f64) -> f64 {
    service::hub::redial_delay_ms(attempt, random) as f64
}

/// A connection that held this long was a success: the next redial starts over.
#[wasm_bindgen(js_name = redialResetMs)]
pub fn redial_reset_ms() -> f64 {
    service::hub::REDIAL_RESET_MS as f64
}

/// The hashes (64 bytes each, concatenated) of the entries of a sync `Entries` message if
/// every one is validly signed, else nothing (`service::hub::verified_hashes`). The browser
/// peer's second worker calls it; the first passes the result to `WasmNode::markVerified`.
#[wasm_bindgen(js_name = verifiedHashes)]
pub fn verified_hashes(bytes: &[u8]) -> Vec<u8> {
    service::hub::verified_hashes(bytes).iter().flat_map(|h| h.0).collect()
}

/// Checks `count` entries signed here, as `verifiedHashes` checks a peer's, so that the
/// browser has compiled the signature checks for speed before the first batch of a sync comes
/// (`service::hub::warm_up`). Whether they all held.
#[wasm_bindgen(js_name = warmUp)]
pub fn warm_up(count: u32) -> bool {
    service::hub::warm_up(count as usize)
}

#[wasm_bindgen]
pub struct WasmNode {
    node: Node,
    hub: Hub,
    seen: i64,
}

#[wasm_bindgen]
impl WasmNode {
    /// Whether this context can keep a database in OPFS (a dedicated worker in a secure context).
    #[wasm_bindgen(js_name = opfsAvailable)]
    pub fn opfs_available() -> bool {
        let global = js_sys::global();
        let storage = Reflect::get(&global, &"navigator".into())
            .ok()
            .and_then(|n| Reflect::get(&n, &"storage".into()).ok())
            .filter(|s| !s.is_undefined());
        let handle = Reflect::get(&global, &"FileSystemSyncAccessHandle".into()).ok().filter(|h| !h.is_undefined());
        storage.is_some() && handle.is_some()
    }

    /// Opens (or creates) the database `name` in OPFS.
    pub async fn open(name: String) -> Result<WasmNode, JsValue> {
        sqlite_wasm_vfs::sahpool::install::<sqlite_wasm_rs::WasmOsCallback>(
            &sqlite_wasm_vfs::sahpool::OpfsSAHPoolCfg::default(),
            true,
        )
        .await
        .map_err(|e| err(format!("cannot keep data in this browser (OPFS): {e}")))?;
        let store = Store::open(Path::new(&name)).map_err(err)?;
        Ok(WasmNode::with(store))
    }

    /// A node whose data lives only as long as the page.
    #[wasm_bindgen(js_name = openInMemory)]
    pub fn open_in_memory() -> Result<WasmNode, JsValue> {
        Ok(WasmNode::with(Store::open_in_memory().map_err(err)?))
    }

    fn with(store: Store) -> WasmNode {
        let seen = store.last_received();
        let mut node = Node::with_store(store);
        let _ = node.run_agent();
        WasmNode { node, hub: Hub::default(), seen }
    }

    #[wasm_bindgen(js_name = publicKey)]
    pub fn public_key(&self) -> String {
        self.node.me().to_hex()
    }

    /// One API call, as `docs/api.md` describes them (path after `/api/v1`). Returns
    /// `{"status": N, "body": …}` as JSON text.
    pub fn request(&mut self, method: &str, path: &str, body: Option<String>) -> String {
        let answer = match (method, path.split('?').next().unwrap_or("")) {
            ("GET", "/sync") => {
                let status = service::views::SyncView { peers: self.hub.status() };
                Some(service::api::Answer::new(200, &status))
            }
            ("POST", "/join") => Some(self.join(body.as_deref())),
            (m, p) if m == "GET" && p.starts_with("/festivals/") && p.ends_with("/invite") => {
                let id = p.trim_start_matches("/festivals/").trim_end_matches("/invite");
                Some(self.invite(id))
            }
            _ => service::api::handle(&mut self.node, method, path, body.as_deref()),
        };
        let answer = answer.unwrap_or_else(|| {
            let error = format!("{method} {path} is not available in the browser");
            service::api::Answer::new(501, &serde_json::json!({ "error": error }))
        });
        if method != "GET" {
            // A local write goes to every connected peer.
            self.hub.notify_all(&self.node);
        }
        // The body is JSON already: written once, not parsed again.
        format!(r#"{{"status":{},"body":{}}}"#, answer.status, answer.body.get())
    }

    fn join(&mut self, body: Option<&str>) -> service::api::Answer {
        let result = (|| -> Result<service::views::JoiningView, service::ApiError> {
            let service::api::JoinBody { link } = service::api::parse_body(body)?;
            // A browser has no address of its own to leave out.
            let invite = service::invite::remember_join(&self.node, &link, &[])?;
            self.hub.notify_all(&self.node);
            Ok(service::views::JoiningView::of(&invite))
        })();
        match result {
            Ok(joining) => service::api::Answer::new(202, &joining),
            Err(e) => service::api::Answer::error(&e),
        }
    }

    /// An invite naming the nodes this browser syncs with by WebSocket (browsers have no
    /// address: they are reached through those nodes).
    fn invite(&self, festival: &str) -> service::api::Answer {
        let connected: Vec<String> = self
            .hub
            .status()
            .into_iter()
            .filter(|p| p.connected && p.address.starts_with("ws"))
            .map(|p| p.address)
            .collect();
        match service::invite::invite(&self.node, festival, connected) {
            Ok(invite) => service::api::Answer::new(200, &service::views::InviteView::of(&invite)),
            Err(e) => service::api::Answer::error(&e),
        }
    }

    /// Runs what is due: writes the plan's rows that trail the entries, runs the agent if a
    /// request's deadline came (the organiser's node withdraws it) and sends what it wrote
    /// to the peers; answers whether it wrote anything.
    #[wasm_bindgen(js_name = runDue)]
    pub fn run_due(&mut self) -> bool {
        // The plan's rows trail the entries (`Store::flush_plan`); a tick writes what a
        // second's writes changed.
        let _ = self.node.store.flush_plan();
        if !self.node.deadline_due(service::now()) {
            return false;
        }
        let wrote = self.node.run_agent().is_ok_and(|actions| !actions.is_empty());
        if wrote {
            self.hub.notify_all(&self.node);
        }
        wrote
    }

    /// What changed since the last call, as a JSON array of `{"festivals", "kinds"}`.
    #[wasm_bindgen(js_name = takeChanges)]
    pub fn take_changes(&mut self) -> String {
        let last = self.node.store.last_received();
        if last == self.seen {
            return "[]".into();
        }
        let change = service::take_changes(&mut self.node, self.seen).unwrap_or_default();
        self.seen = last;
        serde_json::to_string(&[change]).expect("serialises")
    }

    #[wasm_bindgen(js_name = exportKey)]
    pub fn export_key(&self) -> String {
        hex::encode(self.node.store.keypair().secret())
    }

    /// Replaces this browser's key pair; only while it has written nothing.
    #[wasm_bindgen(js_name = importKey)]
    pub fn import_key(&mut self, secret_hex: &str) -> Result<(), JsValue> {
        let mut secret = [0u8; 32];
        hex::decode_to_slice(secret_hex.trim(), &mut secret).map_err(|_| err("a secret key is 64 hex digits"))?;
        self.node.store.import_key(secret).map_err(err)
    }

    // ---------------------------------------------------------------------------
    // Sync sessions

    /// Opens a sync session. `max_message_bytes` is the transport's largest message (a WebRTC
    /// data channel's `sctp.maxMessageSize`); without it (a WebSocket) the session asks for a
    /// browser's large batches (`sync::Limits::for_browser`).
    #[wasm_bindgen(js_name = syncOpen)]
    pub fn sync_open(&mut self, label: &str, initiator: bool, max_message_bytes: Option<u32>) -> u32 {
        let direction = if initiator { service::hub::Direction::Outgoing } else { service::hub::Direction::Incoming };
        let limits = match max_message_bytes {
            Some(max) => sync::Limits::default().within_transport(max),
            None => sync::Limits::for_browser(),
        };
        self.hub.open_limited(&self.node, label, direction, limits)
    }

    /// Entries with these hashes (from `verifiedHashes`, 64 bytes each) are stored without
    /// checking their signatures again when a session brings them.
    #[wasm_bindgen(js_name = markVerified)]
    pub fn mark_verified(&mut self, hashes: &[u8]) {
        let hashes = hashes.chunks_exact(64).map(|h| bamboo::Hash(h.try_into().expect("64-byte chunks")));
        self.hub.mark_verified(hashes);
    }

    #[wasm_bindgen(js_name = syncReceive)]
    pub fn sync_receive(&mut self, id: u32, bytes: &[u8]) {
        self.hub.receive(&mut self.node, id, bytes);
    }

    /// Drains what the host must do for connection `id`: an array of events.
    #[wasm_bindgen(js_name = syncPoll)]
    pub fn sync_poll(&mut self, id: u32) -> Array {
        let out = Array::new();
        for event in self.hub.poll(&mut self.node, id) {
            let o = Object::new();
            let set = |k: &str, v: JsValue| {
                let _ = Reflect::set(&o, &k.into(), &v);
            };
            match event {
                HubEvent::Send(bytes) => {
                    set("type", "send".into());
                    set("bytes", Uint8Array::from(bytes.as_slice()).into());
                }
                HubEvent::Ready { peer } => {
                    set("type", "ready".into());
                    set("peer", peer.to_hex().into());
                }
                HubEvent::Introduce { peer } => {
                    set("type", "introduce".into());
                    set("peer", peer.to_hex().into());
                }
                HubEvent::Signal { from, data } => {
                    set("type", "signal".into());
                    set("from", from.to_hex().into());
                    set("data", data.into());
                }
                HubEvent::Closed { reason, retry } => {
                    set("type", "closed".into());
                    set("reason", reason.into());
                    set("retry", retry.into());
                }
            }
            out.push(&o);
        }
        out
    }

    /// Sends WebRTC signalling (JSON text) to the peer `to` (hex key) through connection `id`.
    #[wasm_bindgen(js_name = syncSignal)]
    pub fn sync_signal(&mut self, id: u32, to: &str, data: String) -> Result<(), JsValue> {
        let to = bamboo::Author::from_hex(to).ok_or_else(|| err("a key is 64 hex digits"))?;
        self.hub.signal(&self.node, id, to, data).map_err(err)
    }

    #[wasm_bindgen(js_name = syncClose)]
    pub fn sync_close(&mut self, id: u32, reason: &str) {
        self.hub.close(id, reason);
    }

    /// Forgets a closed connection (it leaves the status).
    #[wasm_bindgen(js_name = syncRemove)]
    pub fn sync_remove(&mut self, id: u32) {
        self.hub.remove(id);
    }

    /// Closes sessions whose peer has not proven its key in time (call about once a second).
    #[wasm_bindgen(js_name = syncExpire)]
    pub fn sync_expire(&mut self) {
        self.hub.expire();
    }

    /// Connection ids that may have something to do (after a local write, poll them all).
    #[wasm_bindgen(js_name = syncIds)]
    pub fn sync_ids(&self) -> Vec<u32> {
        self.hub.ids()
    }

    #[wasm_bindgen(js_name = syncStatus)]
    pub fn sync_status(&self) -> String {
        serde_json::to_string(&service::views::SyncView { peers: self.hub.status() }).unwrap_or_default()
    }
}
