//! Operations: the payload of every entry, as deterministic CBOR.
//!
//! A payload is one CBOR map with text keys in canonical order (RFC 8949 §4.2.1: shorter
//! keys first, then bytewise), shortest integer encodings, definite lengths, no floats, and
//! no empty optional fields. Decoding re-encodes and compares, so every operation has
//! exactly one encoding. `docs/protocol.md` describes each operation.

use ciborium::Value;

use crate::id::{Id, Key};
use crate::time::{Availability, Capacity, TimeFrame, Timestamp};

/// The newest operation format this code writes and interprets. An operation is written with
/// the lowest version that has all its fields: version 2 added a request's `repl` (the
/// request it replaces when its event moved) and a confirm's `start`/`end` (the slot it
/// takes), version 3 a resource's `cap` (how many confirms may overlap) and `needs` (the
/// resources it cannot go without), an event's `all` (its requests all or nothing) and a
/// request's `until` (its deadline), so older peers keep and pass on what they cannot read
/// (`docs/protocol.md`).
pub const VERSION: u64 = 3;
/// The largest payload this code interprets; larger payloads are stored but have no effect.
pub const MAX_PAYLOAD: usize = 16 * 1024;

/// The kind of a resource. Locations get a map and an address in the UI.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ResourceKind {
    Location,
    Thing,
    Skill,
    Other,
}

impl ResourceKind {
    pub const ALL: [ResourceKind; 4] =
        [ResourceKind::Location, ResourceKind::Thing, ResourceKind::Skill, ResourceKind::Other];

    pub fn as_str(self) -> &'static str {
        match self {
            ResourceKind::Location => "location",
            ResourceKind::Thing => "thing",
            ResourceKind::Skill => "skill",
            ResourceKind::Other => "other",
        }
    }

    pub fn parse(s: &str) -> Option<ResourceKind> {
        Some(match s {
            "location" => ResourceKind::Location,
            "thing" => ResourceKind::Thing,
            "skill" => ResourceKind::Skill,
            "other" => ResourceKind::Other,
            _ => return None,
        })
    }
}

/// A GPS point in microdegrees (integers keep the encoding deterministic).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub struct GeoPoint {
    pub lat_micro: i64,
    pub lon_micro: i64,
}

impl GeoPoint {
    pub fn from_degrees(lat: f64, lon: f64) -> GeoPoint {
        GeoPoint { lat_micro: (lat * 1e6).round() as i64, lon_micro: (lon * 1e6).round() as i64 }
    }

    pub fn lat(&self) -> f64 {
        self.lat_micro as f64 / 1e6
    }

    pub fn lon(&self) -> f64 {
        self.lon_micro as f64 / 1e6
    }
}

#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct FestivalFields {
    pub name: String,
    pub description: String,
    /// An IANA time zone name, e.g. `Europe/Berlin`.
    pub timezone: String,
    pub frame: Option<TimeFrame>,
    /// A resource whose confirmed requests admit their authors: only they (and the
    /// festival's creator and the ticket's owner) organise events and provide resources here.
    pub ticket: Option<Id>,
}

#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ResourceFields {
    pub name: String,
    pub kind: ResourceKind,
    pub description: String,
    pub geo: Option<GeoPoint>,
    pub address: String,
    pub url: String,
    pub availability: Availability,
    /// `fcfs`, `manual`, or the name of a policy registered at the owner's node.
    pub policy: String,
    pub capacity: Capacity,
    /// Resources an event requesting this one must request too (the PA needs the sound
    /// engineer): sorted, without duplicates.
    pub needs: Vec<Id>,
}

#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct EventFields {
    pub title: String,
    pub description: String,
    pub frame: TimeFrame,
    /// All or nothing: the event is booked only when every request is confirmed, and its
    /// organiser's node withdraws the rest when one is denied.
    pub bundle: bool,
}

/// How a collective's members decide a request: how many of them must vote yes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum VoteRule {
    /// One yes confirms (a person's second device: the phone votes, the home node decides).
    Any,
    /// More than half of the members.
    Majority,
    /// Every member: one no denies (a veto).
    All,
    /// At least `k` members.
    AtLeast(u32),
}

