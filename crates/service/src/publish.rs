//! A festival's public programme and the formats other tools read: iCalendar (RFC 5545, one
//! VEVENT per event, by the `icalendar` crate), the frab/Pentabarf schedule XML and the c3voc
//! `schedule.json`, which offline schedule apps (Giggity, EventFahrplan, info-beamer) read.
//!
//! What is in the programme is the model's rule (`State::programme`): events that are not
//! cancelled and have a confirmed booking, never pending or denied requests. A location
//! booked for an event is where it happens (LOCATION, the frab/c3voc room); its other
//! resources are listed in the description. Ids are stable: the iCal UID and the c3voc/frab
//! `guid` come from the event's id, and SEQUENCE counts the organiser's changes.

use icalendar::{Calendar, Component, EventLike, EventStatus};
use model::op::ResourceKind;
use model::state::{Event, Resource};
use model::{Id, State, TimeFrame, Timestamp};
use quick_xml::Writer;
use quick_xml::events::{BytesDecl, BytesEnd, BytesStart, BytesText, Event as Xml};
use serde::Serialize;
use serde_json::{Value, json};
use std::collections::{BTreeMap, HashMap};

use crate::views::{ProgrammeEventView, ProgrammeView};

/// The export formats of a schedule.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Ical,
    Frab,
    C3voc,
}

impl Format {
    pub fn parse(s: &str) -> Option<Format> {
        Some(match s {
            "ical" | "ics" => Format::Ical,
            "frab" | "xml" => Format::Frab,
            "json" | "c3voc" => Format::C3voc,
            _ => return None,
        })
    }
}

/// One event of the programme, with where it happens and what else it has.
pub struct Item<'a> {
    pub event: &'a Event,
    pub locations: Vec<&'a Resource>,
    pub others: Vec<&'a Resource>,
}

/// The programme of `festival` (sub-festivals included), by start; with `cancelled`, also
/// the cancelled events that had a booking: those overlapping `within` only, and of one page
/// only; and, if more follow, where the next page starts (the last event's start and id).
fn items_page<'a>(
    s: &'a State,
    festival: &Id,
    cancelled: bool,
    within: Option<&TimeFrame>,
    page: Option<Page>,
) -> (Vec<Item<'a>>, Option<(Timestamp, Id)>) {
    let (after, limit) = page.map_or((None, usize::MAX), |p| (p.after, p.limit));
    let (items, more) = s.programme_page(festival, cancelled, within, after, limit);
    let next = if more { items.last().map(|(e, _)| (e.fields.frame.start(), e.id)) } else { None };
    let items = items
        .into_iter()
        .map(|(event, booked)| {
            let (locations, others) = booked.into_iter().partition(|r| r.fields.kind == ResourceKind::Location);
            Item { event, locations, others }
        })
        .collect();
    (items, next)
}

/// The programme as the web UI's public page shows it; with `within`, the events
/// overlapping it only (a day's page of a large festival); with `page`, at most its limit of
/// events after its cursor, and the cursor of the next page if more follow.
pub fn programme(s: &State, festival: &Id, within: Option<&TimeFrame>, page: Option<Page>) -> Option<ProgrammeView> {
    let f = s.festival(festival)?;
    let (events, next) = programme_events(s, festival, within, page);
    Some(ProgrammeView { festival: crate::views::FestivalView::of(s, f, None), events, next: next.map(cursor) })
}

/// The events of [`programme`], and where the next page starts if more follow.
pub fn programme_events(
    s: &State,
    festival: &Id,
    within: Option<&TimeFrame>,
    page: Option<Page>,
) -> (Vec<ProgrammeEventView>, Option<(Timestamp, Id)>) {
    let (items, next) = items_page(s, festival, false, within, page);
    let events = items
        .into_iter()
        .map(|i| {
            let e = i.event;
            ProgrammeEventView {
                id: e.id.to_hex(),
                festival: e.festival.to_hex(),
                festival_name: s.festival(&e.festival).map(|f| f.fields.name.clone()),
                title: e.fields.title.clone(),
                description: e.fields.description.clone(),
                start: crate::views::time(e.fields.frame.start()),
                end: crate::views::time(e.fields.frame.end()),
                organiser_name: s.display_name(Some(&e.festival), &e.organiser).map(str::to_string),
                locations: i.locations.iter().map(|r| r.fields.name.clone()).collect(),
                resources: i.others.iter().map(|r| r.fields.name.clone()).collect(),
            }
        })
        .collect();
    (events, next)
}

