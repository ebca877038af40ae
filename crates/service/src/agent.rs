//! The owner's policy agent: this node holds its owner's key, so it alone can decide the
//! requests for its resources. Whenever entries arrive (a local write, an import, a sync)
//! it runs each pending request's policy, in the order in which the node learned of the
//! requests, and writes the decisions into the owner's log. Under every policy it denies
//! what could never be confirmed now (outside the availability, a retired resource, a
//! confirmed slot in the way), saying why. It also releases the slots of withdrawn
//! requests and cancelled events, except a slot whose request was replaced by a pending
//! one (its event moved): that is released with the replacement's decision.

use model::policy::PolicyInput;
use model::{Id, Operation, PolicyDecision, RequestStatus, State};
use serde::Serialize;
use store::Store;

use model::PolicyRegistry;

use crate::error::ApiResult;

/// One decision the agent wrote.
#[derive(Serialize, Debug, Clone, PartialEq, Eq)]
pub struct AgentAction {
    pub request: String,
    pub action: &'static str,
    pub reason: Option<String>,
}

enum Work {
    Decide(Id),
    Release(Id),
}

/// What the agent may have to do now, in the order the node learned of the requests.
fn work(store: &Store) -> ApiResult<Vec<Work>> {
    let s = store.state();
    let me = store.me();
    let mut found = Vec::new();
    for r in s.resources().filter(|r| r.owner == me) {
        for q in s.requests_for(&r.id) {
            match s.request_status(&q.id) {
                Some(RequestStatus::Pending { waiting_for: None }) => found.push((q.id, true)),
                Some(RequestStatus::Withdrawn { holds_slot: true }) if !replacement_pending(s, &q.id) => {
                    found.push((q.id, false))
                }
                _ => {}
            }
        }
    }
    let mut ordered = Vec::with_capacity(found.len());
    for (id, decide) in found {
        ordered.push((store.received_order(&id)?.unwrap_or(i64::MAX), id, decide));
    }
    ordered.sort();
    Ok(ordered.into_iter().map(|(_, id, decide)| if decide { Work::Decide(id) } else { Work::Release(id) }).collect())
}

/// Whether a request replaces `old` and waits for the owner's decision.
fn replacement_pending(s: &State, old: &Id) -> bool {
    s.replacement(old).is_some_and(|n| matches!(s.request_status(&n.id), Some(RequestStatus::Pending { .. })))
}

fn still_pending(s: &State, id: &Id) -> bool {
    matches!(s.request_status(id), Some(RequestStatus::Pending { waiting_for: None }))
}

/// Runs every applicable policy once; returns what it wrote.
pub fn run(store: &mut Store, policies: &PolicyRegistry) -> ApiResult<Vec<AgentAction>> {
    let mut actions = Vec::new();
    for item in work(store)? {
        match item {
            Work::Release(id) => {
                let s = store.state();
                let Some(q) = s.request(&id) else { continue };
                let Some(r) = s.resource(&q.resource) else { continue };
                let (festival, resource) = (r.festival, r.id);
                let written = store.append_if(festival, Operation::Release { request: id, resource }, |s| {
                    matches!(s.request_status(&id), Some(RequestStatus::Withdrawn { holds_slot: true }))
                        && !replacement_pending(s, &id)
                })?;
                if written.is_some() {
                    actions.push(AgentAction { request: id.to_hex(), action: "release", reason: None });
                }
            }
            Work::Decide(id) => {
                let s = store.state();
                if !still_pending(s, &id) {
                    continue;
                }
                let q = s.request(&id).expect("pending requests are known").clone();
                let r = s.resource(&q.resource).expect("pending requests name a known resource").clone();
                // What cannot be confirmed now is denied under every policy, with the reason.
                let decision = match s.confirmable(&q) {
                    Err(rule) => PolicyDecision::Deny(s.describe(&rule)),
                    // A policy this node does not know leaves the request to the owner, like `manual`.
                    Ok(()) => match policies.get(&r.fields.policy) {
                        Some(policy) => policy.decide(&PolicyInput { state: s, request: &q, resource: &r }),
                        None => continue,
                    },
                };
                let (deny, action, reason) = match decision {
                    PolicyDecision::Defer => continue,
                    PolicyDecision::Confirm => (None, "confirm", None),
                    PolicyDecision::Deny(reason) => (Some(truncate(&reason)), "deny", Some(reason)),
                };
                let ops = s.decision_ops(&q, deny);
                let releases = ops.iter().filter(|op| matches!(op, Operation::Release { .. })).count();
                // Written only if still pending and still taking effect (a confirm: still
                // free): another process may have decided meanwhile.
                let me = store.me();
                let festival = r.festival;
                let written = store.append_all_if(festival, ops.clone(), |s| {
                    still_pending(s, &id) && s.check_ops(&me, &festival, &ops).is_ok()
                })?;
                if written.is_some() {
                    actions.push(AgentAction { request: id.to_hex(), action, reason });
                    if let (1, Some(old)) = (releases, q.replaces) {
                        actions.push(AgentAction { request: old.to_hex(), action: "release", reason: None });
                    }
                }
            }
        }
    }
    Ok(actions)
}

fn truncate(reason: &str) -> String {
    let mut end = reason.len().min(model::validate::MAX_SHORT_TEXT);
    while !reason.is_char_boundary(end) {
        end -= 1;
    }
    reason[..end].to_string()
}
