//! The rules of the plan, in one place: why an operation has no effect ([`Rule`]), the
//! checks the fold applies, and [`State::check_op`], which asks the same checks of an
//! operation before it is signed, so that a node never writes an operation without effect
//! and never words a rule of its own.

use serde::{Deserialize, Serialize};

use crate::alloc::AllocOp;
use crate::id::{Id, Key};
use crate::op::{EventFields, Operation};
use crate::state::{Event, LogKey, MAX_NESTING, ObjectKind, State};
use crate::time::TimeFrame;
use crate::validate::{FieldError, MAX_REQUESTS_PER_EVENT, check_fields};

/// Why an operation has no effect (or, for a reference not yet known, no effect yet).
/// One variant per rule; [`State::describe`] words them for people.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
pub enum Rule {
    #[error("malformed operation: {0}")]
    Format(String),
    #[error("{0}")]
    Field(FieldError),
    #[error(
        "operation version {version} ({kind}) is not supported by this version of pandafest; it is kept and passed on"
    )]
    Unsupported { version: u64, kind: String },
    #[error("the first entry of a log must name its festival")]
    NoFestival,
    #[error("only the first entry of a log names its festival")]
    FestivalNamedLate,
    #[error("a festival is created by the first entry of its own log")]
    FestivalCreateNotFirst,
    #[error("the first entry of this log is invalid, so the log belongs to no festival")]
    LogWithoutFestival,
    #[error("{kind} {} was not created in this log: only its creator changes it, in the log where it was created", id.short())]
    NotInLog { kind: ObjectKind, id: Id },
    #[error("only the owner of resource {} decides its requests, in the log where it was created", resource.short())]
    NotOwner { resource: Id },
    #[error("event {} is cancelled", event.short())]
    EventCancelled { event: Id },
    #[error("the requested time frame lies outside the time frame of event {}", event.short())]
    RequestOutsideEvent { event: Id },
    #[error("event {} has {} requests already, the most an event can have", event.short(), crate::validate::MAX_REQUESTS_PER_EVENT)]
    TooManyRequests { event: Id },
    #[error("request {} is withdrawn already", request.short())]
    AlreadyWithdrawn { request: Id },
    #[error("resource {} is not known (yet)", resource.short())]
    ResourceUnknown { resource: Id },
    #[error("festival {} is not known (yet)", festival.short())]
    FestivalUnknown { festival: Id },
    #[error("resource {} belongs to festival {}, which is neither this festival nor one of its parents", resource.short(), resource_festival.short())]
    NotInAncestry { resource: Id, resource_festival: Id },
    #[error("festivals nest deeper than {MAX_NESTING} levels")]
    NestingTooDeep,
    #[error("request {} is not known (yet)", request.short())]
    RequestUnknown { request: Id },
    #[error("request {} is invalid: {reason}", request.short())]
    RequestInvalid { request: Id, reason: Box<Rule> },
    #[error("request {} is for resource {}, not this one", request.short(), resource.short())]
    RequestForOtherResource { request: Id, resource: Id },
    #[error("the resource is retired")]
    ResourceRetired,
    #[error("the requested time frame is outside the resource's availability")]
    OutsideAvailability,
    #[error("overlaps confirmed request {} ({:?})", request.short(), frame)]
    Overlaps { request: Id, frame: TimeFrame },
    #[error("request {} is confirmed already", request.short())]
    AlreadyConfirmed { request: Id },
    #[error("request {} is not confirmed, so there is nothing to release", request.short())]
    NotConfirmed { request: Id },
    #[error("the resource is retired already")]
    AlreadyRetired,
}