/// A page of the programme: the events after `after` (by start, then id), at most `limit`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Page {
    pub after: Option<(Timestamp, Id)>,
    pub limit: usize,
}

/// The most events one page holds.
pub const MAX_PAGE: usize = 1000;

impl Page {
    /// `limit` (1 to [`MAX_PAGE`]) and `after` (a page's `next`) as a client sends them.
    pub fn parse(after: Option<&str>, limit: &str) -> Result<Page, String> {
        let limit = match limit.parse::<usize>() {
            Ok(n @ 1..=MAX_PAGE) => n,
            _ => return Err(format!("limit must be a number from 1 to {MAX_PAGE}, not {limit:?}")),
        };
        let after = after
            .map(|a| {
                a.split_once('.')
                    .and_then(|(ms, id)| Some((Timestamp(ms.parse().ok()?), Id::from_hex(id)?)))
                    .ok_or_else(|| format!("{a:?} is not a programme cursor (give a page's \"next\")"))
            })
            .transpose()?;
        Ok(Page { after, limit })
    }
}

/// Where the page after an event starts: its start (milliseconds) and id, as [`Page::parse`]
/// reads it.
fn cursor((start, id): (Timestamp, Id)) -> String {
    format!("{}.{}", start.0, id.to_hex())
}

/// Text as XML 1.0 and iCalendar can carry it: descriptions may hold control characters
/// (only names are one line), which would make the whole feed unreadable; line breaks and
/// tabs stay.
fn clean(text: &str) -> String {
    text.chars().filter(|c| !c.is_control() || matches!(c, '\n' | '\t')).collect()
}

fn names(rs: &[&Resource]) -> String {
    rs.iter().map(|r| r.fields.name.as_str()).collect::<Vec<_>>().join(", ")
}

/// Where an event happens, in words: its booked locations, else the festival's name.
fn room(s: &State, i: &Item) -> String {
    if i.locations.is_empty() {
        return s.festival(&i.event.festival).map_or_else(|| "Elsewhere".to_string(), |f| f.fields.name.clone());
    }
    names(&i.locations)
}

/// The event's description, with the other resources it has.
fn description(i: &Item) -> String {
    let mut text = clean(&i.event.fields.description);
    if !i.others.is_empty() {
        if !text.is_empty() {
            text.push_str("\n\n");
        }
        text.push_str(&format!("With: {}", names(&i.others)));
    }
    text
}

/// A UUID made from an id (the first 16 bytes of its hash), as version 8 ("custom"): stable
/// across exports and peers.
fn guid(id: &Id) -> String {
    let bytes: [u8; 16] = id.0.0[..16].try_into().expect("64-byte hashes");
    uuid::Builder::from_custom_bytes(bytes).into_uuid().to_string()
}

/// A positive integer id (frab and c3voc want one) from the first 6 bytes of the id: exact
/// in JSON and unique in practice.
fn number(id: &Id) -> u64 {
    id.0.0[..6].iter().fold(0u64, |n, b| (n << 8) | u64::from(*b)) + 1
}

fn chrono_utc(t: Timestamp) -> chrono::DateTime<chrono::Utc> {
    chrono::DateTime::from_timestamp_millis(t.0).unwrap_or_default()
}

/// iCalendar of the festival's programme (or of the events that booked `resource`, with the
/// slots its owner confirmed for events not held here). Cancelled events that had a booking
/// stay in, as CANCELLED, so that subscribed calendars drop them.
///
/// Written as it is read: [`Ical::start`], then [`Ical::events`] with each page of
/// [`ical_events`], then [`Ical::finish`]. Holding every event of a million-entry festival
/// as an `icalendar::Event` before writing any took some 300 MB (issue 15).
pub struct Ical {
    text: String,
}

