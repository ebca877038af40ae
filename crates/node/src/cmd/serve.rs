//! `pandafest serve`: the HTTP API, the web UI, the live stream and the policy agent.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;
use pandafest::http::{self, AppState};

#[derive(Args, Debug)]
pub struct ServeArgs {
    /// Address to listen on. Off loopback, every API call needs the token.
    #[arg(long, default_value = "127.0.0.1:7878")]
    pub listen: SocketAddr,
    /// Peers to keep syncing with: host:port or ws://host:port/sync (repeatable).
    #[arg(long = "peer")]
    pub peers: Vec<String>,
    /// Do not announce this node or look for peers on the local network (mDNS runs only
    /// when listening on a non-loopback address).
    #[arg(long)]
    pub no_mdns: bool,
    /// The token API calls must carry [default: random when not on loopback].
    #[arg(long, env = "PANDAFEST_TOKEN")]
    pub token: Option<String>,
    /// The web UI's built files [default: web/dist beside the binary's source tree, if there].
    #[arg(long, env = "PANDAFEST_WEB_DIR")]
    pub web_dir: Option<PathBuf>,
}

/// Keeps sessions with the configured peers, the peers of joined festivals, and (when
/// the node is reachable from the network) the peers mDNS finds on the LAN.
fn start_sync(state: &AppState, args: &ServeArgs, addr: SocketAddr) {
    let mut peers: Vec<String> = args.peers.clone();
    if let Ok(node) = state.node.lock() {
        for (_, addresses) in service::invite::joined(&node) {
            peers.extend(addresses);
        }
        // Remember where this node listens, for invite links.
        let _ = node.store.set_setting("listen", Some(&addr.to_string()));
    }
    peers.sort();
    peers.dedup();
    let mut dialed: std::collections::HashSet<String> = std::collections::HashSet::new();
    for peer in peers {
        let url = net::ws_url(&peer);
        if dialed.insert(url.clone()) {
            tokio::spawn(net::keep_syncing(state.sync.clone(), url));
        }
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
                    if dialed.insert(url.clone()) {
                        tracing::info!("found a peer on the local network: {url}");
                        tokio::spawn(net::keep_syncing(ctx.clone(), url));
                    }
                }
            });
        }
        Err(e) => tracing::warn!("no LAN discovery: {e}"),
    }
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
            eprintln!("error: {e}");
            return Ok(ExitCode::from(1));
        }
    };
    let token = match (&args.token, args.listen.ip().is_loopback()) {
        (Some(t), _) => Some(t.clone()),
        (None, true) => None,
        (None, false) => Some(hex::encode(rand::random::<[u8; 16]>())),
    };
    let web_dir = args.web_dir.clone().or_else(find_web_dir);
    let runtime = tokio::runtime::Runtime::new()?;
    runtime.block_on(async move {
        let state = AppState::new(node, token.clone());
        // The agent decides whatever arrived while the node was down.
        if let Ok(mut node) = state.node.lock()
            && let Err(e) = node.run_agent()
        {
            tracing::warn!("policy agent: {e}");
        }
        let listener = tokio::net::TcpListener::bind(args.listen).await?;
        let addr = listener.local_addr()?;
        let url = match &token {
            Some(t) => format!("http://{addr}/#token={t}"),
            None => format!("http://{addr}/"),
        };
        println!("pandafest is serving at {url}");
        if web_dir.is_none() {
            println!("(the web UI is not built: only the API under /api/v1 is served)");
        }
        tokio::spawn(http::watch(state.clone()));
        start_sync(&state, &args, addr);
        let app = http::app(state, web_dir);
        axum::serve(listener, app.into_make_service_with_connect_info::<SocketAddr>())
            .with_graceful_shutdown(async {
                let _ = tokio::signal::ctrl_c().await;
            })
            .await?;
        anyhow::Ok(())
    })?;
    Ok(ExitCode::SUCCESS)
}
