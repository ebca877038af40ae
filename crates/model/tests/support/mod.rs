//! A small world of people writing operations, and a readable rendering of a state,
//! for data-driven tests: operations in, readable state out.
#![allow(dead_code)]

use std::collections::{BTreeMap, HashMap};
use std::fmt::Write;

use bamboo::{Keypair, LogWriter};
use model::op::{EventFields, FestivalFields, Payload, ResourceFields, ResourceKind};
use model::{Availability, Id, Key, LogEntry, OpStatus, Operation, State, TimeFrame, Timestamp};

pub struct Person {
    keypair: Keypair,
    logs: HashMap<Id, LogWriter>,
    next_log: u64,
}

/// People writing logs. Every entry written is kept in `entries`, each log in order.
pub struct World {
    people: BTreeMap<String, Person>,
    pub entries: Vec<LogEntry>,
    labels: Vec<(Id, String)>,
}

/// 2026-07-DD HH:MM UTC.
pub fn t(day: u32, hour: u32, minute: u32) -> Timestamp {
    Timestamp::parse_rfc3339(&format!("2026-07-{day:02}T{hour:02}:{minute:02}:00Z")).unwrap()
}

pub fn frame(start: Timestamp, end: Timestamp) -> TimeFrame {
    TimeFrame::new(start, end).unwrap()
}

pub fn resource_fields(name: &str, availability: Availability, policy: &str) -> ResourceFields {
    ResourceFields {
        name: name.into(),
        kind: ResourceKind::Location,
        description: String::new(),
        geo: None,
        address: String::new(),
        url: String::new(),
        availability,
        policy: policy.into(),
        capacity: model::Capacity::ONE,
        needs: Vec::new(),
    }
}

pub fn event_fields(title: &str, frame: TimeFrame) -> EventFields {
    EventFields { title: title.into(), description: String::new(), frame, bundle: false }
}

impl Default for World {
    fn default() -> Self {
        World::new()
    }
}

impl World {
    pub fn new() -> World {
        World { people: BTreeMap::new(), entries: Vec::new(), labels: Vec::new() }
    }

    fn person(&mut self, who: &str) -> &mut Person {
        let n = self.people.len() as u8;
        self.people.entry(who.to_string()).or_insert_with(|| Person {
            keypair: Keypair::from_secret([n.wrapping_mul(31).wrapping_add(1); 32]),
            logs: HashMap::new(),
            next_log: 0,
        })
    }

    pub fn key(&mut self, who: &str) -> Key {
        Key(self.person(who).keypair.author())
    }

    pub fn label(&mut self, id: Id, label: &str) {
        self.labels.push((id, label.to_string()));
    }

    /// Writes a raw payload into `who`'s log of `festival`, opening the log if needed.
    pub fn write_raw(&mut self, who: &str, festival: Id, payload: Vec<u8>) -> Id {
        let person = self.person(who);
        if !person.logs.contains_key(&festival) {
            let log_id = person.next_log;
            person.next_log += 1;
            person.logs.insert(festival, LogWriter::new(person.keypair.clone(), log_id));
        }
        let writer = person.logs.get_mut(&festival).unwrap();
        let signed = writer.append(&payload);
        let entry = LogEntry {
            hash: Id(signed.hash),
            author: Key(signed.entry.author),
            log_id: signed.entry.log_id,
            seq: signed.entry.seq_num,
            payload,
        };
        self.entries.push(entry);
        Id(signed.hash)
    }

    /// Writes `op` into `who`'s log of `festival`; names the festival on a log's first entry.
    pub fn write(&mut self, who: &str, festival: Id, op: Operation, label: &str) -> Id {
        let first = !self.person(who).logs.contains_key(&festival);
        let payload = Payload { festival: first.then_some(festival), op };
        let id = self.write_raw(who, festival, payload.encode());
        self.label(id, label);
        id
    }

    /// Creates a festival in a new log of `who`.
    pub fn festival(&mut self, who: &str, label: &str, parent: Option<Id>) -> Id {
        let payload = Payload {
            festival: None,
            op: Operation::FestivalCreate {
                parent,
                fields: FestivalFields {
                    name: label.into(),
                    description: String::new(),
                    timezone: "UTC".into(),
                    frame: None,
                    ticket: None,
                },
            },
        };
        let person = self.person(who);
        let log_id = person.next_log;
        person.next_log += 1;
        let mut writer = LogWriter::new(person.keypair.clone(), log_id);
        let bytes = payload.encode();
        let signed = writer.append(&bytes);
        let id = Id(signed.hash);
        person.logs.insert(id, writer);
        self.entries.push(LogEntry { hash: id, author: Key(signed.entry.author), log_id, seq: 1, payload: bytes });
        self.label(id, label);
        id
    }

    /// `who` makes `festival` (named `name`, in UTC, of no frame) ask for `ticket`.
    pub fn ask_for_ticket(&mut self, who: &str, festival: Id, name: &str, ticket: Id, label: &str) -> Id {
        let fields = FestivalFields {
            name: name.into(),
            description: String::new(),
            timezone: "UTC".into(),
            frame: None,
            ticket: Some(ticket),
        };
        self.write(who, festival, Operation::FestivalUpdate { festival, fields }, label)
    }

    pub fn resource(&mut self, who: &str, festival: Id, label: &str, availability: Availability, policy: &str) -> Id {
        self.write(who, festival, Operation::ResourceCreate(resource_fields(label, availability, policy)), label)
    }

