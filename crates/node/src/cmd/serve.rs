//! `pandafest serve`: the HTTP API, the web UI, the live stream and the policy agent.

use super::output::{say, tell};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;
use pandafest::guard;
use pandafest::http::{self, AppState};

#[derive(Args, Debug)]
pub struct ServeArgs {
    /// Address to listen on (every API call needs the token, on loopback too).
    #[arg(long, default_value = "127.0.0.1:7878")]
    pub listen: SocketAddr,
    /// Peers to sync with: host:port or ws://host:port/sync (repeatable). The node keeps a
    /// few neighbours among these and the peers it learns of, and dials these first.
    #[arg(long = "peer")]
    pub peers: Vec<String>,
    /// Do not announce this node or look for peers on the local network (mDNS runs only
    /// when listening on a non-loopback address).
    #[arg(long)]
    pub no_mdns: bool,
    /// The token API calls must carry, at least 16 characters off loopback [default: the
    /// node's own, made on first use: `pandafest token` prints it].
    #[arg(long, env = "PANDAFEST_TOKEN")]
    pub token: Option<String>,
    /// Another name this node answers to, e.g. the DNS name people reach it by (repeatable).
    /// Requests naming any other host are refused (DNS rebinding).
    #[arg(long = "allow-host", value_name = "NAME")]
    pub allow_hosts: Vec<String>,
    /// An origin whose pages may call the API, e.g. a web UI served elsewhere during
    /// development: `http://localhost:5173` (repeatable). None by default.
    #[arg(long = "allow-origin", value_name = "ORIGIN")]
    pub allow_origins: Vec<String>,
    /// Where others reach this node, e.g. https://camp.example.org (behind a reverse proxy
    /// or relay) or http://10.0.0.2:7878: invite links name it first. Its host is also
    /// allowed (as --allow-host).
    #[arg(long, value_name = "URL")]
    pub public_url: Option<url::Url>,
    /// The web UI's built files [default: web/dist beside the binary's source tree, if there].
    #[arg(long, env = "PANDAFEST_WEB_DIR")]
    pub web_dir: Option<PathBuf>,
}

/// Keeps neighbours (`service::neighbours`): the configured peers, the peers of joined
/// festivals and (when the node is reachable from the network) the peers mDNS finds on the
/// LAN are its passive view, and the hub dials a bounded number of them.
fn start_sync(state: &AppState, args: &ServeArgs, addr: SocketAddr) {
    let mut pinned: Vec<(String, Option<model::Id>)> = args.peers.iter().map(|p| (p.clone(), None)).collect();
    if let Ok(node) = state.node.lock() {
        for (festival, addresses) in service::invite::joined(&node) {
            pinned.extend(addresses.into_iter().map(|a| (a, Some(festival))));
        }
        // Remember where this node listens and is reached, for invite links.
        let _ = node.store.set_setting("listen", Some(&addr.to_string()));
        let public = args.public_url.as_ref().map(|u| u.as_str().trim_end_matches('/').to_string());
        let _ = node.store.set_setting("public_url", public.as_deref());
    }
    // Where peers dial this node: the public URL, else where it listens.
    let me = match &args.public_url {
        Some(url) => Some(net::ws_url(url.as_str())),
        None => net::reachable_addresses(addr).into_iter().next(),
    };
    state.sync.keep_neighbours(me);
    for (peer, festival) in pinned {
        state.sync.learn(&net::ws_url(&peer), festival, true);
    }
    if addr.ip().is_loopback() || args.no_mdns {
        return;
    }
    let key = state.node.lock().map(|n| n.me().to_hex()).unwrap_or_default();
    match net::discovery::start(&key, addr.port()) {
        Ok((discovery, mut found)) => {
            let ctx = state.sync.clone();
            tokio::spawn(async move {
                let _keep = discovery;
                while let Some(url) = found.recv().await {
                    tracing::info!("found a peer on the local network: {url}");
                    ctx.learn(&url, None, false);
                }
            });
        }
        Err(e) => tracing::warn!("no LAN discovery: {e}"),
    }
}

/// Listens on `addr` with a backlog as deep as the sessions the node accepts: with the
/// default of 128, a field's worth of peers dialing at once had connections dropped by the
/// kernel, each redialed a second later.
fn bind(addr: SocketAddr) -> anyhow::Result<tokio::net::TcpListener> {
    let socket = if addr.is_ipv4() { tokio::net::TcpSocket::new_v4()? } else { tokio::net::TcpSocket::new_v6()? };
    socket.set_reuseaddr(true)?;
    socket.bind(addr)?;
    Ok(socket.listen(http::MAX_CONNECTIONS as u32)?)
}