impl Ical {
    /// The calendar's head: its name and time zone.
    pub fn start(s: &State, festival: &Id, name: &str) -> Ical {
        let tz = s.festival(festival).map_or("UTC", |f| f.fields.timezone.as_str());
        let mut cal = Calendar::new();
        cal.name(name).timezone(tz);
        // A calendar without components: its components go before its end.
        let empty = cal.done().to_string();
        let head = empty.strip_suffix("END:VCALENDAR\r\n").expect("a calendar ends so");
        Ical { text: head.to_string() }
    }

    /// The text written since the last call, which the calendar forgets: for a host that
    /// sends it on as it comes.
    pub fn drain(&mut self) -> String {
        std::mem::take(&mut self.text)
    }

    /// A page of [`ical_events`].
    pub fn events(&mut self, events: Vec<icalendar::Event>) {
        for ev in events {
            ev.fmt_write(&mut self.text).expect("writing to a String");
        }
    }

    /// The slots `resource`'s owner confirmed for events not held here, and the end: the
    /// text not drained yet.
    pub fn finish(mut self, s: &State, resource: Option<&Id>, now: Timestamp) -> String {
        if let Some(r) = resource.and_then(|r| s.resource(r)) {
            for (frame, request) in r.alloc.active().filter(|(_, q)| s.request(q).is_none()) {
                let mut ev = icalendar::Event::new();
                ev.uid(&format!("{}@pandafest", request.to_hex()))
                    .timestamp(chrono_utc(now))
                    .summary(&format!("{} booked (an event of a sub-festival)", r.fields.name))
                    .starts(chrono_utc(frame.start()))
                    .ends(chrono_utc(frame.end()))
                    .status(EventStatus::Confirmed);
                self.events(vec![ev.done()]);
            }
        }
        self.text.push_str("END:VCALENDAR\r\n");
        self.text
    }
}

/// A page of [`Ical`]'s events (the programme's, or those that booked `resource`), and where
/// the next page starts if more follow. Cancelled events that had a booking are in, as
/// CANCELLED.
pub fn ical_events(
    s: &State,
    festival: &Id,
    resource: Option<&Id>,
    now: Timestamp,
    page: Page,
) -> (Vec<icalendar::Event>, Option<(Timestamp, Id)>) {
    let (items, next) = items_page(s, festival, true, None, Some(page));
    let events = items
        .iter()
        .filter(|i| {
            resource.is_none_or(|r| i.event.cancelled || i.locations.iter().chain(&i.others).any(|x| x.id == *r))
        })
        .map(|i| {
            let e = i.event;
            let mut ev = icalendar::Event::new();
            ev.uid(&format!("{}@pandafest", e.id.to_hex()))
                .timestamp(chrono_utc(now))
                .sequence(e.sequence)
                .summary(&e.fields.title)
                .starts(chrono_utc(e.fields.frame.start()))
                .ends(chrono_utc(e.fields.frame.end()))
                .status(if e.cancelled { EventStatus::Cancelled } else { EventStatus::Confirmed });
            if !i.locations.is_empty() {
                ev.location(&names(&i.locations));
            }
            let text = description(i);
            if !text.is_empty() {
                ev.description(&text);
            }
            if let Some(g) = i.locations.iter().find_map(|r| r.fields.geo) {
                ev.add_property("GEO", format!("{:.6};{:.6}", g.lat(), g.lon()));
            }
            ev.done()
        })
        .collect();
    (events, next)
}

/// A conference acronym as c3voc wants it (`^[a-z0-9_-][a-z0-9_]{3,}`): the name's letters
/// and digits, words joined by `_`, at least four characters.
fn acronym(name: &str, id: &Id) -> String {
    let words: Vec<String> = name
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(|w| w.to_ascii_lowercase())
        .collect();
    let mut a = words.join("_");
    if a.len() < 4 {
        a.push_str(&format!("_{}", &id.to_hex()[..6]));
    }
    a
}

