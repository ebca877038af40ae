//! The node's operations: what the CLI commands and the HTTP API do, in one place.
//! Every write signs an operation into the node's own log and then lets the owner's
//! policy agent decide whatever became decidable.

use std::path::{Path, PathBuf};

use model::op::{EventFields, FestivalFields, GeoPoint, ResourceFields, ResourceKind};
use model::state::Request;
use model::{Availability, Id, Key, OpStatus, Operation, RequestStatus, Rule, State, TimeFrame, Timestamp};
use serde::{Deserialize, Serialize};
use store::Store;

use model::PolicyRegistry;

use crate::agent::{self, AgentAction};
use crate::error::{ApiError, ApiResult};
use crate::views::*;

/// The file of the database inside the data directory.
pub const DB_FILE: &str = "pandafest.sqlite";

pub struct Node {
    pub store: Store,
    /// The policies this node can run: `fcfs`, `manual`, and what the host registered.
    pub policies: PolicyRegistry,
    data_dir: Option<PathBuf>,
    /// The earliest deadline of a pending request of this node's events, as of the agent's
    /// last run: the host runs the agent again then ([`Node::deadline_due`]).
    next_deadline: Option<Timestamp>,
}

/// What a festival is created with (CLI flags, HTTP body).
#[derive(Deserialize, Default, Debug, Clone)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct NewFestival {
    pub name: String,
    #[serde(default)]
    pub description: String,
    pub timezone: Option<String>,
    pub parent: Option<String>,
    pub start: Option<String>,
    pub end: Option<String>,
}

/// A festival's fields to change (`PUT /festivals/{id}`); absent fields keep their value.
#[derive(Deserialize, Default, Debug, Clone)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct FestivalChange {
    pub name: Option<String>,
    pub description: Option<String>,
    pub timezone: Option<String>,
    pub start: Option<String>,
    pub end: Option<String>,
    /// A resource whose confirmed requests admit their authors to organise and provide
    /// here; `null`: no ticket needed; absent: unchanged.
    #[serde(default, deserialize_with = "present")]
    pub ticket: Option<Option<String>>,
}

/// An event's fields to change (`PUT /events/{id}`); absent fields keep their value. When
/// the time frame changes, the requests that no longer fit move with it (`State::moves`),
/// to the frames given in `moves` for their resources if any.
#[derive(Deserialize, Default, Debug, Clone)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct EventChange {
    pub title: Option<String>,
    pub description: Option<String>,
    pub start: Option<String>,
    pub end: Option<String>,
    /// The frame a moving request of this resource asks for instead.
    #[serde(default)]
    pub moves: Vec<NewRequest>,
    /// Make the event all or nothing, or not; absent: unchanged.
    pub all_or_nothing: Option<bool>,
    /// Say what would change for others, and sign nothing.
    #[serde(default)]
    pub preview: bool,
}

/// A resource's fields as given by a person; absent fields keep their value on update.
#[derive(Deserialize, Default, Debug, Clone)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ResourceInput {
    pub name: Option<String>,
    pub kind: Option<String>,
    pub description: Option<String>,
    /// Absent: unchanged; `null`: no GPS point; a number: the new point (with `lon`).
    #[serde(default, deserialize_with = "present")]
    pub lat: Option<Option<f64>>,
    #[serde(default, deserialize_with = "present")]
    pub lon: Option<Option<f64>>,
    pub address: Option<String>,
    pub url: Option<String>,
    pub availability: Option<AvailabilityInput>,
    pub policy: Option<String>,
    /// How many requests may be confirmed at once: a number (1, the default, is a room) or
    /// `"unlimited"` (tickets).
    pub capacity: Option<CapacityValue>,
    /// Resources (ids) an event requesting this one must request too, for the same time.
    pub needs: Option<Vec<String>>,
}

/// A resource's capacity in the API: how many confirms may overlap, or `"unlimited"`.
#[derive(Serialize, Deserialize, Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema), schema(as = Capacity))]
#[serde(untagged)]
pub enum CapacityValue {
    /// At least 1.
    Limited(u32),
    Unlimited(UnlimitedWord),
}

#[derive(Serialize, Deserialize, Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum UnlimitedWord {
    Unlimited,
}

impl CapacityValue {
    pub fn of(capacity: model::Capacity) -> CapacityValue {
        match capacity.limit() {
            Some(n) => CapacityValue::Limited(n),
            None => CapacityValue::Unlimited(UnlimitedWord::Unlimited),
        }
    }

    pub fn to_model(self) -> ApiResult<model::Capacity> {
        match self {
            CapacityValue::Limited(n) => model::Capacity::limited(n).ok_or_else(|| {
                ApiError::bad_input(
                    "a capacity is at least 1 (or \"unlimited\"); to stop bookings, retire the resource",
                )
            }),
            CapacityValue::Unlimited(_) => Ok(model::Capacity::Unlimited),
        }
    }
}

/// `"always"`, windows (an empty list also means always), or `{"daily": …}`: a time of
/// every day (or of some weekdays) between two dates, expanded to windows before signing.
#[derive(Deserialize, Debug, Clone)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(untagged)]
pub enum AvailabilityInput {
    Always(AlwaysWord),
    Windows(Vec<FrameInput>),
    Daily { daily: DailyInput },
}

/// "Every day 14:00–01:00 from 2027-07-01 to 2027-07-03" (an end not after the start is on
/// the next day), in the festival's time zone; `weekdays` (e.g. `["sat", "sun"]`) limits it.
#[derive(Deserialize, Debug, Clone)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct DailyInput {
    pub from: String,
    pub to: String,
    pub start: String,
    pub end: String,
    #[serde(default)]
    pub weekdays: Vec<String>,
}

#[derive(Deserialize, Debug, Clone, Copy)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum AlwaysWord {
    Always,
}

/// Tells a field given as `null` from a field not given.
fn present<'de, D: serde::Deserializer<'de>, T: Deserialize<'de>>(d: D) -> Result<Option<Option<T>>, D::Error> {
    Option::<T>::deserialize(d).map(Some)
}

#[derive(Deserialize, Debug, Clone)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct FrameInput {
    pub start: String,
    pub end: String,
}

#[derive(Deserialize, Default, Debug, Clone)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct NewEvent {
    pub title: String,
    #[serde(default)]
    pub description: String,
    pub start: String,
    pub end: String,
    #[serde(default)]
    pub requests: Vec<NewRequest>,
    /// All or nothing: the event is booked only when every request is confirmed, and when
    /// one is denied this node withdraws the rest. Requesting a resource that needs others
    /// adds their requests and makes the event all or nothing.
    #[serde(default)]
    pub all_or_nothing: bool,
    /// The deadline of every request that names none: still pending then, this node
    /// withdraws it (festival's local time, or RFC 3339).
    pub until: Option<String>,
}

#[derive(Deserialize, Default, Debug, Clone)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct NewRequest {
    pub resource: String,
    pub start: Option<String>,
    pub end: Option<String>,
    /// The deadline: still pending then, this node withdraws it.
    #[serde(default)]
    pub until: Option<String>,
}

/// `PUT /festivals/{id}/collective`: this node's key becomes a collective.
#[derive(Deserialize, Debug, Clone)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct CollectiveInput {
    /// The members' keys (hex).
    pub members: Vec<String>,
    /// `any`, `majority`, `all` (any member can veto), or a number of yes votes.
    pub rule: String,
}

