//! The routes of `docs/api.md` as one function, so that a host without HTTP (the browser
//! peer, answering `postMessage`) serves exactly the same API as the native node.

use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::json;
use serde_json::value::RawValue;

use crate::error::{ApiError, ApiResult, ErrorKind};
use crate::node::{
    CollectiveInput, EventChange, FestivalChange, NewEvent, NewFestival, NewRequest, Node, RequestFilter,
    ResourceInput, VoteInput,
};

/// An answer: the HTTP status it would have, and its JSON body.
pub struct Answer {
    pub status: u16,
    /// The body as JSON text, written straight from the views: a `serde_json::Value` in
    /// between held a whole programme of a million-entry festival twice over (issue 15).
    pub body: Box<RawValue>,
}

impl Answer {
    /// An answer of `status` whose body is `body` as JSON.
    pub fn new(status: u16, body: &impl serde::Serialize) -> Answer {
        Answer { status, body: to_json(body) }
    }

    fn ok(body: Box<RawValue>) -> Answer {
        Answer { status: 200, body }
    }

    fn created(body: Box<RawValue>) -> Answer {
        Answer { status: 201, body }
    }

    pub fn error(e: &ApiError) -> Answer {
        let status = match e.kind {
            ErrorKind::BadInput => 400,
            ErrorKind::NotFound => 404,
            ErrorKind::Conflict => 409,
            ErrorKind::Internal => 500,
        };
        Answer::new(status, &json!({ "error": e.message }))
    }
}

fn to_json<T: serde::Serialize>(v: T) -> Box<RawValue> {
    serde_json::value::to_raw_value(&v).expect("views serialise")
}

/// The query's parameters, decoded (`form_urlencoded`: `+` is a space, `%xx` a byte).
fn query_pairs(query: &str) -> Vec<(String, String)> {
    form_urlencoded::parse(query.as_bytes()).into_owned().collect()
}

fn query_value<'q>(query: &'q [(String, String)], key: &str) -> Option<&'q str> {
    query.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str())
}

fn flag(query: &[(String, String)], key: &str) -> bool {
    query_value(query, key).is_some_and(|v| !matches!(v, "0" | "false" | "no"))
}

/// A path segment, percent-decoded; `None` if the bytes are not UTF-8.
fn segment(s: &str) -> Option<String> {
    percent_encoding::percent_decode_str(s).decode_utf8().ok().map(|c| c.into_owned())
}

/// `PUT /identity`.
#[derive(Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct NameBody {
    pub name: String,
}

/// `POST /requests/{id}/deny` (and the other decisions, which take `{}`).
#[derive(Deserialize, Default)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ReasonBody {
    pub reason: Option<String>,
}

/// `POST /check`.
#[derive(Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct CheckBody {
    pub resource: String,
    pub start: String,
    pub end: String,
}

/// `POST /join`.
#[derive(Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct JoinBody {
    pub link: String,
}

/// A request body as the call takes it, or why not; none, or an empty one, is `{}`.
pub fn parse_body<T: DeserializeOwned>(body: Option<&str>) -> ApiResult<T> {
    let text = body.filter(|b| !b.trim().is_empty()).unwrap_or("{}");
    serde_json::from_str(text)
        .map_err(|e| ApiError::bad_input(format!("the request body is not what this call takes: {e}")))
}

