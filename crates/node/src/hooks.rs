//! Policies by name: the built-in ones and external hooks, so that bots in any language
//! can authorize. A hook is a command (`exec:CMD`, run with `sh -c`, the request as JSON
//! on its standard input) or an HTTP endpoint (`http://…` or `https://…`, the request
//! POSTed as JSON). Either answers `{"decision": "confirm" | "deny" | "defer", "reason": "…"}`.
//! A hook that fails, times out or answers nonsense defers: the request waits in the
//! owner's inbox, and the failure is logged.

use std::io::{Read, Write};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use model::policy::{Policy, PolicyInput};
use model::{Key, PolicyDecision};
use serde::Deserialize;
use serde_json::json;
use store::Store;

use crate::error::{ApiError, ApiResult};
use crate::node::Node;
use crate::views::{FestivalView, RequestView, ResourceView, SlotView};

/// How long a hook may take before the request is left to the owner.
pub const HOOK_TIMEOUT: Duration = Duration::from_secs(10);

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Hook {
    Command(String),
    Http(String),
}

impl Hook {
    pub fn parse(spec: &str) -> ApiResult<Hook> {
        if let Some(cmd) = spec.strip_prefix("exec:") {
            return Ok(Hook::Command(cmd.to_string()));
        }
        if spec.starts_with("http://") || spec.starts_with("https://") {
            return Ok(Hook::Http(spec.to_string()));
        }
        Err(ApiError::bad_input(format!("{spec:?} is not a hook: use exec:COMMAND or an http(s):// URL")))
    }

    pub fn spec(&self) -> String {
        match self {
            Hook::Command(c) => format!("exec:{c}"),
            Hook::Http(u) => u.clone(),
        }
    }
}

#[derive(Deserialize)]
struct HookAnswer {
    decision: String,
    #[serde(default)]
    reason: Option<String>,
}

fn answer(text: &str) -> Result<PolicyDecision, String> {
    let a: HookAnswer = serde_json::from_str(text.trim()).map_err(|e| format!("answer is not JSON: {e}"))?;
    match a.decision.as_str() {
        "confirm" => Ok(PolicyDecision::Confirm),
        "deny" => Ok(PolicyDecision::Deny(a.reason.unwrap_or_else(|| "denied by the owner's policy".into()))),
        "defer" => Ok(PolicyDecision::Defer),
        other => Err(format!("unknown decision {other:?}")),
    }
}

fn run_command(cmd: &str, input: &str) -> Result<String, String> {
    let mut child = Command::new("sh")
        .arg("-c")
        .arg(cmd)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .map_err(|e| format!("cannot start: {e}"))?;
    match child.stdin.take().expect("piped").write_all(input.as_bytes()) {
        Ok(()) => {}
        // The program closed its input without reading all of it (or exited already): its
        // exit status says how it went, not the pipe.
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => {}
        Err(e) => return Err(format!("cannot write: {e}")),
    }
    let mut stdout = child.stdout.take().expect("piped");
    let reader = std::thread::spawn(move || {
        let mut out = String::new();
        stdout.read_to_string(&mut out).map(|_| out)
    });
    let deadline = Instant::now() + HOOK_TIMEOUT;
    loop {
        match child.try_wait().map_err(|e| e.to_string())? {
            Some(status) if status.success() => break,
            Some(status) => return Err(format!("exited with {status}")),
            None if Instant::now() > deadline => {
                let _ = child.kill();
                return Err(format!("no answer within {} s", HOOK_TIMEOUT.as_secs()));
            }
            None => std::thread::sleep(Duration::from_millis(10)),
        }
    }
    reader.join().map_err(|_| "reader failed".to_string())?.map_err(|e| e.to_string())
}

fn run_http(url: &str, input: &serde_json::Value) -> Result<String, String> {
    let agent: ureq::Agent = ureq::Agent::config_builder().timeout_global(Some(HOOK_TIMEOUT)).build().into();
    let mut response = agent.post(url).send_json(input).map_err(|e| e.to_string())?;
    response.body_mut().read_to_string().map_err(|e| e.to_string())
}

/// An external hook as a [`Policy`].
pub struct HookPolicy {
    pub name: String,
    pub hook: Hook,
    pub me: Key,
}

impl Policy for HookPolicy {
    fn decide(&self, input: &PolicyInput<'_>) -> PolicyDecision {
        let s = input.state;
        let conflicts: Vec<SlotView> = input
            .resource
            .alloc
            .active_in(&input.request.frame)
            .into_iter()
            .filter_map(|(_, q)| s.request(&q))
            .map(|q| SlotView::of_request(s, q, "confirmed"))
            .collect();
        let body = json!({
            "policy": self.name,
            "request": RequestView::of(s, &self.me, input.request),
            "resource": ResourceView::of(s, &self.me, input.resource),
            "festival": s.festival(&input.request.festival).map(|f| FestivalView::of(s, f, None)),
            "conflicts": conflicts,
            "free": input.resource.alloc.can_confirm(&input.request.frame).is_ok(),
        });
        let result = match &self.hook {
            Hook::Command(cmd) => run_command(cmd, &body.to_string()),
            Hook::Http(url) => run_http(url, &body),
        };
        match result.and_then(|text| answer(&text)) {
            Ok(decision) => decision,
            Err(e) => {
                eprintln!("policy hook {:?} ({}): {e}; the request waits for the owner", self.name, self.hook.spec());
                PolicyDecision::Defer
            }
        }
    }
}

