//! What a node asks of the plan: objects, their indexes, statuses and names.

use std::borrow::Cow;

use crate::alloc::Decision;
use crate::id::{Id, Key};
use crate::rules::Rule;
use crate::state::{
    Collective, Event, Festival, LogKey, LogProgress, MAX_NESTING, OpRecord, Profile, Request, RequestStatus, Resource,
    State,
};
use crate::time::{TimeFrame, Timestamp};

/// How many events of the programme [`State::programme_page`] reads at once: a page's worth,
/// and a bound on what a whole day or programme reads ahead of its use.
const PREFETCH: usize = 128;

/// How many of the events [`State::programme_page`] meets must ask for the festival's ticket
/// before it finds which of them are applications and skips those
/// ([`State::applications`]): for fewer, reading them costs less than finding them all.
const APPLICATIONS_SKIPPED_FROM: usize = PREFETCH;

/// Why a request's status does not come from its owner's decision ([`State::undecided`]).
enum Undecided {
    Invalid(Rule),
    Withdrawn,
    /// Its resource's ancestry waits for an object not known yet.
    Waiting(Rule),
}

/// How a collective's members voted on a request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Tally {
    pub rule: crate::op::VoteRule,
    pub members: Vec<Key>,
    /// Yes votes that confirm.
    pub needed: usize,
    pub yes: Vec<Key>,
    pub no: Vec<(Key, String)>,
    /// `Some(true)`: confirmed by the rule; `Some(false)`: it can no longer be.
    pub outcome: Option<bool>,
}

impl State {
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

