//! What this node's owner should hear about, from the entries it received: a request for
//! one of their resources (or one that moved), and a decision about one of their requests.
//! The web UI turns these into browser notifications; `pandafest hook` hands them to bots
//! (mail, Matrix, Signal bridges). Both read the same notices, in the order received.

use model::op::{Decoded, Operation};
use model::{Id, RequestStatus};
use serde::Serialize;

use crate::error::ApiResult;
use crate::node::Node;
use crate::views::RequestView;

/// At most this many entries are read per call; `last` says where to go on.
pub const BATCH: usize = 500;

#[derive(Serialize, Clone, Debug)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema), schema(as = Notice))]
pub struct NoticeView {
    /// The order in which this node received the entry: ask for notices after it.
    pub seq: i64,
    /// `requested` (for your resource), `moved` (a request for your resource moved with its
    /// event), `confirmed`, `denied`, `released` (your request).
    pub kind: &'static str,
    /// One line for a person.
    pub text: String,
    pub request: RequestView,
}

#[derive(Serialize, Clone, Debug)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema), schema(as = Notices))]
pub struct NoticesView {
    pub notices: Vec<NoticeView>,
    /// The newest entry read: the `after` of the next call.
    pub last: i64,
}

/// The notices in entries received after `after`; without `after`, none, and where they
/// start now (so that a new listener is not told the past).
pub fn notices(node: &Node, after: Option<i64>) -> ApiResult<NoticesView> {
    let Some(after) = after else {
        return Ok(NoticesView { notices: Vec::new(), last: node.store.last_received() });
    };
    let s = node.state();
    let me = node.me();
    let entries = node.store.received_entries_after(after, BATCH)?;
    let last = entries.last().map_or(after, |(seq, ..)| *seq);
    let mut notices = Vec::new();
    for (seq, id, payload) in entries {
        let Decoded::Op(p) = model::op::decode(&payload) else { continue };
        let author = s.op(&id).map(|r| r.author);
        if author == Some(me) {
            continue; // what this node wrote itself is no news to its owner
        }
        let (kind, request) = match p.op {
            Operation::RequestCreate { replaces, .. } => (if replaces.is_some() { "moved" } else { "requested" }, id),
            Operation::Confirm { request, .. } => ("confirmed", request),
            Operation::Deny { request, .. } => ("denied", request),
            Operation::Release { request, .. } => ("released", request),
            _ => continue,
        };
        let Some(q) = s.request(&request) else { continue };
        let mine = q.author == me;
        let for_me = s.resource(&q.resource).is_some_and(|r| r.owner == me);
        let relevant = match kind {
            "requested" | "moved" => for_me && matches!(s.request_status(&q.id), Some(RequestStatus::Pending { .. })),
            _ => mine,
        };
        if !relevant {
            continue;
        }
        let view = RequestView::of(s, &me, q);
        notices.push(NoticeView { seq, kind, text: text(kind, &view, node, &q.festival), request: view });
    }
    Ok(NoticesView { notices, last })
}

fn text(kind: &str, q: &RequestView, node: &Node, festival: &Id) -> String {
    let tz = node.state().festival(festival).map_or("UTC".to_string(), |f| f.fields.timezone.clone());
    let when =
        |start: &str, end: &str| match (model::Timestamp::parse_rfc3339(start), model::Timestamp::parse_rfc3339(end)) {
            (Ok(a), Ok(b)) => model::TimeFrame::new(a, b).map_or_else(String::new, |f| f.to_local(&tz)),
            _ => String::new(),
        };
    let event = q.event_title.as_deref().unwrap_or("an event");
    let resource = q.resource_name.as_deref().unwrap_or("a resource");
    let who = q.author_name.as_deref().unwrap_or("someone");
    let at = when(&q.start, &q.end);
    match kind {
        "requested" => format!("{who} asks for {resource} for {event}, {at}"),
        "moved" => {
            let from = q.moved_from.as_ref().map_or_else(String::new, |f| when(&f.start, &f.end));
            format!("{event} moved: {who} asks for {resource} from {from} to {at} instead")
        }
        "confirmed" => format!("{resource} is confirmed for {event}, {at}"),
        "denied" => match &q.reason {
            Some(r) => format!("{resource} was denied for {event}, {at}: {r}"),
            None => format!("{resource} was denied for {event}, {at}"),
        },
        _ => format!("{resource} was released for {event}, {at}"),
    }
}