impl VoteRule {
    /// `any`, `majority`, `all`, or `k` in decimal (at least 1).
    pub fn parse(s: &str) -> Option<VoteRule> {
        Some(match s {
            "any" => VoteRule::Any,
            "majority" => VoteRule::Majority,
            "all" => VoteRule::All,
            // Canonical decimal only: `02` would be a second spelling of `2`.
            k if !k.starts_with('0') && k.len() <= 9 && k.bytes().all(|b| b.is_ascii_digit()) => {
                VoteRule::AtLeast(k.parse().ok()?)
            }
            _ => return None,
        })
    }

    pub fn as_string(&self) -> String {
        match self {
            VoteRule::Any => "any".into(),
            VoteRule::Majority => "majority".into(),
            VoteRule::All => "all".into(),
            VoteRule::AtLeast(k) => k.to_string(),
        }
    }

    /// How many yes votes of `members` confirm.
    pub fn needed(&self, members: usize) -> usize {
        match self {
            VoteRule::Any => 1,
            VoteRule::Majority => members / 2 + 1,
            VoteRule::All => members,
            VoteRule::AtLeast(k) => (*k as usize).min(members),
        }
    }
}

/// One operation: what an entry's payload says.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Operation {
    FestivalCreate {
        parent: Option<Id>,
        fields: FestivalFields,
    },
    FestivalUpdate {
        festival: Id,
        fields: FestivalFields,
    },
    ProfileSet {
        name: String,
        about: String,
    },
    ResourceCreate(ResourceFields),
    ResourceUpdate {
        resource: Id,
        fields: ResourceFields,
    },
    ResourceRetire {
        resource: Id,
    },
    EventCreate(EventFields),
    EventUpdate {
        event: Id,
        fields: EventFields,
    },
    EventCancel {
        event: Id,
    },
    /// `replaces`: an earlier request of the same event for the same resource, withdrawn
    /// with it, whose confirmed slot the owner keeps until this one is decided.
    /// `until`: the deadline after which the organiser's node withdraws it if still pending.
    RequestCreate {
        event: Id,
        resource: Id,
        frame: TimeFrame,
        replaces: Option<Id>,
        until: Option<Timestamp>,
    },
    /// `reason`: why, when a node withdraws on its own (all or nothing, a deadline).
    RequestWithdraw {
        request: Id,
        reason: String,
    },
    /// `frame`: the slot it takes (the request's frame), so that a peer that does not hold
    /// the request (an event of a sub-festival) still knows what is busy. Version 1
    /// confirms have none.
    Confirm {
        request: Id,
        resource: Id,
        frame: Option<TimeFrame>,
    },
    Deny {
        request: Id,
        resource: Id,
        reason: String,
    },
    Release {
        request: Id,
        resource: Id,
    },
    /// The members of the collective whose key writes this log (in this festival), and how
    /// they decide: its node decides its resources' requests by their votes.
    CollectiveSet {
        members: Vec<Key>,
        rule: VoteRule,
    },
    /// A member's vote on a request for a collective's resource; a later vote of the same
    /// member on the same request replaces it.
    Vote {
        request: Id,
        resource: Id,
        yes: bool,
        reason: String,
    },
}

impl Operation {
    /// [`Operation::kind`] of an event's creation.
    pub const EVENT_CREATE: &'static str = "event/create";
    /// [`Operation::kind`] of a request's creation.
    pub const REQUEST_CREATE: &'static str = "request/create";