impl State {
    /// A rule in words for people: ids become titles, times the festival's local time.
    pub fn describe(&self, rule: &Rule) -> String {
        let short = |id: &Id| id.short();
        let resource = |id: &Id| {
            self.resources.get(id).map_or_else(|| format!("resource {}", short(id)), |r| r.fields.name.clone())
        };
        let event =
            |id: &Id| self.events.get(id).map_or_else(|| format!("event {}", short(id)), |e| e.fields.title.clone());
        let festival = |id: &Id| {
            self.festivals.get(id).map_or_else(|| format!("festival {}", short(id)), |f| f.fields.name.clone())
        };
        match rule {
            Rule::Overlaps { request, frame } => {
                let q = self.requests.get(request);
                let title = q.and_then(|q| self.events.get(&q.event)).map(|e| e.fields.title.as_str());
                let tz = q.and_then(|q| self.festivals.get(&q.festival)).map_or("UTC", |f| f.fields.timezone.as_str());
                match title {
                    Some(t) => format!("overlaps confirmed request {} ({t}, {})", request.short(), frame.to_local(tz)),
                    None => format!("overlaps confirmed request {} ({})", request.short(), frame.to_local(tz)),
                }
            }
            Rule::RequestInvalid { request, reason } => {
                format!("request {} is invalid: {}", request.short(), self.describe(reason))
            }
            Rule::NotInLog { kind, id } => {
                let name = match kind {
                    ObjectKind::Festival => festival(id),
                    ObjectKind::Resource => resource(id),
                    ObjectKind::Event => event(id),
                    ObjectKind::Request => match self.requests.get(id) {
                        Some(q) => format!("the request of {} for {}", resource(&q.resource), event(&q.event)),
                        None => format!("request {}", short(id)),
                    },
                };
                let who = match kind {
                    ObjectKind::Festival => "its creator",
                    ObjectKind::Resource => "its owner",
                    ObjectKind::Event => "its organiser",
                    ObjectKind::Request => "the event's organiser",
                };
                format!("{name} belongs to someone else: only {who} can change it")
            }
            Rule::NotOwner { resource: r } => format!("only the owner of {} decides its requests", resource(r)),
            Rule::EventCancelled { event: e } => format!("{} is cancelled", event(e)),
            Rule::RequestOutsideEvent { event: e } => match self.events.get(e) {
                Some(ev) => {
                    let tz = self.festivals.get(&ev.festival).map_or("UTC", |f| f.fields.timezone.as_str());
                    format!("the requested time lies outside {} ({})", ev.fields.title, ev.fields.frame.to_local(tz))
                }
                None => rule.to_string(),
            },
            Rule::TooManyRequests { event: e } => {
                format!("{} has {MAX_REQUESTS_PER_EVENT} requests already, the most an event can have", event(e))
            }
            Rule::NotInAncestry { resource: r, resource_festival } => format!(
                "{} belongs to {}, which is neither this festival nor one above it; an event can request the resources of its festival and of the festivals above it",
                resource(r),
                festival(resource_festival)
            ),
            Rule::RequestForOtherResource { request, resource: r } => {
                format!("request {} is for {}, not this resource", short(request), resource(r))
            }
            other => other.to_string(),
        }
    }

    /// The first rule of its own log that `op`, written next in `log` (`None`: a log not
    /// started yet), breaks: the object it changes must have been created in this log, and
    /// not be retired, cancelled or withdrawn already; a request lies within its event and
    /// is not one too many. The owner's decisions check here only that the resource is this
    /// log's; their effect is the allocation's ([`crate::Allocation::rule`]).
    pub(crate) fn rule_in_log(&self, log: Option<LogKey>, op: &Operation) -> Result<(), Rule> {
        let mine = |l: &LogKey| Some(*l) == log;
        let own_resource = |id: &Id| {
            self.resources
                .get(id)
                .filter(|r| mine(&r.log))
                .ok_or(Rule::NotInLog { kind: ObjectKind::Resource, id: *id })
        };
        let own_event = |id: &Id| {
            let e = self.events.get(id).filter(|e| mine(&e.log));
            let e = e.ok_or(Rule::NotInLog { kind: ObjectKind::Event, id: *id })?;
            if e.cancelled { Err(Rule::EventCancelled { event: *id }) } else { Ok(e) }
        };
        match op {
            Operation::FestivalCreate { .. }
            | Operation::ProfileSet { .. }
            | Operation::ResourceCreate(_)
            | Operation::EventCreate(_) => Ok(()),
            Operation::FestivalUpdate { festival, .. } => match self.festivals.get(festival) {
                Some(f) if mine(&f.log) => Ok(()),
                _ => Err(Rule::NotInLog { kind: ObjectKind::Festival, id: *festival }),
            },
            Operation::ResourceUpdate { resource, .. } => own_resource(resource).map(drop),
            Operation::ResourceRetire { resource } => {
                if own_resource(resource)?.retired {
                    Err(Rule::AlreadyRetired)
                } else {
                    Ok(())
                }
            }
            Operation::EventUpdate { event, .. } | Operation::EventCancel { event } => own_event(event).map(drop),
            Operation::RequestCreate { event, frame, .. } => request_rule(*event, own_event(event)?, frame),
            Operation::RequestWithdraw { request } => {
                let q = self.requests.get(request).filter(|q| mine(&q.log));
                let q = q.ok_or(Rule::NotInLog { kind: ObjectKind::Request, id: *request })?;
                if q.withdrawn { Err(Rule::AlreadyWithdrawn { request: *request }) } else { Ok(()) }
            }
            Operation::Confirm { resource, .. }
            | Operation::Deny { resource, .. }
            | Operation::Release { resource, .. } => self
                .resources
                .get(resource)
                .filter(|r| mine(&r.log))
                .map(drop)
                .ok_or(Rule::NotOwner { resource: *resource }),
        }
    }

