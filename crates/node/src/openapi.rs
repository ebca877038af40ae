//! The OpenAPI 3.1 document of the HTTP API, served at `/api/v1/openapi.json`.
//! `tests/http.rs` checks that every documented path answers and every route is documented.

use serde_json::{Value, json};

fn string() -> Value {
    json!({ "type": "string" })
}

fn nullable(t: &str) -> Value {
    json!({ "type": [t, "null"] })
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
        (
            "put",
            "/identity",
            "Set the display name",
            Some(json!({ "type": "object", "required": ["name"], "properties": { "name": string() } })),
            schema("Identity"),
            "200",
        ),
        (
            "get",
            "/identity/secret",
            "Export the secret key",
            None,
            json!({ "type": "object", "properties": { "secret_key": string() } }),
            "200",
        ),
        ("get", "/festivals", "Every festival this node holds", None, array_of("Festival"), "200"),
        ("post", "/festivals", "Create a festival", Some(schema("NewFestival")), schema("Festival"), "201"),
        ("get", "/festivals/{id}", "One festival", None, schema("Festival"), "200"),
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
        ("get", "/festivals/{id}/events", "The festival's events", None, array_of("Event"), "200"),
        (
            "post",
            "/festivals/{id}/events",
            "Create an event and its requests",
            Some(schema("NewEvent")),
            schema("Event"),
            "201",
        ),
        ("get", "/festivals/{id}/schedule", "Confirmed and pending slots", None, array_of("Slot"), "200"),
        ("get", "/festivals/{id}/schedule.ics", "The schedule as iCalendar", None, json!({ "type": "string" }), "200"),
        (
            "get",
            "/festivals/{id}/invite",
            "An invite link",
            None,
            json!({ "type": "object", "properties": { "link": string() } }),
            "200",
        ),
        (
            "post",
            "/join",
            "Join a festival from an invite link",
            Some(json!({ "type": "object", "properties": { "link": string() } })),
            schema("Festival"),
            "200",
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
        (
            "post",
            "/requests/{id}/deny",
            "Deny (owner only)",
            Some(json!({ "type": "object", "properties": { "reason": string() } })),
            schema("Request"),
            "200",
        ),
        ("post", "/requests/{id}/release", "Release a confirmed slot (owner only)", None, schema("Request"), "200"),
        ("post", "/requests/{id}/withdraw", "Withdraw (the event's organiser only)", None, schema("Request"), "200"),
        (
            "post",
            "/check",
            "Would a request for this frame be confirmable now?",
            Some(
                json!({ "type": "object", "required": ["resource", "start", "end"], "properties": { "resource": string(), "start": string(), "end": string() } }),
            ),
            schema("Check"),
            "200",
        ),
        ("get", "/ops/{id}", "The effect of one operation and the reason it had none", None, schema("Op"), "200"),
        ("get", "/sync", "Peers and how far behind they are", None, json!({ "type": "object" }), "200"),
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
    let frame = json!({ "type": "object", "properties": { "start": string(), "end": string() } });
    json!({
        "openapi": "3.1.0",
        "info": { "title": "pandafest node", "version": env!("CARGO_PKG_VERSION"),
                  "description": "Peer-to-peer planning for festivals. Times are RFC 3339; ids are 128 hex digits. Off loopback every call needs `Authorization: Bearer TOKEN`." },
        "paths": paths,
        "components": { "schemas": {
            "Error": { "type": "object", "required": ["error"], "properties": { "error": string() } },
            "Identity": { "type": "object", "properties": { "public_key": string(), "name": nullable("string"), "data_dir": string() } },
            "Festival": { "type": "object", "required": ["id", "name", "timezone"], "properties": {
                "id": string(), "name": string(), "description": string(), "timezone": string(), "parent": nullable("string"),
                "start": nullable("string"), "end": nullable("string"), "creator": string(), "creator_name": nullable("string"),
                "children": { "type": "array", "items": string() } } },
            "NewFestival": { "type": "object", "required": ["name"], "properties": {
                "name": string(), "description": string(), "timezone": string(), "parent": string(), "start": string(), "end": string() } },
            "Resource": { "type": "object", "required": ["id", "name", "kind", "policy"], "properties": {
                "id": string(), "festival": string(), "owner": string(), "owner_name": nullable("string"), "mine": { "type": "boolean" },
                "name": string(), "kind": { "enum": ["location", "thing", "skill", "other"] }, "description": string(),
                "location": { "type": ["object", "null"], "properties": { "lat": { "type": "number" }, "lon": { "type": "number" } } },
                "address": string(), "url": string(),
                "availability": { "oneOf": [ { "const": "always" }, { "type": "array", "items": frame } ] },
                "policy": string(), "retired": { "type": "boolean" } } },
            "ResourceInput": { "type": "object", "properties": {
                "name": string(), "kind": string(), "description": string(), "lat": { "type": "number" }, "lon": { "type": "number" },
                "address": string(), "url": string(), "availability": { "type": "array", "items": frame }, "policy": string() } },
            "Request": { "type": "object", "required": ["id", "event", "resource", "start", "end", "status"], "properties": {
                "id": string(), "event": string(), "event_title": nullable("string"), "resource": string(), "resource_name": nullable("string"),
                "festival": string(), "author": string(), "author_name": nullable("string"), "mine": { "type": "boolean" },
                "incoming": { "type": "boolean" }, "start": string(), "end": string(),
                "status": { "enum": ["pending", "confirmed", "denied", "released", "withdrawn", "invalid"] },
                "reason": nullable("string"), "policy": nullable("string") } },
            "NewRequest": { "type": "object", "required": ["resource"], "properties": { "resource": string(), "start": string(), "end": string() } },
            "Event": { "type": "object", "required": ["id", "title", "start", "end", "requests"], "properties": {
                "id": string(), "festival": string(), "organiser": string(), "organiser_name": nullable("string"), "mine": { "type": "boolean" },
                "title": string(), "description": string(), "start": string(), "end": string(), "cancelled": { "type": "boolean" },
                "requests": array_of("Request") } },
            "NewEvent": { "type": "object", "required": ["title", "start", "end"], "properties": {
                "title": string(), "description": string(), "start": string(), "end": string(), "requests": array_of("NewRequest") } },
            "Slot": { "type": "object", "properties": {
                "resource": string(), "resource_name": nullable("string"), "event": nullable("string"), "event_title": nullable("string"),
                "request": nullable("string"), "start": string(), "end": string(), "status": { "enum": ["confirmed", "pending", "free"] } } },
            "Calendar": { "type": "object", "properties": { "free": array_of("Slot"), "confirmed": array_of("Slot"), "pending": array_of("Slot") } },
            "Check": { "type": "object", "properties": { "free": { "type": "boolean" }, "reason": nullable("string"), "conflicts": array_of("Slot") } },
            "Op": { "type": "object", "properties": { "id": string(), "kind": string(), "author": string(), "status": string(), "reason": nullable("string") } }
        } }
    })
}