    /// `id` and the festivals below it held here, parents before children; at most
    /// [`MAX_NESTING`] levels deep.
    pub fn descendants(&self, id: &Id) -> Vec<Id> {
        let mut out = vec![*id];
        let mut seen = std::collections::HashSet::from([*id]);
        let mut level = vec![*id];
        for _ in 0..MAX_NESTING {
            let next: Vec<Id> = level
                .iter()
                .flat_map(|f| self.idx.children.get(f).into_iter().flatten().copied())
                .filter(|c| seen.insert(*c))
                .collect();
            if next.is_empty() {
                break;
            }
            out.extend(&next);
            level = next;
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

    /// Every event. With rows read back from a store this reads them all: prefer
    /// [`State::events_in`], [`State::events_of`] or [`State::event_ids`].
    pub fn events(&self) -> impl Iterator<Item = &Event> {
        self.event_ids().into_iter().filter_map(|id| self.events.get(&id))
    }

    /// The id of every event, from the index (with rows read back, read whole).
    pub fn event_ids(&self) -> Vec<Id> {
        let festivals = self.event_index.groups();
        festivals.into_iter().flat_map(|f| self.event_index.all(f)).map(|(_, id)| id).collect()
    }

    /// The events `organiser` created, in any festival: from the index for the organiser it
    /// keeps ([`State::index_events_of`]), else by reading every event.
    pub fn events_of<'a>(&'a self, organiser: &Key) -> Box<dyn Iterator<Item = &'a Event> + 'a> {
        if self.idx.organiser.is_some_and(|k| k != *organiser) {
            let organiser = *organiser;
            return Box::new(
                self.event_ids()
                    .into_iter()
                    .filter_map(|e| self.events.get(&e))
                    .filter(move |e| e.organiser == organiser),
            );
        }
        Box::new(self.organiser_index.all(*organiser).into_iter().filter_map(|(_, e)| self.events.get(&e)))
    }

    /// Events of `festival` (not of its sub-festivals) overlapping `frame`, by start.
    /// Logarithmic plus the matches: the scan starts the longest event's length before it.
    pub fn events_in_frame(&self, festival: &Id, frame: &TimeFrame) -> Vec<&Event> {
        let ids = self.event_index.overlapping(*festival, frame);
        ids.into_iter().filter_map(|e| self.events.get(&e)).filter(|e| e.fields.frame.overlaps(frame)).collect()
    }

    /// Events of `festival` (not of its sub-festivals), by start.
    pub fn events_in(&self, festival: &Id) -> impl Iterator<Item = &Event> {
        self.event_index.all(*festival).into_iter().filter_map(|(_, e)| self.events.get(&e))
    }

    pub fn request(&self, id: &Id) -> Option<&Request> {
        self.requests.get(id)
    }

    /// Every request. With rows read back from a store this reads them all: prefer
    /// [`State::requests_for`] or [`State::request_ids`].
    pub fn requests(&self) -> impl Iterator<Item = &Request> {
        self.request_ids().into_iter().filter_map(|id| self.requests.get(&id))
    }

    /// The id of every request, from the index (with rows read back, read whole).
    pub fn request_ids(&self) -> Vec<Id> {
        let resources = self.request_index.groups();
        resources.into_iter().flat_map(|r| self.request_index.all(r)).map(|(_, id)| id).collect()
    }

    /// Every request naming `resource`, ordered by start.
    pub fn requests_for(&self, resource: &Id) -> impl Iterator<Item = &Request> {
        self.request_index.all(*resource).into_iter().filter_map(|(_, q)| self.requests.get(&q))
    }

    /// Requests naming `resource` whose frame overlaps `frame`. Logarithmic plus the matches:
    /// the scan starts at the longest request's length before `frame`.
    pub fn requests_overlapping(&self, resource: &Id, frame: &TimeFrame) -> Vec<&Request> {
        let ids = self.request_index.overlapping(*resource, frame);
        ids.into_iter().filter_map(|q| self.requests.get(&q)).filter(|q| q.frame.overlaps(frame)).collect()
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

    /// The record of operation `id`, if it was applied (with or without effect).
    pub fn op(&self, id: &Id) -> Option<Cow<'_, OpRecord>> {
        if let Some(record) = self.ops.get(id) {
            return Some(Cow::Borrowed(record));
        }
        // The creations that took effect are their events and requests.
        if let Some(e) = self.events.get(id) {
            return Some(Cow::Owned(OpRecord::of_event(e)));
        }
        self.requests.get(id).map(|q| Cow::Owned(OpRecord::of_request(q)))
    }

    /// Every operation record. With rows read back from a store this reads them all, and
    /// every event and request.
    pub fn ops(&self) -> impl Iterator<Item = (Id, Cow<'_, OpRecord>)> {
        let stored = self.ops.keys();
        let created =
            self.events.keys().into_iter().chain(self.requests.keys()).filter(|id| self.ops.get(id).is_none());
        stored.into_iter().chain(created).filter_map(|id| self.op(&id).map(|r| (id, r)))
    }

    /// The operations whose id starts with the hex digits `prefix`, at most `limit`.
    pub fn ops_with_prefix(&self, prefix: &str, limit: usize) -> Vec<Id> {
        let mut ids = with_prefix(&self.ops, prefix, limit);
        ids.extend(with_prefix(&self.events, prefix, limit));
        ids.extend(with_prefix(&self.requests, prefix, limit));
        ids.sort();
        ids.dedup();
        ids.truncate(limit);
        ids
    }

    /// Events whose id starts with the hex digits `prefix`, at most `limit`, read by key
    /// range rather than over every event.
    pub fn events_with_prefix(&self, prefix: &str, limit: usize) -> Vec<Id> {
        with_prefix(&self.events, prefix, limit)
    }

    /// Requests whose id starts with the hex digits `prefix`, at most `limit`.
    pub fn requests_with_prefix(&self, prefix: &str, limit: usize) -> Vec<Id> {
        with_prefix(&self.requests, prefix, limit)
    }

    pub fn log(&self, author: &Key, log_id: u64) -> Option<&LogProgress> {
        self.logs.get(&(*author, log_id))
    }

    /// Every log this state knows, with its festival.
    pub fn logs(&self) -> impl Iterator<Item = (&LogKey, &LogProgress)> {
        self.logs.iter()
    }

    /// The owner's latest decision about `request` for `resource`.
    pub fn decision(&self, resource: &Id, request: &Id) -> Option<&Decision> {
        self.decisions.get(&(*resource, *request))
    }

    /// The status of a request, derived from the request, its event, and the allocation
    /// of its resource.
    pub fn request_status(&self, id: &Id) -> Option<RequestStatus> {
        let q = self.requests.get(id)?;
        let holds_slot = || self.resources.get(&q.resource).is_some_and(|r| r.alloc.is_active(id));
        match self.undecided(q) {
            Some(Undecided::Invalid(rule)) => return Some(RequestStatus::Invalid { reason: rule }),
            Some(Undecided::Withdrawn) => return Some(RequestStatus::Withdrawn { holds_slot: holds_slot() }),
            Some(Undecided::Waiting(rule)) => return Some(RequestStatus::Pending { waiting_for: Some(rule) }),
            None => {}
        }
        // Only a confirm gives a slot, and every later decision takes it away: a request
        // holding a slot has a confirm as its owner's latest decision, and the status is read
        // from the decision alone (the slots are rows on disk too: one read, not two).
        let decision = self.decision(&q.resource, id);
        debug_assert!(!holds_slot() || matches!(decision, Some(Decision::Confirmed { .. })));
        Some(match decision {
            None => RequestStatus::Pending { waiting_for: None },
            Some(Decision::Confirmed { .. }) => RequestStatus::Confirmed,
            Some(Decision::Denied { reason, .. }) => RequestStatus::Denied { reason: reason.clone() },
            Some(Decision::Released { .. }) => RequestStatus::Released,
            Some(Decision::Refused { rule, .. }) => RequestStatus::Invalid { reason: (**rule).clone() },
        })
    }

    /// What [`State::request_status`] says of `q` before its owner's decision counts, in
    /// that order: invalid, withdrawn (by its organiser, or its event cancelled), or its
    /// resource's ancestry invalid or waited for; `None` if the decision decides.
    fn undecided(&self, q: &Request) -> Option<Undecided> {
        if let Some(rule) = &q.invalid {
            return Some(Undecided::Invalid(rule.clone()));
        }
        if q.withdrawn || self.events.get(&q.event).is_some_and(|e| e.cancelled) {
            return Some(Undecided::Withdrawn);
        }
        match self.check_ancestry(q.festival, q.resource) {
            Ok(()) => None,
            Err((Some(_), rule)) => Some(Undecided::Waiting(rule)),
            Err((None, rule)) => Some(Undecided::Invalid(rule)),
        }
    }

    /// Whether [`State::request_status`] is [`RequestStatus::Confirmed`], for what is shown,
    /// without reading the owner's decision: a request not invalid or withdrawn, in a valid
    /// ancestry, is confirmed exactly while it holds a slot, which the allocation tells from
    /// memory ([`Allocation::holds`]). A page of the programme read the decision of each of
    /// its requests otherwise, a quarter of its reads (issue 15). The tests' rendering of a
    /// plan checks that the two agree for every request.
    ///
    /// [`Allocation::holds`]: crate::alloc::Allocation::holds
    pub fn is_confirmed(&self, q: &Request) -> bool {
        self.undecided(q).is_none() && self.holds_slot(q)
    }

    /// [`Allocation::holds`] of `q`'s resource.
    ///
    /// [`Allocation::holds`]: crate::alloc::Allocation::holds
    fn holds_slot(&self, q: &Request) -> bool {
        self.resources.get(&q.resource).is_some_and(|r| r.alloc.holds(&q.id))
    }

    /// The public programme of `festival` and of its sub-festivals held here, by start: every
    /// event that is not cancelled and has at least one confirmed request (or never asked for
    /// any resource), with its confirmed resources. Pending, denied and withdrawn requests never show. With `cancelled`, also
    /// the cancelled events that had a booking, so that a calendar can cancel them.
    pub fn programme(&self, festival: &Id, cancelled: bool) -> Vec<(&Event, Vec<&Resource>)> {
        self.programme_within(festival, cancelled, None)
    }

    /// [`State::programme`], of the events overlapping `within` only: a day's page.
    pub fn programme_within(
        &self,
        festival: &Id,
        cancelled: bool,
        within: Option<&TimeFrame>,
    ) -> Vec<(&Event, Vec<&Resource>)> {
        self.programme_page(festival, cancelled, within, None, usize::MAX).0
    }

    /// [`State::programme_within`], from the event after `after` (by start, then id) and at
    /// most `limit` events, and whether more follow. It reads only the events it returns and
    /// those it skips on the way (not in the programme), so that a page of a day of thousands
    /// of events costs what the page holds.
    pub fn programme_page(
        &self,
        festival: &Id,
        cancelled: bool,
        within: Option<&TimeFrame>,
        after: Option<(Timestamp, Id)>,
        limit: usize,
    ) -> (Vec<(&Event, Vec<&Resource>)>, bool) {
        use std::ops::Bound;
        let mut out = Vec::new();
        for f in self.descendants(festival) {
            let (from, upper) = match within {
                Some(frame) => self.event_index.overlap_bounds(&f, frame),
                None => (Bound::Unbounded, Bound::Unbounded),
            };
            let mut lower = match (after, from) {
                (Some(after), Bound::Included(from)) if after < from => Bound::Included(from),
                (Some(after), _) => Bound::Excluded(after),
                (None, from) => from,
            };
            // One more than a page from each festival tells whether more follow the merge.
            // Read a page at a time: events not in the programme are skipped on the way.
            let (mut taken, mut met) = (0, 0);
            'festival: while taken <= limit {
                let want = (limit - taken).saturating_add(1);
                let ids = self.event_index.range_ending(f, (lower, upper), want);
                let Some(&(start, id, _)) = ids.last() else { break };
                let (last, got) = ((start, id), ids.len());
                // Most of the members before the frame ended before it: not read. Nor are the
                // applications, never in the programme, where there are many.
                let applications = self.applications(&f, &ids, &mut met);
                let members = ids
                    .iter()
                    .filter(|m| within.is_none_or(|frame| crate::index::may_overlap(m, frame)))
                    .filter(|m| applications.is_none_or(|a| !a.contains(&m.1)));
                let members: Vec<&Id> = members.map(|m| &m.1).collect();
                for chunk in members.chunks(PREFETCH) {
                    self.prefetch_programme(chunk);
                    for id in chunk {
                        if taken > limit {
                            break 'festival;
                        }
                        let Some(e) = self.events.get(id) else { continue };
                        if within.is_some_and(|frame| !e.fields.frame.overlaps(frame)) {
                            continue;
                        }
                        if let Some(item) = self.programme_item(e, cancelled) {
                            out.push(item);
                            taken += 1;
                        }
                    }
                }
                if got < want {
                    break;
                }
                lower = Bound::Excluded(last);
            }
        }
        out.sort_by_key(|(e, _)| (e.fields.frame.start(), e.id));
        let more = out.len() > limit;
        out.truncate(limit);
        (out, more)
    }