fn find_web_dir() -> Option<PathBuf> {
    let mut candidates = vec![PathBuf::from("web/dist")];
    if let Ok(exe) = std::env::current_exe() {
        // target/{debug,release}/pandafest → the workspace's web/dist
        if let Some(root) = exe.parent().and_then(|p| p.parent()).and_then(|p| p.parent()) {
            candidates.push(root.join("web/dist"));
        }
    }
    candidates.into_iter().find(|d| d.join("index.html").is_file())
}

pub fn run(args: ServeArgs, dir: &Option<PathBuf>) -> anyhow::Result<ExitCode> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "pandafest=info".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    let node = match super::open(dir) {
        Ok(node) => node,
        Err(e) => {
            tell!("error: {e}");
            return Ok(ExitCode::from(1));
        }
    };
    let token = match &args.token {
        Some(t) => t.clone(),
        None => match http::api_token(&node) {
            Ok(t) => t,
            Err(e) => {
                tell!("error: {e}");
                return Ok(ExitCode::from(1));
            }
        },
    };
    if let Err(e) = guard::check_token(&token, args.listen) {
        tell!("error: {e}");
        return Ok(ExitCode::from(2));
    }
    for origin in &args.allow_origins {
        if url::Url::parse(origin).map_or(true, |u| u.origin().ascii_serialization() != origin.trim_end_matches('/')) {
            tell!("error: {origin:?} is not an origin (scheme://host[:port], e.g. http://localhost:5173)");
            return Ok(ExitCode::from(2));
        }
    }
    let web_dir = args.web_dir.clone().or_else(find_web_dir);
    let runtime = tokio::runtime::Runtime::new()?;
    runtime.block_on(async move {
        let state = AppState::new(node, &token);
        // The agent decides whatever arrived while the node was down.
        if let Ok(mut node) = state.node.lock()
            && let Err(e) = node.run_agent()
        {
            tracing::warn!("policy agent: {e}");
        }
        let listener = bind(args.listen)?;
        let addr = listener.local_addr()?;
        say!("pandafest is serving at http://{addr}/#token={token}");
        if web_dir.is_none() {
            say!("(the web UI is not built: only the API under /api/v1 is served)");
        }
        if addr.ip().is_loopback() && args.public_url.is_none() {
            say!("{}", service::invite::LOOPBACK_HINT);
        }
        tokio::spawn(http::watch(state.clone()));
        tokio::spawn(notify_hooks(state.clone()));
        start_sync(&state, &args, addr);
        // The public address is one of this node's own names, and its pages are its own.
        let mut hosts = args.allow_hosts.clone();
        let mut origins: Vec<String> = args.allow_origins.iter().map(|o| o.trim_end_matches('/').to_string()).collect();
        if let Some(public) = &args.public_url {
            hosts.extend(public.host_str().map(str::to_string));
            origins.push(public.origin().ascii_serialization());
        }
        let policy = guard::Policy {
            hosts: guard::Policy::for_listen(addr, &hosts),
            port: addr.port(),
            origins,
            token: guard::Secret::new(token.clone()),
            calendar_key: guard::Secret::new(state.calendar_key.clone()),
        };
        let app = http::app(state, web_dir, policy);
        http::serve(listener, app).await
    })?;
    Ok(ExitCode::SUCCESS)
}

/// Tells the notification hooks of what `http::watch` announced: woken by the live stream of
/// changes (and every 30 s, for a change announced while a delivery ran); hooks run on a
/// blocking thread, without the node's lock.
async fn notify_hooks(state: AppState) {
    let mut changes = state.changes.subscribe();
    loop {
        let _ = tokio::time::timeout(std::time::Duration::from_secs(30), changes.recv()).await;
        let node = state.node.clone();
        let done = tokio::task::spawn_blocking(move || -> pandafest::error::ApiResult<()> {
            let panicked = |p: net::Panicked| pandafest::error::ApiError::internal(p.to_string());
            // Batch after batch, until the notices are caught up.
            while let Some((hooks, batch)) =
                net::locked(&node, |n| pandafest::hooks::pending_notices(n)).map_err(panicked)??
            {
                let failures = pandafest::hooks::deliver(&hooks, &batch.notices);
                net::locked(&node, |n| pandafest::hooks::record_delivery(n, failures, batch.last))
                    .map_err(panicked)??;
            }
            Ok(())
        })
        .await;
        match done {
            Ok(Ok(())) => {}
            Ok(Err(e)) => tracing::warn!("notification hooks: {e}"),
            Err(e) => tracing::warn!("notification hooks: {e}"),
        }
    }
}