    pub fn event(&mut self, who: &str, festival: Id, label: &str, frame: TimeFrame) -> Id {
        self.write(who, festival, Operation::EventCreate(event_fields(label, frame)), label)
    }

    pub fn request(&mut self, who: &str, festival: Id, label: &str, event: Id, resource: Id, frame: TimeFrame) -> Id {
        self.write(
            who,
            festival,
            Operation::RequestCreate { event, resource, frame, replaces: None, until: None },
            label,
        )
    }

    /// The state after applying every entry in the order written.
    pub fn state(&self) -> State {
        let mut s = State::new();
        for e in &self.entries {
            s.apply(e.clone());
        }
        s
    }

    /// Replaces ids (full and short) by their labels.
    pub fn relabel(&self, text: &str) -> String {
        let mut out = text.to_string();
        for (id, label) in &self.labels {
            out = out.replace(&id.to_hex(), label).replace(&id.short(), label);
        }
        for (name, p) in &self.people {
            out = out.replace(&p.keypair.author().to_hex()[..8], name);
        }
        out
    }

    /// A readable, order-independent rendering of everything a state holds.
    pub fn render(&self, s: &State) -> String {
        self.relabel(&render(s))
    }
}

/// Renders a state deterministically (sorted), with ids as short hex.
pub fn render(s: &State) -> String {
    let mut out = String::new();
    let mut festivals: Vec<_> = s.festivals().collect();
    festivals.sort_by_key(|f| f.id);
    for f in festivals {
        let parent = f.parent.map(|p| format!(" (in {})", p.short())).unwrap_or_default();
        writeln!(out, "festival {}{parent}: {}", f.id.short(), f.fields.name).unwrap();
    }
    let mut resources: Vec<_> = s.resources().collect();
    resources.sort_by_key(|r| r.id);
    for r in resources {
        let retired = if r.retired { " retired" } else { "" };
        writeln!(
            out,
            "resource {} of {}{retired}: {}",
            r.id.short(),
            r.owner.to_hex().get(..8).unwrap(),
            r.fields.name,
        )
        .unwrap();
        for (frame, q) in r.alloc.active() {
            writeln!(out, "  booked {} by {}", frame.to_local("UTC"), q.short()).unwrap();
        }
        if r.alloc.capacity() != model::Capacity::ONE {
            // The step function the checks use, which must agree with the slots above.
            let days = frame(t(1, 0, 0), t(4, 0, 0));
            let load: Vec<String> =
                r.alloc.load_in(&days).iter().map(|(f, n)| format!("{}={n}", f.to_local("UTC"))).collect();
            writeln!(out, "  {:?}: load {}", r.alloc.capacity(), load.join(", ")).unwrap();
        }
    }
    let mut events: Vec<_> = s.events().collect();
    events.sort_by_key(|e| e.id);
    for e in events {
        let cancelled = if e.cancelled { " cancelled" } else { "" };
        writeln!(out, "event {}{cancelled}: {} {}", e.id.short(), e.fields.title, e.fields.frame.to_local("UTC"))
            .unwrap();
        if s.ticket_of(&e.festival).is_some() {
            let admitted = s.admitted(&e.festival, &e.organiser);
            writeln!(out, "  ticket: organiser admitted {admitted}, application {}", s.is_application(e)).unwrap();
        }
        if e.fields.bundle {
            // What the organiser's node acts on must be the same everywhere too.
            let leftovers: Vec<String> = s.bundle_leftovers(e).iter().map(|q| q.id.short()).collect();
            let (confirmed, live) = s.booking(e);
            writeln!(
                out,
                "  all or nothing: {confirmed} of {live}, booked {}, leftovers {leftovers:?}",
                s.is_booked(e)
            )
            .unwrap();
        }
    }
    let mut requests: Vec<_> = s.requests().collect();
    requests.sort_by_key(|q| q.id);
    for q in requests {
        let status = s.request_status(&q.id).unwrap();
        // What is shown as confirmed without reading the decision is what the decision says.
        assert_eq!(s.is_confirmed(q), status == model::RequestStatus::Confirmed, "{}", q.id.short());
        let detail = match &status {
            model::RequestStatus::Pending { waiting_for: Some(r) } => format!(" (waiting: {})", s.describe(r)),
            model::RequestStatus::Denied { reason } if !reason.is_empty() => format!(" ({reason})"),
            model::RequestStatus::Withdrawn { holds_slot: true } => " (slot not released yet)".to_string(),
            model::RequestStatus::Invalid { reason } => format!(" ({})", s.describe(reason)),
            _ => String::new(),
        };
        writeln!(out, "request {} for {}: {}{detail}", q.id.short(), q.resource.short(), status.name()).unwrap();
        if let Some(t) = s.tally(q) {
            writeln!(
                out,
                "  votes: {} yes, {} no of {}, outcome {:?}",
                t.yes.len(),
                t.no.len(),
                t.members.len(),
                t.outcome
            )
            .unwrap();
        }
    }
    let mut no_effect: Vec<_> = s
        .ops()
        .filter_map(|(id, r)| match &r.status {
            OpStatus::NoEffect(rule) => Some((r.seq, id, r.kind.clone(), s.describe(rule))),
            OpStatus::Applied => None,
        })
        .collect();
    no_effect.sort_by_key(|(seq, id, ..)| (*id, *seq));
    for (_, id, kind, why) in no_effect {
        writeln!(out, "no effect: {kind} {}: {why}", id.short()).unwrap();
    }
    out
}