    /// Reads at once the rows that [`State::programme_item`] reads of `events`: their own and
    /// their requests' (whether one is confirmed is known without its decision,
    /// [`State::is_confirmed`]). A store on disk finds
    /// each in a page of its own, and reads them on two connections at once
    /// ([`crate::RowSource::rows_of`]).
    #[cfg(not(target_arch = "wasm32"))]
    fn prefetch_programme(&self, events: &[&Id]) {
        self.events.prefetch(events.iter().copied());
        let requests: Vec<&Id> =
            events.iter().filter_map(|id| self.events.get(id)).flat_map(|e| e.requests.iter()).collect();
        self.requests.prefetch(requests.iter().copied());
    }

    /// A browser's plan holds every row: it has no store to read ahead from, and the code
    /// would weigh 3.7 KiB of its gzipped download.
    #[cfg(target_arch = "wasm32")]
    fn prefetch_programme(&self, _events: &[&Id]) {}

    /// Reads ahead, a table at a time, the rows the statuses of `ticket`'s `requests` read:
    /// the requests, their events and their decisions. Read one after another from a cold
    /// store, the 5,439 of a million-entry festival took 65 ms, at the first check after the
    /// node started or the plan changed (issue 15).
    #[cfg(not(target_arch = "wasm32"))]
    fn prefetch_ticket(&self, ticket: &Id, requests: &[Id]) {
        self.requests.prefetch(requests);
        let events: Vec<&Id> = requests.iter().filter_map(|q| self.requests.get(q)).map(|q| &q.event).collect();
        self.events.prefetch(events);
        let decisions: Vec<(Id, Id)> = requests.iter().map(|q| (*ticket, *q)).collect();
        self.decisions.prefetch(&decisions);
    }