/// Registers the hooks kept in the node's settings into its policies.
pub fn register(node: &mut Node) -> ApiResult<()> {
    let me = node.me();
    for (name, hook) in list(&node.store)? {
        node.policies.register(&name, Arc::new(HookPolicy { name: name.clone(), hook, me }));
    }
    Ok(())
}

/// The hooks kept in the node's settings, by name.
pub fn list(store: &Store) -> ApiResult<Vec<(String, Hook)>> {
    store.settings_with_prefix("policy:")?.into_iter().map(|(name, spec)| Ok((name, Hook::parse(&spec)?))).collect()
}

/// Registers a hook under `name` and keeps it in the node's settings.
pub fn add(store: &Store, name: &str, spec: &str) -> ApiResult<()> {
    model::validate::policy_name(name).map_err(|e| ApiError::bad_input(e.to_string()))?;
    if name == "fcfs" || name == "manual" {
        return Err(ApiError::bad_input(format!("{name} is built in")));
    }
    Hook::parse(spec)?;
    store.set_setting(&format!("policy:{name}"), Some(spec))?;
    Ok(())
}

pub fn remove(store: &Store, name: &str) -> ApiResult<()> {
    store.set_setting(&format!("policy:{name}"), None)?;
    Ok(())
}

// ---------------------------------------------------------------------------------------
// Notification hooks: the same kinds of hooks, told of each notice (`service::notify`).

/// At most this many failures are kept per hook (newest last).
const FAILURES_KEPT: usize = 20;

/// The notification hooks kept in the node's settings, by name.
pub fn notify_list(store: &Store) -> ApiResult<Vec<(String, Hook)>> {
    store.settings_with_prefix("notify:")?.into_iter().map(|(name, spec)| Ok((name, Hook::parse(&spec)?))).collect()
}

/// Registers a notification hook under `name`. Notices start from now: the past is not sent.
pub fn notify_add(node: &Node, name: &str, spec: &str) -> ApiResult<()> {
    model::validate::policy_name(name).map_err(|e| ApiError::bad_input(e.to_string()))?;
    Hook::parse(spec)?;
    node.store.set_setting(&format!("notify:{name}"), Some(spec))?;
    if node.store.setting("notify-cursor")?.is_none() {
        node.store.set_setting("notify-cursor", Some(&node.store.last_received().to_string()))?;
    }
    Ok(())
}

pub fn notify_remove(store: &Store, name: &str) -> ApiResult<()> {
    store.set_setting(&format!("notify:{name}"), None)?;
    store.set_setting(&format!("notify-failed:{name}"), None)?;
    Ok(())
}

/// The failures kept for a hook: (when, what), oldest first.
pub fn notify_failures(store: &Store, name: &str) -> ApiResult<Vec<(String, String)>> {
    let text = store.setting(&format!("notify-failed:{name}"))?.unwrap_or_default();
    Ok(serde_json::from_str(&text).unwrap_or_default())
}

/// The notices since the last delivery and the hooks to tell, if any: read under the node's
/// lock (`net::locked`), after `http::watch` folded in what arrived.
pub fn pending_notices(node: &Node) -> ApiResult<Option<(Vec<(String, Hook)>, service::notify::NoticesView)>> {
    let hooks = notify_list(&node.store)?;
    if hooks.is_empty() {
        return Ok(None);
    }
    let cursor = match node.store.setting("notify-cursor")?.and_then(|c| c.parse().ok()) {
        Some(c) => c,
        None => node.store.last_received(),
    };
    let batch = service::notify::notices(node, Some(cursor))?;
    if batch.last == cursor {
        return Ok(None);
    }
    Ok(Some((hooks, batch)))
}

/// Hands each notice to each hook, without the node's lock: each is tried up to 4 times
/// with growing pauses (0.2 s, 0.4 s, 0.8 s). Returns what still failed: (hook, what).
pub fn deliver(hooks: &[(String, Hook)], notices: &[service::notify::NoticeView]) -> Vec<(String, String)> {
    use backon::{BlockingRetryable, ExponentialBuilder};
    let mut failures = Vec::new();
    for notice in notices {
        for (name, hook) in hooks {
            let body = json!({ "hook": name, "notice": notice });
            let attempt = || match hook {
                Hook::Command(cmd) => run_command(cmd, &body.to_string()).map(drop),
                Hook::Http(url) => run_http(url, &body).map(drop),
            };
            let backoff = ExponentialBuilder::default().with_min_delay(Duration::from_millis(200)).with_max_times(3);
            if let Err(e) = attempt.retry(backoff).sleep(std::thread::sleep).call() {
                failures.push((name.clone(), format!("notice {} ({}): {e}", notice.seq, notice.kind)));
            }
        }
    }
    failures
}

/// Records a delivery: the failures (kept per hook, not retried later; `pandafest hook
/// list` shows them) and where the next one starts.
pub fn record_delivery(node: &Node, failures: Vec<(String, String)>, last: i64) -> ApiResult<()> {
    for (name, failure) in failures {
        eprintln!("notification hook {name:?}: {failure}; given up");
        let mut kept = notify_failures(&node.store, &name)?;
        kept.push((service::now().to_rfc3339(), failure));
        let excess = kept.len().saturating_sub(FAILURES_KEPT);
        kept.drain(..excess);
        node.store
            .set_setting(&format!("notify-failed:{name}"), Some(&serde_json::to_string(&kept).expect("strings")))?;
    }
    node.store.set_setting("notify-cursor", Some(&last.to_string()))?;
    Ok(())
}