/// `slug` (`^[a-z0-9_-]+[a-z0-9]$`): acronym, number, title words.
fn slug(acronym: &str, e: &Event) -> String {
    let title: Vec<String> = e
        .fields
        .title
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(|w| w.to_ascii_lowercase())
        .collect();
    let mut slug = format!("{acronym}-{}", number(&e.id));
    if !title.is_empty() {
        slug.push('-');
        slug.push_str(&title.join("-"));
    }
    slug
}

fn duration(frame: &TimeFrame) -> String {
    let minutes = (frame.end().0 - frame.start().0) / 60_000;
    format!("{:02}:{:02}", minutes / 60, minutes % 60)
}

const ISO: &str = "%Y-%m-%dT%H:%M:%S%:z";

/// A stable id for a name within a festival (a room's, a person's guid): the hash of both.
fn derived_id(festival: &Id, name: &[u8]) -> Id {
    Id(bamboo::Hash::of(&[festival.0.0.as_slice(), name].concat()))
}

/// An event's frame and room, as [`Layout::new`] takes them.
pub type Placed = (TimeFrame, String);

/// What [`Placement::add`] takes of a page of the programme.
pub fn layout_page(s: &State, festival: &Id, page: Page) -> (Vec<Placed>, Option<(Timestamp, Id)>) {
    let (items, next) = items_page(s, festival, false, None, Some(page));
    (items.iter().map(|i| (i.event.fields.frame, room(s, i))).collect(), next)
}

/// The programme as both schedule formats lay it out: its days, and its rooms in the order
/// they first come. Its events are read a day at a time ([`Layout::day`]): read whole, a
/// million-entry festival's programme and its grouping held every event and every row read,
/// and grouping it compared every event with every room (issue 15).
pub struct Layout {
    title: String,
    acronym: String,
    tz: String,
    /// The local midnights of the days, and the one after the last.
    starts: Vec<Timestamp>,
    rooms: Vec<String>,
    /// Each room's place in `rooms`.
    rank: HashMap<String, usize>,
}

/// What a first reading of the programme keeps for its [`Layout`]: its span, and its rooms
/// in the order they first come; not each event's (52,000 rooms, but 176,000 events, in the
/// bench's million-entry festival).
#[derive(Default)]
pub struct Placement {
    span: Option<(Timestamp, Timestamp)>,
    rooms: Vec<String>,
    /// Each room's place in `rooms`.
    rank: HashMap<String, usize>,
}

impl Placement {
    /// A page of [`layout_page`]; the pages come in order.
    pub fn add(&mut self, page: Vec<Placed>) {
        for (frame, room) in page {
            let (start, end) = (frame.start(), frame.end());
            self.span = Some(self.span.map_or((start, end), |(a, b)| (a.min(start), b.max(end))));
            if !self.rank.contains_key(&room) {
                self.rank.insert(room.clone(), self.rooms.len());
                self.rooms.push(room);
            }
        }
    }
}

impl Layout {
    /// The layout of `festival`'s programme from the first reading of every page. The days
    /// come from the festival's frame, or else the programme's span.
    pub fn new(s: &State, festival: &Id, Placement { span, rooms, rank }: Placement) -> Option<Layout> {
        let f = s.festival(festival)?;
        let tz = f.fields.timezone.clone();
        let span = f.fields.frame.or_else(|| span.and_then(|(start, end)| TimeFrame::new(start, end)));
        let starts = span.map(|frame| Timestamp::days_of(&frame, &tz)).unwrap_or_default();
        Some(Layout {
            title: f.fields.name.clone(),
            acronym: acronym(&f.fields.name, festival),
            tz,
            starts,
            rooms,
            rank,
        })
    }

    /// How many days the conference has.
    pub fn days(&self) -> usize {
        self.starts.len().saturating_sub(1)
    }

    /// Day `index`'s (from 0) start and end.
    fn bounds(&self, index: usize) -> (Timestamp, Timestamp) {
        (self.starts[index], self.starts[index + 1])
    }