    /// The `op` string on the wire.
    pub fn kind(&self) -> &'static str {
        match self {
            Operation::FestivalCreate { .. } => "festival/create",
            Operation::FestivalUpdate { .. } => "festival/update",
            Operation::ProfileSet { .. } => "profile/set",
            Operation::ResourceCreate(_) => "resource/create",
            Operation::ResourceUpdate { .. } => "resource/update",
            Operation::ResourceRetire { .. } => "resource/retire",
            Operation::EventCreate(_) => Operation::EVENT_CREATE,
            Operation::EventUpdate { .. } => "event/update",
            Operation::EventCancel { .. } => "event/cancel",
            Operation::RequestCreate { .. } => Operation::REQUEST_CREATE,
            Operation::RequestWithdraw { .. } => "request/withdraw",
            Operation::Confirm { .. } => "auth/confirm",
            Operation::Deny { .. } => "auth/deny",
            Operation::Release { .. } => "auth/release",
            Operation::CollectiveSet { .. } => "collective/set",
            Operation::Vote { .. } => "auth/vote",
        }
    }

    /// The lowest operation version that has every field this operation uses.
    pub fn version(&self) -> u64 {
        match self {
            Operation::ResourceCreate(fields) | Operation::ResourceUpdate { fields, .. }
                if fields.capacity != Capacity::ONE || !fields.needs.is_empty() =>
            {
                3
            }
            Operation::EventCreate(fields) | Operation::EventUpdate { fields, .. } if fields.bundle => 3,
            Operation::CollectiveSet { .. } | Operation::Vote { .. } => 3,
            Operation::FestivalCreate { fields, .. } | Operation::FestivalUpdate { fields, .. }
                if fields.ticket.is_some() =>
            {
                3
            }
            Operation::RequestCreate { until: Some(_), .. } => 3,
            Operation::RequestWithdraw { reason, .. } if !reason.is_empty() => 3,
            Operation::RequestCreate { replaces: Some(_), .. } | Operation::Confirm { frame: Some(_), .. } => 2,
            _ => 1,
        }
    }
}

/// A payload: an operation, and on the first entry of a log (unless it creates a
/// festival) the festival the log belongs to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Payload {
    pub festival: Option<Id>,
    pub op: Operation,
}

/// What a payload turned out to be.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Decoded {
    Op(Payload),
    /// A version or kind this code does not know: stored and passed on, not interpreted.
    Unsupported {
        version: u64,
        kind: String,
        festival: Option<Id>,
    },
    /// Not a valid operation of a known version.
    Malformed {
        error: FormatError,
        festival: Option<Id>,
    },
}

/// Why a payload is not a well-formed operation. One variant per rule of the format.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum FormatError {
    #[error("payload of {0} bytes exceeds the limit of {MAX_PAYLOAD}")]
    TooLarge(usize),
    #[error("not CBOR: {0}")]
    NotCbor(String),
    #[error("not a CBOR map")]
    NotAMap,
    #[error("missing or invalid version `v`")]
    NoVersion,
    #[error("missing or invalid kind `op`")]
    NoKind,
    #[error("missing field `{0}`")]
    MissingField(&'static str),
    #[error("field `{field}` must be {expected}")]
    WrongType { field: &'static str, expected: &'static str },
    #[error("unknown field `{0}`")]
    UnknownField(String),
    #[error("`{0}` and `{1}` come together")]
    Unpaired(&'static str, &'static str),
    #[error("time frame [{start}, {end}) is empty, reversed or out of range")]
    BadTimeFrame { start: i64, end: i64 },
    #[error("unknown resource kind {0:?}")]
    UnknownResourceKind(String),
    #[error("availability windows must be sorted, apart and non-overlapping")]
    UnsortedAvailability,
    #[error("`needs` must list ids in ascending order without duplicates, and not be empty")]
    UnsortedNeeds,
    #[error("`members` must list keys in ascending order without duplicates, and not be empty")]
    UnsortedMembers,
    #[error("unknown vote rule {0:?} (any, majority, all, or a number)")]
    UnknownVoteRule(String),
    #[error("not in canonical form (key order, integer width, empty fields or trailing bytes)")]
    NotCanonical,
}

// ---------------------------------------------------------------------------------------
// Encoding

