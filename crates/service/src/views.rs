//! The JSON shapes of docs/api.md, built from the plan. The CLI's `--json` output and
//! the HTTP API share them.

use model::op::ResourceKind;
use model::state::{Event, Festival, Request, Resource};
use model::{Availability, Id, Key, RequestStatus, State, TimeFrame, Timestamp};
use serde::Serialize;

use crate::node::CapacityValue;

pub fn time(t: Timestamp) -> String {
    t.to_rfc3339()
}

#[derive(Serialize, Clone, Debug)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema), schema(as = Identity))]
pub struct IdentityView {
    pub public_key: String,
    pub name: Option<String>,
    /// `None` in a browser.
    pub data_dir: Option<String>,
    /// The read-only key of the native node's calendar feeds, which calendar links carry
    /// instead of the token; `None` in a browser.
    pub calendar_key: Option<String>,
}

#[derive(Serialize, Clone, Debug)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema), schema(as = Festival))]
pub struct FestivalView {
    pub id: String,
    pub name: String,
    pub description: String,
    pub timezone: String,
    pub parent: Option<String>,
    pub start: Option<String>,
    pub end: Option<String>,
    pub creator: String,
    pub creator_name: Option<String>,
    pub children: Vec<String>,
    /// The ticket resource that admits organisers and providers here, if one is required
    /// (named here or by a parent festival).
    pub ticket: Option<String>,
    /// Whether this node's key may organise and provide here (`null` on public pages).
    pub admitted: Option<bool>,
}

impl FestivalView {
    /// `me`: the node's key, for `admitted`; `None` for what visitors see.
    pub fn of(s: &State, f: &Festival, me: Option<&Key>) -> FestivalView {
        let mut children: Vec<String> = s.children(&f.id).map(|c| c.id.to_hex()).collect();
        children.sort();
        FestivalView {
            id: f.id.to_hex(),
            name: f.fields.name.clone(),
            description: f.fields.description.clone(),
            timezone: f.fields.timezone.clone(),
            parent: f.parent.map(|p| p.to_hex()),
            start: f.fields.frame.map(|fr| time(fr.start())),
            end: f.fields.frame.map(|fr| time(fr.end())),
            creator: f.creator.to_hex(),
            creator_name: s.display_name(Some(&f.id), &f.creator).map(str::to_string),
            children,
            ticket: s.ticket_of(&f.id).map(|(_, t)| t.to_hex()),
            admitted: me.map(|me| s.admitted(&f.id, me)),
        }
    }
}

#[derive(Serialize, Clone, Debug)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema), schema(as = GeoPoint))]
pub struct GeoView {
    pub lat: f64,
    pub lon: f64,
}

#[derive(Serialize, Clone, Debug)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema), schema(as = TimeFrame))]
pub struct FrameView {
    pub start: String,
    pub end: String,
}

impl FrameView {
    pub fn of(f: &TimeFrame) -> FrameView {
        FrameView { start: time(f.start()), end: time(f.end()) }
    }
}

/// Available at any time.
#[derive(Serialize, Clone, Copy, Debug)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum Always {
    Always,
}

#[derive(Serialize, Clone, Debug)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema), schema(as = Availability))]
#[serde(untagged)]
pub enum AvailabilityView {
    Always(Always),
    Windows(Vec<FrameView>),
}

#[derive(Serialize, Clone, Debug)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema), schema(as = Resource))]
pub struct ResourceView {
    pub id: String,
    pub festival: String,
    pub owner: String,
    pub owner_name: Option<String>,
    pub mine: bool,
    pub name: String,
    #[cfg_attr(feature = "openapi", schema(schema_with = schema::resource_kind))]
    pub kind: ResourceKind,
    pub description: String,
    pub location: Option<GeoView>,
    pub address: String,
    pub url: String,
    pub availability: AvailabilityView,
    pub policy: String,
    pub retired: bool,
    /// How many requests may be confirmed at once, or `"unlimited"`.
    pub capacity: CapacityValue,
    /// The resources an event requesting this one requests too (ids).
    pub needs: Vec<String>,
    /// False while its owner is waiting for admission to a festival that requires a ticket.
    pub admitted: bool,
}