    /// The events starting on day `index` (from 0), by room in the layout's order, each
    /// room's by start.
    fn day<'a>(&self, s: &'a State, festival: &Id, index: usize) -> Vec<(String, Vec<Item<'a>>)> {
        let (start, end) = self.bounds(index);
        let frame = TimeFrame::new(start, end).expect("a day ends after it starts");
        let (items, _) = items_page(s, festival, false, Some(&frame), None);
        let mut rooms: BTreeMap<(usize, String), Vec<Item>> = BTreeMap::new();
        for i in items.into_iter().filter(|i| (start..end).contains(&i.event.fields.frame.start())) {
            let room = room(s, &i);
            // Every room was met by `new`, from the same plan; one that was not goes last.
            let rank = self.rank.get(&room).copied().unwrap_or(usize::MAX);
            rooms.entry((rank, room)).or_default().push(i);
        }
        rooms.into_iter().map(|((_, room), events)| (room, events)).collect()
    }
}

/// The c3voc `schedule.json` (https://c3voc.de/schedule/schema.json): one conference, its
/// days, each with its rooms and their events, written to `out`. `day` makes day `index`
/// ([`c3voc_day`]), when it is written.
pub fn c3voc(
    l: &Layout,
    festival: &Id,
    version: &str,
    out: &mut dyn std::io::Write,
    day: impl FnMut(usize) -> C3vocDay,
) -> serde_json::Result<()> {
    /// The days, made one at a time as they are written.
    struct Days<F>(std::cell::RefCell<F>, usize);
    impl<F: FnMut(usize) -> C3vocDay> Serialize for Days<F> {
        fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
            use serde::ser::SerializeSeq;
            let mut seq = serializer.serialize_seq(Some(self.1))?;
            let mut day = self.0.borrow_mut();
            for index in 0..self.1 {
                seq.serialize_element(&day(index))?;
            }
            seq.end()
        }
    }
    // Fields in the order of their names, as the document was written as a `Value` before.
    #[derive(Serialize)]
    #[serde(bound(serialize = "Days<F>: Serialize"))]
    struct Conference<'a, F> {
        acronym: &'a str,
        days: Days<F>,
        #[serde(rename = "daysCount")]
        days_count: usize,
        end: String,
        /// A room is named as a person is: its guid and name. (Every combination of
        /// locations an event booked is a room: about 52,000 in the bench's million-entry
        /// festival, whose `Value`s heaptrack found the largest part of the peak, 65 MB.)
        rooms: Vec<C3vocPerson>,
        start: String,
        time_zone_name: &'a str,
        timeslot_duration: &'static str,
        title: &'a str,
    }
    #[derive(Serialize)]
    #[serde(bound(serialize = "Days<F>: Serialize"))]
    struct Schedule<'a, F> {
        conference: Conference<'a, F>,
        version: &'a str,
    }
    #[derive(Serialize)]
    #[serde(bound(serialize = "Days<F>: Serialize"))]
    struct Document<'a, F> {
        #[serde(rename = "$schema")]
        schema: &'static str,
        generator: Value,
        schedule: Schedule<'a, F>,
    }
    let date = |t: Timestamp| t.format_in(&l.tz, "%Y-%m-%d");
    let document = Document {
        schema: "https://c3voc.de/schedule/schema.json",
        generator: json!({ "name": "pandafest", "version": env!("CARGO_PKG_VERSION") }),
        schedule: Schedule {
            conference: Conference {
                acronym: &l.acronym,
                days: Days(std::cell::RefCell::new(day), l.days()),
                days_count: l.days(),
                end: l.starts.last().filter(|_| l.days() > 0).map_or(String::new(), |t| date(Timestamp(t.0 - 1))),
                rooms: l
                    .rooms
                    .iter()
                    .map(|r| C3vocPerson { guid: guid(&derived_id(festival, r.as_bytes())), name: r.clone() })
                    .collect(),
                start: l.starts.first().filter(|_| l.days() > 0).map_or(String::new(), |t| date(*t)),
                time_zone_name: &l.tz,
                timeslot_duration: "00:15",
                title: &l.title,
            },
            version,
        },
    };
    serde_json::to_writer_pretty(out, &document)
}