/// A CBOR map of text keys, written without a tree of `ciborium::Value`s: each value is
/// encoded as it is put (ciborium's low-level encoder), into one buffer, and [`finish`]
/// writes the keys in canonical order with their values. Through `Value`s, encoding was
/// half the cost of decoding an operation (decoding re-encodes to check the bytes are
/// canonical).
///
/// [`finish`]: MapWriter::finish
struct MapWriter {
    fields: Vec<(&'static str, std::ops::Range<usize>)>,
    values: Vec<u8>,
}

type Encoder<'a> = ciborium_ll::Encoder<&'a mut Vec<u8>>;

const WRITES: &str = "writing to a Vec cannot fail";

fn push_int(e: &mut Encoder, n: i64) {
    let header = match u64::try_from(n) {
        Ok(n) => ciborium_ll::Header::Positive(n),
        Err(_) => ciborium_ll::Header::Negative(!n as u64),
    };
    e.push(header).expect(WRITES);
}

impl MapWriter {
    fn new() -> MapWriter {
        MapWriter { fields: Vec::with_capacity(12), values: Vec::with_capacity(256) }
    }
    fn put(&mut self, key: &'static str, write: impl FnOnce(&mut Encoder)) {
        let start = self.values.len();
        write(&mut ciborium_ll::Encoder::from(&mut self.values));
        self.fields.push((key, start..self.values.len()));
    }
    fn text(&mut self, key: &'static str, s: &str) {
        self.put(key, |e| e.text(s, None).expect(WRITES));
    }
    fn opt_text(&mut self, key: &'static str, s: &str) {
        if !s.is_empty() {
            self.text(key, s);
        }
    }
    fn id(&mut self, key: &'static str, id: &Id) {
        self.put(key, |e| e.bytes(&id.0.0, None).expect(WRITES));
    }
    fn int(&mut self, key: &'static str, n: i64) {
        self.put(key, |e| push_int(e, n));
    }
    fn bool(&mut self, key: &'static str, b: bool) {
        let simple = if b { ciborium_ll::simple::TRUE } else { ciborium_ll::simple::FALSE };
        self.put(key, |e| e.push(ciborium_ll::Header::Simple(simple)).expect(WRITES));
    }
    /// An array of byte strings (keys, ids).
    fn byte_strings<'b>(&mut self, key: &'static str, items: impl ExactSizeIterator<Item = &'b [u8]>) {
        self.put(key, |e| {
            e.push(ciborium_ll::Header::Array(Some(items.len()))).expect(WRITES);
            for item in items {
                e.bytes(item, None).expect(WRITES);
            }
        });
    }
    fn frame(&mut self, frame: &TimeFrame) {
        self.int("start", frame.start().0);
        self.int("end", frame.end().0);
    }
    fn finish(mut self) -> Vec<u8> {
        // Canonical order of text keys shorter than 24 bytes: by length, then bytewise.
        self.fields.sort_by(|(a, _), (b, _)| (a.len(), *a).cmp(&(b.len(), *b)));
        let mut out = Vec::with_capacity(self.values.len() + 8 * self.fields.len() + 1);
        ciborium_ll::Encoder::from(&mut out).push(ciborium_ll::Header::Map(Some(self.fields.len()))).expect(WRITES);
        for (key, range) in &self.fields {
            ciborium_ll::Encoder::from(&mut out).text(key, None).expect(WRITES);
            out.extend_from_slice(&self.values[range.clone()]);
        }
        out
    }
}

impl Payload {
    /// The deterministic CBOR encoding.
    pub fn encode(&self) -> Vec<u8> {
        let mut m = MapWriter::new();
        m.int("v", self.op.version() as i64);
        m.text("op", self.op.kind());
        if let Some(f) = &self.festival {
            m.id("fest", f);
        }
        match &self.op {
            Operation::FestivalCreate { parent, fields } => {
                if let Some(p) = parent {
                    m.id("parent", p);
                }
                festival_fields(&mut m, fields);
            }
            Operation::FestivalUpdate { festival, fields } => {
                m.id("id", festival);
                festival_fields(&mut m, fields);
            }
            Operation::ProfileSet { name, about } => {
                m.text("name", name);
                m.opt_text("about", about);
            }
            Operation::ResourceCreate(fields) => resource_fields(&mut m, fields),
            Operation::ResourceUpdate { resource, fields } => {
                m.id("id", resource);
                resource_fields(&mut m, fields);
            }
            Operation::ResourceRetire { resource } => m.id("id", resource),
            Operation::EventCreate(fields) => event_fields(&mut m, fields),
            Operation::EventUpdate { event, fields } => {
                m.id("id", event);
                event_fields(&mut m, fields);
            }
            Operation::EventCancel { event } => m.id("id", event),
            Operation::RequestCreate { event, resource, frame, replaces, until } => {
                m.id("event", event);
                m.id("res", resource);
                m.frame(frame);
                if let Some(old) = replaces {
                    m.id("repl", old);
                }
                if let Some(until) = until {
                    m.int("until", until.0);
                }
            }
            Operation::RequestWithdraw { request, reason } => {
                m.id("id", request);
                m.opt_text("reason", reason);
            }
            Operation::Confirm { request, resource, frame } => {
                m.id("req", request);
                m.id("res", resource);
                if let Some(frame) = frame {
                    m.frame(frame);
                }
            }
            Operation::Release { request, resource } => {
                m.id("req", request);
                m.id("res", resource);
            }
            Operation::Deny { request, resource, reason } => {
                m.id("req", request);
                m.id("res", resource);
                m.opt_text("reason", reason);
            }
            Operation::CollectiveSet { members, rule } => {
                m.byte_strings("members", members.iter().map(|k| k.0.0.as_slice()));
                m.text("rule", &rule.as_string());
            }
            Operation::Vote { request, resource, yes, reason } => {
                m.id("req", request);
                m.id("res", resource);
                m.bool("yes", *yes);
                m.opt_text("reason", reason);
            }
        }
        m.finish()
    }
}