/// `POST /requests/{id}/vote`.
#[derive(Deserialize, Debug, Clone)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct VoteInput {
    pub yes: bool,
    pub reason: Option<String>,
}

/// Which requests to list.
#[derive(Default, Debug, Clone, Copy)]
pub struct RequestFilter {
    pub mine: bool,
    pub incoming: bool,
    pub pending: bool,
}

fn parse_frame(start: &str, end: &str, tz: &str) -> ApiResult<TimeFrame> {
    let start = Timestamp::parse_in(start, tz).map_err(ApiError::bad_input)?;
    let end = Timestamp::parse_in(end, tz).map_err(ApiError::bad_input)?;
    // Said in the festival's time, as the person typed it.
    TimeFrame::new(start, end).ok_or_else(|| {
        ApiError::bad_input(format!(
            "the time frame {} – {} ({tz}) ends before it starts",
            start.to_local(tz),
            end.to_local(tz)
        ))
    })
}

/// A deadline given in `tz` (or RFC 3339), if given.
fn given_time(t: &Option<String>, tz: &str) -> ApiResult<Option<Timestamp>> {
    let Some(t) = t else { return Ok(None) };
    let at = Timestamp::parse_in(t, tz).map_err(ApiError::bad_input)?;
    if at <= crate::now() {
        return Err(ApiError::bad_input(format!("the deadline {} ({tz}) has passed already", at.to_local(tz))));
    }
    TimeFrame::new(at, Timestamp(at.0 + 1))
        .map(|_| Some(at))
        .ok_or_else(|| ApiError::bad_input(format!("the deadline {t:?} is out of range")))
}

/// A frame given as an optional start and end (in `tz`): both, or neither (`None`).
fn given_frame(start: &Option<String>, end: &Option<String>, tz: &str) -> ApiResult<Option<TimeFrame>> {
    match (start, end) {
        (Some(s), Some(e)) => parse_frame(s, e, tz).map(Some),
        (None, None) => Ok(None),
        _ => Err(ApiError::bad_input("give both start and end, or neither")),
    }
}

/// A time zone a person typed. The protocol checks a zone's syntax only (peers' databases
/// differ); a person gets told of a typo before it is signed.
fn known_timezone(timezone: String) -> ApiResult<String> {
    if !Timestamp::is_known_timezone(&timezone) {
        return Err(ApiError::bad_input(format!("{timezone:?} is not an IANA time zone (e.g. Europe/Berlin)")));
    }
    Ok(timezone)
}

impl Node {
    /// Opens the node in `data_dir`, creating it (and the node's key pair) on first use.
    /// The directory is private to the user (0700) and so is every file in it (0600),
    /// whatever the umask: the database holds the secret key.
    pub fn open(data_dir: &Path) -> ApiResult<Node> {
        Node::open_with_progress(data_dir, &mut |_, _| {})
    }

    /// As [`Node::open`], reporting (done, total) entries if the store rebuilds its plan.
    pub fn open_with_progress(data_dir: &Path, progress: &mut dyn FnMut(u64, u64)) -> ApiResult<Node> {
        private_dir(data_dir)
            .map_err(|e| ApiError::internal(format!("cannot prepare data directory {}: {e}", data_dir.display())))?;
        let store = Store::open_with_progress(&data_dir.join(DB_FILE), progress)?;
        Ok(Node {
            store,
            policies: PolicyRegistry::default(),
            data_dir: Some(data_dir.to_path_buf()),
            next_deadline: None,
        })
    }

    /// A node over a store opened elsewhere (in a browser, or in memory).
    pub fn with_store(store: Store) -> Node {
        Node { store, policies: PolicyRegistry::default(), data_dir: None, next_deadline: None }
    }

    pub fn data_dir(&self) -> Option<&Path> {
        self.data_dir.as_deref()
    }

    pub fn me(&self) -> Key {
        self.store.me()
    }

    pub fn state(&self) -> &State {
        self.store.state()
    }

    // -------------------------------------------------------------------------------
    // Ids