impl ResourceView {
    pub fn of(s: &State, me: &Key, r: &Resource) -> ResourceView {
        ResourceView {
            id: r.id.to_hex(),
            festival: r.festival.to_hex(),
            owner: r.owner.to_hex(),
            owner_name: s.display_name(Some(&r.festival), &r.owner).map(str::to_string),
            mine: r.owner == *me,
            name: r.fields.name.clone(),
            kind: r.fields.kind,
            description: r.fields.description.clone(),
            location: r.fields.geo.map(|g| GeoView { lat: g.lat(), lon: g.lon() }),
            address: r.fields.address.clone(),
            url: r.fields.url.clone(),
            availability: match &r.fields.availability {
                Availability::Always => AvailabilityView::Always(Always::Always),
                Availability::Windows(ws) => AvailabilityView::Windows(ws.iter().map(FrameView::of).collect()),
            },
            policy: r.fields.policy.clone(),
            retired: r.retired,
            capacity: CapacityValue::of(r.fields.capacity),
            needs: r.fields.needs.iter().map(|id| id.to_hex()).collect(),
            admitted: s.admitted(&r.festival, &r.owner),
        }
    }
}

#[derive(Serialize, Clone, Debug)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema), schema(as = Request))]
pub struct RequestView {
    pub id: String,
    pub event: String,
    pub event_title: Option<String>,
    pub resource: String,
    pub resource_name: Option<String>,
    pub festival: String,
    pub author: String,
    pub author_name: Option<String>,
    pub mine: bool,
    /// For this node's owner to decide: they own the resource, or vote as a member of the
    /// collective that owns it (`voter`).
    pub incoming: bool,
    /// This node's owner votes on it (a member of the owning collective), and does not decide.
    pub voter: bool,
    pub start: String,
    pub end: String,
    #[cfg_attr(feature = "openapi", schema(schema_with = schema::request_status))]
    pub status: &'static str,
    pub reason: Option<String>,
    pub policy: Option<String>,
    /// Whether the request holds a confirmed slot (true when confirmed, and for a
    /// withdrawn request until the owner releases it).
    pub holds_slot: bool,
    /// The request this one replaces because its event moved, and that request's frame:
    /// "moved from … to …". Its slot stays held until this one is decided.
    pub replaces: Option<String>,
    pub moved_from: Option<FrameView>,
    /// The request that replaced this one, if its event moved.
    pub replaced_by: Option<String>,
    /// The deadline: still pending then, the organiser's node withdraws it.
    pub until: Option<String>,
    /// For a resource a collective owns: its members' votes so far.
    pub votes: Option<VotesView>,
    /// For a pending request: why the owner could not confirm it now, if so.
    pub cannot_confirm: Option<String>,
    /// For a pending request: the other pending requests of the resource that a confirm
    /// of this one would block (they overlap it).
    pub competing: Vec<SlotView>,
}

