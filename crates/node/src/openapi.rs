//! The OpenAPI 3.1 document of the HTTP API, served at `/api/v1/openapi.json`.
//! `tests/http.rs` checks that every documented path answers and every route is documented.

use serde_json::{Value, json};

fn string() -> Value {
    json!({ "type": "string" })
}

fn schema(name: &str) -> Value {
    json!({ "$ref": format!("#/components/schemas/{name}") })
}

fn array_of(name: &str) -> Value {
    json!({ "type": "array", "items": schema(name) })
}

/// (method, path, summary, request body schema, response schema, success status)
fn operations() -> Vec<(&'static str, &'static str, &'static str, Option<Value>, Value, &'static str)> {
    vec![
        ("get", "/identity", "This node's identity", None, schema("Identity"), "200"),
        ("put", "/identity", "Set the display name", Some(schema("NameBody")), schema("Identity"), "200"),
        ("get", "/identity/secret", "Export the secret key", None, schema("SecretKey"), "200"),
        ("get", "/festivals", "Every festival this node holds", None, array_of("Festival"), "200"),
        ("post", "/festivals", "Create a festival", Some(schema("NewFestival")), schema("Festival"), "201"),
        ("get", "/festivals/{id}", "One festival", None, schema("Festival"), "200"),
        (
            "put",
            "/festivals/{id}",
            "Change a festival (its creator only; absent fields unchanged)",
            Some(schema("FestivalChange")),
            schema("Festival"),
            "200",
        ),
        (
            "get",
            "/festivals/{id}/resources",
            "Resources requestable from this festival (its own and its ancestors')",
            None,
            array_of("Resource"),
            "200",
        ),
        (
            "post",
            "/festivals/{id}/resources",
            "Create a resource",
            Some(schema("ResourceInput")),
            schema("Resource"),
            "201",
        ),
        (
            "get",
            "/festivals/{id}/events",
            "The events of the festival and of its sub-festivals held here",
            None,
            array_of("Event"),
            "200",
        ),
        (
            "post",
            "/festivals/{id}/events",
            "Create an event and its requests",
            Some(schema("NewEvent")),
            schema("Event"),
            "201",
        ),
        ("get", "/festivals/{id}/schedule", "Confirmed and pending slots", None, array_of("Slot"), "200"),
        (
            "get",
            "/festivals/{id}/schedule.ics",
            "The programme as iCalendar: one VEVENT per event (?key= the calendar key works instead of the token)",
            None,
            json!({ "type": "string" }),
            "200",
        ),
        (
            "get",
            "/festivals/{id}/schedule.xml",
            "The programme as frab/Pentabarf schedule XML (?key= the calendar key works too)",
            None,
            json!({ "type": "string" }),
            "200",
        ),
        (
            "get",
            "/festivals/{id}/schedule.json",
            "The programme as c3voc schedule.json (?key= the calendar key works too)",
            None,
            json!({ "type": "object" }),
            "200",
        ),
        (
            "get",
            "/festivals/{id}/programme",
            "The public programme: events with a confirmed booking, sub-festivals included (?key= works too; ?start=&end= only the events overlapping that range, e.g. a day; ?limit= at most that many events (1 to 1000), with `next` for &after= when more follow)",
            None,
            schema("Programme"),
            "200",
        ),
        ("get", "/festivals/{id}/invite", "An invite link", None, schema("Invite"), "200"),
        (
            "post",
            "/join",
            "Join a festival from an invite link: remembered at once, fetched from the link's peers",
            Some(schema("JoinBody")),
            schema("Joining"),
            "202",
        ),
        ("get", "/resources/{id}", "One resource", None, schema("Resource"), "200"),
        (
            "put",
            "/resources/{id}",
            "Update a resource (absent fields unchanged)",
            Some(schema("ResourceInput")),
            schema("Resource"),
            "200",
        ),
        ("post", "/resources/{id}/retire", "Retire a resource", None, schema("Resource"), "200"),
        (
            "post",
            "/resources/{id}/preview",
            "What an update with these fields would mean for others; signs nothing",
            Some(schema("ResourceInput")),
            schema("ResourceChange"),
            "200",
        ),
        (
            "get",
            "/resources/{id}/calendar",
            "Free, confirmed and pending time within ?start=&end=",
            None,
            schema("Calendar"),
            "200",
        ),
        (
            "get",
            "/resources/{id}/schedule.ics",
            "A resource's schedule as iCalendar",
            None,
            json!({ "type": "string" }),
            "200",
        ),
        ("get", "/events/{id}", "One event with its requests", None, schema("Event"), "200"),
        (
            "put",
            "/events/{id}",
            "Change an event (its organiser only); requests that no longer fit move with it, replacing the old ones; with preview, only say what would change",
            Some(schema("EventChange")),
            schema("EventUpdate"),
            "200",
        ),
        ("post", "/events/{id}/cancel", "Cancel an event", None, schema("Event"), "200"),
        (
            "post",
            "/events/{id}/requests",
            "Request a resource for an event",
            Some(schema("NewRequest")),
            schema("Request"),
            "201",
        ),
        (
            "get",
            "/requests",
            "Requests, filtered by ?mine=1&incoming=1&pending=1&festival=ID",
            None,
            array_of("Request"),
            "200",
        ),
        ("get", "/requests/{id}", "One request", None, schema("Request"), "200"),
        (
            "post",
            "/requests/{id}/confirm",
            "Confirm (owner only); 409 with the reason if a rule forbids it",
            None,
            schema("Request"),
            "200",
        ),
        ("post", "/requests/{id}/deny", "Deny (owner only)", Some(schema("ReasonBody")), schema("Request"), "200"),
        ("post", "/requests/{id}/release", "Release a confirmed slot (owner only)", None, schema("Request"), "200"),
        ("post", "/requests/{id}/withdraw", "Withdraw (the event's organiser only)", None, schema("Request"), "200"),
        (
            "post",
            "/requests/{id}/vote",
            "A member's vote on a request for a collective's resource; the collective's node decides by its rule",
            Some(schema("VoteInput")),
            schema("Request"),
            "200",
        ),
        (
            "get",
            "/festivals/{id}/collectives",
            "The festival's collectives: their members and rules",
            None,
            array_of("Collective"),
            "200",
        ),
        (
            "put",
            "/festivals/{id}/collective",
            "Make this node's key a collective: its members vote, its node decides (set the resources' policy to collective)",
            Some(schema("CollectiveInput")),
            schema("Collective"),
            "200",
        ),
        (
            "post",
            "/check",
            "Would a request for this frame be confirmable now?",
            Some(schema("CheckBody")),
            schema("Check"),
            "200",
        ),
        ("get", "/ops/{id}", "The effect of one operation and the reason it had none", None, schema("Op"), "200"),
        (
            "get",
            "/notices",
            "What the owner should hear about in entries received after ?after=SEQ (without it: none, and where they start)",
            None,
            schema("Notices"),
            "200",
        ),
        ("get", "/sync", "Peers and how far behind they are", None, schema("SyncStatus"), "200"),
        (
            "get",
            "/stream",
            "Server-sent events: `change` with {festivals, kinds}",
            None,
            json!({ "type": "string" }),
            "200",
        ),
        ("get", "/openapi.json", "This document", None, json!({ "type": "object" }), "200"),
    ]
}