/// Serves one API call: `path` is what follows `/api/v1` (with its query string).
/// Returns `None` for the calls a host answers itself (the live stream, the OpenAPI
/// document, sync status, invites and joining, the calendar key), and for unknown paths
/// it answers 404 like the native node.
pub fn handle(node: &mut Node, method: &str, path: &str, payload: Option<&str>) -> Option<Answer> {
    let (path, query) = path.split_once('?').unwrap_or((path, ""));
    let query = query_pairs(query);
    let Some(segments) = path.trim_matches('/').split('/').map(segment).collect::<Option<Vec<String>>>() else {
        return Some(Answer::error(&ApiError::bad_input("the path is not UTF-8 once decoded")));
    };
    let seg: Vec<&str> = segments.iter().map(String::as_str).collect();
    if matches!(
        (method, seg.as_slice()),
        ("GET", ["stream"] | ["openapi.json"] | ["sync"] | ["festivals", _, "invite"]) | ("POST", ["join"])
    ) {
        return None;
    }
    let result: ApiResult<Answer> = (|| {
        Ok(match (method, seg.as_slice()) {
            ("GET", ["identity"]) => Answer::ok(to_json(node.identity()?)),
            ("PUT", ["identity"]) => {
                let NameBody { name } = parse_body(payload)?;
                Answer::ok(to_json(node.set_name(&name)?))
            }
            ("GET", ["identity", "secret"]) => Answer::ok(to_json(crate::views::SecretKeyView {
                secret_key: hex::encode(node.store.keypair().secret()),
            })),
            ("GET", ["festivals"]) => Answer::ok(to_json(node.festivals())),
            ("POST", ["festivals"]) => {
                Answer::created(to_json(node.create_festival(parse_body::<NewFestival>(payload)?)?))
            }
            ("GET", ["festivals", id]) => Answer::ok(to_json(node.festival(id)?)),
            ("PUT", ["festivals", id]) => {
                Answer::ok(to_json(node.update_festival(id, parse_body::<FestivalChange>(payload)?)?))
            }
            ("GET", ["festivals", id, "resources"]) => Answer::ok(to_json(node.resources(id)?)),
            ("GET", ["festivals", id, "collectives"]) => Answer::ok(to_json(node.collectives(id)?)),
            ("PUT", ["festivals", id, "collective"]) => {
                Answer::ok(to_json(node.set_collective(id, parse_body::<CollectiveInput>(payload)?)?))
            }
            ("POST", ["festivals", id, "resources"]) => {
                Answer::created(to_json(node.create_resource(id, parse_body::<ResourceInput>(payload)?)?))
            }
            ("GET", ["festivals", id, "events"]) => Answer::ok(to_json(node.events(id)?)),
            ("POST", ["festivals", id, "events"]) => {
                Answer::created(to_json(node.create_event(id, parse_body::<NewEvent>(payload)?)?))
            }
            ("GET", ["festivals", id, "schedule"]) => Answer::ok(to_json(node.schedule(id, None)?)),
            ("GET", ["festivals", id, "schedule.ics"]) => Answer::ok(to_json(json!({ "text": ical(node, id, None)? }))),
            ("GET", ["festivals", id, "schedule.xml"]) => {
                Answer::ok(to_json(json!({ "text": export(node, id, None, crate::publish::Format::Frab)? })))
            }
            ("GET", ["festivals", id, "schedule.json"]) => {
                Answer::ok(to_json(json!({ "text": export(node, id, None, crate::publish::Format::C3voc)? })))
            }
            ("GET", ["festivals", id, "programme"]) => {
                let (range, page) = programme_query(&query);
                Answer::ok(node.programme(id, range, page)?)
            }
            ("GET", ["resources", id]) => Answer::ok(to_json(node.resource(id)?)),
            ("PUT", ["resources", id]) => {
                Answer::ok(to_json(node.update_resource(id, parse_body::<ResourceInput>(payload)?)?))
            }
            ("POST", ["resources", id, "retire"]) => Answer::ok(to_json(node.retire_resource(id)?)),
            ("POST", ["resources", id, "preview"]) => {
                Answer::ok(to_json(node.preview_resource(id, parse_body::<ResourceInput>(payload)?)?))
            }
            ("GET", ["resources", id, "calendar"]) => {
                let start = query_value(&query, "start").unwrap_or("");
                let end = query_value(&query, "end").unwrap_or("");
                Answer::ok(to_json(node.calendar(id, start, end)?))
            }
            ("GET", ["resources", id, "schedule.ics"]) => {
                let festival = node.resource(id)?.festival;
                Answer::ok(to_json(json!({ "text": ical(node, &festival, Some(id))? })))
            }
            ("GET", ["events", id]) => Answer::ok(to_json(node.event(id)?)),
            ("PUT", ["events", id]) => Answer::ok(to_json(node.update_event(id, parse_body::<EventChange>(payload)?)?)),
            ("POST", ["events", id, "cancel"]) => Answer::ok(to_json(node.cancel_event(id)?)),
            ("POST", ["events", id, "requests"]) => {
                Answer::created(to_json(node.add_request(id, parse_body::<NewRequest>(payload)?)?))
            }
            ("GET", ["requests"]) => {
                let filter = RequestFilter {
                    mine: flag(&query, "mine"),
                    incoming: flag(&query, "incoming"),
                    pending: flag(&query, "pending"),
                };
                Answer::ok(to_json(node.requests(filter, query_value(&query, "festival"))?))
            }
            ("GET", ["requests", id]) => Answer::ok(to_json(node.request(id)?)),
            ("POST", ["requests", id, "vote"]) => {
                Answer::ok(to_json(node.vote(id, parse_body::<VoteInput>(payload)?)?))
            }
            ("POST", ["requests", id, verb]) => {
                let ReasonBody { reason } = parse_body(payload)?;
                Answer::ok(to_json(match *verb {
                    "confirm" => node.confirm(id)?,
                    "deny" => node.deny(id, reason)?,
                    "release" => node.release(id)?,
                    "withdraw" => node.withdraw(id)?,
                    other => return Err(ApiError::not_found(format!("no such action on a request: {other}"))),
                }))
            }
            ("POST", ["check"]) => {
                let c: CheckBody = parse_body(payload)?;
                Answer::ok(to_json(node.check(&c.resource, &c.start, &c.end)?))
            }
            ("GET", ["ops", id]) => Answer::ok(to_json(node.op(id)?)),
            ("GET", ["notices"]) => {
                let after = match query_value(&query, "after") {
                    Some(a) => Some(
                        a.parse::<i64>().map_err(|_| ApiError::bad_input(format!("after={a:?} is not a number")))?,
                    ),
                    None => None,
                };
                Answer::ok(to_json(crate::notify::notices(node, after)?))
            }
            _ => return Err(ApiError::not_found("no such API call; see /api/v1/openapi.json")),
        })
    })();
    Some(result.unwrap_or_else(|e| Answer::error(&e)))
}

