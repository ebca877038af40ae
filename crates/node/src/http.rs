//! The HTTP API (`/api/v1`, see docs/api.md), its live stream of changes, and the web UI.
//!
//! The node sits behind one mutex; handlers run their (short) work on the blocking pool.
//! A watcher task notices every new entry, whoever stored it (this server, a CLI command
//! on the same data directory, a sync), runs the policy agent when others' entries
//! arrived, and tells stream subscribers which festivals and kinds of objects changed.

use std::convert::Infallible;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{StatusCode, header};
use axum::middleware;
use axum::response::sse::{Event as SseEvent, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::de::DeserializeOwned;
use tokio::sync::{Notify, broadcast};
use tokio_stream::StreamExt;
use tokio_stream::wrappers::BroadcastStream;

use crate::error::{ApiError, ApiResult, ErrorKind};
use crate::node::Node;
use crate::publish::Format;

pub use net::Change;

/// Everything the handlers share.
#[derive(Clone)]
pub struct AppState {
    pub node: Arc<Mutex<Node>>,
    pub changes: broadcast::Sender<Change>,
    /// What the sync sessions share (the same node and changes).
    pub sync: net::SyncContext,
    /// Wakes the watcher at once after a write here.
    pub written: Arc<Notify>,
    /// Read-only key for the `.ics` feeds, so that a calendar app never holds the token.
    pub calendar_key: String,
    /// Incoming sync sessions left before `/sync` answers 503.
    pub sync_slots: Arc<tokio::sync::Semaphore>,
}

impl AppState {
    pub fn new(node: Node, token: &str) -> AppState {
        let node = Arc::new(Mutex::new(node));
        let sync = net::SyncContext::new(node.clone());
        AppState {
            node,
            changes: sync.changes.clone(),
            sync,
            written: Arc::new(Notify::new()),
            calendar_key: calendar_key(token),
            sync_slots: Arc::new(tokio::sync::Semaphore::new(MAX_SYNC_SESSIONS)),
        }
    }
}

/// The token of this node's HTTP API: made on first use and kept in the data directory
/// (readable by its user only), so that the web UI's stored token and scripts keep working
/// across restarts. Loopback is no boundary between the users of one machine, so the API
/// asks for it on every address.
pub fn api_token(node: &Node) -> ApiResult<String> {
    if let Some(token) = node.store.setting("api_token")? {
        return Ok(token);
    }
    let token = hex::encode(rand::random::<[u8; 16]>());
    node.store.set_setting("api_token", Some(&token))?;
    Ok(token)
}

/// The read-only key of the calendar feeds of a node with `token`.
pub fn calendar_key(token: &str) -> String {
    bamboo::Hash::of(format!("pandafest calendar {token}").as_bytes()).to_hex()[..32].to_string()
}

/// An [`ApiError`] as an HTTP answer: its status and `{"error": message}`.
pub struct HttpError(pub ApiError);

impl From<ApiError> for HttpError {
    fn from(e: ApiError) -> HttpError {
        HttpError(e)
    }
}

type HttpResult<T> = Result<T, HttpError>;

impl IntoResponse for HttpError {
    fn into_response(self) -> Response {
        let HttpError(e) = self;
        let status = match e.kind {
            ErrorKind::BadInput => StatusCode::BAD_REQUEST,
            ErrorKind::NotFound => StatusCode::NOT_FOUND,
            ErrorKind::Conflict => StatusCode::CONFLICT,
            ErrorKind::Internal => StatusCode::INTERNAL_SERVER_ERROR,
        };
        (status, Json(serde_json::json!({ "error": e.message }))).into_response()
    }
}

/// Runs `f` on the node, off the async workers (SQLite writes wait for the disk).
async fn with_node<T: Send + 'static>(
    state: &AppState,
    write: bool,
    f: impl FnOnce(&mut Node) -> ApiResult<T> + Send + 'static,
) -> HttpResult<T> {
    let node = state.node.clone();
    let result = tokio::task::spawn_blocking(move || {
        net::locked(&node, |node| {
            // Entries stored meanwhile by another process (a CLI command) are folded in first.
            node.store.refresh()?;
            f(node)
        })
        .unwrap_or_else(|p| Err(ApiError::internal(p.to_string())))
    })
    .await
    .map_err(|e| ApiError::internal(format!("the request failed: {e}")))?;
    if write {
        state.written.notify_one();
    }
    Ok(result?)
}