fn festival_fields(m: &mut MapWriter, f: &FestivalFields) {
    m.text("name", &f.name);
    m.opt_text("desc", &f.description);
    m.text("tz", &f.timezone);
    if let Some(frame) = &f.frame {
        m.frame(frame);
    }
    if let Some(ticket) = &f.ticket {
        m.id("ticket", ticket);
    }
}

fn resource_fields(m: &mut MapWriter, f: &ResourceFields) {
    m.text("name", &f.name);
    m.text("kind", f.kind.as_str());
    m.opt_text("desc", &f.description);
    if let Some(g) = &f.geo {
        m.int("lat", g.lat_micro);
        m.int("lon", g.lon_micro);
    }
    m.opt_text("addr", &f.address);
    m.opt_text("url", &f.url);
    if let Availability::Windows(ws) = &f.availability {
        m.put("avail", |e| {
            e.push(ciborium_ll::Header::Array(Some(ws.len()))).expect(WRITES);
            for w in ws {
                e.push(ciborium_ll::Header::Array(Some(2))).expect(WRITES);
                push_int(e, w.start().0);
                push_int(e, w.end().0);
            }
        });
    }
    m.text("policy", &f.policy);
    if let Some(cap) = f.capacity.to_wire() {
        m.int("cap", cap.into());
    }
    if !f.needs.is_empty() {
        m.byte_strings("needs", f.needs.iter().map(|id| id.0.0.as_slice()));
    }
}

fn event_fields(m: &mut MapWriter, f: &EventFields) {
    m.text("title", &f.title);
    m.opt_text("desc", &f.description);
    m.frame(&f.frame);
    if f.bundle {
        m.bool("all", true);
    }
}

// ---------------------------------------------------------------------------------------
// Decoding

/// Decodes a payload strictly. Never fails: what cannot be interpreted is reported as
/// [`Decoded::Unsupported`] or [`Decoded::Malformed`], keeping the festival when readable.
pub fn decode(bytes: &[u8]) -> Decoded {
    if bytes.len() > MAX_PAYLOAD {
        return Decoded::Malformed { error: FormatError::TooLarge(bytes.len()), festival: None };
    }
    let read = crate::cbor::read(bytes).map(|(v, _)| Ok(v)).unwrap_or_else(|| ciborium::from_reader(bytes));
    let value: Value = match read {
        Ok(v) => v,
        Err(e) => return Decoded::Malformed { error: FormatError::NotCbor(e.to_string()), festival: None },
    };
    let Value::Map(entries) = value else {
        return Decoded::Malformed { error: FormatError::NotAMap, festival: None };
    };
    let mut r = MapReader { entries: entries.into_iter().map(Some).collect() };
    // The envelope (version, kind, festival) is read the same way for every version.
    let festival = r.take("fest").and_then(|v| as_id(&v, "fest").ok());
    let malformed = |error: FormatError| Decoded::Malformed { error, festival };
    let version = match r.take("v") {
        Some(Value::Integer(v)) if u64::try_from(v).is_ok() => u64::try_from(v).expect("checked"),
        _ => return malformed(FormatError::NoVersion),
    };
    let kind = match r.take("op") {
        Some(Value::Text(k)) => k,
        _ => return malformed(FormatError::NoKind),
    };
    if !(1..=VERSION).contains(&version) {
        return Decoded::Unsupported { version, kind, festival };
    }
    let op = match read_op(&kind, version, &mut r) {
        Ok(Some(op)) => op,
        Ok(None) => return Decoded::Unsupported { version, kind, festival },
        Err(error) => return malformed(error),
    };
    if let Some(key) = r.leftover() {
        return malformed(FormatError::UnknownField(key));
    }
    let payload = Payload { festival, op };
    if payload.encode() != bytes {
        return malformed(FormatError::NotCanonical);
    }
    Decoded::Op(payload)
}