    /// Resolves a full id or a unique prefix (at least 6 hex digits) among `candidates`;
    /// `known` tells whether a full id names one of them.
    fn resolve(
        &self,
        what: &str,
        text: &str,
        known: impl Fn(&Id) -> bool,
        candidates: impl IntoIterator<Item = Id>,
    ) -> ApiResult<Id> {
        let text = text.trim().to_ascii_lowercase();
        let unknown = || ApiError::not_found(format!("no {what} with id {} is known here", shorten(&text)));
        if text.len() == 128
            && let Some(id) = Id::from_hex(&text)
        {
            return if known(&id) { Ok(id) } else { Err(unknown()) };
        }
        if text.len() < 6 || text.len() > 128 || !text.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(ApiError::bad_input(format!(
                "{:?} is not a {what} id (128 hex digits, or a unique prefix of at least 6)",
                shorten(&text)
            )));
        }
        let mut found = candidates.into_iter().filter(|id| has_prefix(id, text.as_bytes()));
        match (found.next(), found.next()) {
            (Some(id), None) => Ok(id),
            (None, _) => Err(unknown()),
            (Some(_), Some(_)) => {
                Err(ApiError::bad_input(format!("{text} names more than one {what}; give more digits")))
            }
        }
    }

    /// A festival held here. One that was joined but whose creation has not arrived yet is
    /// described as such: it comes with the next sync with a peer that holds it.
    pub fn festival_id(&self, text: &str) -> ApiResult<Id> {
        let s = self.state();
        self.resolve("festival", text, |id| s.festival(id).is_some(), s.festivals().map(|f| f.id)).map_err(|e| {
            let joined = crate::invite::joined(self);
            let pending = joined.iter().find(|(id, _)| id.to_hex().starts_with(&text.trim().to_ascii_lowercase()));
            match pending {
                Some((id, peers)) if e.kind == crate::error::ErrorKind::NotFound => ApiError::not_found(format!(
                    "festival {} was joined but has not arrived yet: it comes with the next sync with a peer that holds it ({} known)",
                    id.short(),
                    peers.len()
                )),
                _ => e,
            }
        })
    }

    pub fn resource_id(&self, text: &str) -> ApiResult<Id> {
        let s = self.state();
        self.resolve("resource", text, |id| s.resource(id).is_some(), s.resources().map(|r| r.id))
    }

    pub fn event_id(&self, text: &str) -> ApiResult<Id> {
        let s = self.state();
        let prefix = text.trim().to_ascii_lowercase();
        self.resolve("event", text, |id| s.event(id).is_some(), s.events_with_prefix(&prefix, 2))
    }

    pub fn request_id(&self, text: &str) -> ApiResult<Id> {
        let s = self.state();
        let prefix = text.trim().to_ascii_lowercase();
        self.resolve("request", text, |id| s.request(id).is_some(), s.requests_with_prefix(&prefix, 2))
    }

    fn timezone_of(&self, festival: &Id) -> String {
        self.state().festival(festival).map_or("UTC".to_string(), |f| f.fields.timezone.clone())
    }

    // -------------------------------------------------------------------------------
    // Writing

    /// Signs `op` into this node's log of `festival` if the model says it would take effect
    /// (`State::check_op`), introducing the node's name first when it writes there for the
    /// first time, then runs the policy agent. `verb` words a refusal: "cannot {verb}: …".
    fn write(&mut self, verb: &str, festival: Id, op: Operation) -> ApiResult<Id> {
        if let Err(rule) = self.state().check_op(&self.me(), &festival, &op) {
            return Err(self.refused(verb, rule));
        }
        Ok(self.write_chain(festival, op, |_| Vec::new())?[0])
    }

    /// Signs `ops` one after the other if the model says each would take effect after the
    /// ones before it (`State::check_ops`): an owner's decision about a moved request.
    fn write_ops(&mut self, verb: &str, festival: Id, mut ops: Vec<Operation>) -> ApiResult<Vec<Id>> {
        if let Err((_, rule)) = self.state().check_ops(&self.me(), &festival, &ops) {
            return Err(self.refused(verb, rule));
        }
        let first = ops.remove(0);
        self.write_chain(festival, first, |_| ops)
    }

    /// The model's verdict on an operation, as an error for a person.
    fn refused(&self, verb: &str, rule: Rule) -> ApiError {
        let message = format!("cannot {verb}: {}", self.state().describe(&rule));
        match rule {
            Rule::Field(_) | Rule::RequestOutsideEvent { .. } | Rule::NotInAncestry { .. } => {
                ApiError::bad_input(message)
            }
            _ => ApiError::conflict(message),
        }
    }

    /// Signs `first` and the operations `then` makes of its id (an event and its requests)
    /// in one transaction, after their check; see [`Node::write`].
    fn write_chain(
        &mut self,
        festival: Id,
        first: Operation,
        then: impl FnOnce(Id) -> Vec<Operation>,
    ) -> ApiResult<Vec<Id>> {
        let creates = matches!(first, Operation::FestivalCreate { .. });
        let has_log = self.state().logs_of(&self.me()).iter().any(|(_, f)| *f == Some(festival));
        let name = self.store.setting("name")?;
        if !creates
            && !has_log
            && let Some(name) = name.clone()
        {
            self.store.append(festival, Operation::ProfileSet { name, about: String::new() })?;
        }
        let ids = self.store.append_chain(festival, first, then)?;
        if creates && let Some(name) = name {
            self.store.append(ids[0], Operation::ProfileSet { name, about: String::new() })?;
        }
        for id in &ids {
            if let Some(record) = self.state().op(id)
                && let OpStatus::NoEffect(rule) = &record.status
            {
                // The model checked it before signing: reaching here is a bug in the model.
                return Err(ApiError::internal(format!(
                    "an operation the model accepted took no effect ({}); please report this",
                    self.state().describe(rule)
                )));
            }
        }
        self.run_agent()?;
        Ok(ids)
    }

    /// Lets the policy agent decide every pending request for this node's resources.
    pub fn run_agent(&mut self) -> ApiResult<Vec<AgentAction>> {
        let (actions, next) = agent::run(&mut self.store, &self.policies)?;
        self.next_deadline = next;
        Ok(actions)
    }

    /// Whether a request's deadline has come since the agent last ran: run it again.
    pub fn deadline_due(&self, now: Timestamp) -> bool {
        self.next_deadline.is_some_and(|d| d <= now)
    }

    // -------------------------------------------------------------------------------
    // Identity

    pub fn identity(&self) -> ApiResult<IdentityView> {
        Ok(IdentityView {
            public_key: self.me().to_hex(),
            name: self.store.setting("name")?,
            data_dir: self.data_dir.as_ref().map(|d| d.display().to_string()),
            calendar_key: None,
        })
    }

    /// Sets the display name and announces it in every festival this node writes in.
    pub fn set_name(&mut self, name: &str) -> ApiResult<IdentityView> {
        let name = name.trim();
        let profile = Operation::ProfileSet { name: name.to_string(), about: String::new() };
        model::validate::check_fields(&profile).map_err(|e| ApiError::bad_input(e.to_string()))?;
        self.store.set_setting("name", Some(name))?;
        let festivals: Vec<Id> = self.state().logs_of(&self.me()).into_iter().filter_map(|(_, f)| f).collect();
        for f in festivals {
            self.store.append(f, profile.clone())?;
        }
        self.identity()
    }

    // -------------------------------------------------------------------------------
    // Festivals

    pub fn create_festival(&mut self, input: NewFestival) -> ApiResult<FestivalView> {
        let parent = input.parent.as_deref().map(|p| self.festival_id(p)).transpose()?;
        // A sub-festival is where its parent is, unless told otherwise.
        let timezone = known_timezone(input.timezone.unwrap_or_else(|| match parent {
            Some(p) => self.timezone_of(&p),
            None => "UTC".to_string(),
        }))?;
        let frame = given_frame(&input.start, &input.end, &timezone)?;
        let fields = FestivalFields {
            name: input.name.trim().to_string(),
            description: input.description,
            timezone,
            frame,
            ticket: None,
        };
        let id =
            self.write("create the festival", Id(bamboo::Hash([0; 64])), Operation::FestivalCreate { parent, fields })?;
        self.festival(&id.to_hex())
    }

    pub fn update_festival(&mut self, id: &str, input: FestivalChange) -> ApiResult<FestivalView> {
        let id = self.festival_id(id)?;
        let f = self.state().festival(&id).expect("resolved").fields.clone();
        let timezone = known_timezone(input.timezone.unwrap_or(f.timezone))?;
        let frame = given_frame(&input.start, &input.end, &timezone)?.or(f.frame);
        let fields = FestivalFields {
            name: input.name.map_or(f.name, |n| n.trim().to_string()),
            description: input.description.unwrap_or(f.description),
            timezone,
            frame,
            ticket: match &input.ticket {
                None => f.ticket,
                Some(None) => None,
                Some(Some(t)) => Some(self.resource_id(t)?),
            },
        };
        self.write("change the festival", id, Operation::FestivalUpdate { festival: id, fields })?;
        self.festival(&id.to_hex())
    }

    pub fn festivals(&self) -> Vec<FestivalView> {
        let s = self.state();
        let me = self.me();
        let mut out: Vec<FestivalView> = s.festivals().map(|f| FestivalView::of(s, f, Some(&me))).collect();
        out.sort_by(|a, b| a.name.to_lowercase().cmp(&b.name.to_lowercase()).then(a.id.cmp(&b.id)));
        out
    }

    pub fn festival(&self, id: &str) -> ApiResult<FestivalView> {
        let id = self.festival_id(id)?;
        let s = self.state();
        Ok(FestivalView::of(s, s.festival(&id).expect("resolved"), Some(&self.me())))
    }

    // -------------------------------------------------------------------------------
    // Resources

    fn resource_fields(
        &self,
        input: ResourceInput,
        base: Option<&ResourceFields>,
        tz: &str,
    ) -> ApiResult<ResourceFields> {
        let kind = match input.kind.as_deref() {
            Some(k) => ResourceKind::parse(k)
                .ok_or_else(|| ApiError::bad_input(format!("kind {k:?} is none of location, thing, skill, other")))?,
            None => base.map_or(
                if matches!(input.lat, Some(Some(_))) || !input.address.as_deref().unwrap_or("").is_empty() {
                    ResourceKind::Location
                } else {
                    ResourceKind::Other
                },
                |b| b.kind,
            ),
        };
        let geo = match (input.lat, input.lon) {
            (Some(Some(lat)), Some(Some(lon))) => Some(GeoPoint::from_degrees(lat, lon)),
            (Some(None), Some(None)) => None,
            (None, None) => base.and_then(|b| b.geo),
            _ => return Err(ApiError::bad_input("give both latitude and longitude, or neither")),
        };
        let availability = match input.availability {
            None => base.map_or(Availability::Always, |b| b.availability.clone()),
            Some(AvailabilityInput::Always(_)) => Availability::Always,
            Some(AvailabilityInput::Windows(ws)) if ws.is_empty() => Availability::Always,
            Some(AvailabilityInput::Windows(ws)) => {
                let frames = ws.iter().map(|w| parse_frame(&w.start, &w.end, tz)).collect::<ApiResult<Vec<_>>>()?;
                Availability::normalised(frames)
            }
            Some(AvailabilityInput::Daily { daily: d }) => {
                let rule = model::Daily { from: d.from, to: d.to, start: d.start, end: d.end, weekdays: d.weekdays };
                let frames = rule
                    .windows(tz, model::validate::MAX_WINDOWS)
                    .map_err(|e| ApiError::bad_input(format!("availability every day: {e}")))?;
                Availability::normalised(frames)
            }
        };
        let policy = input.policy.or_else(|| base.map(|b| b.policy.clone())).unwrap_or_else(|| "manual".to_string());
        let capacity = match input.capacity {
            Some(c) => c.to_model()?,
            None => base.map_or(model::Capacity::ONE, |b| b.capacity),
        };
        let needs = match &input.needs {
            Some(ids) => {
                let mut needs = ids.iter().map(|id| self.resource_id(id)).collect::<ApiResult<Vec<Id>>>()?;
                needs.sort();
                needs.dedup();
                needs
            }
            None => base.map_or(Vec::new(), |b| b.needs.clone()),
        };
        Ok(ResourceFields {
            name: input.name.or_else(|| base.map(|b| b.name.clone())).unwrap_or_default().trim().to_string(),
            kind,
            description: input.description.or_else(|| base.map(|b| b.description.clone())).unwrap_or_default(),
            geo,
            address: input.address.or_else(|| base.map(|b| b.address.clone())).unwrap_or_default(),
            url: input.url.or_else(|| base.map(|b| b.url.clone())).unwrap_or_default(),
            availability,
            policy,
            capacity,
            needs,
        })
    }

    pub fn create_resource(&mut self, festival: &str, input: ResourceInput) -> ApiResult<ResourceView> {
        let festival = self.festival_id(festival)?;
        let fields = self.resource_fields(input, None, &self.timezone_of(&festival))?;
        let id = self.write("create the resource", festival, Operation::ResourceCreate(fields))?;
        self.resource(&id.to_hex())
    }

    pub fn update_resource(&mut self, id: &str, input: ResourceInput) -> ApiResult<ResourceView> {
        let id = self.resource_id(id)?;
        let r = self.state().resource(&id).expect("resolved").clone();
        let fields = self.resource_fields(input, Some(&r.fields), &self.timezone_of(&r.festival))?;
        if fields.needs.contains(&id) {
            return Err(ApiError::bad_input(format!("{} cannot need itself", r.fields.name)));
        }
        self.write("change the resource", r.festival, Operation::ResourceUpdate { resource: id, fields })?;
        self.resource(&id.to_hex())
    }

    /// What `update_resource` with `input` would mean for others, without signing anything.
    pub fn preview_resource(&self, id: &str, input: ResourceInput) -> ApiResult<ResourceChangeView> {
        let id = self.resource_id(id)?;
        let s = self.state();
        let r = s.resource(&id).expect("resolved");
        let fields = self.resource_fields(input, Some(&r.fields), &self.timezone_of(&r.festival))?;
        let me = self.me();
        let (turned_away, outside) = s.availability_effects(&id, &fields.availability, fields.capacity);
        Ok(ResourceChangeView {
            turned_away: turned_away
                .into_iter()
                .map(|(q, rule)| AffectedView { request: RequestView::of(s, &me, q), why: s.describe(&rule) })
                .collect(),
            outside: outside.into_iter().map(|q| RequestView::of(s, &me, q)).collect(),
        })
    }

    pub fn retire_resource(&mut self, id: &str) -> ApiResult<ResourceView> {
        let id = self.resource_id(id)?;
        let festival = self.state().resource(&id).expect("resolved").festival;
        self.write("retire the resource", festival, Operation::ResourceRetire { resource: id })?;
        self.resource(&id.to_hex())
    }

    pub fn resource(&self, id: &str) -> ApiResult<ResourceView> {
        let id = self.resource_id(id)?;
        let s = self.state();
        Ok(ResourceView::of(s, &self.me(), s.resource(&id).expect("resolved")))
    }

    /// The resources an event of `festival` can request: its own and its ancestors'.
    pub fn resources(&self, festival: &str) -> ApiResult<Vec<ResourceView>> {
        let festival = self.festival_id(festival)?;
        let s = self.state();
        let mut out = Vec::new();
        for f in s.ancestry(&festival) {
            let mut rs: Vec<ResourceView> = s.resources_in(&f).map(|r| ResourceView::of(s, &self.me(), r)).collect();
            rs.sort_by(|a, b| a.name.to_lowercase().cmp(&b.name.to_lowercase()).then(a.id.cmp(&b.id)));
            out.extend(rs);
        }
        Ok(out)
    }

    /// The public programme as JSON: with `start` and `end` (in the festival's time zone
    /// unless they say otherwise), the events overlapping that range only; with `limit`, a
    /// page of that many events after `after` (a page's `next`).
    pub fn programme(
        &mut self,
        id: &str,
        range: Pair<'_>,
        page: Pair<'_>,
    ) -> ApiResult<Box<serde_json::value::RawValue>> {
        let programme = self.programme_of(id, range, page)?;
        Ok(serde_json::value::to_raw_value(&programme).expect("views serialise"))
    }

    /// [`Node::programme`], written to `out` as it is read: a host that sends it on as it
    /// comes (the native node spools it to a file) never holds the whole programme. Nothing
    /// is written before the festival is found and the query read.
    pub fn programme_to(
        &mut self,
        id: &str,
        range: Pair<'_>,
        page: Pair<'_>,
        out: &mut dyn std::io::Write,
    ) -> ApiResult<()> {
        let programme = self.programme_of(id, range, page)?;
        serde_json::to_writer(out, &programme)
            .map_err(|e| ApiError::internal(format!("cannot write the programme: {e}")))
    }

    /// Without `limit`, the whole programme is written as it is read, a page at a time: the
    /// rows read back and the events' views are forgotten page by page, so that what it costs
    /// beyond a page is its JSON text. Read at once, a million-entry festival's programme kept
    /// every event, request and decision it read (some 500 MB), and then its views and a
    /// `serde_json::Value` of them (issue 15). The pages come from one plan and one read
    /// snapshot: nothing is folded in between.
    fn programme_of(&mut self, id: &str, (start, end): Pair<'_>, (after, limit): Pair<'_>) -> ApiResult<Programme<'_>> {
        let festival = self.festival_id(id)?;
        let within = match (start, end) {
            (None, None) => None,
            (Some(start), Some(end)) => Some(parse_frame(start, end, &self.timezone_of(&festival))?),
            _ => return Err(ApiError::bad_input("give both start and end, or neither")),
        };
        let page = match (after, limit) {
            (_, Some(limit)) => Some(crate::publish::Page::parse(after, limit).map_err(ApiError::bad_input)?),
            (Some(_), None) => return Err(ApiError::bad_input("after pages only with a limit")),
            (None, None) => None,
        };
        if let Some(page) = page {
            let view = crate::publish::programme(self.state(), &festival, within.as_ref(), Some(page));
            return Ok(Programme::Page(view.expect("resolved")));
        }
        let f = self.state().festival(&festival).expect("resolved");
        let festival_view = crate::views::FestivalView::of(self.state(), f, None);
        let events = PagedEvents { node: std::cell::RefCell::new(self), festival, within };
        Ok(Programme::Whole { festival: festival_view, events })
    }

    /// Calls `each` with what `read` makes of every page of a programme, from the first: the
    /// rows read back are forgotten between pages, so that reading a whole programme costs
    /// the memory of a page and of what `each` keeps. `read` answers where the next page
    /// starts, if more follow.
    pub(crate) fn each_page<T, E>(
        &mut self,
        mut read: impl FnMut(&State, crate::publish::Page) -> (Vec<T>, Option<(Timestamp, Id)>),
        mut each: impl FnMut(Vec<T>) -> Result<(), E>,
    ) -> Result<(), E> {
        let mut after = None;
        loop {
            let (page, next) = read(self.state(), crate::publish::Page { after, limit: crate::publish::MAX_PAGE });
            each(page)?;
            self.store.trim();
            let Some(next) = next else { return Ok(()) };
            after = Some(next);
        }
    }

    /// Free, confirmed and pending time of a resource within `[start, end)`. Confirmed
    /// slots come from the owner's log alone, so those of events this node does not hold
    /// (a sub-festival it has not joined) are busy too ([`SlotView::unseen`]).
    pub fn calendar(&self, id: &str, start: &str, end: &str) -> ApiResult<CalendarView> {
        let id = self.resource_id(id)?;
        let s = self.state();
        let r = s.resource(&id).expect("resolved");
        let frame = parse_frame(start, end, &self.timezone_of(&r.festival))?;
        let free = r.alloc.free_in(&frame).iter().map(|f| SlotView::free(s, &id, f)).collect();
        let confirmed = self.taken(&id, &frame);
        let pending = s.holds(&id, &frame).into_iter().map(|q| SlotView::of_request(s, q, "pending")).collect();
        Ok(CalendarView { free, confirmed, pending, load: LoadView::of(&r.alloc, &frame) })
    }

    /// The confirmed slots of `resource` overlapping `frame`, by start.
    fn taken(&self, resource: &Id, frame: &TimeFrame) -> Vec<SlotView> {
        let s = self.state();
        let Some(r) = s.resource(resource) else { return Vec::new() };
        r.alloc
            .active_in(frame)
            .into_iter()
            .map(|(slot, q)| match s.request(&q) {
                Some(q) => SlotView::of_request(s, q, "confirmed"),
                None => SlotView::unseen(s, resource, &slot, &q),
            })
            .collect()
    }

    /// Would a request of `resource` for this frame be confirmable now? With the confirmed
    /// slots in the way and the pending requests it would compete with.
    pub fn check(&self, resource: &str, start: &str, end: &str) -> ApiResult<CheckView> {
        let id = self.resource_id(resource)?;
        let s = self.state();
        let r = s.resource(&id).expect("resolved");
        let frame = parse_frame(start, end, &self.timezone_of(&r.festival))?;
        // A resource whose owner waits for admission cannot be requested (`Node::provided`).
        let verdict = match self.provided(&id) {
            Err(e) => Err(e.message),
            Ok(()) => r.alloc.can_confirm(&frame).map_err(|rule| s.describe(&rule)),
        };
        Ok(CheckView {
            free: verdict.is_ok(),
            reason: verdict.err(),
            conflicts: self.taken(&id, &frame),
            holds: s.holds(&id, &frame).into_iter().map(|q| SlotView::of_request(s, q, "pending")).collect(),
            left: r.alloc.left_in(&frame).map(|n| if r.alloc.is_available(&frame) { n } else { 0 }),
            capacity: CapacityValue::of(r.alloc.capacity()),
        })
    }

    // -------------------------------------------------------------------------------
    // Events and requests

    pub fn create_event(&mut self, festival: &str, input: NewEvent) -> ApiResult<EventView> {
        let festival = self.festival_id(festival)?;
        let tz = self.timezone_of(&festival);
        let frame = parse_frame(&input.start, &input.end, &tz)?;
        let until = given_time(&input.until, &tz)?;
        let mut requests = Vec::new();
        for q in &input.requests {
            let resource = self.resource_id(&q.resource)?;
            let qframe = given_frame(&q.start, &q.end, &tz)?.unwrap_or(frame);
            requests.push((resource, qframe, given_time(&q.until, &tz)?.or(until)));
        }
        let asked = requests.len();
        self.add_needed(&mut requests)?;
        for (resource, ..) in &requests {
            self.provided(resource)?;
        }
        let bundle = input.all_or_nothing || requests.len() > asked;
        let fields =
            EventFields { title: input.title.trim().to_string(), description: input.description, frame, bundle };
        let requests: Vec<(Id, TimeFrame, Option<Timestamp>)> = requests;
        // Every request is checked before anything is written, so a typo creates no half event.
        let pairs: Vec<(Id, TimeFrame)> = requests.iter().map(|(r, f, _)| (*r, *f)).collect();
        if let Err((index, rule)) = self.state().check_new_event(&self.me(), &festival, &fields, &pairs) {
            if let Rule::TooManyRequests { .. } = rule {
                return Err(ApiError::bad_input(format!(
                    "cannot create the event: an event can have at most {} requests; this one asks for {}",
                    model::validate::MAX_REQUESTS_PER_EVENT,
                    requests.len()
                )));
            }
            let verb = match index.and_then(|i| self.state().resource(&requests[i].0)) {
                Some(r) => format!("request {}", r.fields.name),
                None => "create the event".to_string(),
            };
            return Err(self.refused(&verb, rule));
        }
        let ids = self.write_chain(festival, Operation::EventCreate(fields), |event| {
            requests
                .into_iter()
                .map(|(resource, frame, until)| Operation::RequestCreate {
                    event,
                    resource,
                    frame,
                    replaces: None,
                    until,
                })
                .collect()
        })?;
        self.event(&ids[0].to_hex())
    }

    /// Refuses a resource whose owner waits for admission to a festival with a ticket.
    fn provided(&self, resource: &Id) -> ApiResult<()> {
        let s = self.state();
        match s.resource(resource) {
            Some(r) if !s.admitted(&r.festival, &r.owner) => Err(ApiError::conflict(format!(
                "{} cannot be requested yet: its owner is waiting for admission (the festival requires a ticket)",
                r.fields.name
            ))),
            _ => Ok(()),
        }
    }

    /// Adds a request for every resource the requested ones need (transitively), for the
    /// frame and deadline of the request that needs it, unless it is requested already.
    fn add_needed(&self, requests: &mut Vec<(Id, TimeFrame, Option<Timestamp>)>) -> ApiResult<()> {
        let s = self.state();
        let mut i = 0;
        while i < requests.len() {
            let (resource, frame, until) = requests[i];
            let needs = s.resource(&resource).map(|r| r.fields.needs.clone()).unwrap_or_default();
            for need in needs {
                if requests.iter().any(|(r, ..)| *r == need) {
                    continue;
                }
                if s.resource(&need).is_none() {
                    let name = s.resource(&resource).map_or(String::new(), |r| r.fields.name.clone());
                    return Err(ApiError::bad_input(format!(
                        "{name} needs resource {}, which is not known here (yet)",
                        need.short()
                    )));
                }
                requests.push((need, frame, until));
            }
            i += 1;
        }
        Ok(())
    }

    pub fn add_request(&mut self, event: &str, input: NewRequest) -> ApiResult<RequestView> {
        let event = self.event_id(event)?;
        let e = self.state().event(&event).expect("resolved").clone();
        let resource = self.resource_id(&input.resource)?;
        let tz = self.timezone_of(&e.festival);
        let frame = given_frame(&input.start, &input.end, &tz)?.unwrap_or(e.fields.frame);
        let until = given_time(&input.until, &tz)?;
        let id = self.write(
            "request it",
            e.festival,
            Operation::RequestCreate { event, resource, frame, replaces: None, until },
        )?;
        self.request(&id.to_hex())
    }

    /// Changes an event; its requests that no longer fit are requested anew for the new
    /// frame, each replacing the old one, in one transaction (`docs/protocol.md`, "Moving an
    /// event"). With `preview`, only says what would change.
    pub fn update_event(&mut self, id: &str, input: EventChange) -> ApiResult<EventUpdateView> {
        let id = self.event_id(id)?;
        let e = self.state().event(&id).expect("resolved").clone();
        let tz = self.timezone_of(&e.festival);
        let frame = given_frame(&input.start, &input.end, &tz)?.unwrap_or(e.fields.frame);
        let fields = EventFields {
            title: input.title.map_or(e.fields.title.clone(), |t| t.trim().to_string()),
            description: input.description.unwrap_or(e.fields.description.clone()),
            frame,
            bundle: input.all_or_nothing.unwrap_or(e.fields.bundle),
        };
        let mut moves = self.state().moves(&id, &frame);
        for pick in &input.moves {
            let resource = self.resource_id(&pick.resource)?;
            let to = given_frame(&pick.start, &pick.end, &tz)?.unwrap_or(frame);
            let s = self.state();
            let mut found = false;
            for (old, new) in moves.iter_mut() {
                if s.request(old).is_some_and(|q| q.resource == resource) {
                    *new = to;
                    found = true;
                }
            }
            if !found {
                let name = s.resource(&resource).map_or("that resource", |r| r.fields.name.as_str());
                return Err(ApiError::bad_input(format!(
                    "no request for {name} has to move: a frame can be picked only for the requests that no longer fit the event"
                )));
            }
        }
        if let Err((index, rule)) = self.state().check_event_update(&self.me(), &e.festival, id, &fields, &moves) {
            let verb = match index.and_then(|i| self.state().request(&moves[i].0)) {
                Some(q) => format!(
                    "move the request for {}",
                    self.state().resource(&q.resource).map_or("a resource", |r| r.fields.name.as_str())
                ),
                None => "change the event".to_string(),
            };
            return Err(self.refused(&verb, rule));
        }
        let views = {
            let s = self.state();
            moves
                .iter()
                .map(|(old, to)| MoveView::of(s, s.request(old).expect("moves are known requests"), to))
                .collect()
        };
        if !input.preview {
            let follow: Vec<Operation> = moves
                .iter()
                .flat_map(|(old, frame)| {
                    let resource = self.state().request(old).expect("moves are known requests").resource;
                    [
                        Operation::RequestCreate {
                            event: id,
                            resource,
                            frame: *frame,
                            replaces: Some(*old),
                            until: None,
                        },
                        Operation::RequestWithdraw { request: *old, reason: String::new() },
                    ]
                })
                .collect();
            self.write_chain(e.festival, Operation::EventUpdate { event: id, fields }, |_| follow)?;
        }
        Ok(EventUpdateView { event: self.event(&id.to_hex())?, moves: views, signed: !input.preview })
    }

    pub fn cancel_event(&mut self, id: &str) -> ApiResult<EventView> {
        let id = self.event_id(id)?;
        let festival = self.state().event(&id).expect("resolved").festival;
        self.write("cancel the event", festival, Operation::EventCancel { event: id })?;
        self.event(&id.to_hex())
    }

    pub fn event(&self, id: &str) -> ApiResult<EventView> {
        let id = self.event_id(id)?;
        let s = self.state();
        Ok(EventView::of(s, &self.me(), s.event(&id).expect("resolved")))
    }

    /// The events of a festival and of its sub-festivals held here: its whole programme.
    pub fn events(&self, festival: &str) -> ApiResult<Vec<EventView>> {
        let festival = self.festival_id(festival)?;
        let s = self.state();
        let mut out: Vec<&model::state::Event> = s.descendants(&festival).iter().flat_map(|f| s.events_in(f)).collect();
        out.sort_by_key(|e| (e.fields.frame.start(), e.id));
        Ok(out.into_iter().map(|e| EventView::of(s, &self.me(), e)).collect())
    }

    pub fn request(&self, id: &str) -> ApiResult<RequestView> {
        let id = self.request_id(id)?;
        let s = self.state();
        Ok(RequestView::of(s, &self.me(), s.request(&id).expect("resolved")))
    }

    pub fn requests(&self, filter: RequestFilter, festival: Option<&str>) -> ApiResult<Vec<RequestView>> {
        let festival = festival.map(|f| self.festival_id(f)).transpose()?;
        let s = self.state();
        let me = self.me();
        // Incoming requests are found from the resources this node decides for, without
        // reading any other request.
        let candidates: Vec<Id> = if filter.incoming {
            s.resources().filter(|r| s.decides_for(r, &me)).flat_map(|r| s.requests_for(&r.id).map(|q| q.id)).collect()
        } else {
            s.request_ids()
        };
        let mut out: Vec<&Request> = candidates
            .into_iter()
            .filter_map(|id| s.request(&id))
            .filter(|q| {
                festival.is_none_or(|f| q.festival == f || s.resource(&q.resource).is_some_and(|r| r.festival == f))
            })
            .filter(|q| !filter.mine || q.author == me)
            .filter(|q| !filter.incoming || s.resource(&q.resource).is_some_and(|r| s.decides_for(r, &me)))
            .filter(|q| !filter.pending || matches!(s.request_status(&q.id), Some(RequestStatus::Pending { .. })))
            .collect();
        out.sort_by_key(|q| (q.frame.start(), q.id));
        Ok(out.into_iter().map(|q| RequestView::of(s, &me, q)).collect())
    }

    // -------------------------------------------------------------------------------
    // Collectives

    /// Makes this node's key a collective in `festival`: `members` (keys) vote on the
    /// requests for its resources, and the `collective` policy decides by `rule`.
    pub fn set_collective(&mut self, festival: &str, input: CollectiveInput) -> ApiResult<CollectiveView> {
        let festival = self.festival_id(festival)?;
        let mut members = Vec::with_capacity(input.members.len());
        for m in &input.members {
            let key = Key::from_hex(m.trim())
                .ok_or_else(|| ApiError::bad_input(format!("{m:?} is not a key (64 hex digits, see `whoami`)")))?;
            members.push(key);
        }
        members.sort();
        members.dedup();
        if members.is_empty() {
            return Err(ApiError::bad_input("a collective needs at least one member"));
        }
        let rule = model::VoteRule::parse(input.rule.trim()).ok_or_else(|| {
            ApiError::bad_input(format!("{:?} is not a vote rule: any, majority, all, or a number", input.rule))
        })?;
        self.write("set the collective", festival, Operation::CollectiveSet { members, rule })?;
        let me = self.me();
        self.collectives(&festival.to_hex())?
            .into_iter()
            .find(|c| c.key == me.to_hex())
            .ok_or_else(|| ApiError::internal("the collective just written is not in the plan"))
    }

    pub fn collectives(&self, festival: &str) -> ApiResult<Vec<CollectiveView>> {
        let festival = self.festival_id(festival)?;
        let s = self.state();
        let me = self.me();
        Ok(s.collectives_in(&festival)
            .into_iter()
            .map(|(key, c)| CollectiveView::of(s, &festival, &me, &key, c))
            .collect())
    }

    /// A member's vote on a request for a collective's resource, signed into the member's
    /// own log of the resource's festival.
    pub fn vote(&mut self, id: &str, input: VoteInput) -> ApiResult<RequestView> {
        let (id, resource, festival) = self.decided_request(id)?;
        let s = self.state();
        let r =
            s.resource(&resource).ok_or_else(|| ApiError::conflict("the request's resource is not known here yet"))?;
        let me = self.me();
        match s.collective(&r.festival, &r.owner) {
            None => {
                return Err(ApiError::conflict(format!(
                    "{} is not owned by a collective: nobody votes on it",
                    r.fields.name
                )));
            }
            Some(c) if !c.members.contains(&me) => {
                return Err(ApiError::conflict(format!(
                    "you are not a member of the collective that owns {}",
                    r.fields.name
                )));
            }
            Some(_) => {}
        }
        if !matches!(s.request_status(&id), Some(RequestStatus::Pending { .. })) {
            return Err(ApiError::conflict("the request is decided already"));
        }
        let reason = input.reason.unwrap_or_default().trim().to_string();
        self.write("vote", festival, Operation::Vote { request: id, resource, yes: input.yes, reason })?;
        self.request(&id.to_hex())
    }

    /// A request and the festival of its resource, where its owner's decisions are written.
    fn decided_request(&self, id: &str) -> ApiResult<(Id, Id, Id)> {
        let id = self.request_id(id)?;
        let s = self.state();
        let q = s.request(&id).expect("resolved");
        let festival = s.resource(&q.resource).map_or(q.festival, |r| r.festival);
        Ok((id, q.resource, festival))
    }

    /// Confirms or denies (`deny: Some(reason)`) a request; a request that replaces one
    /// whose slot is still held also releases that slot (`State::decision_ops`).
    fn decide(&mut self, verb: &str, id: &str, deny: Option<String>) -> ApiResult<RequestView> {
        let (id, _, festival) = self.decided_request(id)?;
        let ops = self.state().decision_ops(self.state().request(&id).expect("resolved"), deny);
        self.write_ops(verb, festival, ops)?;
        self.request(&id.to_hex())
    }

    pub fn confirm(&mut self, id: &str) -> ApiResult<RequestView> {
        self.decide("confirm", id, None)
    }

    pub fn deny(&mut self, id: &str, reason: Option<String>) -> ApiResult<RequestView> {
        self.decide("deny", id, Some(reason.unwrap_or_default()))
    }

    pub fn release(&mut self, id: &str) -> ApiResult<RequestView> {
        let (id, resource, festival) = self.decided_request(id)?;
        self.write("release", festival, Operation::Release { request: id, resource })?;
        self.request(&id.to_hex())
    }

    pub fn withdraw(&mut self, id: &str) -> ApiResult<RequestView> {
        let id = self.request_id(id)?;
        let festival = self.state().request(&id).expect("resolved").festival;
        self.write("withdraw", festival, Operation::RequestWithdraw { request: id, reason: String::new() })?;
        self.request(&id.to_hex())
    }

    // -------------------------------------------------------------------------------
    // Schedules

    /// Confirmed and pending slots of the events of a festival and of the sub-festivals held
    /// here (or of one resource, with the slots its owner confirmed for events not held
    /// here), by start.
    pub fn schedule(&self, festival: &str, resource: Option<&str>) -> ApiResult<Vec<SlotView>> {
        let festival = self.festival_id(festival)?;
        let resource = resource.map(|r| self.resource_id(r)).transpose()?;
        let s = self.state();
        let requests: Vec<&Request> = match resource {
            Some(r) => s.requests_for(&r).collect(),
            None => s
                .descendants(&festival)
                .iter()
                .flat_map(|f| s.events_in(f))
                .flat_map(|e| e.requests.iter())
                .filter_map(|q| s.request(q))
                .collect(),
        };
        let mut slots: Vec<(Timestamp, SlotView)> = requests
            .into_iter()
            .filter_map(|q| match s.request_status(&q.id)? {
                RequestStatus::Confirmed => Some((q.frame.start(), SlotView::of_request(s, q, "confirmed"))),
                RequestStatus::Pending { waiting_for: None } => {
                    Some((q.frame.start(), SlotView::of_request(s, q, "pending")))
                }
                _ => None,
            })
            .collect();
        if let Some(r) = resource.and_then(|r| s.resource(&r)) {
            let unseen = r.alloc.active().filter(|(_, q)| s.request(q).is_none());
            slots.extend(unseen.map(|(frame, q)| (frame.start(), SlotView::unseen(s, &r.id, &frame, &q))));
        }
        slots.sort_by(|a, b| (a.0, &a.1.request).cmp(&(b.0, &b.1.request)));
        Ok(slots.into_iter().map(|(_, slot)| slot).collect())
    }

    pub fn op(&self, id: &str) -> ApiResult<OpView> {
        let s = self.state();
        // Operation records are not indexed in memory: the store finds the prefix.
        let candidates = s.ops_with_prefix(&id.trim().to_ascii_lowercase(), 2);
        let id = self.resolve("operation", id, |id| s.op(id).is_some(), candidates.iter().copied())?;
        let s = self.state();
        let r = s.op(&id).expect("resolved");
        Ok(OpView {
            id: id.to_hex(),
            kind: r.kind.clone(),
            author: r.author.to_hex(),
            status: match r.status {
                OpStatus::Applied => "applied",
                OpStatus::NoEffect(_) => "no effect",
            },
            reason: match &r.status {
                OpStatus::NoEffect(rule) => Some(s.describe(rule)),
                OpStatus::Applied => None,
            },
        })
    }
}