impl RequestView {
    pub fn of(s: &State, me: &Key, q: &Request) -> RequestView {
        let status = s.request_status(&q.id).unwrap_or(RequestStatus::Pending { waiting_for: None });
        let reason = match &status {
            RequestStatus::Pending { waiting_for: Some(rule) } => Some(format!("waiting: {}", s.describe(rule))),
            RequestStatus::Denied { reason } if !reason.is_empty() => Some(reason.clone()),
            RequestStatus::Withdrawn { holds_slot } => {
                let why = if s.event(&q.event).is_some_and(|e| e.cancelled) {
                    "the event was cancelled".to_string()
                } else if !q.withdraw_reason.is_empty() {
                    format!("withdrawn by the organiser's node: {}", q.withdraw_reason)
                } else {
                    "withdrawn by the organiser".to_string()
                };
                Some(if *holds_slot { format!("{why}; the owner has not released the slot yet") } else { why })
            }
            RequestStatus::Invalid { reason } => Some(s.describe(reason)),
            _ => None,
        };
        let resource = s.resource(&q.resource);
        RequestView {
            id: q.id.to_hex(),
            event: q.event.to_hex(),
            event_title: s.event(&q.event).map(|e| e.fields.title.clone()),
            resource: q.resource.to_hex(),
            resource_name: resource.map(|r| r.fields.name.clone()),
            festival: q.festival.to_hex(),
            author: q.author.to_hex(),
            author_name: s.display_name(Some(&q.festival), &q.author).map(str::to_string),
            mine: q.author == *me,
            incoming: resource.is_some_and(|r| s.decides_for(r, me)),
            voter: resource.is_some_and(|r| r.owner != *me && s.decides_for(r, me)),
            votes: s.tally(q).map(|t| VotesView::of(s, &q.festival, me, &t)),
            start: time(q.frame.start()),
            end: time(q.frame.end()),
            status: status.name(),
            reason,
            policy: resource.map(|r| r.fields.policy.clone()),
            holds_slot: resource.is_some_and(|r| r.alloc.is_active(&q.id)),
            replaces: q.replaces.map(|id| id.to_hex()),
            moved_from: q.replaces.and_then(|id| s.request(&id)).map(|old| FrameView::of(&old.frame)),
            replaced_by: s.replacement(&q.id).map(|n| n.id.to_hex()),
            until: q.until.map(time),
            cannot_confirm: match status {
                RequestStatus::Pending { waiting_for: None } => s.confirmable(q).err().map(|rule| s.describe(&rule)),
                _ => None,
            },
            competing: match status {
                RequestStatus::Pending { .. } => {
                    s.turned_away_by(q).into_iter().map(|other| SlotView::of_request(s, other, "pending")).collect()
                }
                _ => Vec::new(),
            },
        }
    }
}

#[derive(Serialize, Clone, Debug)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema), schema(as = Event))]
pub struct EventView {
    pub id: String,
    pub festival: String,
    pub organiser: String,
    pub organiser_name: Option<String>,
    pub mine: bool,
    pub title: String,
    pub description: String,
    pub start: String,
    pub end: String,
    pub cancelled: bool,
    pub requests: Vec<RequestView>,
    /// All or nothing: booked only when every request is confirmed; when one is denied, the
    /// organiser's node withdraws the rest.
    pub all_or_nothing: bool,
    /// How many requests (not withdrawn) are confirmed, of `requested`: "2 of 3 confirmed".
    pub confirmed: usize,
    pub requested: usize,
    /// Whether the event takes place as planned, so is in the programme.
    pub booked: bool,
    /// False while its organiser is waiting for admission to a festival that requires a
    /// ticket: not in the programme, and owners' policies leave its requests alone.
    pub admitted: bool,
    /// Asks only for the festival's ticket: an application for admission.
    pub application: bool,
}

impl EventView {
    pub fn of(s: &State, me: &Key, e: &Event) -> EventView {
        EventView {
            id: e.id.to_hex(),
            festival: e.festival.to_hex(),
            organiser: e.organiser.to_hex(),
            organiser_name: s.display_name(Some(&e.festival), &e.organiser).map(str::to_string),
            mine: e.organiser == *me,
            title: e.fields.title.clone(),
            description: e.fields.description.clone(),
            start: time(e.fields.frame.start()),
            end: time(e.fields.frame.end()),
            cancelled: e.cancelled,
            requests: e.requests.iter().filter_map(|q| s.request(q)).map(|q| RequestView::of(s, me, q)).collect(),
            all_or_nothing: e.fields.bundle,
            confirmed: s.booking(e).0,
            requested: s.booking(e).1,
            booked: s.is_booked(e),
            admitted: s.admitted(&e.festival, &e.organiser),
            application: s.is_application(e),
        }
    }
}

/// A request that moves with its event: what its owner sees as "moved from … to …".
#[derive(Serialize, Clone, Debug)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema), schema(as = Move))]
pub struct MoveView {
    /// The request that is withdrawn and replaced.
    pub request: String,
    pub resource: String,
    pub resource_name: Option<String>,
    pub owner_name: Option<String>,
    pub from: FrameView,
    pub to: FrameView,
    /// Whether the old request holds a confirmed slot, which stays held until the owner
    /// decides the new one.
    pub confirmed: bool,
}