/// The range (`start`, `end`) and the page (`after`, `limit`) of a programme query.
fn programme_query(query: &[(String, String)]) -> (crate::node::Pair<'_>, crate::node::Pair<'_>) {
    let value = |key| query_value(query, key);
    ((value("start"), value("end")), (value("after"), value("limit")))
}

/// `GET /festivals/{id}/programme?query`, written to `out` as it is read (see
/// [`Node::programme_to`]).
pub fn programme_to(node: &mut Node, id: &str, query: &str, out: &mut dyn std::io::Write) -> ApiResult<()> {
    let query = query_pairs(query);
    let (range, page) = programme_query(&query);
    node.programme_to(id, range, page, out)
}

/// A festival's schedule in an export format (`publish::Format`), or for iCalendar, one
/// resource's.
pub fn export(
    node: &mut Node,
    festival: &str,
    resource: Option<&str>,
    format: crate::publish::Format,
) -> ApiResult<String> {
    let mut text = Vec::new();
    export_to(node, festival, resource, format, &mut text)?;
    Ok(String::from_utf8(text).expect("the formats write UTF-8"))
}

/// [`export`], written to `out` as it is read: a page, or a day, at a time, the rows read
/// back forgotten in between. A host that sends it on as it comes (the native node spools
/// it to a file) never holds the whole schedule: 100 to 200 MB of text for a million-entry
/// festival. Nothing is written before the festival (and resource) are found.
pub fn export_to(
    node: &mut Node,
    festival: &str,
    resource: Option<&str>,
    format: crate::publish::Format,
    out: &mut dyn std::io::Write,
) -> ApiResult<()> {
    let f = node.festival(festival)?;
    let id = node.festival_id(festival)?;
    let cannot = |e: &dyn std::fmt::Display| ApiError::internal(format!("cannot write the schedule: {e}"));
    match format {
        crate::publish::Format::Ical => {
            let r = resource.map(|r| node.resource_id(r)).transpose()?;
            let name = match &r {
                Some(r) => format!("{} – {}", node.resource(&r.to_hex())?.name, f.name),
                None => f.name.clone(),
            };
            let now = crate::now();
            let mut ical = crate::publish::Ical::start(node.state(), &id, &name);
            node.each_page(
                |s, page| crate::publish::ical_events(s, &id, r.as_ref(), now, page),
                |events| {
                    ical.events(events);
                    out.write_all(ical.drain().as_bytes())
                },
            )
            .map_err(|e| cannot(&e))?;
            out.write_all(ical.finish(node.state(), r.as_ref(), now).as_bytes()).map_err(|e| cannot(&e))
        }
        // A day at a time, each day's rows read back forgotten before the next.
        crate::publish::Format::Frab => {
            // The schedule's version: how many entries this node holds (it grows with every change).
            let version = node.store.entry_count()?.to_string();
            let layout = layout(node, &id);
            let written = crate::publish::frab(&layout, &version, out, |day, w| {
                crate::publish::frab_day(node.state(), &id, &layout, day, w);
                node.store.trim();
            });
            written.map_err(|e| cannot(&e))
        }
        crate::publish::Format::C3voc => {
            let version = node.store.entry_count()?.to_string();
            let layout = layout(node, &id);
            let written = crate::publish::c3voc(&layout, &id, &version, out, |day| {
                let json = crate::publish::c3voc_day(node.state(), &id, &layout, day);
                node.store.trim();
                json
            });
            written.map_err(|e| cannot(&e))
        }
    }
}

/// The days and rooms of a known festival's programme, read a page at a time.
fn layout(node: &mut Node, festival: &model::Id) -> crate::publish::Layout {
    let mut placement = crate::publish::Placement::default();
    let read = node.each_page(
        |s, page| crate::publish::layout_page(s, festival, page),
        |page| {
            placement.add(page);
            Ok::<(), std::convert::Infallible>(())
        },
    );
    read.unwrap_or_else(|never| match never {});
    crate::publish::Layout::new(node.state(), festival, placement).expect("the festival is known")
}

/// The iCalendar text of a festival's programme, or of one resource's bookings.
pub fn ical(node: &mut Node, festival: &str, resource: Option<&str>) -> ApiResult<String> {
    export(node, festival, resource, crate::publish::Format::Ical)
}