/// The request body as the call takes it: `service::api`'s reading, on the bytes as sent.
fn body<T: DeserializeOwned>(bytes: &Bytes) -> HttpResult<T> {
    let text = std::str::from_utf8(bytes)
        .map_err(|_| HttpError(ApiError::bad_input("the request body is not UTF-8 text".to_string())))?;
    Ok(service::api::parse_body(Some(text))?)
}

type J<T> = HttpResult<Json<T>>;

/// The identity with the calendar key, which only this layer knows.
fn identity_json(s: &AppState, identity: crate::views::IdentityView) -> Json<serde_json::Value> {
    // Calendar links carry this read-only key instead of the token; only this layer knows it.
    let identity = crate::views::IdentityView { calendar_key: Some(s.calendar_key.clone()), ..identity };
    Json(serde_json::to_value(identity).expect("serialises"))
}

async fn get_identity(State(s): State<AppState>) -> J<serde_json::Value> {
    let identity = with_node(&s, false, |n| n.identity()).await?;
    Ok(identity_json(&s, identity))
}

async fn put_identity(State(s): State<AppState>, b: Bytes) -> J<serde_json::Value> {
    let service::api::NameBody { name } = body(&b)?;
    let identity = with_node(&s, true, move |n| n.set_name(&name)).await?;
    Ok(identity_json(&s, identity))
}

/// Answers held in memory up to this size; a larger one goes to a file in the data directory.
const SPOOL_IN_MEMORY: usize = 1 << 20;

/// Runs `f`, which writes an answer that may be large (a whole programme or schedule), on the
/// node into a spool: memory up to [`SPOOL_IN_MEMORY`], then a temporary file in the data
/// directory. The answer is sent once the node's lock is released, so that the node never
/// holds a whole schedule in memory (a million-entry festival's programme is 100 MB of JSON,
/// its c3voc schedule 200 MB: the node peaked at 150 and 400 MB with them, issue 15), and a
/// slow client never keeps the lock.
async fn spooled(
    s: &AppState,
    content_type: &'static str,
    f: impl FnOnce(&mut Node, &mut dyn std::io::Write) -> ApiResult<()> + Send + 'static,
) -> HttpResult<Response> {
    use std::io::{Seek, Write};
    let spool = with_node(s, false, move |n| {
        let dir = n.data_dir().map_or_else(std::env::temp_dir, std::path::Path::to_path_buf);
        let mut spool = tempfile::spooled_tempfile_in(SPOOL_IN_MEMORY, dir);
        let cannot = |e: std::io::Error| ApiError::internal(format!("cannot spool the answer: {e}"));
        // Serialisers write a few bytes at a time: a file takes them in 64 KiB.
        let mut out = std::io::BufWriter::with_capacity(1 << 16, &mut spool);
        f(n, &mut out)?;
        out.flush().map_err(cannot)?;
        drop(out);
        spool.rewind().map_err(cannot)?;
        if spool.is_rolled() {
            give_back_freed_memory();
        }
        Ok(spool)
    })
    .await?;
    let body = match spool.into_inner() {
        tempfile::SpooledData::InMemory(bytes) => axum::body::Body::from(bytes.into_inner()),
        tempfile::SpooledData::OnDisk(file) => {
            axum::body::Body::from_stream(tokio_util::io::ReaderStream::new(tokio::fs::File::from_std(file)))
        }
    };
    Ok(([(header::CONTENT_TYPE, content_type)], body).into_response())
}

/// After a large answer: glibc keeps the memory freed inside its heaps, and the next large
/// answer grew on top of it. Pages of a million-entry festival's programme, then its whole
/// programme and calendar (twice each), frab and c3voc: the node peaked at 113 MB and kept
/// 113 MB without this; with it, 107 MB and 53 MB (issue 15).
fn give_back_freed_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim only returns free memory of the allocator's heaps to the system.
    unsafe {
        libc::malloc_trim(0);
    }
}

