//! The materialiser: a pure, incremental fold from verified entries to the plan.
//!
//! Entries of each log are applied in log order (later ones wait in a buffer until the gap
//! closes). Every object is changed only from the log that created it, so its state is a
//! fold of one log. The only references across logs are a request's resource (and the
//! festival tree above it) and an authorization's request; when such a reference resolves
//! later, the resources whose allocation depended on it are folded again from their
//! owner's log. The result depends on the set of entries held, never on their arrival order.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use serde::{Deserialize, Serialize};

use crate::alloc::{AllocOp, Allocation, Decision, RequestCheck};
use crate::history::History;
use crate::id::{Id, Key};
use crate::index::{Index, Waiting};
use crate::op::{self, Decoded, EventFields, FestivalFields, Operation, ResourceFields};
use crate::rules::Rule;
use crate::table::{LazyTable, RowSource, StoredRow, Table};
use crate::time::{Availability, Capacity, TimeFrame, Timestamp};
use crate::validate::check_fields;

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

/// A [`LogEntry`] whose payload may already be decoded: a host decodes on the thread that
/// checks signatures, so that the thread that folds and stores does not (decoding was a
/// tenth of an import's storing thread, issue 15). Its fields are private: the operation is
/// always that of the payload.
#[derive(Clone, Debug)]
pub struct ReadEntry {
    entry: LogEntry,
    op: Option<op::Decoded>,
}

impl ReadEntry {
    /// Decodes the entry's payload now.
    pub fn decoded(entry: LogEntry) -> ReadEntry {
        let mut read = ReadEntry { entry, op: None };
        read.decode_op();
        read
    }

    /// Decodes the entry's payload now, unless it was before.
    pub fn decode_op(&mut self) {
        if self.op.is_none() {
            self.op = Some(op::decode(&self.entry.payload));
        }
    }

    pub fn entry(&self) -> &LogEntry {
        &self.entry
    }

    pub fn into_entry(self) -> LogEntry {
        self.entry
    }

    /// The operation, decoded now unless it was before.
    fn take_op(&mut self) -> op::Decoded {
        self.op.take().unwrap_or_else(|| op::decode(&self.entry.payload))
    }
}

/// Decoded when it is applied.
impl From<LogEntry> for ReadEntry {
    fn from(entry: LogEntry) -> ReadEntry {
        ReadEntry { entry, op: None }
    }
}

mod serde_bytes_vec {
    use serde::{Deserializer, Serializer};
    pub fn serialize<S: Serializer>(v: &[u8], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_bytes(v)
    }
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
        crate::id::serde_bytes_vec(d)
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
    /// The log's author (`log.0`), which its row leaves out ([`StoredRow`]).
    #[serde(skip, default = "unset_key")]
    pub author: Key,
    pub log: LogKey,
    pub seq: u64,
    pub festival: Option<Id>,
    pub kind: String,
    pub status: OpStatus,
}

/// What a row of events, requests or operation records holds until [`StoredRow::restore`] puts
/// back what the row leaves out: an event's or a request's id repeated its key, and every
/// author repeated the log's (98 of an event row's 304 bytes, issue 15).
fn unset_id() -> Id {
    Id(bamboo::Hash([0; 64]))
}

fn unset_key() -> Key {
    Key(bamboo::Author([0; 32]))
}

impl StoredRow<Id> for Event {
    fn restore(&mut self, key: &Id) {
        self.id = *key;
        self.organiser = self.log.0;
    }
}

impl StoredRow<Id> for Request {
    fn restore(&mut self, key: &Id) {
        self.id = *key;
        self.author = self.log.0;
    }
}

impl StoredRow<Id> for OpRecord {
    fn restore(&mut self, _: &Id) {
        self.author = self.log.0;
    }
}

impl OpRecord {
    /// The record of the creation of event `e`, which took effect. Not stored: two in five
    /// of a festival's plan rows, whose writing was about a sixth of an import (issue 15).
    pub(crate) fn of_event(e: &Event) -> OpRecord {
        OpRecord {
            author: e.organiser,
            log: e.log,
            seq: e.seq,
            festival: Some(e.festival),
            kind: Operation::EVENT_CREATE.to_string(),
            status: OpStatus::Applied,
        }
    }