struct MapReader {
    entries: Vec<Option<(Value, Value)>>,
}

type R<T> = Result<T, FormatError>;

impl MapReader {
    fn take(&mut self, key: &str) -> Option<Value> {
        for slot in &mut self.entries {
            if matches!(slot, Some((Value::Text(k), _)) if k == key) {
                return slot.take().map(|(_, v)| v);
            }
        }
        None
    }

    fn leftover(&self) -> Option<String> {
        self.entries.iter().flatten().next().map(|(k, _)| match k {
            Value::Text(t) => t.clone(),
            other => format!("{other:?}"),
        })
    }

    fn required(&mut self, key: &'static str) -> R<Value> {
        self.take(key).ok_or(FormatError::MissingField(key))
    }

    fn text(&mut self, key: &'static str) -> R<String> {
        match self.required(key)? {
            Value::Text(s) => Ok(s),
            _ => Err(FormatError::WrongType { field: key, expected: "text" }),
        }
    }

    fn opt_text(&mut self, key: &'static str) -> R<String> {
        match self.take(key) {
            None => Ok(String::new()),
            Some(Value::Text(s)) => Ok(s),
            Some(_) => Err(FormatError::WrongType { field: key, expected: "text" }),
        }
    }

    fn id(&mut self, key: &'static str) -> R<Id> {
        as_id(&self.required(key)?, key)
    }

    fn int(&mut self, key: &'static str) -> R<i64> {
        as_i64(&self.required(key)?, key)
    }

    fn opt_int(&mut self, key: &'static str) -> R<Option<i64>> {
        self.take(key).map(|v| as_i64(&v, key)).transpose()
    }

    fn frame(&mut self) -> R<TimeFrame> {
        let start = self.int("start")?;
        let end = self.int("end")?;
        frame(start, end)
    }

    fn opt_frame(&mut self) -> R<Option<TimeFrame>> {
        match (self.opt_int("start")?, self.opt_int("end")?) {
            (None, None) => Ok(None),
            (Some(s), Some(e)) => frame(s, e).map(Some),
            _ => Err(FormatError::Unpaired("start", "end")),
        }
    }
}

fn frame(start: i64, end: i64) -> R<TimeFrame> {
    TimeFrame::new(Timestamp(start), Timestamp(end)).ok_or(FormatError::BadTimeFrame { start, end })
}

fn as_id(v: &Value, field: &'static str) -> R<Id> {
    match v {
        Value::Bytes(b) if b.len() == 64 => Ok(Id(bamboo::Hash(b.as_slice().try_into().expect("64 bytes")))),
        _ => Err(FormatError::WrongType { field, expected: "an id (64 bytes)" }),
    }
}

fn as_key(v: &Value) -> R<Key> {
    match v {
        Value::Bytes(b) if b.len() == 32 => Ok(Key(bamboo::Author(b.as_slice().try_into().expect("32 bytes")))),
        _ => Err(FormatError::WrongType { field: "members", expected: "keys (32 bytes)" }),
    }
}

fn as_i64(v: &Value, field: &'static str) -> R<i64> {
    match v {
        Value::Integer(i) => {
            i64::try_from(*i).map_err(|_| FormatError::WrongType { field, expected: "a 64-bit integer" })
        }
        _ => Err(FormatError::WrongType { field, expected: "an integer" }),
    }
}

