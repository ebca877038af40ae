//! The materialiser: a pure, incremental fold from verified entries to the plan.
//!
//! Entries of each log are applied in log order (later ones wait in a buffer until the gap
//! closes). Every object is changed only from the log that created it, so its state is a
//! fold of one log. The only references across logs are a request's resource (and the
//! festival tree above it) and an authorization's request; when such a reference resolves
//! later, the resources whose allocation depended on it are folded again from their
//! owner's log. The result depends on the set of entries held, never on their arrival order.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use bamboo::Hash;
use serde::{Deserialize, Serialize};

use crate::alloc::{AllocOp, Allocation, Decision, RequestCheck};
use crate::id::{Id, Key};
use crate::op::{self, Decoded, EventFields, FestivalFields, Operation, ResourceFields};
use crate::table::Table;
use crate::time::{Availability, TimeFrame, Timestamp};
use crate::validate::{FieldError, check_fields};

/// A log: its author and log id.
pub type LogKey = (Key, u64);

/// How deep festivals may nest; deeper chains are treated as broken.
pub const MAX_NESTING: usize = 32;

/// A verified entry as the materialiser needs it: where it sits, its hash, its payload.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LogEntry {
    pub hash: Id,
    pub author: Key,
    pub log_id: u64,
    pub seq: u64,
    #[serde(with = "serde_bytes_vec")]
    pub payload: Vec<u8>,
}

mod serde_bytes_vec {
    use serde::{Deserialize, Deserializer, Serializer};
    pub fn serialize<S: Serializer>(v: &[u8], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_bytes(v)
    }
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
        Ok(ciborium::Value::deserialize(d)?.into_bytes().unwrap_or_default())
    }
}

/// What kind of object an id names, for messages.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ObjectKind {
    Festival,
    Resource,
    Event,
    Request,
}

impl std::fmt::Display for ObjectKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            ObjectKind::Festival => "festival",
            ObjectKind::Resource => "resource",
            ObjectKind::Event => "event",
            ObjectKind::Request => "request",
        })
    }
}

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

/// The effect of one operation.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum OpStatus {
    Applied,
    /// Kept, but without effect, for this reason.
    NoEffect(Rule),
}

