//! Authorization policies: how an owner's node decides the requests for its resources.
//!
//! A [`Policy`] sees a pending request, its resource and the whole state, and answers
//! confirm, deny (with a reason) or defer (leave it to the owner). The owner's node
//! runs policies in the order in which it learns of requests, and writes the decisions
//! into the owner's log, where they become the allocation every peer computes.

use std::collections::HashMap;
use std::sync::Arc;

use crate::state::{Request, Resource, State};

/// A policy's answer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PolicyDecision {
    Confirm,
    Deny(String),
    /// Leave the request pending for the owner (or a later run) to decide.
    Defer,
}

/// What a policy decides on.
pub struct PolicyInput<'a> {
    pub state: &'a State,
    pub request: &'a Request,
    pub resource: &'a Resource,
}

/// An authorization policy. Implementations must not block for long: external hooks
/// belong to the node, which runs them off its event loop.
pub trait Policy: Send + Sync {
    fn decide(&self, input: &PolicyInput<'_>) -> PolicyDecision;
}

/// Confirms a request iff it lies within the resource's availability and overlaps no
/// active confirm; otherwise denies it, naming the conflict.
pub struct FirstComeFirstServed;

impl Policy for FirstComeFirstServed {
    fn decide(&self, input: &PolicyInput<'_>) -> PolicyDecision {
        match input.state.confirmable(input.request) {
            Ok(()) => PolicyDecision::Confirm,
            Err(rule) => PolicyDecision::Deny(input.state.describe(&rule)),
        }
    }
}

/// Leaves every request to the owner's inbox.
pub struct Manual;

impl Policy for Manual {
    fn decide(&self, _: &PolicyInput<'_>) -> PolicyDecision {
        PolicyDecision::Defer
    }
}

/// Decides by the votes of the collective that owns the resource ([`State::tally`]):
/// confirms once enough members voted yes, denies once that can no longer happen, and
/// waits otherwise (or when the owner's log names no members yet).
pub struct CollectiveVote;

impl Policy for CollectiveVote {
    fn decide(&self, input: &PolicyInput<'_>) -> PolicyDecision {
        let Some(t) = input.state.tally(input.request) else { return PolicyDecision::Defer };
        match t.outcome {
            Some(true) => PolicyDecision::Confirm,
            Some(false) => {
                let reasons: Vec<&str> = t.no.iter().map(|(_, r)| r.as_str()).filter(|r| !r.is_empty()).collect();
                let why = if reasons.is_empty() { String::new() } else { format!(": {}", reasons.join("; ")) };
                PolicyDecision::Deny(format!(
                    "the collective voted no ({} of {} against, {} yes needed){why}",
                    t.no.len(),
                    t.members.len(),
                    t.needed
                ))
            }
            None => PolicyDecision::Defer,
        }
    }
}

/// Policies by name: `fcfs`, `manual` and `collective` built in, others registered by the
/// node.
#[derive(Clone)]
pub struct PolicyRegistry {
    policies: HashMap<String, Arc<dyn Policy>>,
}

impl Default for PolicyRegistry {
    fn default() -> Self {
        let mut r = PolicyRegistry { policies: HashMap::new() };
        r.register("fcfs", Arc::new(FirstComeFirstServed));
        r.register("manual", Arc::new(Manual));
        r.register("collective", Arc::new(CollectiveVote));
        r
    }
}

impl PolicyRegistry {
    pub fn register(&mut self, name: &str, policy: Arc<dyn Policy>) {
        self.policies.insert(name.to_string(), policy);
    }

    /// The policy of that name; `None` if this node does not know it (the request then
    /// waits in the owner's inbox, as with `manual`).
    pub fn get(&self, name: &str) -> Option<Arc<dyn Policy>> {
        self.policies.get(name).cloned()
    }

    pub fn names(&self) -> Vec<String> {
        let mut names: Vec<String> = self.policies.keys().cloned().collect();
        names.sort();
        names
    }
}