/// Documented (method, path) pairs, for tests.
pub fn documented() -> Vec<(&'static str, &'static str)> {
    operations().into_iter().map(|(m, p, ..)| (m, p)).collect()
}

/// The document: the routes above, with the schemas of the types the node answers with and
/// takes (`service::views`, `service::api`, `service::node`), generated from those types.
pub fn document() -> Value {
    let mut paths = serde_json::Map::new();
    for (method, path, summary, request, response, status) in operations() {
        let mut op = json!({
            "summary": summary,
            "responses": {
                status: { "description": "success", "content": { "application/json": { "schema": response } } },
                "default": { "description": "an error", "content": { "application/json": { "schema": schema("Error") } } }
            }
        });
        if path.contains("{id}") {
            op["parameters"] = json!([{ "name": "id", "in": "path", "required": true, "description": "a full id or a unique prefix of at least 6 hex digits", "schema": string() }]);
        }
        if let Some(body) = request {
            op["requestBody"] = json!({ "required": true, "content": { "application/json": { "schema": body } } });
        }
        let entry = paths.entry(format!("/api/v1{path}")).or_insert_with(|| json!({}));
        entry[method] = op;
    }
    json!({
        "openapi": "3.1.0",
        "info": { "title": "pandafest node", "version": env!("CARGO_PKG_VERSION"),
                  "description": "Peer-to-peer planning for festivals. Times are RFC 3339; ids are 128 hex digits. Every call needs `Authorization: Bearer TOKEN` (docs/security.md)." },
        "paths": paths,
        "components": { "schemas": schemas() },
    })
}