impl MoveView {
    pub fn of(s: &State, q: &Request, to: &TimeFrame) -> MoveView {
        let r = s.resource(&q.resource);
        MoveView {
            request: q.id.to_hex(),
            resource: q.resource.to_hex(),
            resource_name: r.map(|r| r.fields.name.clone()),
            owner_name: r.and_then(|r| s.display_name(Some(&r.festival), &r.owner)).map(str::to_string),
            from: FrameView::of(&q.frame),
            to: FrameView::of(to),
            confirmed: r.is_some_and(|r| r.alloc.is_active(&q.id)),
        }
    }
}

/// What `PUT /events/{id}` did, or with `preview` would do.
#[derive(Serialize, Clone, Debug)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema), schema(as = EventUpdate))]
pub struct EventUpdateView {
    pub event: EventView,
    pub moves: Vec<MoveView>,
    /// False for a preview: nothing was signed.
    pub signed: bool,
}

/// One event of a public programme: only confirmed bookings show.
#[derive(Serialize, Clone, Debug)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema), schema(as = ProgrammeEvent))]
pub struct ProgrammeEventView {
    pub id: String,
    /// The festival or sub-festival it belongs to.
    pub festival: String,
    pub festival_name: Option<String>,
    pub title: String,
    pub description: String,
    pub start: String,
    pub end: String,
    pub organiser_name: Option<String>,
    /// Where it happens: its confirmed locations (none: somewhere in the festival).
    pub locations: Vec<String>,
    /// Its other confirmed resources.
    pub resources: Vec<String>,
}

/// A festival's public programme (`GET /festivals/{id}/programme`).
#[derive(Serialize, Clone, Debug)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema), schema(as = Programme))]
pub struct ProgrammeView {
    pub festival: FestivalView,
    pub events: Vec<ProgrammeEventView>,
    /// With `?limit=`, when more events follow: the `after` of the next page.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next: Option<String>,
}

/// A request a change affects, and why.
#[derive(Serialize, Clone, Debug)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema), schema(as = Affected))]
pub struct AffectedView {
    pub request: RequestView,
    pub why: String,
}

/// What changing a resource would mean for others (`POST /resources/{id}/preview`).
#[derive(Serialize, Clone, Debug)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema), schema(as = ResourceChange))]
pub struct ResourceChangeView {
    /// Waiting requests that could no longer be confirmed: the owner's node denies them.
    pub turned_away: Vec<AffectedView>,
    /// Confirmed requests outside the new availability: they stay booked until released.
    pub outside: Vec<RequestView>,
}

/// One line of a schedule or a resource's calendar.
#[derive(Serialize, Clone, Debug)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema), schema(as = Slot))]
pub struct SlotView {
    pub resource: String,
    pub resource_name: Option<String>,
    pub event: Option<String>,
    pub event_title: Option<String>,
    pub request: Option<String>,
    pub start: String,
    pub end: String,
    #[cfg_attr(feature = "openapi", schema(schema_with = schema::slot_status))]
    pub status: &'static str,
}

impl SlotView {
    pub fn of_request(s: &State, q: &Request, status: &'static str) -> SlotView {
        SlotView {
            resource: q.resource.to_hex(),
            resource_name: s.resource(&q.resource).map(|r| r.fields.name.clone()),
            event: Some(q.event.to_hex()),
            event_title: s.event(&q.event).map(|e| e.fields.title.clone()),
            request: Some(q.id.to_hex()),
            start: time(q.frame.start()),
            end: time(q.frame.end()),
            status,
        }
    }

    /// A slot the owner confirmed for a request this node does not hold (an event of a
    /// sub-festival it has not joined): busy, with no event to name.
    pub fn unseen(s: &State, resource: &Id, frame: &TimeFrame, request: &Id) -> SlotView {
        SlotView { request: Some(request.to_hex()), status: "confirmed", ..SlotView::free(s, resource, frame) }
    }