/// Day `index` (from 0) of [`c3voc`].
pub fn c3voc_day(s: &State, festival: &Id, l: &Layout, index: usize) -> C3vocDay {
    let person = |e: &Event| {
        let name = s
            .display_name(Some(&e.festival), &e.organiser)
            .map_or_else(|| e.organiser.to_hex()[..8].to_string(), str::to_string);
        C3vocPerson { guid: guid(&derived_id(festival, &e.organiser.0.0)), name }
    };
    let event = |room: &str, i: &Item| {
        let e = i.event;
        let start = e.fields.frame.start();
        C3vocEvent {
            r#abstract: "",
            date: start.format_in(&l.tz, ISO),
            description: description(i),
            duration: duration(&e.fields.frame),
            guid: guid(&e.id),
            id: number(&e.id),
            language: "",
            links: [],
            persons: [person(e)],
            room: room.to_string(),
            slug: slug(&l.acronym, e),
            start: start.format_in(&l.tz, "%H:%M"),
            subtitle: "",
            title: e.fields.title.clone(),
            track: None,
            r#type: "other",
            url: format!("pandafest://event/{}", e.id.to_hex()),
        }
    };
    let (start, end) = l.bounds(index);
    let rooms = l
        .day(s, festival, index)
        .into_iter()
        .map(|(room, events)| {
            let events = events.iter().map(|i| event(&room, i)).collect();
            (room, events)
        })
        .collect();
    C3vocDay {
        date: start.format_in(&l.tz, "%Y-%m-%d"),
        day_end: end.format_in(&l.tz, ISO),
        day_start: start.format_in(&l.tz, ISO),
        index: index + 1,
        rooms,
    }
}

// A c3voc day and its events as the document holds them: fields in the order of their names,
// as the schedule was written when it was a `serde_json::Value`. Structs, not `Value`s: with
// its days as `Value`s, a million-entry festival's c3voc peaked the node at 219 MB, as
// structs at 180 MB (the rooms still `Value`s).

/// A day of [`c3voc`] ([`c3voc_day`]).
#[derive(Serialize)]
pub struct C3vocDay {
    date: String,
    day_end: String,
    day_start: String,
    index: usize,
    /// By name, as a JSON object's keys were.
    rooms: BTreeMap<String, Vec<C3vocEvent>>,
}

#[derive(Serialize)]
struct C3vocEvent {
    r#abstract: &'static str,
    date: String,
    description: String,
    duration: String,
    guid: String,
    id: u64,
    language: &'static str,
    links: [(); 0],
    persons: [C3vocPerson; 1],
    room: String,
    slug: String,
    start: String,
    subtitle: &'static str,
    title: String,
    track: Option<()>,
    r#type: &'static str,
    url: String,
}

/// A person, or a room: a name and its guid.
#[derive(Serialize)]
struct C3vocPerson {
    guid: String,
    name: String,
}