/// At most 16 characters of what someone typed, for messages.
fn shorten(text: &str) -> String {
    match text.char_indices().nth(16) {
        Some((at, _)) => format!("{}…", &text[..at]),
        None => text.to_string(),
    }
}

/// Creates `dir` (and its parents) and makes it and every file in it private to the user,
/// creating the database file first so that SQLite, which gives its journal and WAL files
/// the database's permissions, never makes a readable one.
fn private_dir(dir: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))?;
        std::fs::OpenOptions::new().create(true).append(true).mode(0o600).open(dir.join(DB_FILE))?;
        for file in std::fs::read_dir(dir)? {
            let file = file?;
            if file.file_type()?.is_file() {
                std::fs::set_permissions(file.path(), std::fs::Permissions::from_mode(0o600))?;
            }
        }
    }
    Ok(())
}

/// Whether `id` in hex starts with the lowercase hex digits `prefix`, without writing it out.
fn has_prefix(id: &Id, prefix: &[u8]) -> bool {
    let nibble = |c: u8| match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        _ => None,
    };
    prefix.len() <= 128
        && prefix.iter().enumerate().all(|(i, &c)| {
            let byte = id.0.0[i / 2];
            nibble(c) == Some(if i % 2 == 0 { byte >> 4 } else { byte & 0x0f })
        })
}