    pub fn free(s: &State, resource: &Id, frame: &TimeFrame) -> SlotView {
        SlotView {
            resource: resource.to_hex(),
            resource_name: s.resource(resource).map(|r| r.fields.name.clone()),
            event: None,
            event_title: None,
            request: None,
            start: time(frame.start()),
            end: time(frame.end()),
            status: "free",
        }
    }
}

#[derive(Serialize, Clone, Debug)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema), schema(as = Calendar))]
pub struct CalendarView {
    pub free: Vec<SlotView>,
    pub confirmed: Vec<SlotView>,
    pub pending: Vec<SlotView>,
    /// For a resource with a capacity other than one: how many are booked in each piece of
    /// the frame, and how many are left (`null`: unlimited). Empty for a capacity of one.
    pub load: Vec<LoadView>,
}

/// How many of a resource are booked from `start` to `end`.
#[derive(Serialize, Clone, Debug)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema), schema(as = Load))]
pub struct LoadView {
    pub start: String,
    pub end: String,
    pub booked: u32,
    pub left: Option<u32>,
}

impl LoadView {
    pub fn of(alloc: &model::Allocation, frame: &TimeFrame) -> Vec<LoadView> {
        if alloc.capacity() == model::Capacity::ONE {
            return Vec::new();
        }
        let limit = alloc.capacity().limit();
        alloc
            .load_in(frame)
            .into_iter()
            .map(|(piece, booked)| LoadView {
                start: time(piece.start()),
                end: time(piece.end()),
                booked,
                left: limit.map(|n| n.saturating_sub(booked)),
            })
            .collect()
    }
}

#[derive(Serialize, Clone, Debug)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema), schema(as = Check))]
pub struct CheckView {
    pub free: bool,
    pub reason: Option<String>,
    /// Confirmed slots overlapping the frame.
    pub conflicts: Vec<SlotView>,
    /// Pending requests overlapping the frame: free, but also requested.
    pub holds: Vec<SlotView>,
    /// How many more could be confirmed over the whole frame (`null`: unlimited); with a
    /// capacity of one, 1 when free and 0 when not.
    pub left: Option<u32>,
    pub capacity: CapacityValue,
}

#[derive(Serialize, Clone, Debug)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema), schema(as = Op))]
pub struct OpView {
    pub id: String,
    pub kind: String,
    pub author: String,
    #[cfg_attr(feature = "openapi", schema(schema_with = schema::op_status))]
    pub status: &'static str,
    pub reason: Option<String>,
}

/// `GET /identity/secret`.
#[derive(Serialize, Clone, Debug)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema), schema(as = SecretKey))]
pub struct SecretKeyView {
    pub secret_key: String,
}

/// `GET /festivals/{id}/invite`.
#[derive(Serialize, Clone, Debug)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema), schema(as = Invite))]
pub struct InviteView {
    pub link: String,
    pub festival: String,
    pub peers: Vec<String>,
    /// Whether someone on another machine could use the link: one of its peers is not a
    /// loopback address. If not, `hint` says how to let others in.
    pub reachable: bool,
    pub hint: Option<String>,
}

impl InviteView {
    pub fn of(invite: &crate::invite::Invite) -> InviteView {
        let reachable = invite.peers.iter().any(|p| crate::invite::reachable(p));
        InviteView {
            link: invite.to_link(),
            festival: invite.festival.to_hex(),
            peers: invite.peers.clone(),
            reachable,
            hint: (!reachable).then(|| crate::invite::LOOPBACK_HINT.to_string()),
        }
    }
}

/// `POST /join` (202: the festival arrives by sync).
#[derive(Serialize, Clone, Debug)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema), schema(as = Joining))]
pub struct JoiningView {
    pub festival: String,
    pub message: String,
    pub peers: Vec<String>,
}

impl JoiningView {
    pub fn of(invite: &crate::invite::Invite) -> JoiningView {
        JoiningView {
            festival: invite.festival.to_hex(),
            message: format!("joining: fetching the festival from {} peer(s)", invite.peers.len()),
            peers: invite.peers.clone(),
        }
    }
}

/// `GET /sync`.
#[derive(Serialize, Clone, Debug)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema), schema(as = SyncStatus))]
pub struct SyncView {
    pub peers: Vec<crate::hub::PeerStatus>,
}