const CALENDAR: &str = "text/calendar; charset=utf-8";

async fn festival_ics(State(s): State<AppState>, Path(id): Path<String>) -> HttpResult<Response> {
    spooled(&s, CALENDAR, move |n, out| service::api::export_to(n, &id, None, Format::Ical, out)).await
}

async fn festival_frab(State(s): State<AppState>, Path(id): Path<String>) -> HttpResult<Response> {
    let xml = "application/xml; charset=utf-8";
    spooled(&s, xml, move |n, out| service::api::export_to(n, &id, None, Format::Frab, out)).await
}

async fn festival_c3voc(State(s): State<AppState>, Path(id): Path<String>) -> HttpResult<Response> {
    spooled(&s, "application/json", move |n, out| service::api::export_to(n, &id, None, Format::C3voc, out)).await
}

async fn resource_ics(State(s): State<AppState>, Path(id): Path<String>) -> HttpResult<Response> {
    spooled(&s, CALENDAR, move |n, out| {
        let festival = n.resource(&id)?.festival;
        service::api::export_to(n, &festival, Some(&id), Format::Ical, out)
    })
    .await
}

/// `GET /festivals/{id}/programme`: `service::api`'s answer, spooled (a whole programme is
/// large).
async fn festival_programme(
    State(s): State<AppState>,
    Path(id): Path<String>,
    RawQuery(query): RawQuery,
) -> HttpResult<Response> {
    let query = query.unwrap_or_default();
    spooled(&s, "application/json", move |n, out| service::api::programme_to(n, &id, &query, out)).await
}

