//! Writers of realistic logs (real Bamboo entries, the model's payloads) for tests, fuzz
//! targets and the simulation. Not part of the API.

use std::collections::BTreeMap;

use bamboo::{Author, Keypair, LogWriter};
use model::op::{EventFields, FestivalFields, Operation, Payload, ResourceFields, ResourceKind};
use model::{Availability, TimeFrame, Timestamp};
use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};

use crate::FestivalId;
use crate::wire::WireEntry;

/// One person writing logs: one log per festival, the festival named on its first entry.
pub struct Writer {
    keypair: Keypair,
    logs: BTreeMap<FestivalId, LogWriter>,
    next_log: u64,
    written: u64,
}

impl Writer {
    pub fn new(secret: [u8; 32]) -> Writer {
        Writer { keypair: Keypair::from_secret(secret), logs: BTreeMap::new(), next_log: 0, written: 0 }
    }

    /// A writer whose key derives from `seed`.
    pub fn seeded(seed: u64) -> Writer {
        let mut secret = [0u8; 32];
        StdRng::seed_from_u64(seed ^ 0x5eed_f00d).fill(&mut secret);
        Writer::new(secret)
    }

    pub fn author(&self) -> Author {
        self.keypair.author()
    }

    pub fn keypair(&self) -> &Keypair {
        &self.keypair
    }

    /// Creates a festival in a new log; its id is the hash of that first entry.
    pub fn create_festival(&mut self, name: &str, parent: Option<FestivalId>) -> (FestivalId, WireEntry) {
        let fields = FestivalFields {
            name: name.into(),
            description: String::new(),
            timezone: "Europe/Berlin".into(),
            frame: None,
            ticket: None,
        };
        let payload = Payload { festival: None, op: Operation::FestivalCreate { parent, fields } }.encode();
        let mut writer = LogWriter::new(self.keypair.clone(), self.next_log);
        self.next_log += 1;
        let signed = writer.append(&payload);
        let id = model::Id(signed.hash);
        self.logs.insert(id, writer);
        (id, WireEntry { entry: signed.bytes, payload })
    }

    /// Appends `op` to this writer's log of `festival`, opening the log if needed.
    pub fn write(&mut self, festival: FestivalId, op: Operation) -> WireEntry {
        let first = !self.logs.contains_key(&festival);
        if first {
            self.logs.insert(festival, LogWriter::new(self.keypair.clone(), self.next_log));
            self.next_log += 1;
        }
        let payload = Payload { festival: first.then_some(festival), op }.encode();
        let signed = self.logs.get_mut(&festival).expect("opened above").append(&payload);
        self.written += 1;
        WireEntry { entry: signed.bytes, payload }
    }

    /// A plausible next operation: a profile first, then resources and events.
    pub fn post(&mut self, festival: FestivalId) -> WireEntry {
        let n = self.written;
        let op = if !self.logs.contains_key(&festival) {
            Operation::ProfileSet { name: format!("person {}", &self.author().to_hex()[..6]), about: String::new() }
        } else if n.is_multiple_of(3) {
            Operation::ResourceCreate(ResourceFields {
                name: format!("tent {n}"),
                kind: ResourceKind::Location,
                description: "a tent with room for twenty".into(),
                geo: None,
                address: String::new(),
                url: String::new(),
                availability: Availability::Always,
                policy: "fcfs".into(),
                capacity: model::Capacity::ONE,
                needs: Vec::new(),
            })
        } else {
            let start = 1_782_900_000 + 3600 * n as i64;
            let frame = TimeFrame::new(Timestamp(start), Timestamp(start + 3600)).expect("a valid frame");
            Operation::EventCreate(EventFields {
                title: format!("workshop {n}"),
                description: "bring a cup".into(),
                frame,
                bundle: false,
            })
        };
        self.write(festival, op)
    }
}