/// The schema of every type the API takes or answers with, by the name the document uses.
fn schemas() -> Value {
    use service::api::{CheckBody, JoinBody, NameBody, ReasonBody};
    use service::hub::{Direction, PeerStatus};
    use service::node::{
        AlwaysWord, AvailabilityInput, CapacityValue, CollectiveInput, DailyInput, EventChange, FestivalChange,
        FrameInput, NewEvent, NewFestival, NewRequest, ResourceInput, UnlimitedWord, VoteInput,
    };
    use service::views::*;
    let components = utoipa::openapi::ComponentsBuilder::new()
        .schema_from::<IdentityView>()
        .schema_from::<FestivalView>()
        .schema_from::<GeoView>()
        .schema_from::<FrameView>()
        .schema_from::<Always>()
        .schema_from::<AvailabilityView>()
        .schema_from::<ResourceView>()
        .schema_from::<RequestView>()
        .schema_from::<EventView>()
        .schema_from::<SlotView>()
        .schema_from::<CalendarView>()
        .schema_from::<LoadView>()
        .schema_from::<CollectiveInput>()
        .schema_from::<VoteInput>()
        .schema_from::<CollectiveView>()
        .schema_from::<MemberView>()
        .schema_from::<VotesView>()
        .schema_from::<VoteAgainstView>()
        .schema_from::<CapacityValue>()
        .schema_from::<UnlimitedWord>()
        .schema_from::<CheckView>()
        .schema_from::<MoveView>()
        .schema_from::<ProgrammeView>()
        .schema_from::<service::notify::NoticeView>()
        .schema_from::<service::notify::NoticesView>()
        .schema_from::<ProgrammeEventView>()
        .schema_from::<AffectedView>()
        .schema_from::<ResourceChangeView>()
        .schema_from::<EventUpdateView>()
        .schema_from::<FestivalChange>()
        .schema_from::<EventChange>()
        .schema_from::<OpView>()
        .schema_from::<SecretKeyView>()
        .schema_from::<InviteView>()
        .schema_from::<JoiningView>()
        .schema_from::<SyncView>()
        .schema_from::<PeerStatus>()
        .schema_from::<Direction>()
        .schema_from::<ErrorView>()
        .schema_from::<NewFestival>()
        .schema_from::<ResourceInput>()
        .schema_from::<AvailabilityInput>()
        .schema_from::<AlwaysWord>()
        .schema_from::<FrameInput>()
        .schema_from::<DailyInput>()
        .schema_from::<NewEvent>()
        .schema_from::<NewRequest>()
        .schema_from::<NameBody>()
        .schema_from::<ReasonBody>()
        .schema_from::<CheckBody>()
        .schema_from::<JoinBody>()
        .build();
    serde_json::to_value(components).expect("schemas serialise")["schemas"].take()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every `$ref` in `value`.
    fn refs(value: &Value, out: &mut Vec<String>) {
        match value {
            Value::Object(map) => {
                if let Some(Value::String(r)) = map.get("$ref") {
                    out.push(r.trim_start_matches("#/components/schemas/").to_string());
                }
                map.values().for_each(|v| refs(v, out));
            }
            Value::Array(items) => items.iter().for_each(|v| refs(v, out)),
            _ => {}
        }
    }

    // Scenario: the document as the node serves it.
    // Assert: every schema it refers to is one generated from the code's types.
    #[test]
    fn every_reference_resolves() {
        let doc = document();
        let mut all = Vec::new();
        refs(&doc, &mut all);
        let schemas = doc["components"]["schemas"].as_object().unwrap();
        for name in all {
            assert!(schemas.contains_key(&name), "the document refers to {name}, which no type defines");
        }
    }

    // Scenario: the document, and the copy the web UI's types are generated from.
    // Assert: they are the same (`UPDATE_OPENAPI=1 cargo test -p pandafest openapi` writes
    // the copy anew after a change of the API's types).
    #[test]
    fn the_web_ui_builds_from_this_document() {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../web/src/client/openapi.json");
        let now = serde_json::to_string_pretty(&document()).unwrap() + "\n";
        if std::env::var_os("UPDATE_OPENAPI").is_some() {
            std::fs::write(&path, &now).unwrap();
        }
        let committed = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(
            committed == now,
            "web/src/client/openapi.json is not the document: run UPDATE_OPENAPI=1 cargo test -p pandafest openapi"
        );
    }

    // Scenario: the routes of docs/api.md's table, and the document's.
    // Assert: the same (method, path) pairs, so the docs, the document and the router (which
    // `tests/http.rs` checks against the document) agree.
    #[test]
    fn docs_api_md_lists_the_documented_routes() {
        let text = include_str!("../../../docs/api.md");
        let mut in_docs: Vec<(String, String)> = text
            .lines()
            .filter_map(|l| l.strip_prefix("| `"))
            .filter_map(|l| l.split_once('`').map(|(route, _)| route))
            .filter_map(|route| route.split_once(" /api/v1"))
            .map(|(method, path)| (method.to_lowercase(), path.split('?').next().unwrap_or(path).to_string()))
            .collect();
        in_docs.sort();
        in_docs.dedup();
        let mut documented: Vec<(String, String)> =
            documented().into_iter().map(|(m, p)| (m.to_string(), p.to_string())).collect();
        documented.sort();
        assert_eq!(in_docs, documented);
    }
}