/// Every answer with a 4xx or 5xx status.
#[derive(Serialize, Clone, Debug)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema), schema(as = Error))]
pub struct ErrorView {
    pub error: String,
}

/// Schemas of fields whose values are a fixed set of words, from the lists the code uses.
#[cfg(feature = "openapi")]
pub mod schema {
    use utoipa::openapi::schema::{ObjectBuilder, Type};

    fn words(values: impl IntoIterator<Item = &'static str>) -> utoipa::openapi::Object {
        ObjectBuilder::new().schema_type(Type::String).enum_values(Some(values)).build()
    }

    pub fn resource_kind() -> utoipa::openapi::Object {
        words(model::op::ResourceKind::ALL.map(|k| k.as_str()))
    }

    pub fn request_status() -> utoipa::openapi::Object {
        words(model::RequestStatus::NAMES)
    }

    pub fn slot_status() -> utoipa::openapi::Object {
        words(super::SLOT_STATUSES)
    }

    pub fn op_status() -> utoipa::openapi::Object {
        words(super::OP_STATUSES)
    }
}

/// The statuses a [`SlotView`] has: free time, or a request's.
pub const SLOT_STATUSES: [&str; 3] = ["free", "confirmed", "pending"];
/// The statuses an [`OpView`] has.
pub const OP_STATUSES: [&str; 2] = ["applied", "no effect"];

/// A member of a collective, by key and name.
#[derive(Serialize, Clone, Debug)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema), schema(as = Member))]
pub struct MemberView {
    pub key: String,
    pub name: Option<String>,
    pub me: bool,
}

impl MemberView {
    fn of(s: &State, festival: &Id, me: &Key, key: &Key) -> MemberView {
        MemberView { key: key.to_hex(), name: s.display_name(Some(festival), key).map(str::to_string), me: key == me }
    }
}

/// How a collective's members voted on a request.
#[derive(Serialize, Clone, Debug)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema), schema(as = Votes))]
pub struct VotesView {
    /// `any`, `majority`, `all`, or a number.
    pub rule: String,
    pub members: usize,
    /// Yes votes that confirm.
    pub needed: usize,
    pub yes: Vec<MemberView>,
    pub no: Vec<VoteAgainstView>,
    /// This node's own vote, if it is a member and voted.
    pub mine: Option<bool>,
    /// `true`: the rule confirms it; `false`: it can no longer be confirmed; `null`: open.
    pub outcome: Option<bool>,
}

#[derive(Serialize, Clone, Debug)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema), schema(as = VoteAgainst))]
pub struct VoteAgainstView {
    pub member: MemberView,
    pub reason: String,
}

impl VotesView {
    pub fn of(s: &State, festival: &Id, me: &Key, t: &model::Tally) -> VotesView {
        VotesView {
            rule: t.rule.as_string(),
            members: t.members.len(),
            needed: t.needed,
            yes: t.yes.iter().map(|k| MemberView::of(s, festival, me, k)).collect(),
            no: t
                .no
                .iter()
                .map(|(k, reason)| VoteAgainstView {
                    member: MemberView::of(s, festival, me, k),
                    reason: reason.clone(),
                })
                .collect(),
            mine: if t.yes.contains(me) {
                Some(true)
            } else if t.no.iter().any(|(k, _)| k == me) {
                Some(false)
            } else {
                None
            },
            outcome: t.outcome,
        }
    }
}

/// A collective of a festival: its key, members and rule.
#[derive(Serialize, Clone, Debug)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema), schema(as = Collective))]
pub struct CollectiveView {
    pub key: String,
    pub name: Option<String>,
    pub members: Vec<MemberView>,
    pub rule: String,
}

impl CollectiveView {
    pub fn of(s: &State, festival: &Id, me: &Key, key: &Key, c: &model::Collective) -> CollectiveView {
        CollectiveView {
            key: key.to_hex(),
            name: s.display_name(Some(festival), key).map(str::to_string),
            members: c.members.iter().map(|k| MemberView::of(s, festival, me, k)).collect(),
            rule: c.rule.as_string(),
        }
    }
}