/// Two optional query values: a programme's range (`start`, `end`) or page (`after`, `limit`).
pub type Pair<'q> = (Option<&'q str>, Option<&'q str>);

/// A programme as [`Node::programme`] answers it.
#[derive(Serialize)]
#[serde(untagged)]
enum Programme<'n> {
    Page(ProgrammeView),
    /// The fields of `ProgrammeView`, in its order; `next` is left out, as it is there.
    Whole {
        festival: FestivalView,
        events: PagedEvents<'n>,
    },
}

/// The events of a whole programme as a JSON array, read a page at a time as they are
/// written ([`Node::programme`]).
struct PagedEvents<'n> {
    node: std::cell::RefCell<&'n mut Node>,
    festival: Id,
    within: Option<TimeFrame>,
}

impl Serialize for PagedEvents<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeSeq;
        let mut seq = serializer.serialize_seq(None)?;
        let (festival, within) = (&self.festival, self.within.as_ref());
        // `serialize` takes `&self`; nothing else holds the node while the answer is written.
        self.node.borrow_mut().each_page(
            |s, page| crate::publish::programme_events(s, festival, within, Some(page)),
            |page| page.iter().try_for_each(|e| seq.serialize_element(e)),
        )?;
        seq.end()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Scenario: a two-day festival with two sub-festivals, whose events asked for nothing,
    /// so that each event's room is its festival's name. The rooms first come in the order
    /// Main (an event before the festival's first day), B (day 1), A (day 2).
    /// Assert: frab lays each day out by room in that order, each room's events by start, and
    /// c3voc holds the same days, rooms and events; the event before the first day is in no
    /// day, but its room counts.
    #[test]
    fn the_schedule_formats_lay_out_days_by_room_in_the_order_rooms_first_come() {
        let mut node = Node::with_store(Store::open_in_memory().unwrap());
        let call = |node: &mut Node, path: &str, body: String| {
            let a = crate::api::handle(node, "POST", path, Some(&body)).expect("a route");
            assert!(a.status < 300, "{path}: {}", a.body);
            serde_json::from_str::<serde_json::Value>(a.body.get()).unwrap()["id"].as_str().unwrap().to_string()
        };
        let main = call(
            &mut node,
            "/festivals",
            r#"{"name":"Main","timezone":"UTC","start":"2026-07-01T00:00:00Z","end":"2026-07-03T00:00:00Z"}"#.into(),
        );
        let sub = |node: &mut Node, name: &str| {
            call(node, "/festivals", format!(r#"{{"name":"{name}","timezone":"UTC","parent":"{main}"}}"#))
        };
        let (a, b) = (sub(&mut node, "A"), sub(&mut node, "B"));
        for (festival, title, start) in [
            (&b, "b1", "2026-07-01T10:00:00Z"),
            (&main, "m1", "2026-07-01T11:00:00Z"),
            (&main, "m2", "2026-07-02T08:00:00Z"),
            (&a, "a2", "2026-07-02T09:00:00Z"),
            (&b, "b2", "2026-07-02T12:00:00Z"),
            (&b, "b2-early", "2026-07-02T07:00:00Z"),
            (&main, "before", "2026-06-30T10:00:00Z"),
        ] {
            let end = start.replace("T0", "T1").replace("T10", "T13").replace("T11", "T13").replace("T12", "T14");
            let body = format!(r#"{{"title":"{title}","start":"{start}","end":"{end}"}}"#);
            call(&mut node, &format!("/festivals/{festival}/events"), body);
        }
        let frab = crate::api::export(&mut node, &main, None, crate::publish::Format::Frab).unwrap();
        let layout: Vec<String> = frab
            .lines()
            .map(str::trim)
            .filter(|l| l.starts_with("<day ") || l.starts_with("<room ") || l.starts_with("<title>"))
            .map(|l| {
                l.split('"').nth(1).unwrap_or_else(|| l.trim_start_matches("<title>").trim_end_matches("</title>"))
            })
            .map(str::to_string)
            .collect();
        let expected = ["Main", "1", "Main", "m1", "B", "b1", "2", "Main", "m2", "B", "b2-early", "b2", "A", "a2"];
        assert_eq!(layout, expected, "{frab}");
        let c3voc = crate::api::export(&mut node, &main, None, crate::publish::Format::C3voc).unwrap();
        let c3voc: serde_json::Value = serde_json::from_str(&c3voc).unwrap();
        let conference = &c3voc["schedule"]["conference"];
        assert_eq!(
            (&conference["daysCount"], &conference["start"], &conference["end"]),
            (&2.into(), &"2026-07-01".into(), &"2026-07-02".into())
        );
        let rooms: Vec<&str> =
            conference["rooms"].as_array().unwrap().iter().map(|r| r["name"].as_str().unwrap()).collect();
        assert_eq!(rooms, ["Main", "B", "A"]);
        let titles = |day: usize, room: &str| -> Vec<String> {
            let events = conference["days"][day]["rooms"][room].as_array().cloned().unwrap_or_default();
            events.iter().map(|e| e["title"].as_str().unwrap().to_string()).collect()
        };
        assert_eq!((titles(0, "B"), titles(0, "Main"), titles(0, "A")), (vec!["b1".into()], vec!["m1".into()], vec![]));
        assert_eq!(titles(1, "B"), ["b2-early", "b2"]);
        assert_eq!((titles(1, "Main"), titles(1, "A")), (vec!["m2".to_string()], vec!["a2".to_string()]));
    }

    /// Scenario: a festival of 1,002 events that asked for nothing (in the programme as they
    /// are), more than a page of the API ([`crate::publish::MAX_PAGE`]).
    /// Assert: the whole programme, read a page at a time inside, is every event once, by
    /// start, with no next page; the same as the API's pages put together.
    #[test]
    fn the_whole_programme_is_its_pages_put_together() {
        let mut node = Node::with_store(Store::open_in_memory().unwrap());
        let call = |node: &mut Node, method: &str, path: &str, body: &str| {
            let a = crate::api::handle(node, method, path, Some(body)).expect("a route");
            assert!(a.status < 300, "{method} {path}: {}", a.body);
            serde_json::from_str::<serde_json::Value>(a.body.get()).unwrap()
        };
        let f = call(&mut node, "POST", "/festivals", r#"{"name":"Set","timezone":"UTC"}"#);
        let f = f["id"].as_str().unwrap().to_string();
        for n in 0..1002 {
            let (h, m) = (n / 60 % 24, n % 60);
            let body =
                format!(r#"{{"title":"Set {n}","start":"2026-07-01T{h:02}:{m:02}:00Z","end":"2026-07-01T23:59:00Z"}}"#);
            call(&mut node, "POST", &format!("/festivals/{f}/events"), &body);
        }
        let programme = |node: &mut Node, after: Option<&str>, limit: Option<&str>| {
            let json = node.programme(&f, (None, None), (after, limit)).unwrap();
            serde_json::from_str::<serde_json::Value>(json.get()).unwrap()
        };
        let whole = programme(&mut node, None, None);
        let whole_events = whole["events"].as_array().unwrap();
        assert_eq!((whole_events.len(), whole.get("next")), (1002, None));
        assert_eq!(whole["festival"]["id"], f.as_str());
        let mut paged = Vec::new();
        let mut after: Option<String> = None;
        loop {
            let page = programme(&mut node, after.as_deref(), Some("1000"));
            paged.extend(page["events"].as_array().unwrap().iter().map(|e| e["id"].clone()));
            let Some(next) = page["next"].as_str() else { break };
            after = Some(next.to_string());
        }
        let ids: Vec<serde_json::Value> = whole_events.iter().map(|e| e["id"].clone()).collect();
        assert_eq!(ids, paged);
        // A page's programme and the whole one are the same document, pages apart.
        let first = programme(&mut node, None, Some("1000"));
        assert_eq!(first["festival"], whole["festival"]);
        assert_eq!(first["events"][0], whole_events[0]);
        assert!(whole_events.windows(2).all(|w| w[0]["start"].as_str() <= w[1]["start"].as_str()));
    }
}
