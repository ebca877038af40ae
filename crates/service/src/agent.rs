//! The owner's policy agent: this node holds its owner's key, so it alone can decide the
//! requests for its resources. Whenever entries arrive (a local write, an import, a sync)
//! it runs each pending request's policy, in the order in which the node learned of the
//! requests, and writes the decisions into the owner's log. Under every policy it denies
//! what could never be confirmed now (outside the availability, a retired resource, a
//! confirmed slot in the way), saying why. It also releases the slots of withdrawn
//! requests and cancelled events, except a slot whose request was replaced by a pending
//! one (its event moved): that is released with the replacement's decision.
//!
//! For the events this node's owner organises it withdraws what no longer serves: the rest
//! of an all-or-nothing event once one of its requests is denied (so that their owners
//! release the slots), and requests still pending after their deadline.

use model::policy::PolicyInput;
use model::{Id, Key, Operation, PolicyDecision, RequestStatus, State, Timestamp};
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
                // Someone not admitted to a ticketed festival waits; their application for
                // the ticket itself is decided.
                Some(RequestStatus::Pending { waiting_for: None }) if s.admits_request(q) => found.push((q, true)),
                Some(RequestStatus::Withdrawn { holds_slot: true }) if !replacement_pending(s, &q.id) => {
                    found.push((q, false))
                }
                _ => {}
            }
        }
    }
    let mut ordered = Vec::with_capacity(found.len());
    for (q, decide) in found {
        ordered.push((store.received_order(&q.log.0, q.log.1, q.seq)?.unwrap_or(i64::MAX), q.id, decide));
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

/// Why the organiser's node withdraws a request now, if it does.
fn withdraw_reason(s: &State, me: &Key, now: Timestamp, id: &Id) -> Option<String> {
    let q = s.request(id)?;
    let e = s.event(&q.event).filter(|e| e.organiser == *me && q.author == *me)?;
    if s.bundle_leftovers(e).iter().any(|l| l.id == *id) {
        let broken = e
            .requests
            .iter()
            .filter_map(|r| s.request(r))
            .find(|r| {
                matches!(
                    s.request_status(&r.id),
                    Some(RequestStatus::Denied { .. } | RequestStatus::Released | RequestStatus::Invalid { .. })
                )
            })
            .and_then(|r| s.resource(&r.resource))
            .map_or("a resource".to_string(), |r| r.fields.name.clone());
        return Some(format!("all or nothing: {broken} is not available"));
    }
    let pending = matches!(s.request_status(id), Some(RequestStatus::Pending { .. }));
    match q.until {
        Some(until) if pending && until <= now => Some("the deadline passed while it was pending".to_string()),
        _ => None,
    }
}

/// The organiser's work: requests of `me`'s events to withdraw now, with why, and the next
/// deadline of a pending request still to come.
fn organiser_work(s: &State, me: &Key, now: Timestamp) -> (Vec<(Id, String)>, Option<Timestamp>) {
    let mut out = Vec::new();
    let mut next: Option<Timestamp> = None;
    for e in s.events_of(me) {
        for id in &e.requests {
            if let Some(why) = withdraw_reason(s, me, now, id) {
                out.push((*id, why));
            } else if let Some(until) = s.request(id).and_then(|q| q.until)
                && matches!(s.request_status(id), Some(RequestStatus::Pending { .. }))
            {
                next = Some(next.map_or(until, |n| n.min(until)));
            }
        }
    }
    (out, next)
}

/// Runs every applicable policy once, and the organiser's withdrawals; returns what it
/// wrote and the next deadline at which it has work (`run` again then).
pub fn run(store: &mut Store, policies: &PolicyRegistry) -> ApiResult<(Vec<AgentAction>, Option<Timestamp>)> {
    let mut actions = decide(store, policies)?;
    let now = crate::now();
    let me = store.me();
    let (withdrawals, next) = organiser_work(store.state(), &me, now);
    for (id, why) in withdrawals {
        let Some(festival) = store.state().request(&id).map(|q| q.festival) else { continue };
        let op = Operation::RequestWithdraw { request: id, reason: truncate(&why) };
        let written = store.append_if(festival, op, |s| withdraw_reason(s, &me, now, &id).is_some())?;
        if written.is_some() {
            actions.push(AgentAction { request: id.to_hex(), action: "withdraw", reason: Some(why) });
        }
    }
    Ok((actions, next))
}

/// Runs every applicable policy once; returns what it wrote.
fn decide(store: &mut Store, policies: &PolicyRegistry) -> ApiResult<Vec<AgentAction>> {
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