/// What is recorded of every applied entry.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OpRecord {
    pub author: Key,
    pub log: LogKey,
    pub seq: u64,
    pub festival: Option<Id>,
    pub kind: String,
    pub status: OpStatus,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LogProgress {
    /// The festival named by the first entry; `None` until it is applied or if it is invalid.
    pub festival: Option<Id>,
    /// The next sequence number to apply.
    pub next_seq: u64,
    /// Entries that arrived before the ones preceding them.
    pub buffered: BTreeMap<u64, LogEntry>,
    /// The author forked this log here: nothing from this entry on is applied.
    pub frozen_at: Option<u64>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Festival {
    pub id: Id,
    pub creator: Key,
    pub log: LogKey,
    pub parent: Option<Id>,
    pub fields: FestivalFields,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Profile {
    pub name: String,
    pub about: String,
    pub seq: u64,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Resource {
    pub id: Id,
    pub owner: Key,
    pub festival: Id,
    pub log: LogKey,
    pub fields: ResourceFields,
    pub retired: bool,
    /// Availability as created: the start of the allocation fold.
    pub initial_availability: Availability,
    /// Every operation of the owner's log that decides this resource's allocation, in log order.
    pub alloc_ops: Vec<AllocOp>,
    pub alloc: Allocation,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Event {
    pub id: Id,
    pub organiser: Key,
    pub festival: Id,
    pub log: LogKey,
    pub fields: EventFields,
    pub cancelled: bool,
    pub requests: Vec<Id>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Request {
    pub id: Id,
    pub author: Key,
    pub festival: Id,
    pub log: LogKey,
    pub seq: u64,
    pub event: Id,
    pub resource: Id,
    pub frame: TimeFrame,
    /// Broken rules found when the request was applied (its own log's rules).
    pub invalid: Option<Rule>,
    pub withdrawn: bool,
}

/// The status of a request, as every peer holding the same entries computes it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "lowercase")]
pub enum RequestStatus {
    /// Not decided yet; `waiting_for` names what this peer has not seen yet, if anything.
    Pending {
        waiting_for: Option<Rule>,
    },
    Confirmed,
    Denied {
        reason: String,
    },
    Released,
    /// Withdrawn by the organiser or its event cancelled. `holds_slot`: the owner has not
    /// released the confirmed slot yet.
    Withdrawn {
        holds_slot: bool,
    },
    Invalid {
        reason: Rule,
    },
}

impl RequestStatus {
    pub fn name(&self) -> &'static str {
        match self {
            RequestStatus::Pending { .. } => "pending",
            RequestStatus::Confirmed => "confirmed",
            RequestStatus::Denied { .. } => "denied",
            RequestStatus::Released => "released",
            RequestStatus::Withdrawn { .. } => "withdrawn",
            RequestStatus::Invalid { .. } => "invalid",
        }
    }
}

/// What happened to the state when entries were applied or a fork was noted.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Outcome {
    /// Entries applied now (including buffered ones whose turn came).
    pub applied: Vec<Id>,
    /// A fork froze a log behind entries already applied: the state must be rebuilt
    /// from the stored entries (see [`State::needs_rebuild`]).
    pub needs_rebuild: bool,
}

/// Indexes derived from the tables, rebuilt on load rather than stored.
#[derive(Clone, Debug, Default)]
struct Indexes {
    children: HashMap<Id, BTreeSet<Id>>,
    resources_by_festival: HashMap<Id, BTreeSet<Id>>,
    events_by_festival: HashMap<Id, BTreeSet<Id>>,
    /// Requests per resource by start, for conflicts and holds; with the longest request
    /// seen per resource so that an overlap query scans a bounded range.
    requests_by_resource: HashMap<Id, (BTreeSet<(Timestamp, Id)>, i64)>,
    logs_by_author: HashMap<Key, BTreeSet<u64>>,
}

/// The materialised plan.
#[derive(Clone, Debug, Default)]
pub struct State {
    logs: Table<LogKey, LogProgress>,
    festivals: Table<Id, Festival>,
    profiles: Table<(Id, Key), Profile>,
    resources: Table<Id, Resource>,
    events: Table<Id, Event>,
    requests: Table<Id, Request>,
    ops: Table<Id, OpRecord>,
    /// Ids not known yet → resources whose allocation looked them up.
    waiting: Table<Id, BTreeSet<Id>>,
    idx: Indexes,
    needs_rebuild: bool,
}

/// Restores a [`State`] from rows, one at a time.
pub struct Loader {
    state: State,
}

impl Loader {
    /// One persisted row: table name, CBOR key, CBOR value.
    pub fn row(&mut self, table: &str, k: &[u8], v: &[u8]) -> Result<(), String> {
        fn put<K: for<'de> Deserialize<'de> + std::hash::Hash + Eq + Clone, V: for<'de> Deserialize<'de>>(
            table: &mut Table<K, V>,
            k: &[u8],
            v: &[u8],
        ) -> Result<(), String> {
            let k: K = ciborium::from_reader(k).map_err(|e| e.to_string())?;
            let v: V = ciborium::from_reader(v).map_err(|e| e.to_string())?;
            table.load(k, v);
            Ok(())
        }
        let s = &mut self.state;
        match table {
            "logs" => put(&mut s.logs, k, v),
            "festivals" => put(&mut s.festivals, k, v),
            "profiles" => put(&mut s.profiles, k, v),
            "resources" => put(&mut s.resources, k, v),
            "events" => put(&mut s.events, k, v),
            "requests" => put(&mut s.requests, k, v),
            "ops" => put(&mut s.ops, k, v),
            "waiting" => put(&mut s.waiting, k, v),
            other => Err(format!("unknown table {other}")),
        }
        .map_err(|e| format!("cannot load {table}: {e}"))
    }

    /// The state, with its indexes rebuilt.
    pub fn finish(mut self) -> State {
        self.state.rebuild_indexes();
        self.state
    }
}

/// A changed row, for a store to persist: table name, CBOR key, CBOR value (`None`: deleted).
pub type Row = (&'static str, Vec<u8>, Option<Vec<u8>>);

fn cbor<T: Serialize>(value: &T) -> Vec<u8> {
    let mut out = Vec::new();
    ciborium::into_writer(value, &mut out).expect("writing to a Vec cannot fail");
    out
}

impl State {
    pub fn new() -> State {
        State::default()
    }

    /// Applies one verified entry. Entries may come in any order and more than once.
    pub fn apply(&mut self, entry: LogEntry) -> Outcome {
        let mut outcome = Outcome::default();
        let key = (entry.author, entry.log_id);
        let progress = self.logs.get(&key).cloned().unwrap_or(LogProgress { next_seq: 1, ..Default::default() });
        if entry.seq < progress.next_seq || progress.buffered.contains_key(&entry.seq) {
            return outcome;
        }
        if progress.frozen_at.is_some_and(|f| entry.seq >= f) {
            return outcome;
        }
        if entry.seq > progress.next_seq {
            let mut progress = progress;
            progress.buffered.insert(entry.seq, entry);
            self.logs.insert(key, progress);
            return outcome;
        }
        self.idx.logs_by_author.entry(entry.author).or_default().insert(entry.log_id);
        let mut next = Some(entry);
        while let Some(entry) = next.take() {
            let id = entry.hash;
            self.apply_in_order(&entry);
            outcome.applied.push(id);
            let progress = self.logs.get_mut(&key).expect("apply_in_order records the log");
            progress.next_seq = entry.seq + 1;
            if progress.frozen_at.is_some_and(|f| progress.next_seq >= f) {
                break;
            }
            next = progress.buffered.remove(&progress.next_seq);
        }
        outcome
    }

    /// Notes that the author forked a log at `seq`: entries from `seq` on are not applied.
    /// If some were applied already, the state must be rebuilt from the stored entries.
    pub fn freeze_log(&mut self, author: Key, log_id: u64, seq: u64) -> Outcome {
        let key = (author, log_id);
        let mut progress = self.logs.get(&key).cloned().unwrap_or(LogProgress { next_seq: 1, ..Default::default() });
        let frozen = progress.frozen_at.map_or(seq, |f| f.min(seq));
        progress.frozen_at = Some(frozen);
        progress.buffered.retain(|&s, _| s < frozen);
        let applied_past = progress.next_seq > frozen;
        self.logs.insert(key, progress);
        self.needs_rebuild |= applied_past;
        Outcome { applied: Vec::new(), needs_rebuild: applied_past }
    }

    /// Whether a fork invalidated applied entries; a rebuild starts from a fresh state,
    /// notes the forks, then applies the stored entries.
    pub fn needs_rebuild(&self) -> bool {
        self.needs_rebuild
    }

    /// The forks noted so far: (author, log id, seq).
    pub fn forks(&self) -> Vec<(Key, u64, u64)> {
        let mut forks: Vec<_> = self.logs.iter().filter_map(|((a, l), p)| p.frozen_at.map(|f| (*a, *l, f))).collect();
        forks.sort();
        forks
    }

    fn record(&mut self, entry: &LogEntry, festival: Option<Id>, kind: &str, status: OpStatus) {
        self.ops.insert(
            entry.hash,
            OpRecord {
                author: entry.author,
                log: (entry.author, entry.log_id),
                seq: entry.seq,
                festival,
                kind: kind.to_string(),
                status,
            },
        );
    }

    fn apply_in_order(&mut self, entry: &LogEntry) {
        let key = (entry.author, entry.log_id);
        if !self.logs.contains(&key) {
            self.logs.insert(key, LogProgress { next_seq: 1, ..Default::default() });
        }
        let decoded = op::decode(&entry.payload);
        let named = match &decoded {
            Decoded::Op(p) => p.festival,
            Decoded::Unsupported { festival, .. } | Decoded::Malformed { festival, .. } => *festival,
        };
        // The log's festival comes from its first entry, by the envelope rule every version keeps.
        let is_create = matches!(&decoded, Decoded::Op(p) if matches!(p.op, Operation::FestivalCreate { .. }))
            || matches!(&decoded, Decoded::Unsupported { kind, .. } if kind == "festival/create");
        if entry.seq == 1 {
            let festival = match named {
                Some(f) if !is_create => Some(f),
                None if is_create => Some(entry.hash),
                _ => None,
            };
            self.logs.get_mut(&key).expect("inserted above").festival = festival;
        }
        let festival = self.logs.get(&key).and_then(|p| p.festival);
        let kind = match &decoded {
            Decoded::Op(p) => p.op.kind().to_string(),
            Decoded::Unsupported { kind, .. } => kind.clone(),
            Decoded::Malformed { .. } => "malformed".to_string(),
        };
        let payload = match decoded {
            Decoded::Op(p) => p,
            Decoded::Unsupported { version, kind, .. } => {
                let status = OpStatus::NoEffect(Rule::Unsupported { version, kind: kind.clone() });
                return self.record(entry, festival, &kind, status);
            }
            Decoded::Malformed { error, .. } => {
                return self.record(entry, festival, &kind, OpStatus::NoEffect(Rule::Format(error.to_string())));
            }
        };
        let status = match self.check_envelope(entry, &payload, festival) {
            Err(rule) => OpStatus::NoEffect(rule),
            Ok(festival) => match check_fields(&payload.op) {
                Err(e) => OpStatus::NoEffect(Rule::Field(e)),
                Ok(()) => {
                    // Record first: resource recomputation rewrites the statuses of authorizations.
                    self.record(entry, Some(festival), &kind, OpStatus::Applied);
                    match self.apply_op(entry, festival, payload.op) {
                        Ok(()) => return,
                        Err(rule) => OpStatus::NoEffect(rule),
                    }
                }
            },
        };
        self.record(entry, festival, &kind, status);
    }

    fn check_envelope(&self, entry: &LogEntry, payload: &op::Payload, festival: Option<Id>) -> Result<Id, Rule> {
        let is_create = matches!(payload.op, Operation::FestivalCreate { .. });
        if is_create && entry.seq != 1 {
            return Err(Rule::FestivalCreateNotFirst);
        }
        if entry.seq == 1 && !is_create && payload.festival.is_none() {
            return Err(Rule::NoFestival);
        }
        if entry.seq > 1 && payload.festival.is_some() {
            return Err(Rule::FestivalNamedLate);
        }
        festival.ok_or(Rule::LogWithoutFestival)
    }

    fn apply_op(&mut self, entry: &LogEntry, festival: Id, op: Operation) -> Result<(), Rule> {
        let id = entry.hash;
        let log = (entry.author, entry.log_id);
        match op {
            Operation::FestivalCreate { parent, fields } => {
                self.festivals.insert(id, Festival { id, creator: entry.author, log, parent, fields });
                if let Some(p) = parent {
                    self.idx.children.entry(p).or_default().insert(id);
                }
                self.resolved(id);
            }
            Operation::FestivalUpdate { festival: target, fields } => {
                let f = self.festivals.get_mut(&target).filter(|f| f.log == log);
                let f = f.ok_or(Rule::NotInLog { kind: ObjectKind::Festival, id: target })?;
                f.fields = fields;
            }
            Operation::ProfileSet { name, about } => {
                self.profiles.insert((festival, entry.author), Profile { name, about, seq: entry.seq });
            }
            Operation::ResourceCreate(fields) => {
                let availability = fields.availability.clone();
                self.resources.insert(
                    id,
                    Resource {
                        id,
                        owner: entry.author,
                        festival,
                        log,
                        fields,
                        retired: false,
                        alloc: Allocation::new(availability.clone()),
                        initial_availability: availability,
                        alloc_ops: Vec::new(),
                    },
                );
                self.idx.resources_by_festival.entry(festival).or_default().insert(id);
                self.resolved(id);
            }
            Operation::ResourceUpdate { resource, fields } => {
                let r = self.own_resource(resource, log)?;
                r.alloc_ops.push(AllocOp::Availability { op: id, availability: fields.availability.clone() });
                r.fields = fields;
                self.fold_last(resource, None);
            }
            Operation::ResourceRetire { resource } => {
                let r = self.own_resource(resource, log)?;
                if r.retired {
                    return Err(Rule::AlreadyRetired);
                }
                r.retired = true;
                r.alloc_ops.push(AllocOp::Retire { op: id });
                self.fold_last(resource, None);
            }
            Operation::EventCreate(fields) => {
                self.events.insert(
                    id,
                    Event {
                        id,
                        organiser: entry.author,
                        festival,
                        log,
                        fields,
                        cancelled: false,
                        requests: Vec::new(),
                    },
                );
                self.idx.events_by_festival.entry(festival).or_default().insert(id);
            }
            Operation::EventUpdate { event, fields } => {
                let e = self.own_event(event, log)?;
                if e.cancelled {
                    return Err(Rule::EventCancelled { event });
                }
                e.fields = fields;
            }
            Operation::EventCancel { event } => {
                let e = self.own_event(event, log)?;
                if e.cancelled {
                    return Err(Rule::EventCancelled { event });
                }
                e.cancelled = true;
            }
            Operation::RequestCreate { event, resource, frame } => {
                let e = self.events.get(&event).filter(|e| e.log == log);
                let invalid = match e {
                    None => Some(Rule::NotInLog { kind: ObjectKind::Event, id: event }),
                    Some(e) if e.cancelled => Some(Rule::EventCancelled { event }),
                    Some(e) if !e.fields.frame.contains(&frame) => Some(Rule::RequestOutsideEvent { event }),
                    Some(e) if e.requests.len() >= crate::validate::MAX_REQUESTS_PER_EVENT => {
                        Some(Rule::TooManyRequests { event })
                    }
                    Some(_) => None,
                };
                let request = Request {
                    id,
                    author: entry.author,
                    festival,
                    log,
                    seq: entry.seq,
                    event,
                    resource,
                    frame,
                    invalid: invalid.clone(),
                    withdrawn: false,
                };
                self.requests.insert(id, request);
                if invalid.is_none()
                    && let Some(e) = self.events.get_mut(&event)
                {
                    e.requests.push(id);
                }
                self.index_request(resource, frame, id);
                self.resolved(id);
                if let Some(rule) = invalid {
                    return Err(rule);
                }
            }
            Operation::RequestWithdraw { request } => {
                let r = self.requests.get_mut(&request).filter(|r| r.log == log);
                let r = r.ok_or(Rule::NotInLog { kind: ObjectKind::Request, id: request })?;
                if r.withdrawn {
                    return Err(Rule::AlreadyWithdrawn { request });
                }
                r.withdrawn = true;
            }
            Operation::Confirm { request, resource } => {
                self.owned_for_decision(resource, log)?.alloc_ops.push(AllocOp::Confirm { op: id, request });
                self.fold_last(resource, Some(request));
            }
            Operation::Deny { request, resource, reason } => {
                self.owned_for_decision(resource, log)?.alloc_ops.push(AllocOp::Deny { op: id, request, reason });
                self.fold_last(resource, Some(request));
            }
            Operation::Release { request, resource } => {
                self.owned_for_decision(resource, log)?.alloc_ops.push(AllocOp::Release { op: id, request });
                self.fold_last(resource, Some(request));
            }
        }
        Ok(())
    }

    fn own_resource(&mut self, resource: Id, log: LogKey) -> Result<&mut Resource, Rule> {
        self.resources
            .get_mut(&resource)
            .filter(|r| r.log == log)
            .ok_or(Rule::NotInLog { kind: ObjectKind::Resource, id: resource })
    }

    fn owned_for_decision(&mut self, resource: Id, log: LogKey) -> Result<&mut Resource, Rule> {
        self.resources.get_mut(&resource).filter(|r| r.log == log).ok_or(Rule::NotOwner { resource })
    }

    fn own_event(&mut self, event: Id, log: LogKey) -> Result<&mut Event, Rule> {
        self.events
            .get_mut(&event)
            .filter(|e| e.log == log)
            .ok_or(Rule::NotInLog { kind: ObjectKind::Event, id: event })
    }

    fn index_request(&mut self, resource: Id, frame: TimeFrame, id: Id) {
        let (set, longest) = self.idx.requests_by_resource.entry(resource).or_default();
        set.insert((frame.start(), id));
        *longest = (*longest).max(frame.end().0 - frame.start().0);
    }

    /// An object became known: resources whose fold looked for it are folded again.
    fn resolved(&mut self, id: Id) {
        if let Some(resources) = self.waiting.remove(&id) {
            for r in resources {
                self.refold(r);
            }
        }
    }

    /// Checks a request as an authorization of `resource` sees it.
    pub fn check_request(&self, request: Id, resource: Id) -> RequestCheck {
        let Some(q) = self.requests.get(&request) else {
            return RequestCheck::Unknown(request, Rule::RequestUnknown { request });
        };
        if let Some(rule) = &q.invalid {
            return RequestCheck::Invalid(Rule::RequestInvalid { request, reason: Box::new(rule.clone()) });
        }
        if q.resource != resource {
            return RequestCheck::Invalid(Rule::RequestForOtherResource { request, resource: q.resource });
        }
        match self.check_ancestry(q) {
            Ok(()) => RequestCheck::Valid(q.frame),
            Err((Some(missing), rule)) => RequestCheck::Unknown(missing, rule),
            Err((None, rule)) => RequestCheck::Invalid(Rule::RequestInvalid { request, reason: Box::new(rule) }),
        }
    }

    /// Whether the request's resource is in the request's festival or one of its ancestors.
    /// On failure: the id still missing (if the answer may change) and the rule.
    fn check_ancestry(&self, q: &Request) -> Result<(), (Option<Id>, Rule)> {
        let Some(r) = self.resources.get(&q.resource) else {
            return Err((Some(q.resource), Rule::ResourceUnknown { resource: q.resource }));
        };
        let mut festival = q.festival;
        for _ in 0..MAX_NESTING {
            if festival == r.festival {
                return Ok(());
            }
            let Some(f) = self.festivals.get(&festival) else {
                return Err((Some(festival), Rule::FestivalUnknown { festival }));
            };
            match f.parent {
                Some(parent) => festival = parent,
                None => {
                    return Err((None, Rule::NotInAncestry { resource: q.resource, resource_festival: r.festival }));
                }
            }
        }
        Err((None, Rule::NestingTooDeep))
    }

    /// Applies the newest allocation operation of `resource` to its allocation.
    fn fold_last(&mut self, resource: Id, request: Option<Id>) {
        let check = request.map(|q| self.check_request(q, resource));
        let r = self.resources.get_mut(&resource).expect("caller found the resource");
        let op = r.alloc_ops.last().expect("caller pushed an op").clone();
        let effect = r.alloc.apply(&op, check.as_ref());
        self.after_fold(resource, vec![(op, effect, check)]);
    }

    /// Folds the whole allocation of `resource` again from its owner's log.
    fn refold(&mut self, resource: Id) {
        let Some(r) = self.resources.get(&resource) else { return };
        let checks: Vec<Option<RequestCheck>> =
            r.alloc_ops.iter().map(|op| op.request().map(|q| self.check_request(q, resource))).collect();
        let r = self.resources.get_mut(&resource).expect("present above");
        let mut alloc = Allocation::new(r.initial_availability.clone());
        let mut effects = Vec::with_capacity(r.alloc_ops.len());
        for (op, check) in r.alloc_ops.iter().zip(checks) {
            let effect = alloc.apply(op, check.as_ref());
            effects.push((op.clone(), effect, check));
        }
        r.alloc = alloc;
        self.after_fold(resource, effects);
    }

    fn after_fold(&mut self, resource: Id, effects: Vec<(AllocOp, OpStatus, Option<RequestCheck>)>) {
        for (op, effect, check) in effects {
            if let Some(RequestCheck::Unknown(missing, _)) = check {
                match self.waiting.get_mut(&missing) {
                    Some(set) => {
                        set.insert(resource);
                    }
                    None => self.waiting.insert(missing, BTreeSet::from([resource])),
                }
            }
            if let Some(record) = self.ops.get(&op.op())
                && record.status != effect
            {
                self.ops.get_mut(&op.op()).expect("present").status = effect;
            }
        }
    }

    // -----------------------------------------------------------------------------------
    // Queries

    pub fn festival(&self, id: &Id) -> Option<&Festival> {
        self.festivals.get(id)
    }

    pub fn festivals(&self) -> impl Iterator<Item = &Festival> {
        self.festivals.values()
    }

    /// The sub-festivals of `id` known here.
    pub fn children(&self, id: &Id) -> impl Iterator<Item = &Festival> {
        self.idx.children.get(id).into_iter().flatten().filter_map(|c| self.festivals.get(c))
    }

    /// `id` and its known ancestors, nearest first.
    pub fn ancestry(&self, id: &Id) -> Vec<Id> {
        let mut out = vec![*id];
        let mut cur = *id;
        while let Some(parent) = self.festivals.get(&cur).and_then(|f| f.parent) {
            if out.len() > MAX_NESTING || out.contains(&parent) {
                break;
            }
            out.push(parent);
            cur = parent;
        }
        out
    }

    pub fn resource(&self, id: &Id) -> Option<&Resource> {
        self.resources.get(id)
    }

    pub fn resources(&self) -> impl Iterator<Item = &Resource> {
        self.resources.values()
    }

    /// Resources of a festival (not of its ancestors).
    pub fn resources_in(&self, festival: &Id) -> impl Iterator<Item = &Resource> {
        self.idx.resources_by_festival.get(festival).into_iter().flatten().filter_map(|r| self.resources.get(r))
    }

    pub fn event(&self, id: &Id) -> Option<&Event> {
        self.events.get(id)
    }

    pub fn events(&self) -> impl Iterator<Item = &Event> {
        self.events.values()
    }

    pub fn events_in(&self, festival: &Id) -> impl Iterator<Item = &Event> {
        self.idx.events_by_festival.get(festival).into_iter().flatten().filter_map(|e| self.events.get(e))
    }

    pub fn request(&self, id: &Id) -> Option<&Request> {
        self.requests.get(id)
    }

    pub fn requests(&self) -> impl Iterator<Item = &Request> {
        self.requests.values()
    }

    /// Every request naming `resource`, ordered by start.
    pub fn requests_for(&self, resource: &Id) -> impl Iterator<Item = &Request> {
        self.idx
            .requests_by_resource
            .get(resource)
            .into_iter()
            .flat_map(|(set, _)| set)
            .filter_map(|(_, q)| self.requests.get(q))
    }

    /// Requests naming `resource` whose frame overlaps `frame`. Logarithmic plus the matches:
    /// the scan starts at the longest request's length before `frame`.
    pub fn requests_overlapping(&self, resource: &Id, frame: &TimeFrame) -> Vec<&Request> {
        let Some((set, longest)) = self.idx.requests_by_resource.get(resource) else { return Vec::new() };
        let from = (Timestamp(frame.start().0.saturating_sub(*longest)), Id(Hash([0; 64])));
        let to = (frame.end(), Id(Hash([0; 64])));
        set.range(from..to).filter_map(|(_, q)| self.requests.get(q)).filter(|q| q.frame.overlaps(frame)).collect()
    }

    pub fn profile(&self, festival: &Id, author: &Key) -> Option<&Profile> {
        self.profiles.get(&(*festival, *author))
    }

    /// A display name for `author`: their profile in `festival` or its ancestors, else in
    /// any festival (the one from the greatest festival id, so every peer picks the same).
    pub fn display_name(&self, festival: Option<&Id>, author: &Key) -> Option<&str> {
        if let Some(f) = festival {
            for f in self.ancestry(f) {
                if let Some(p) = self.profiles.get(&(f, *author)) {
                    return Some(&p.name);
                }
            }
        }
        self.profiles
            .iter()
            .filter(|((_, a), _)| a == author)
            .max_by_key(|((f, _), _)| *f)
            .map(|(_, p)| p.name.as_str())
    }

    pub fn op(&self, id: &Id) -> Option<&OpRecord> {
        self.ops.get(id)
    }

    pub fn ops(&self) -> impl Iterator<Item = (&Id, &OpRecord)> {
        self.ops.iter()
    }

    pub fn log(&self, author: &Key, log_id: u64) -> Option<&LogProgress> {
        self.logs.get(&(*author, log_id))
    }

    /// Every log this state knows, with its festival.
    pub fn logs(&self) -> impl Iterator<Item = (&LogKey, &LogProgress)> {
        self.logs.iter()
    }

    /// The status of a request, derived from the request, its event, and the allocation
    /// of its resource.
    pub fn request_status(&self, id: &Id) -> Option<RequestStatus> {
        let q = self.requests.get(id)?;
        if let Some(rule) = &q.invalid {
            return Some(RequestStatus::Invalid { reason: rule.clone() });
        }
        let decision = self.resources.get(&q.resource).and_then(|r| r.alloc.decision(id));
        let cancelled = self.events.get(&q.event).is_some_and(|e| e.cancelled);
        if q.withdrawn || cancelled {
            let holds_slot = self.resources.get(&q.resource).is_some_and(|r| r.alloc.is_active(id));
            return Some(RequestStatus::Withdrawn { holds_slot });
        }
        if let Err((missing, rule)) = self.check_ancestry(q) {
            return Some(match missing {
                Some(_) => RequestStatus::Pending { waiting_for: Some(rule) },
                None => RequestStatus::Invalid { reason: rule },
            });
        }
        Some(match decision {
            None => RequestStatus::Pending { waiting_for: None },
            Some(Decision::Confirmed { .. }) => RequestStatus::Confirmed,
            Some(Decision::Denied { reason, .. }) => RequestStatus::Denied { reason: reason.clone() },
            Some(Decision::Released { .. }) => RequestStatus::Released,
            Some(Decision::Refused { rule, .. }) => RequestStatus::Invalid { reason: rule.clone() },
        })
    }

    /// A rule in words for people: ids become titles, times the festival's local time.
    pub fn describe(&self, rule: &Rule) -> String {
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
            other => other.to_string(),
        }
    }

    // -----------------------------------------------------------------------------------
    // Persistence

    /// The rows changed since the last call, for a store to write in the same transaction
    /// as the entries that changed them.
    pub fn take_changes(&mut self) -> Vec<Row> {
        let mut rows = Vec::new();
        fn drain<K: Serialize + std::hash::Hash + Eq + Clone, V: Serialize>(
            name: &'static str,
            table: &mut Table<K, V>,
            rows: &mut Vec<Row>,
        ) {
            for (k, v) in table.take_dirty() {
                rows.push((name, cbor(&k), v.map(cbor)));
            }
        }
        drain("logs", &mut self.logs, &mut rows);
        drain("festivals", &mut self.festivals, &mut rows);
        drain("profiles", &mut self.profiles, &mut rows);
        drain("resources", &mut self.resources, &mut rows);
        drain("events", &mut self.events, &mut rows);
        drain("requests", &mut self.requests, &mut rows);
        drain("ops", &mut self.ops, &mut rows);
        drain("waiting", &mut self.waiting, &mut rows);
        rows
    }

    /// Whether rows changed since the last [`State::take_changes`].
    pub fn has_changes(&self) -> bool {
        self.logs.has_changes() || self.ops.has_changes()
    }

    /// The names of the tables [`State::take_changes`] writes.
    pub const TABLES: [&'static str; 8] =
        ["logs", "festivals", "profiles", "resources", "events", "requests", "ops", "waiting"];

    /// Restores a state from persisted rows and rebuilds the indexes.
    pub fn load(rows: impl IntoIterator<Item = (String, Vec<u8>, Vec<u8>)>) -> Result<State, String> {
        let mut loader = State::loader();
        for (table, k, v) in rows {
            loader.row(&table, &k, &v)?;
        }
        Ok(loader.finish())
    }

    /// Restores a state row by row, so that a store can stream its rows without holding
    /// them all: call [`Loader::row`] for each, then [`Loader::finish`].
    pub fn loader() -> Loader {
        Loader { state: State::default() }
    }

    fn rebuild_indexes(&mut self) {
        let mut idx = Indexes::default();
        for f in self.festivals.values() {
            if let Some(p) = f.parent {
                idx.children.entry(p).or_default().insert(f.id);
            }
        }
        for r in self.resources.values() {
            idx.resources_by_festival.entry(r.festival).or_default().insert(r.id);
        }
        for e in self.events.values() {
            idx.events_by_festival.entry(e.festival).or_default().insert(e.id);
        }
        for (author, log_id) in self.logs.iter().map(|(k, _)| *k) {
            idx.logs_by_author.entry(author).or_default().insert(log_id);
        }
        self.idx = idx;
        let requests: Vec<(Id, TimeFrame, Id)> = self.requests.values().map(|q| (q.resource, q.frame, q.id)).collect();
        for (resource, frame, id) in requests {
            self.index_request(resource, frame, id);
        }
    }

    /// Logs of `author` known here, with the festival each belongs to.
    pub fn logs_of(&self, author: &Key) -> Vec<(u64, Option<Id>)> {
        self.idx
            .logs_by_author
            .get(author)
            .into_iter()
            .flatten()
            .map(|l| (*l, self.logs.get(&(*author, *l)).and_then(|p| p.festival)))
            .collect()
    }
}