/// The frab/Pentabarf schedule XML: `<schedule>` with `<conference>` and `<day>`s of
/// `<room>`s of `<event>`s, the elements offline schedule apps read, written to `out` a day
/// at a time. `day` writes day `index` ([`frab_day`]).
pub fn frab(
    l: &Layout,
    version: &str,
    out: &mut dyn std::io::Write,
    mut day: impl FnMut(usize, &mut Writer<Vec<u8>>),
) -> std::io::Result<()> {
    let mut w = Writer::new_with_indent(Vec::new(), b' ', 2);
    let write = |w: &mut Writer<Vec<u8>>, e: Xml| w.write_event(e).expect("writing to a Vec");
    // What the writer holds goes out, and the writer keeps its indentation.
    let drain = |w: &mut Writer<Vec<u8>>, out: &mut dyn std::io::Write| {
        let written = out.write_all(w.get_ref());
        w.get_mut().clear();
        written
    };
    write(&mut w, Xml::Decl(BytesDecl::new("1.0", Some("UTF-8"), None)));
    write(&mut w, Xml::Start(BytesStart::new("schedule")));
    xml_text(&mut w, "version", version);
    write(&mut w, Xml::Start(BytesStart::new("conference")));
    xml_text(&mut w, "title", &l.title);
    xml_text(&mut w, "acronym", &l.acronym);
    if l.days() > 0 {
        let (first, last) = (l.starts[0], l.starts[l.days()]);
        xml_text(&mut w, "start", &first.format_in(&l.tz, "%Y-%m-%d"));
        xml_text(&mut w, "end", &Timestamp(last.0 - 1).format_in(&l.tz, "%Y-%m-%d"));
    }
    xml_text(&mut w, "days", &l.days().to_string());
    xml_text(&mut w, "timeslot_duration", "00:15");
    write(&mut w, Xml::End(BytesEnd::new("conference")));
    for index in 0..l.days() {
        drain(&mut w, out)?;
        day(index, &mut w);
    }
    write(&mut w, Xml::End(BytesEnd::new("schedule")));
    w.get_mut().push(b'\n');
    drain(&mut w, out)
}

fn xml_text(w: &mut Writer<Vec<u8>>, name: &str, value: &str) {
    w.write_event(Xml::Start(BytesStart::new(name))).expect("writing to a Vec");
    w.write_event(Xml::Text(BytesText::new(value))).expect("writing to a Vec");
    w.write_event(Xml::End(BytesEnd::new(name))).expect("writing to a Vec");
}

/// Day `index` (from 0) of [`frab`].
pub fn frab_day(s: &State, festival: &Id, l: &Layout, index: usize, w: &mut Writer<Vec<u8>>) {
    let write = |w: &mut Writer<Vec<u8>>, e: Xml| w.write_event(e).expect("writing to a Vec");
    let (start, end) = l.bounds(index);
    let mut day = BytesStart::new("day");
    day.push_attribute(("index", (index + 1).to_string().as_str()));
    day.push_attribute(("date", start.format_in(&l.tz, "%Y-%m-%d").as_str()));
    day.push_attribute(("start", start.format_in(&l.tz, ISO).as_str()));
    day.push_attribute(("end", end.format_in(&l.tz, ISO).as_str()));
    write(w, Xml::Start(day));
    for (name, events) in l.day(s, festival, index) {
        let mut r = BytesStart::new("room");
        r.push_attribute(("name", name.as_str()));
        write(w, Xml::Start(r));
        for i in &events {
            let e = i.event;
            let mut ev = BytesStart::new("event");
            ev.push_attribute(("id", number(&e.id).to_string().as_str()));
            ev.push_attribute(("guid", guid(&e.id).as_str()));
            write(w, Xml::Start(ev));
            let start = e.fields.frame.start();
            xml_text(w, "date", &start.format_in(&l.tz, ISO));
            xml_text(w, "start", &start.format_in(&l.tz, "%H:%M"));
            xml_text(w, "duration", &duration(&e.fields.frame));
            xml_text(w, "room", &name);
            xml_text(w, "slug", &slug(&l.acronym, e));
            xml_text(w, "title", &e.fields.title);
            xml_text(w, "subtitle", "");
            xml_text(w, "track", "");
            xml_text(w, "type", "other");
            xml_text(w, "language", "");
            xml_text(w, "abstract", "");
            xml_text(w, "description", &description(i));
            write(w, Xml::Start(BytesStart::new("persons")));
            let who = s
                .display_name(Some(&e.festival), &e.organiser)
                .map_or_else(|| e.organiser.to_hex()[..8].to_string(), str::to_string);
            xml_text(w, "person", &who);
            write(w, Xml::End(BytesEnd::new("persons")));
            write(w, Xml::Empty(BytesStart::new("links")));
            write(w, Xml::End(BytesEnd::new("event")));
        }
        write(w, Xml::End(BytesEnd::new("room")));
    }
    write(w, Xml::End(BytesEnd::new("day")));
}