    #[cfg(target_arch = "wasm32")]
    fn prefetch_ticket(&self, _ticket: &Id, _requests: &[Id]) {}

    /// `e` with its confirmed resources, if it is in the programme.
    fn programme_item<'a>(&'a self, e: &'a Event, cancelled: bool) -> Option<(&'a Event, Vec<&'a Resource>)> {
        // Someone not admitted (no ticket, or a ticket released) is not in the
        // programme, even with a booking cancelled; nor is an application.
        if !self.admitted(&e.festival, &e.organiser) || self.is_application(e) {
            return None;
        }
        let booked = self.requests_booked(e);
        let confirmed: Vec<&Resource> = if booked {
            e.requests
                .iter()
                .filter_map(|q| self.requests.get(q))
                .filter(|q| self.is_confirmed(q))
                .filter_map(|q| self.resources.get(&q.resource))
                .filter(|r| self.admitted(&r.festival, &r.owner))
                .collect()
        } else {
            Vec::new()
        };
        let was_booked = || {
            e.requests.iter().filter_map(|q| self.requests.get(q)).any(|q| {
                self.decision(&q.resource, &q.id)
                    .is_some_and(|d| matches!(d, Decision::Confirmed { .. } | Decision::Released { .. }))
            })
        };
        ((!e.cancelled && booked) || (e.cancelled && cancelled && was_booked())).then_some((e, confirmed))
    }

    /// An event's requests that are not withdrawn, and how many of them are confirmed.
    /// A confirm counts only while the resource's owner is admitted to its festival.
    pub fn booking(&self, e: &Event) -> (usize, usize) {
        let provided =
            |q: &Request| self.resources.get(&q.resource).is_some_and(|r| self.admitted(&r.festival, &r.owner));
        let (mut confirmed, mut live) = (0, 0);
        for q in e.requests.iter().filter_map(|q| self.requests.get(q)) {
            // `is_confirmed`, with `undecided` asked once.
            match self.undecided(q) {
                Some(Undecided::Withdrawn) => {}
                Some(_) => live += 1,
                None => {
                    live += 1;
                    confirmed += usize::from(self.holds_slot(q) && provided(q));
                }
            }
        }
        (confirmed, live)
    }

    /// Whether an event takes place as planned (and so is in the programme): its organiser is
    /// admitted, it is no application for a ticket, and it asks for nothing, or for an
    /// all-or-nothing event every request not withdrawn is confirmed, or otherwise one is.
    pub fn is_booked(&self, e: &Event) -> bool {
        self.admitted(&e.festival, &e.organiser) && !self.is_application(e) && self.requests_booked(e)
    }

    /// The requests' part of [`State::is_booked`].
    fn requests_booked(&self, e: &Event) -> bool {
        if e.requests.is_empty() {
            return true;
        }
        let (confirmed, live) = self.booking(e);
        if e.fields.bundle { live > 0 && confirmed == live } else { confirmed > 0 }
    }

    /// An all-or-nothing event that fell apart (a request denied, released, or refused by
    /// its owner's rules): its requests still pending or confirmed, which its organiser's
    /// node withdraws so that their owners release the slots.
    pub fn bundle_leftovers(&self, e: &Event) -> Vec<&Request> {
        if !e.fields.bundle || e.cancelled {
            return Vec::new();
        }
        let statuses: Vec<(&Request, RequestStatus)> =
            e.requests.iter().filter_map(|q| Some((self.requests.get(q)?, self.request_status(q)?))).collect();
        let broken = statuses.iter().any(|(_, st)| {
            matches!(st, RequestStatus::Denied { .. } | RequestStatus::Released | RequestStatus::Invalid { .. })
        });
        if !broken {
            return Vec::new();
        }
        statuses
            .into_iter()
            .filter(|(_, st)| matches!(st, RequestStatus::Pending { .. } | RequestStatus::Confirmed))
            .map(|(q, _)| q)
            .collect()
    }

    /// The ticket that admits people to `festival`: the nearest festival of its ancestry
    /// (itself first) that names one, and the ticket resource.
    pub fn ticket_of(&self, festival: &Id) -> Option<(&Festival, Id)> {
        self.ancestry(festival)
            .into_iter()
            .filter_map(|f| self.festivals.get(&f))
            .find_map(|f| f.fields.ticket.map(|t| (f, t)))
    }

    /// Whether `who` may organise events and provide resources in `festival`: no ticket is
    /// required, or `who` created the festival that requires it, owns the ticket, or holds
    /// it: a request of theirs for the ticket is confirmed by the ticket's owner.
    pub fn admitted(&self, festival: &Id, who: &Key) -> bool {
        let Some((f, ticket)) = self.ticket_of(festival) else { return true };
        if f.creator == *who {
            return true;
        }
        let Some(t) = self.resources.get(&ticket) else { return false };
        t.owner == *who || self.ticket(&ticket).holders.contains(who)
    }

    /// Who holds `ticket` and which events ask for it, found once between folds
    /// ([`crate::state::Tickets`]).
    fn ticket(&self, ticket: &Id) -> &crate::state::Ticket {
        if let Some(found) = self.tickets.0.get(ticket) {
            return found;
        }
        let (mut holders, mut events) = (std::collections::HashSet::new(), std::collections::HashSet::new());
        let ids: Vec<Id> = self.request_index.all(*ticket).into_iter().map(|(_, q)| q).collect();
        self.prefetch_ticket(ticket, &ids);
        for q in ids.iter().filter_map(|q| self.requests.get(q)) {
            if matches!(self.request_status(&q.id), Some(RequestStatus::Confirmed)) {
                holders.insert(q.author);
            }
            events.insert(q.event);
        }
        let found = crate::state::Ticket { holders, events, applications: std::cell::OnceCell::new() };
        self.tickets.0.insert(*ticket, Box::new(found))
    }

    /// The applications for `festival`'s ticket ([`State::is_application`]) if it asks for
    /// one and `members` (a part of its programme's index) name many events that ask for
    /// it: a programme then skips them without reading them. Finding them reads every event
    /// that asks for the ticket (some 50 ms for 5,439 applications), once between folds; a
    /// page of the first day of a festival whose applications all begin in its first hour
    /// read and skipped them each time (some 25 ms; issue 15).
    ///
    /// `met` counts the members asking for the ticket over the calls of one programme.
    fn applications(
        &self,
        festival: &Id,
        members: &[(Timestamp, Id, Option<Timestamp>)],
        met: &mut usize,
    ) -> Option<&std::collections::HashSet<Id>> {
        let (_, ticket) = self.ticket_of(festival)?;
        let found = self.ticket(&ticket);
        if found.applications.get().is_none() {
            *met += members.iter().filter(|m| found.events.contains(&m.1)).count();
            if *met < APPLICATIONS_SKIPPED_FROM {
                return None;
            }
        }
        Some(found.applications.get_or_init(|| {
            // Their events and requests, as a page reads them: the holders' read-ahead may be
            // forgotten since, by a query before this one.
            self.prefetch_programme(&found.events.iter().collect::<Vec<_>>());
            let application = |id: &&Id| self.events.get(id).is_some_and(|e| self.is_application(e));
            found.events.iter().filter(application).copied().collect()
        }))
    }

    /// An event that only asks for the ticket of its festival: someone's application for
    /// admission, never in the programme.
    pub fn is_application(&self, e: &Event) -> bool {
        let Some((_, ticket)) = self.ticket_of(&e.festival) else { return false };
        !e.requests.is_empty() && e.requests.iter().all(|q| self.requests.get(q).is_some_and(|q| q.resource == ticket))
    }

    /// Whether request `q` may be decided by its owner's policy: its event's organiser is
    /// admitted to the event's festival, or it asks for the ticket itself.
    pub fn admits_request(&self, q: &Request) -> bool {
        self.ticket_of(&q.festival).is_some_and(|(_, t)| t == q.resource) || self.admitted(&q.festival, &q.author)
    }

    /// The collective whose key is `key` in `festival`, if its log set one.
    pub fn collective(&self, festival: &Id, key: &Key) -> Option<&Collective> {
        self.collectives.get(&(*festival, *key))
    }

    /// The collectives of `festival`, by key.
    pub fn collectives_in(&self, festival: &Id) -> Vec<(Key, &Collective)> {
        let mut out: Vec<(Key, &Collective)> =
            self.collectives.iter().filter(|((f, _), _)| f == festival).map(|((_, k), c)| (*k, c)).collect();
        out.sort_by_key(|(k, _)| *k);
        out
    }

    /// Whether `who` decides with the owner of `resource`: the owner, or a member of the
    /// collective that owns it.
    pub fn decides_for(&self, resource: &Resource, who: &Key) -> bool {
        resource.owner == *who
            || self.collective(&resource.festival, &resource.owner).is_some_and(|c| c.members.contains(who))
    }

    /// The votes on request `q` of its resource's collective: only the latest vote of each
    /// current member, for this request's resource, counts; `None` unless a collective owns
    /// the resource.
    pub fn tally(&self, q: &Request) -> Option<Tally> {
        let r = self.resources.get(&q.resource)?;
        let c = self.collective(&r.festival, &r.owner)?;
        let mut yes = Vec::new();
        let mut no = Vec::new();
        for m in &c.members {
            match self.votes.get(&(q.id, *m)).filter(|v| v.resource == q.resource) {
                Some(v) if v.yes => yes.push(*m),
                Some(v) => no.push((*m, v.reason.clone())),
                None => {}
            }
        }
        let needed = c.rule.needed(c.members.len());
        let outcome = if yes.len() >= needed {
            Some(true)
        } else if c.members.len() - no.len() < needed {
            Some(false)
        } else {
            None
        };
        Some(Tally { rule: c.rule, members: c.members.clone(), needed, yes, no, outcome })
    }

    /// The valid request that replaces `old`, if one does.
    pub fn replacement(&self, old: &Id) -> Option<&Request> {
        self.replacements.get(old).and_then(|id| self.requests.get(id))
    }

    /// Pending requests of `resource` overlapping `frame` (holds): what a confirm of an
    /// overlapping frame would block.
    pub fn holds(&self, resource: &Id, frame: &TimeFrame) -> Vec<&Request> {
        self.requests_overlapping(resource, frame)
            .into_iter()
            .filter(|q| matches!(self.request_status(&q.id), Some(RequestStatus::Pending { .. })))
            .collect()
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

/// The keys of `table` whose id starts with the hex digits `prefix`, at most `limit`.
fn with_prefix<V: serde::de::DeserializeOwned + crate::table::StoredRow<Id>>(
    table: &crate::table::LazyTable<Id, V>,
    prefix: &str,
    limit: usize,
) -> Vec<Id> {
    // A row's key is the id as postcard writes bytes: its length, then the bytes.
    let bound = |pad: char| -> Option<Vec<u8>> {
        let mut hex: String = prefix.chars().take(128).collect();
        while hex.len() < 128 {
            hex.push(pad);
        }
        let mut key = vec![64u8];
        key.extend(hex::decode(hex).ok()?);
        Some(key)
    };
    let (Some(from), Some(to)) = (bound('0'), bound('f')) else { return Vec::new() };
    table.keys_between(&from, &to, limit)
}