    /// Whether `op`, signed next by `author` into its log of `festival`, would take effect:
    /// the field rules, the rules of its log, and for the owner's decisions the allocation's
    /// rules, exactly as the fold will apply them. Beyond the fold's rules it also refuses
    /// what would take effect but cannot serve its author: a request of a resource not known
    /// here, retired, or outside the festival's tree (it could never be confirmed), and a
    /// confirm or deny of a request that was withdrawn (its slot is released at once).
    pub fn check_op(&self, author: &Key, festival: &Id, op: &Operation) -> Result<(), Rule> {
        check_fields(op).map_err(Rule::Field)?;
        let log = match op {
            Operation::FestivalCreate { .. } => None,
            _ => self.logs_of(author).into_iter().find(|(_, f)| f == &Some(*festival)).map(|(l, _)| (*author, l)),
        };
        self.rule_in_log(log, op)?;
        let decision = |resource: &Id, alloc_op: AllocOp, request: &Id| {
            let r = self.resources.get(resource).ok_or(Rule::NotOwner { resource: *resource })?;
            r.alloc.rule(&alloc_op, Some(&self.check_request(*request, *resource)))
        };
        let withdrawn = |request: &Id| {
            self.requests
                .get(request)
                .is_some_and(|q| q.withdrawn || self.events.get(&q.event).is_some_and(|e| e.cancelled))
        };
        let none = Id(bamboo::Hash([0; 64]));
        match op {
            Operation::RequestCreate { resource, .. } => self.requestable(festival, resource),
            // The fold's rules first, then what would be useless.
            Operation::Confirm { request, resource } => {
                decision(resource, AllocOp::Confirm { op: none, request: *request }, request)?;
                if withdrawn(request) { Err(Rule::AlreadyWithdrawn { request: *request }) } else { Ok(()) }
            }
            Operation::Deny { request, resource, reason } => {
                decision(resource, AllocOp::Deny { op: none, request: *request, reason: reason.clone() }, request)?;
                let holds = self.resources.get(resource).is_some_and(|r| r.alloc.is_active(request));
                if withdrawn(request) && !holds { Err(Rule::AlreadyWithdrawn { request: *request }) } else { Ok(()) }
            }
            Operation::Release { request, resource } => {
                decision(resource, AllocOp::Release { op: none, request: *request }, request)
            }
            _ => Ok(()),
        }
    }

    /// As [`State::check_op`] for a new event of `author` in `festival` with its requests
    /// (resource and frame each), written together: the event's rules, then each request's
    /// against the event as it will be. On failure, the index of the request (if one) and
    /// the rule.
    pub fn check_new_event(
        &self,
        author: &Key,
        festival: &Id,
        fields: &EventFields,
        requests: &[(Id, TimeFrame)],
    ) -> Result<(), (Option<usize>, Rule)> {
        self.check_op(author, festival, &Operation::EventCreate(fields.clone())).map_err(|rule| (None, rule))?;
        let mut event = Event {
            id: Id(bamboo::Hash([0; 64])),
            organiser: *author,
            festival: *festival,
            log: (*author, u64::MAX),
            fields: fields.clone(),
            cancelled: false,
            requests: Vec::new(),
        };
        for (i, (resource, frame)) in requests.iter().enumerate() {
            request_rule(event.id, &event, frame)
                .and_then(|()| self.requestable(festival, resource))
                .map_err(|rule| (Some(i), rule))?;
            event.requests.push(Id(bamboo::Hash([0; 64])));
        }
        Ok(())
    }

    /// Whether an event of `festival` can usefully request `resource`: known here, not
    /// retired, and in the festival or one above it.
    fn requestable(&self, festival: &Id, resource: &Id) -> Result<(), Rule> {
        if self.resources.get(resource).is_some_and(|r| r.retired) {
            return Err(Rule::ResourceRetired);
        }
        self.check_ancestry(*festival, *resource).map_err(|(_, rule)| rule)
    }
}

/// The rules a `request/create` for `event` (`e`) breaks in the organiser's log: it lies
/// within the event, and the event has fewer than [`MAX_REQUESTS_PER_EVENT`] requests.
fn request_rule(event: Id, e: &Event, frame: &TimeFrame) -> Result<(), Rule> {
    if !e.fields.frame.contains(frame) {
        return Err(Rule::RequestOutsideEvent { event });
    }
    if e.requests.len() >= MAX_REQUESTS_PER_EVENT {
        return Err(Rule::TooManyRequests { event });
    }
    Ok(())
}