    /// The record of the creation of request `q`, if it took effect; one that broke a rule
    /// of its log is stored, with the rule.
    pub(crate) fn of_request(q: &Request) -> OpRecord {
        OpRecord {
            author: q.author,
            log: q.log,
            seq: q.seq,
            festival: Some(q.festival),
            kind: Operation::REQUEST_CREATE.to_string(),
            status: OpStatus::Applied,
        }
    }
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
    /// Availability and capacity as created: the start of the allocation fold.
    pub initial_availability: Availability,
    pub initial_capacity: Capacity,
    /// What checks need of its owner's decisions; the decisions themselves and the
    /// operations they come from are the state's `decisions` and `alloc_ops`.
    pub alloc: Allocation,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Event {
    /// Its row's key, which the row leaves out ([`StoredRow`]).
    #[serde(skip, default = "unset_id")]
    pub id: Id,
    /// The log's author (`log.0`), which its row leaves out.
    #[serde(skip, default = "unset_key")]
    pub organiser: Key,
    pub festival: Id,
    pub log: LogKey,
    /// The sequence number of the entry that created it.
    pub seq: u64,
    pub fields: EventFields,
    pub cancelled: bool,
    pub requests: Vec<Id>,
    /// How often the organiser changed it (updates and the cancel): a calendar's SEQUENCE.
    pub sequence: u32,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Request {
    /// Its row's key, which the row leaves out ([`StoredRow`]).
    #[serde(skip, default = "unset_id")]
    pub id: Id,
    /// The log's author (`log.0`), which its row leaves out.
    #[serde(skip, default = "unset_key")]
    pub author: Key,
    pub festival: Id,
    pub log: LogKey,
    pub seq: u64,
    pub event: Id,
    pub resource: Id,
    pub frame: TimeFrame,
    /// The request of the same event and resource this one replaces (its event moved).
    pub replaces: Option<Id>,
    /// After this, the organiser's node withdraws the request if it is still pending.
    pub until: Option<Timestamp>,
    /// Broken rules found when the request was applied (its own log's rules).
    pub invalid: Option<Rule>,
    pub withdrawn: bool,
    /// Why its organiser's node withdrew it, if it said.
    pub withdraw_reason: String,
}

/// A collective: a key whose node decides its resources' requests by its members' votes.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Collective {
    pub members: Vec<Key>,
    pub rule: crate::op::VoteRule,
    pub seq: u64,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Vote {
    pub resource: Id,
    pub yes: bool,
    pub reason: String,
    pub seq: u64,
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
    /// Every name [`RequestStatus::name`] gives.
    pub const NAMES: [&'static str; 6] = ["pending", "confirmed", "denied", "released", "withdrawn", "invalid"];

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

/// Indexes of the tables held whole, rebuilt on load rather than stored. The indexes of
/// events and requests grow with every entry, so they are stored ([`Index`]).
#[derive(Clone, Debug, Default)]
pub(crate) struct Indexes {
    pub(crate) children: HashMap<Id, BTreeSet<Id>>,
    pub(crate) resources_by_festival: HashMap<Id, BTreeSet<Id>>,
    pub(crate) logs_by_author: HashMap<Key, BTreeSet<u64>>,
    /// The organiser whose events [`State::organiser_index`] holds ([`State::index_events_of`]).
    pub(crate) organiser: Option<Key>,
}

/// The materialised plan.
///
/// Events, requests and operation records, the tables that grow with every entry, are
/// [`LazyTable`]s, and their indexes and the ids the fold waits for are [`Index`]es: given
/// a [`RowSource`] ([`State::read_rows_from`]), they hold only the rows changed since the
/// store last wrote them (and the tables a bounded cache), and read the others back;
/// festivals, resources, logs and the indexes over them stay in memory.
#[derive(Clone, Debug)]
pub struct State {
    pub(crate) logs: Table<LogKey, LogProgress>,
    pub(crate) festivals: Table<Id, Festival>,
    pub(crate) profiles: Table<(Id, Key), Profile>,
    pub(crate) resources: Table<Id, Resource>,
    pub(crate) events: LazyTable<Id, Event>,
    pub(crate) requests: LazyTable<Id, Request>,
    pub(crate) ops: LazyTable<Id, OpRecord>,
    /// Resource → every operation of the owner's log that decides its allocation, in log
    /// order: what a fold again (`refold`) starts from.
    pub(crate) alloc_ops: History,
    /// (resource, request) → the owner's latest decision about the request.
    pub(crate) decisions: LazyTable<(Id, Id), Decision>,
    /// Ids not known yet → resources whose allocation looked them up.
    pub(crate) waiting: Waiting,
    /// (festival, the collective's key) → its members and rule, as its log last set them.
    pub(crate) collectives: Table<(Id, Key), Collective>,
    /// (request, voter) → the voter's latest vote on it.
    pub(crate) votes: Table<(Id, Key), Vote>,
    /// Events per festival by start, with the longest event per festival: a day's programme
    /// is a range, not a scan of the festival.
    pub(crate) event_index: Index<Id>,
    /// Requests per resource by start, for conflicts and holds; with the longest request
    /// per resource, so that an overlap query reads a bounded range.
    pub(crate) request_index: Index<Id>,
    /// The events of one organiser, the node's own: what its node acts on (deadlines, all or
    /// nothing). Filed at start 0: only the membership counts.
    pub(crate) organiser_index: Index<Key>,
    /// A replaced request → the valid request that replaces it.
    pub(crate) replacements: Table<Id, Id>,
    pub(crate) idx: Indexes,
    pub(crate) needs_rebuild: bool,
    /// While a batch is applied ([`State::apply_all`]): resources to fold again once it is
    /// in. A festival synced with its owners' decisions before the requests they decide
    /// would otherwise fold a resource again for every request that arrives.
    pub(crate) refold_later: Option<BTreeSet<Id>>,
    /// Where the resources' allocations read back their slots, once set.
    pub(crate) slot_source: Option<std::sync::Arc<dyn RowSource>>,
    /// What the entries applied since [`State::take_changed`] touched; `None`: anything may
    /// have (a state made, loaded from rows or rebuilt since).
    pub(crate) changed: Option<Changed>,
    /// Each ticket's holders and applications, as queries found them since the last fold.
    pub(crate) tickets: Tickets,
}

/// Ticket → who holds it, and which events ask for it: a query's memory, filled through
/// `&self` ([`elsa::FrozenMap`]) and emptied by every fold ([`State::apply`],
/// [`State::settle`], [`State::freeze_log`]), the only ways the plan changes.
/// [`State::admitted`] is asked for each event of a programme and each of its resources'
/// owners; each asking read every request for the ticket and its status again (and, from a
/// store, the ticket's whole range of the request index).
#[derive(Default)]
pub(crate) struct Tickets(pub(crate) elsa::FrozenMap<Id, Box<Ticket>>);

/// What [`Tickets`] keeps of one ticket.
pub(crate) struct Ticket {
    /// The authors of its confirmed requests.
    pub(crate) holders: std::collections::HashSet<Key>,
    /// The events its requests name.
    pub(crate) events: std::collections::HashSet<Id>,
    /// Those of them that are applications ([`State::is_application`]), found when a
    /// programme first meets many of them: it reads each event it skips, and the
    /// applications made before a festival all begin in its first hour.
    pub(crate) applications: std::cell::OnceCell<std::collections::HashSet<Id>>,
}

/// A copy finds them again.
impl Clone for Tickets {
    fn clone(&self) -> Tickets {
        Tickets::default()
    }
}

impl std::fmt::Debug for Tickets {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Tickets({})", self.0.len())
    }
}

impl Tickets {
    /// Forgets every ticket: the plan changed. Each entry folded calls it, so it does
    /// nothing when there is nothing to forget.
    fn forget(&mut self) {
        if !self.0.is_empty() {
            self.0.as_mut().clear();
        }
    }
}

/// The festivals and the kinds of operations (`event/create`, …) of entries applied: what a
/// host tells its UI to fetch again.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Changed {
    pub festivals: BTreeSet<Id>,
    pub kinds: BTreeSet<String>,
}

impl Changed {
    fn note(&mut self, festival: Option<Id>, kind: &str) {
        if let Some(f) = festival {
            self.festivals.insert(f);
        }
        if !self.kinds.contains(kind) {
            self.kinds.insert(kind.to_string());
        }
    }
}

impl Default for State {
    fn default() -> State {
        State {
            logs: Table::default(),
            festivals: Table::default(),
            profiles: Table::default(),
            resources: Table::default(),
            events: LazyTable::new("events"),
            requests: LazyTable::new("requests"),
            ops: LazyTable::new("ops"),
            alloc_ops: History::new("allocops", "allocnaming", "alloclens"),
            decisions: LazyTable::new("decisions"),
            waiting: Waiting::new(),
            collectives: Table::default(),
            votes: Table::default(),
            event_index: Index::new("eventindex", Some("eventspans")),
            request_index: Index::new("requestindex", Some("requestspans")),
            organiser_index: Index::new("organiserindex", None),
            replacements: Table::default(),
            idx: Indexes::default(),
            needs_rebuild: false,
            refold_later: None,
            slot_source: None,
            changed: None,
            tickets: Tickets::default(),
        }
    }
}

impl State {
    pub fn new() -> State {
        State::default()
    }

    /// Lets the tables that grow with every entry forget rows once written and read them
    /// back from `source` (the rows [`State::take_changes`] returned, as a store wrote them).
    pub fn read_rows_from(&mut self, source: std::sync::Arc<dyn RowSource>) {
        self.events.set_source(source.clone());
        self.requests.set_source(source.clone());
        self.alloc_ops.set_source(source.clone());
        self.decisions.set_source(source.clone());
        self.event_index.set_source(source.clone());
        self.waiting.set_source(source.clone());
        self.request_index.set_source(source.clone());
        self.organiser_index.set_source(source.clone());
        for (id, r) in self.resources.values_mut_unmarked() {
            r.alloc.set_source(*id, source.clone());
        }
        self.slot_source = Some(source.clone());
        self.ops.set_source(source);
    }

    /// A resource's allocation as created, reading its slots back if the state does.
    pub(crate) fn new_allocation(&self, resource: Id, availability: Availability, capacity: Capacity) -> Allocation {
        let mut alloc = Allocation::new(availability, capacity);
        if let Some(source) = &self.slot_source {
            alloc.set_source(resource, source.clone());
        }
        alloc
    }

    /// How many rows read back each lazy table keeps between trims ([`crate::CACHED_ROWS`]
    /// unless set; tests set 0 to read everything back).
    pub fn set_cached_rows(&mut self, rows: usize) {
        self.events.set_bound(rows);
        self.requests.set_bound(rows);
        self.ops.set_bound(rows);
        self.decisions.set_bound(rows);
    }

    /// Whether rows are read back from a source.
    pub fn is_lazy(&self) -> bool {
        self.ops.is_lazy()
    }

    /// Whether a row read back did not decode: the store's rows are damaged and the plan
    /// should be rebuilt from the entries.
    pub fn rows_unreadable(&self) -> bool {
        self.events.unreadable()
            || self.requests.unreadable()
            || self.ops.unreadable()
            || self.alloc_ops.unreadable()
            || self.decisions.unreadable()
            || self.event_index.unreadable()
            || self.waiting.unreadable()
            || self.request_index.unreadable()
            || self.organiser_index.unreadable()
            || self.resources.values().any(|r| r.alloc.unreadable())
    }

    /// Forgets rows read back beyond the cache's bound. Only possible with `&mut`: while
    /// the state is borrowed, what it handed out stays put.
    pub fn trim(&mut self) {
        self.events.trim();
        self.requests.trim();
        self.ops.trim();
        self.decisions.trim();
    }

    /// Rows of the tables that grow with every entry held in memory now (changed or
    /// cached): events, requests, and the rest (operation records, decisions, and the
    /// resources' decision histories and active slots).
    pub fn rows_held(&self) -> (usize, usize, usize) {
        let slots: usize = self.resources.values().map(|r| r.alloc.held()).sum();
        let rest = self.ops.held() + self.alloc_ops.held() + self.decisions.held() + slots;
        (self.events.held(), self.requests.held(), rest)
    }

    /// Applies verified entries, folding each resource whose allocation they changed the
    /// meaning of again once at the end rather than at each entry: the same state as
    /// [`State::apply`] of each in turn.
    pub fn apply_all(&mut self, entries: impl IntoIterator<Item = impl Into<ReadEntry>>) {
        self.defer_refolds();
        for entry in entries {
            self.apply(entry);
        }
        self.settle();
    }

    /// What the entries applied since the last call touched (every one of them, whether it
    /// took effect or not); `None` if anything may have: the state was made, loaded or
    /// rebuilt since. A host tells its UI what to fetch again from it, rather than reading
    /// back every entry it stored and looking up each one's record.
    pub fn take_changed(&mut self) -> Option<Changed> {
        self.changed.replace(Changed::default())
    }

    /// From now on, resources are folded again only at [`State::settle`]: for a host that
    /// applies a batch of entries one at a time ([`State::apply_all`] otherwise).
    pub fn defer_refolds(&mut self) {
        self.refold_later.get_or_insert_with(BTreeSet::new);
    }

    /// Folds again the resources [`State::defer_refolds`] set aside, and folds at once again
    /// from then on. Queries and checks must not run between the two.
    pub fn settle(&mut self) {
        self.tickets.forget();
        for resource in self.refold_later.take().unwrap_or_default() {
            self.refold(resource);
        }
    }

    /// Applies one verified entry. Entries may come in any order and more than once.
    pub fn apply(&mut self, entry: impl Into<ReadEntry>) {
        self.tickets.forget();
        let read: ReadEntry = entry.into();
        let entry = &read.entry;
        let key = (entry.author, entry.log_id);
        let progress = self.logs.get(&key).cloned().unwrap_or(LogProgress { next_seq: 1, ..Default::default() });
        if entry.seq < progress.next_seq || progress.buffered.contains_key(&entry.seq) {
            return;
        }
        if progress.frozen_at.is_some_and(|f| entry.seq >= f) {
            return;
        }
        if entry.seq > progress.next_seq {
            let mut progress = progress;
            progress.buffered.insert(entry.seq, read.entry);
            self.logs.insert(key, progress);
            return;
        }
        self.idx.logs_by_author.entry(entry.author).or_default().insert(entry.log_id);
        let mut next = Some(read);
        while let Some(mut read) = next.take() {
            let op = read.take_op();
            self.apply_in_order(&read.entry, op);
            let progress = self.logs.get_mut(&key).expect("apply_in_order records the log");
            progress.next_seq = read.entry.seq + 1;
            if progress.frozen_at.is_some_and(|f| progress.next_seq >= f) {
                break;
            }
            next = progress.buffered.remove(&progress.next_seq).map(ReadEntry::from);
        }
    }

    /// Notes that the author forked a log at `seq`: entries from `seq` on are not applied.
    /// If some were applied already, the state must be rebuilt from the stored entries.
    pub fn freeze_log(&mut self, author: Key, log_id: u64, seq: u64) {
        self.tickets.forget();
        let key = (author, log_id);
        let mut progress = self.logs.get(&key).cloned().unwrap_or(LogProgress { next_seq: 1, ..Default::default() });
        let frozen = progress.frozen_at.map_or(seq, |f| f.min(seq));
        progress.frozen_at = Some(frozen);
        progress.buffered.retain(|&s, _| s < frozen);
        let applied_past = progress.next_seq > frozen;
        self.logs.insert(key, progress);
        self.needs_rebuild |= applied_past;
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

    fn apply_in_order(&mut self, entry: &LogEntry, decoded: Decoded) {
        let key = (entry.author, entry.log_id);
        if !self.logs.contains(&key) {
            self.logs.insert(key, LogProgress { next_seq: 1, ..Default::default() });
        }
        if entry.seq == 1 {
            self.logs.get_mut(&key).expect("inserted above").festival = op::log_festival(entry.hash, &decoded);
        }
        let festival = self.logs.get(&key).and_then(|p| p.festival);
        let kind = match &decoded {
            Decoded::Op(p) => p.op.kind().to_string(),
            Decoded::Unsupported { kind, .. } => kind.clone(),
            Decoded::Malformed { .. } => "malformed".to_string(),
        };
        // Every entry applied has its record or is its event or request, of this festival
        // and kind: what `take_changed` answers.
        if let Some(changed) = &mut self.changed {
            changed.note(festival, &kind);
        }
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
                    // An event's or a request's creation that takes effect is not recorded:
                    // the event or request holds all of its record ([`OpRecord::of_event`]).
                    if !matches!(payload.op, Operation::EventCreate(_) | Operation::RequestCreate { .. }) {
                        self.record(entry, Some(festival), &kind, OpStatus::Applied);
                    }
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
        // The rules of this log's own order (`rules.rs`); a request breaking one is still
        // created, as an invalid request, so that its status can say why.
        let broken = self.rule_in_log(Some(log), &op);
        if !matches!(op, Operation::RequestCreate { .. }) {
            broken.clone()?;
        }
        match op {
            Operation::FestivalCreate { parent, fields } => {
                self.festivals.insert(id, Festival { id, creator: entry.author, log, parent, fields });
                if let Some(p) = parent {
                    self.idx.children.entry(p).or_default().insert(id);
                }
                self.resolved(id);
            }
            Operation::FestivalUpdate { festival: target, fields } => {
                self.festivals.get_mut(&target).expect("checked").fields = fields;
            }
            Operation::ProfileSet { name, about } => {
                self.profiles.insert((festival, entry.author), Profile { name, about, seq: entry.seq });
            }
            Operation::ResourceCreate(fields) => {
                let availability = fields.availability.clone();
                let capacity = fields.capacity;
                self.resources.insert(
                    id,
                    Resource {
                        id,
                        owner: entry.author,
                        festival,
                        log,
                        fields,
                        retired: false,
                        alloc: self.new_allocation(id, availability.clone(), capacity),
                        initial_availability: availability,
                        initial_capacity: capacity,
                    },
                );
                self.idx.resources_by_festival.entry(festival).or_default().insert(id);
                self.resolved(id);
            }
            Operation::ResourceUpdate { resource, fields } => {
                let op = AllocOp::Availability {
                    op: id,
                    availability: fields.availability.clone(),
                    capacity: fields.capacity,
                };
                self.resources.get_mut(&resource).expect("checked").fields = fields;
                self.push_alloc(resource, op);
            }
            Operation::ResourceRetire { resource } => {
                self.resources.get_mut(&resource).expect("checked").retired = true;
                self.push_alloc(resource, AllocOp::Retire { op: id });
            }
            Operation::EventCreate(fields) => {
                let frame = fields.frame;
                self.events.insert(
                    id,
                    Event {
                        id,
                        organiser: entry.author,
                        festival,
                        log,
                        seq: entry.seq,
                        fields,
                        cancelled: false,
                        requests: Vec::new(),
                        sequence: 0,
                    },
                );
                self.index_event_frame(festival, id, None, frame);
                self.index_organiser(entry.author, id);
            }
            Operation::EventUpdate { event, fields } => {
                let e = self.events.get_mut(&event).expect("checked");
                let (festival, was) = (e.festival, e.fields.frame);
                e.fields = fields;
                e.sequence += 1;
                let now = e.fields.frame;
                self.index_event_frame(festival, event, Some(was), now);
            }
            Operation::EventCancel { event } => {
                let e = self.events.get_mut(&event).expect("checked");
                e.cancelled = true;
                e.sequence += 1;
            }
            Operation::RequestCreate { event, resource, frame, replaces, until } => {
                let invalid = broken.err();
                let request = Request {
                    id,
                    author: entry.author,
                    festival,
                    log,
                    seq: entry.seq,
                    event,
                    resource,
                    frame,
                    replaces,
                    until,
                    invalid: invalid.clone(),
                    withdrawn: false,
                    withdraw_reason: String::new(),
                };
                self.requests.insert(id, request);
                if invalid.is_none()
                    && let Some(e) = self.events.get_mut(&event)
                {
                    e.requests.push(id);
                }
                if invalid.is_none()
                    && let Some(old) = replaces
                {
                    self.replacements.insert(old, id);
                }
                self.index_request(resource, frame, id);
                self.resolved(id);
                if let Some(rule) = invalid {
                    return Err(rule);
                }
            }
            Operation::RequestWithdraw { request, reason } => {
                let q = self.requests.get_mut(&request).expect("checked");
                q.withdrawn = true;
                q.withdraw_reason = reason;
            }
            // The owner's decisions are kept in the resource's fold, which decides their
            // effect in the owner's log order (`Allocation::rule`).
            Operation::Confirm { request, resource, frame } => {
                self.push_alloc(resource, AllocOp::Confirm { op: id, request, frame });
            }
            Operation::Deny { request, resource, reason } => {
                self.push_alloc(resource, AllocOp::Deny { op: id, request, reason });
            }
            Operation::Release { request, resource } => {
                self.push_alloc(resource, AllocOp::Release { op: id, request });
            }
            // Membership and votes take effect at the tally ([`State::tally`]), which counts
            // the votes of the members as of now, so the order they arrive in never matters.
            Operation::CollectiveSet { members, rule } => {
                self.collectives.insert((festival, entry.author), Collective { members, rule, seq: entry.seq });
            }
            Operation::Vote { request, resource, yes, reason } => {
                self.votes.insert((request, entry.author), Vote { resource, yes, reason, seq: entry.seq });
            }
        }
        Ok(())
    }

    /// Appends `op` to the decision history of `resource` and folds it into its allocation.
    fn push_alloc(&mut self, resource: Id, op: AllocOp) {
        self.alloc_ops.push(resource, op.clone());
        self.fold_last(resource, op);
    }

    pub(crate) fn index_request(&mut self, resource: Id, frame: TimeFrame, id: Id) {
        self.request_index.insert(resource, frame, id);
    }

    /// An object became known: resources whose fold looked for it are folded again.
    fn resolved(&mut self, id: Id) {
        for r in self.waiting.take(&id) {
            if self.settled_by_decisions(r, id) {
                continue;
            }
            match &mut self.refold_later {
                Some(later) => {
                    later.insert(r);
                }
                None => self.refold(r),
            }
        }
    }

    /// Whether request `id`, now known, leaves `resource`'s allocation as it is, so that
    /// only the owner's decision about it needs writing (the usual case when a festival is
    /// synced with its owners' logs before the requests they decide): the request is valid
    /// for the resource, and every operation naming it is a deny, a release, or a confirm
    /// that names the request's own frame. Those had the same effect while the request was
    /// unknown ([`Allocation::rule`] looks at the request only through that frame and
    /// validity); what changes is that a confirm the allocation refused now counts as the
    /// owner's decision ([`Decision::Refused`]).
    fn settled_by_decisions(&mut self, resource: Id, id: Id) -> bool {
        if self.refold_later.as_ref().is_some_and(|later| later.contains(&resource)) {
            return false;
        }
        let RequestCheck::Valid(frame) = self.check_request(id, resource) else { return false };
        let naming = self.alloc_ops.naming(resource, id);
        let same_effect = |op: &AllocOp| match op {
            AllocOp::Confirm { frame: named, .. } => *named == Some(frame),
            AllocOp::Deny { .. } | AllocOp::Release { .. } => true,
            AllocOp::Availability { .. } | AllocOp::Retire { .. } => false,
        };
        if !naming.iter().all(same_effect) {
            return false;
        }
        // The decision a fold with the request known leaves: the last one an operation made,
        // read from the effects recorded (the same, as shown above).
        let mut decision = None;
        for op in &naming {
            let effect = self.ops.get(&op.op()).map(|r| r.status.clone());
            let made = match (op, effect) {
                (AllocOp::Confirm { op, .. }, Some(OpStatus::Applied)) => Some(Decision::Confirmed { op: *op }),
                (AllocOp::Confirm { .. }, Some(OpStatus::NoEffect(Rule::AlreadyConfirmed { .. }))) => None,
                (AllocOp::Confirm { op, .. }, Some(OpStatus::NoEffect(rule))) => {
                    Some(Decision::Refused { op: *op, rule: Box::new(rule) })
                }
                (AllocOp::Deny { op, reason, .. }, Some(OpStatus::Applied)) => {
                    Some(Decision::Denied { op: *op, reason: reason.clone() })
                }
                (AllocOp::Release { op, .. }, Some(OpStatus::Applied)) => Some(Decision::Released { op: *op }),
                _ => None,
            };
            if made.is_some() {
                decision = made;
            }
        }
        if let Some(decision) = decision {
            self.decisions.insert((resource, id), decision);
        }
        true
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
        match self.check_ancestry(q.festival, q.resource) {
            Ok(()) => RequestCheck::Valid(q.frame),
            Err((Some(missing), rule)) => RequestCheck::Unknown(missing, rule),
            Err((None, rule)) => RequestCheck::Invalid(Rule::RequestInvalid { request, reason: Box::new(rule) }),
        }
    }

    /// Whether `resource` is in `festival` or one of its ancestors, i.e. whether an event of
    /// `festival` may request it. On failure: the id still missing (if the answer may change)
    /// and the rule.
    pub(crate) fn check_ancestry(&self, festival: Id, resource: Id) -> Result<(), (Option<Id>, Rule)> {
        let Some(r) = self.resources.get(&resource) else {
            return Err((Some(resource), Rule::ResourceUnknown { resource }));
        };
        let mut festival = festival;
        for _ in 0..MAX_NESTING {
            if festival == r.festival {
                return Ok(());
            }
            let Some(f) = self.festivals.get(&festival) else {
                return Err((Some(festival), Rule::FestivalUnknown { festival }));
            };
            match f.parent {
                Some(parent) => festival = parent,
                None => return Err((None, Rule::NotInAncestry { resource, resource_festival: r.festival })),
            }
        }
        Err((None, Rule::NestingTooDeep))
    }

    /// Applies `op`, the newest allocation operation of `resource`, to its allocation.
    fn fold_last(&mut self, resource: Id, op: AllocOp) {
        if self.refold_later.as_ref().is_some_and(|later| later.contains(&resource)) {
            // Folded again from its first operation at `settle`, this one included.
            return;
        }
        let check = op.request().map(|q| self.check_request(q, resource));
        let r = self.resources.get_mut(&resource).expect("caller found the resource");
        let (effect, decision) = r.alloc.apply(&op, check.as_ref());
        if let (Some(decision), Some(q)) = (decision, op.request()) {
            self.decisions.insert((resource, q), decision);
        }
        self.after_fold(resource, vec![(op, effect, check)]);
    }

    /// Folds the whole allocation of `resource` again from its owner's log.
    fn refold(&mut self, resource: Id) {
        if self.resources.get(&resource).is_none() {
            return;
        }
        let ops = self.alloc_ops.all(resource);
        let checks: Vec<Option<RequestCheck>> =
            ops.iter().map(|op| op.request().map(|q| self.check_request(q, resource))).collect();
        let r = self.resources.get_mut(&resource).expect("present above");
        let mut alloc = r.alloc.restarted(r.initial_availability.clone(), r.initial_capacity);
        let mut effects = Vec::with_capacity(ops.len());
        let mut decisions = Vec::new();
        for (op, check) in ops.iter().zip(checks) {
            let (effect, decision) = alloc.apply(op, check.as_ref());
            if let (Some(decision), Some(q)) = (decision, op.request()) {
                decisions.push((q, decision));
            }
            effects.push((op.clone(), effect, check));
        }
        r.alloc = alloc;
        // A decision is overwritten, never removed: a request that had one keeps getting
        // one, since a check that was valid stays valid (what it found stays known). Only a
        // deny of a request unknown then, which turns out to be for another resource or
        // invalid, leaves one behind, under a resource its status never looks at.
        for (q, decision) in decisions {
            self.decisions.insert((resource, q), decision);
        }
        self.after_fold(resource, effects);
    }

    fn after_fold(&mut self, resource: Id, effects: Vec<(AllocOp, OpStatus, Option<RequestCheck>)>) {
        for (op, effect, check) in effects {
            if let Some(RequestCheck::Unknown(missing, _)) = check {
                self.waiting.add(missing, resource);
            }
            if let Some(record) = self.ops.get(&op.op())
                && record.status != effect
            {
                self.ops.get_mut(&op.op()).expect("present").status = effect;
            }
        }
    }
}