/// Reads the fields of `kind` in `version`; fields of a later version are left unread, so
/// that they are reported as unknown.
fn read_op(kind: &str, version: u64, r: &mut MapReader) -> R<Option<Operation>> {
    let v2 = version >= 2;
    Ok(Some(match kind {
        "festival/create" => {
            let parent = r.take("parent").map(|v| as_id(&v, "parent")).transpose()?;
            Operation::FestivalCreate { parent, fields: read_festival(r, version)? }
        }
        "festival/update" => Operation::FestivalUpdate { festival: r.id("id")?, fields: read_festival(r, version)? },
        "profile/set" => Operation::ProfileSet { name: r.text("name")?, about: r.opt_text("about")? },
        "resource/create" => Operation::ResourceCreate(read_resource(r, version)?),
        "resource/update" => Operation::ResourceUpdate { resource: r.id("id")?, fields: read_resource(r, version)? },
        "resource/retire" => Operation::ResourceRetire { resource: r.id("id")? },
        "event/create" => Operation::EventCreate(read_event(r, version)?),
        "event/update" => Operation::EventUpdate { event: r.id("id")?, fields: read_event(r, version)? },
        "event/cancel" => Operation::EventCancel { event: r.id("id")? },
        "request/create" => Operation::RequestCreate {
            event: r.id("event")?,
            resource: r.id("res")?,
            frame: r.frame()?,
            replaces: if v2 { r.take("repl").map(|v| as_id(&v, "repl")).transpose()? } else { None },
            until: if version >= 3 { r.opt_int("until")?.map(|t| time(t, "until")).transpose()? } else { None },
        },
        "request/withdraw" => Operation::RequestWithdraw {
            request: r.id("id")?,
            reason: if version >= 3 { r.opt_text("reason")? } else { String::new() },
        },
        "auth/confirm" => Operation::Confirm {
            request: r.id("req")?,
            resource: r.id("res")?,
            frame: if v2 { r.opt_frame()? } else { None },
        },
        "auth/deny" => Operation::Deny { request: r.id("req")?, resource: r.id("res")?, reason: r.opt_text("reason")? },
        "auth/release" => Operation::Release { request: r.id("req")?, resource: r.id("res")? },
        "collective/set" if version >= 3 => {
            let members = match r.required("members")? {
                Value::Array(items) => items.iter().map(as_key).collect::<R<Vec<Key>>>()?,
                _ => return Err(FormatError::WrongType { field: "members", expected: "an array of keys" }),
            };
            if members.is_empty() || !members.windows(2).all(|w| w[0] < w[1]) {
                return Err(FormatError::UnsortedMembers);
            }
            let rule = r.text("rule")?;
            let rule = VoteRule::parse(&rule).ok_or(FormatError::UnknownVoteRule(rule))?;
            Operation::CollectiveSet { members, rule }
        }
        "auth/vote" if version >= 3 => Operation::Vote {
            request: r.id("req")?,
            resource: r.id("res")?,
            yes: match r.required("yes")? {
                Value::Bool(b) => b,
                _ => return Err(FormatError::WrongType { field: "yes", expected: "true or false" }),
            },
            reason: r.opt_text("reason")?,
        },
        _ => return Ok(None),
    }))
}

fn read_festival(r: &mut MapReader, version: u64) -> R<FestivalFields> {
    Ok(FestivalFields {
        name: r.text("name")?,
        description: r.opt_text("desc")?,
        timezone: r.text("tz")?,
        frame: r.opt_frame()?,
        ticket: if version >= 3 { r.take("ticket").map(|v| as_id(&v, "ticket")).transpose()? } else { None },
    })
}

