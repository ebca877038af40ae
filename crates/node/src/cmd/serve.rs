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
    /// Peers to sync with (replication arrives with issue 6).
    #[arg(long = "peer")]
    pub peers: Vec<String>,
    /// The token API calls must carry [default: random when not on loopback].
    #[arg(long, env = "PANDAFEST_TOKEN")]
    pub token: Option<String>,
    /// The web UI's built files [default: web/dist beside the binary's source tree, if there].
    #[arg(long, env = "PANDAFEST_WEB_DIR")]
    pub web_dir: Option<PathBuf>,
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
        if let Ok(mut node) = state.node.lock() {
            if let Err(e) = node.run_agent() {
                tracing::warn!("policy agent: {e}");
            }
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
        let app = http::app(state, web_dir);
        axum::serve(listener, app)
            .with_graceful_shutdown(async {
                let _ = tokio::signal::ctrl_c().await;
            })
            .await?;
        anyhow::Ok(())
    })?;
    Ok(ExitCode::SUCCESS)
}