/// Every other API call: the shared routes of `service::api`, so that the browser peer
/// answers exactly the same.
async fn shared_api(State(s): State<AppState>, method: axum::http::Method, uri: axum::http::Uri, b: Bytes) -> Response {
    let path = uri.path_and_query().map_or_else(|| uri.path().to_string(), |p| p.as_str().to_string());
    let path = path.strip_prefix("/api/v1").unwrap_or(&path).to_string();
    let body = String::from_utf8_lossy(&b).into_owned();
    let write = method != axum::http::Method::GET;
    let answer = with_node(&s, write, move |n| Ok(service::api::handle(n, method.as_str(), &path, Some(&body)))).await;
    match answer {
        Ok(Some(a)) => {
            let status = StatusCode::from_u16(a.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            // JSON already: the text goes out as it is, not parsed or copied again.
            let json = String::from(Box::<str>::from(a.body));
            (status, [(header::CONTENT_TYPE, "application/json")], json).into_response()
        }
        Ok(None) => HttpError(ApiError::not_found("no such API call; see /api/v1/openapi.json")).into_response(),
        Err(e) => e.into_response(),
    }
}

async fn sync_status(State(s): State<AppState>) -> J<serde_json::Value> {
    Ok(Json(serde_json::to_value(service::views::SyncView { peers: s.sync.status().await }).unwrap_or_default()))
}

/// The WebSocket read and write buffers of a sync session.
const WS_BUFFER: usize = 16 * 1024;

/// A peer's sync session over a WebSocket (`/sync`). Not behind the token: peers prove
/// their keys in the handshake, and a peer learns only festivals whose ids it names. Any page
/// may open one too (browser peers are pages of other origins), so at most
/// [`MAX_SYNC_SESSIONS`] are served at once: sockets held open by a hostile page or peer
/// cannot take the connections the API needs.
async fn sync_socket(
    State(s): State<AppState>,
    ws: axum::extract::ws::WebSocketUpgrade,
    axum::extract::ConnectInfo(addr): axum::extract::ConnectInfo<std::net::SocketAddr>,
) -> Response {
    let Ok(slot) = s.sync_slots.clone().try_acquire_owned() else {
        tracing::warn!("sync from {addr} refused: {MAX_SYNC_SESSIONS} sessions are open");
        let said = format!("this node already serves {MAX_SYNC_SESSIONS} sync sessions; try again later");
        return (StatusCode::SERVICE_UNAVAILABLE, Json(serde_json::json!({ "error": said }))).into_response();
    };
    // Buffers of 16 KiB, not tungstenite's 128 KiB each way: a community node holds 200
    // sessions, and a larger message still grows them as it needs.
    ws.max_message_size(sync::Limits::default().max_message_bytes as usize + 1024)
        .read_buffer_size(WS_BUFFER)
        .write_buffer_size(WS_BUFFER)
        .on_upgrade(move |socket| async move {
            let _slot = slot;
            use axum::extract::ws::Message as WsMessage;
            use futures_util::SinkExt;
            let (mut sink, mut stream) = futures_util::StreamExt::split(socket);
            let (out_tx, mut out_rx) = tokio::sync::mpsc::channel::<Vec<u8>>(64);
            let (in_tx, in_rx) = tokio::sync::mpsc::channel::<Vec<u8>>(64);
            tokio::spawn(async move {
                loop {
                    let message = match tokio::time::timeout(net::PING_INTERVAL, out_rx.recv()).await {
                        Ok(Some(bytes)) => WsMessage::Binary(bytes.into()),
                        Ok(None) => break,
                        Err(_) => WsMessage::Ping(Vec::new().into()),
                    };
                    if sink.send(message).await.is_err() {
                        return;
                    }
                }
                let _ = sink.close().await;
            });
            tokio::spawn(async move {
                // A peer that sends nothing, not even a pong, for IDLE_TIMEOUT is gone.
                while let Ok(Some(Ok(message))) =
                    tokio::time::timeout(net::IDLE_TIMEOUT, futures_util::StreamExt::next(&mut stream)).await
                {
                    let bytes = match message {
                        WsMessage::Binary(b) => b.to_vec(),
                        WsMessage::Text(t) => t.as_bytes().to_vec(),
                        WsMessage::Close(_) => break,
                        _ => continue,
                    };
                    if in_tx.send(bytes).await.is_err() {
                        break;
                    }
                }
            });
            let info =
                net::ConnectionInfo { address: addr.to_string(), direction: net::Direction::Incoming, once: false };
            match net::drive(&s.sync, out_tx, in_rx, info, |_, _| {}).await {
                Ok(summary) => tracing::info!("sync with {addr} ended: {} entries stored", summary.stored),
                Err(e) => tracing::warn!("sync with {addr}: {e}"),
            }
        })
}

async fn stream(State(s): State<AppState>) -> Sse<impl tokio_stream::Stream<Item = Result<SseEvent, Infallible>>> {
    let changes = BroadcastStream::new(s.changes.subscribe()).filter_map(|c| {
        // A subscriber that lagged behind gets one catch-all change instead of the lost ones.
        let change = c.unwrap_or_else(|_| Change { festivals: Vec::new(), kinds: vec!["*".into()] });
        Some(Ok(SseEvent::default().event("change").json_data(change).expect("serialises")))
    });
    let hello = tokio_stream::once(Ok(SseEvent::default().event("hello").data("{}")));
    Sse::new(hello.chain(changes)).keep_alive(KeepAlive::new().interval(Duration::from_secs(15)))
}

async fn openapi() -> Json<serde_json::Value> {
    Json(crate::openapi::document())
}

/// The API routes under `/api/v1`.
pub fn api(state: AppState) -> Router {
    Router::new()
        // What only the native node answers; everything else is `service::api`.
        .route("/identity", get(get_identity).put(put_identity))
        .route("/festivals/{id}/programme", get(festival_programme))
        .route("/festivals/{id}/schedule.ics", get(festival_ics))
        .route("/festivals/{id}/schedule.xml", get(festival_frab))
        .route("/festivals/{id}/schedule.json", get(festival_c3voc))
        .route("/resources/{id}/schedule.ics", get(resource_ics))
        .route("/festivals/{id}/invite", get(invite))
        .route("/join", post(join))
        .route("/sync", get(sync_status))
        .route("/stream", get(stream))
        .route("/openapi.json", get(openapi))
        .fallback(shared_api)
        .with_state(state)
}

async fn invite(State(s): State<AppState>, Path(id): Path<String>) -> J<serde_json::Value> {
    let invite = with_node(&s, false, move |n| crate::sync_cmds::invite(n, &id, &[])).await?;
    Ok(Json(serde_json::to_value(service::views::InviteView::of(&invite)).unwrap_or_default()))
}

/// Remembers the festival and syncs with the link's peers in the background: the answer
/// comes at once (202), the festival arrives on the live stream.
async fn join(State(s): State<AppState>, b: Bytes) -> HttpResult<(StatusCode, Json<serde_json::Value>)> {
    let service::api::JoinBody { link } = body(&b)?;
    let invite = with_node(&s, true, move |n| crate::sync_cmds::remember_join(n, &link)).await?;
    // Sessions already open learn that this festival is wanted now.
    s.sync.notify();
    let _ = s.changes.send(Change { festivals: vec![invite.festival.to_hex()], kinds: vec!["festival".into()] });
    for peer in &invite.peers {
        s.sync.learn(peer, Some(invite.festival), true);
    }
    let joining = serde_json::to_value(service::views::JoiningView::of(&invite)).unwrap_or_default();
    Ok((StatusCode::ACCEPTED, Json(joining)))
}

/// The whole app: the peers' `/sync`, and behind the [`guard`](crate::guard) the API and
/// the web UI's files from `web_dir` if given.
pub fn app(state: AppState, web_dir: Option<PathBuf>, policy: crate::guard::Policy) -> Router {
    let guarded = Router::new().nest("/api/v1", api(state.clone()));
    let guarded = match web_dir {
        Some(dir) => {
            let index = dir.join("index.html");
            guarded.fallback_service(
                tower_http::services::ServeDir::new(dir).fallback(tower_http::services::ServeFile::new(index)),
            )
        }
        None => guarded.fallback(|| async {
            (StatusCode::NOT_FOUND, "the web UI is not built; run `cargo xtask run`, or use the API under /api/v1")
        }),
    };
    let cors = (!policy.origins.is_empty()).then(|| cors(&policy.origins));
    let guarded = guarded.layer(middleware::from_fn_with_state(Arc::new(policy), crate::guard::check));
    let guarded = match cors {
        // Outside the guard: a preflight carries no token.
        Some(cors) => guarded.layer(cors),
        None => guarded,
    };
    Router::new()
        .route("/sync", get(sync_socket))
        .with_state(state)
        .merge(guarded)
        // A panic in a handler answers 500 and leaves the node serving (see `crate::locked`).
        .layer(tower_http::catch_panic::CatchPanicLayer::custom(|_| {
            HttpError(ApiError::internal("the node failed on this request; it keeps serving")).into_response()
        }))
        // Bodies are read whole before the node's lock is taken; none needs more.
        .layer(axum::extract::DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(tower_http::timeout::RequestBodyTimeoutLayer::new(BODY_TIMEOUT))
}

/// How long a client may take to send a request's headers, and its body.
pub const HEADER_TIMEOUT: Duration = Duration::from_secs(10);
pub const BODY_TIMEOUT: Duration = Duration::from_secs(30);
/// Connections served at once; more wait in the kernel's backlog.
pub const MAX_CONNECTIONS: usize = 512;
/// Incoming sync sessions served at once: half the connections, so the rest stay for the API.
pub const MAX_SYNC_SESSIONS: usize = MAX_CONNECTIONS / 2;

/// Serves `app` on `listener` until Ctrl-C: HTTP/1.1 with WebSocket upgrades, a deadline for
/// each request's headers (a half-sent request does not hold a connection for ever), and a
/// bound on the connections served at once.
pub async fn serve(listener: tokio::net::TcpListener, app: Router) -> anyhow::Result<()> {
    use hyper_util::rt::{TokioIo, TokioTimer};
    use tower::Service;
    let mut make = app.into_make_service_with_connect_info::<std::net::SocketAddr>();
    let slots = Arc::new(tokio::sync::Semaphore::new(MAX_CONNECTIONS));
    let mut stop = std::pin::pin!(tokio::signal::ctrl_c());
    loop {
        let permit = tokio::select! {
            permit = slots.clone().acquire_owned() => permit?,
            _ = &mut stop => break,
        };
        let (stream, addr) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    // Out of file descriptors, say: wait rather than spin.
                    tracing::warn!("accepting a connection: {e}");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
            _ = &mut stop => break,
        };
        // Sync sessions send small messages back to back; with Nagle's algorithm each one
        // after the first waits for the peer's delayed ACK (40 ms on Linux).
        let _ = stream.set_nodelay(true);
        let service = match make.call(addr).await {
            Ok(service) => service,
            Err(never) => match never {},
        };
        let connection = hyper::server::conn::http1::Builder::new()
            .timer(TokioTimer::new())
            .header_read_timeout(HEADER_TIMEOUT)
            .serve_connection(TokioIo::new(stream), hyper_util::service::TowerToHyperService::new(service))
            .with_upgrades();
        tokio::spawn(async move {
            let _permit = permit;
            if let Err(e) = connection.await {
                tracing::debug!("connection from {addr}: {e}");
            }
        });
    }
    // Connections end with the process: every write is a transaction, so none is left half done.
    Ok(())
}

pub use crate::guard::MAX_BODY_BYTES;

/// CORS for the origins given with `--allow-origin` (a web UI served from elsewhere).
fn cors(origins: &[String]) -> tower_http::cors::CorsLayer {
    let origins: Vec<axum::http::HeaderValue> = origins.iter().filter_map(|o| o.parse().ok()).collect();
    tower_http::cors::CorsLayer::new()
        .allow_origin(origins)
        .allow_methods([axum::http::Method::GET, axum::http::Method::POST, axum::http::Method::PUT])
        .allow_headers([header::AUTHORIZATION, header::CONTENT_TYPE])
}

/// Watches for new entries (from anyone), runs the agent when others' entries arrived,
/// and publishes what changed. Runs until the process ends.
pub async fn watch(state: AppState) {
    let mut seen = net::locked(&state.node, |node| node.store.last_received()).unwrap_or(0);
    loop {
        tokio::select! {
            _ = state.written.notified() => {}
            _ = tokio::time::sleep(Duration::from_millis(250)) => {}
        }
        let node = state.node.clone();
        let result = tokio::task::spawn_blocking(move || -> ApiResult<Option<(Change, i64)>> {
            net::locked(&node, |node| changes_since(node, seen))
                .unwrap_or_else(|p| Err(ApiError::internal(p.to_string())))
        })
        .await;
        match result {
            Ok(Ok(Some((change, last)))) => {
                seen = last;
                // Sessions push what is new (entries a session stored are pushed already).
                state.sync.notify();
                let _ = state.changes.send(change);
            }
            Ok(Ok(None)) => {}
            Ok(Err(e)) => tracing::warn!("watching for changes: {e}"),
            Err(e) => tracing::warn!("watching for changes: {e}"),
        }
    }
}

/// What entries stored after `seen` changed (running the agent if others' entries came), and
/// the new mark; `None` if nothing came.
fn changes_since(node: &mut Node, seen: i64) -> ApiResult<Option<(Change, i64)>> {
    node.store.refresh()?;
    if node.deadline_due(service::now()) {
        // A request's deadline came: the agent withdraws it (a write, so a change below).
        node.run_agent()?;
    }
    if node.store.last_received() == seen {
        // Idle: the plan's rows catch up with the entries (`Store::flush_plan`).
        node.store.flush_plan()?;
        return Ok(None);
    }
    let me = node.me();
    let new = node.store.received_after(seen)?;
    let from_others = new.iter().any(|id| node.state().op(id).is_some_and(|op| op.author != me));
    if from_others {
        node.run_agent()?;
    }
    // After the agent: its decisions just written belong to this change too.
    let change = service::take_changes(node, seen)?;
    Ok(Some((change, node.store.last_received())))
}