fn read_resource(r: &mut MapReader, version: u64) -> R<ResourceFields> {
    let name = r.text("name")?;
    let kind_text = r.text("kind")?;
    let kind = ResourceKind::parse(&kind_text).ok_or(FormatError::UnknownResourceKind(kind_text))?;
    let geo = match (r.opt_int("lat")?, r.opt_int("lon")?) {
        (None, None) => None,
        (Some(lat_micro), Some(lon_micro)) => Some(GeoPoint { lat_micro, lon_micro }),
        _ => return Err(FormatError::Unpaired("lat", "lon")),
    };
    let availability = match r.take("avail") {
        None => Availability::Always,
        Some(Value::Array(pairs)) => {
            let mut windows = Vec::with_capacity(pairs.len());
            for pair in pairs {
                match pair {
                    Value::Array(p) if p.len() == 2 => {
                        windows.push(frame(as_i64(&p[0], "avail")?, as_i64(&p[1], "avail")?)?)
                    }
                    _ => return Err(FormatError::WrongType { field: "avail", expected: "an array of [start, end]" }),
                }
            }
            if !Availability::is_canonical(&windows) {
                return Err(FormatError::UnsortedAvailability);
            }
            Availability::Windows(windows)
        }
        Some(_) => return Err(FormatError::WrongType { field: "avail", expected: "an array of [start, end]" }),
    };
    Ok(ResourceFields {
        name,
        kind,
        description: r.opt_text("desc")?,
        geo,
        address: r.opt_text("addr")?,
        url: r.opt_text("url")?,
        availability,
        policy: r.text("policy")?,
        capacity: if version >= 3 { read_capacity(r)? } else { Capacity::ONE },
        needs: if version >= 3 { read_needs(r)? } else { Vec::new() },
    })
}

fn read_needs(r: &mut MapReader) -> R<Vec<Id>> {
    let Some(v) = r.take("needs") else { return Ok(Vec::new()) };
    let Value::Array(items) = v else {
        return Err(FormatError::WrongType { field: "needs", expected: "an array of ids" });
    };
    let ids = items.iter().map(|v| as_id(v, "needs")).collect::<R<Vec<Id>>>()?;
    if ids.is_empty() || !ids.windows(2).all(|w| w[0] < w[1]) {
        return Err(FormatError::UnsortedNeeds);
    }
    Ok(ids)
}

fn read_capacity(r: &mut MapReader) -> R<Capacity> {
    let Some(cap) = r.opt_int("cap")? else { return Ok(Capacity::ONE) };
    let cap = u32::try_from(cap)
        .map_err(|_| FormatError::WrongType { field: "cap", expected: "an integer from 0 to 4294967295" })?;
    // `cap: 1` is the default and so not canonical; re-encoding reports it.
    Ok(Capacity::from_wire(Some(cap)))
}

fn read_event(r: &mut MapReader, version: u64) -> R<EventFields> {
    let bundle = match (version >= 3).then(|| r.take("all")).flatten() {
        None => false,
        // `all: false` is the default, so not canonical; re-encoding reports it.
        Some(Value::Bool(b)) => b,
        Some(_) => return Err(FormatError::WrongType { field: "all", expected: "true" }),
    };
    Ok(EventFields { title: r.text("title")?, description: r.opt_text("desc")?, frame: r.frame()?, bundle })
}

fn time(t: i64, field: &'static str) -> R<Timestamp> {
    // A frame starting at `t` is valid iff `t` is a valid instant.
    TimeFrame::new(Timestamp(t), Timestamp(t + 1))
        .map(|_| Timestamp(t))
        .ok_or(FormatError::WrongType { field, expected: "a time from 0 to 253402300799998" })
}

/// The festival a log belongs to, read from its first entry (whose hash is `first_entry`):
/// a log that opens with `festival/create` is the festival it creates; any other log names
/// its festival in the envelope's `fest` field. `None`: the log belongs to no festival. Every
/// operation version keeps this envelope rule, so a sync session can hold festival boundaries
/// with it before anything is stored, and the fold uses it too.
pub fn log_festival(first_entry: Id, decoded: &Decoded) -> Option<Id> {
    let (named, is_create) = match decoded {
        Decoded::Op(p) => (p.festival, matches!(p.op, Operation::FestivalCreate { .. })),
        Decoded::Unsupported { festival, kind, .. } => (*festival, kind == "festival/create"),
        Decoded::Malformed { festival, .. } => (*festival, false),
    };
    match named {
        Some(f) if !is_create => Some(f),
        None if is_create => Some(first_entry),
        _ => None,
    }
}
