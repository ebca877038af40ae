//! Who may use the node's HTTP API: the node's own web UI and its owner's tools, nothing
//! else (`docs/security.md`).
//!
//! The API acts with the node's key, so every request other than a peer's `/sync` passes
//! [`check`]:
//! - its `Host` is one of the node's own names (loopback, the addresses it listens on,
//!   names given with `--allow-host`), which defeats DNS rebinding;
//! - an `Origin`, when sent, is the node's own (or one given with `--allow-origin`), and a
//!   browser's `Sec-Fetch-Site` is not cross-site, which defeats cross-site requests;
//! - a write (any method but GET, HEAD, OPTIONS) under `/api` carries a JSON body type, which
//!   no HTML form and no CORS-free `fetch` can send;
//! - with a token, every `/api` call carries it (compared in constant time), except the
//!   calendar feeds, which take the read-only calendar key instead.
//!
//! `/sync` is the peer protocol: anyone may connect, prove a key, and learn only festivals it
//! can name (`docs/sync.md`), so it is not behind this guard.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::{HeaderMap, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use subtle::ConstantTimeEq;

/// The largest request body: an event with every request it may make takes a few KB. A
/// request announcing more is refused before any of it is read.
pub const MAX_BODY_BYTES: usize = 256 * 1024;

/// The shortest token a node listening off loopback accepts.
pub const MIN_TOKEN_LEN: usize = 16;

/// A secret compared in constant time.
#[derive(Clone)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: String) -> Secret {
        Secret(value)
    }

    /// Whether `given` is this secret; the time taken does not depend on where they differ.
    pub fn matches(&self, given: &str) -> bool {
        self.0.as_bytes().ct_eq(given.as_bytes()).into()
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(…)")
    }
}

/// Why `serve` refuses a token.
pub fn check_token(token: &str, listen: SocketAddr) -> Result<(), String> {
    if token.is_empty() {
        return Err("the token is empty; give one of at least 16 characters, or none on loopback".into());
    }
    if !listen.ip().is_loopback() && token.chars().count() < MIN_TOKEN_LEN {
        return Err(format!(
            "a node listening on {listen} needs a token of at least {MIN_TOKEN_LEN} characters; \
             leave --token out to get a random one"
        ));
    }
    Ok(())
}

/// What the guard lets through.
#[derive(Clone, Debug)]
pub struct Policy {
    /// Host names and IP addresses (lowercase, IPv6 without brackets) this node answers to.
    pub hosts: Vec<String>,
    /// The port the node listens on: its own origins are `http://HOST:PORT`.
    pub port: u16,
    /// Further origins whose pages may call the API (`--allow-origin`), e.g. a UI served elsewhere.
    pub origins: Vec<String>,
    /// Opens the whole API, on every address (loopback is no boundary between users).
    pub token: Secret,
    /// Opens what festivals publish only: the `.ics`, frab and c3voc feeds and the programme.
    pub calendar_key: Secret,
}

impl Policy {
    /// The names a node listening on `listen` answers to: loopback names, the listening
    /// address, every address of the machine when it listens on all of them, and `extra`.
    pub fn for_listen(listen: SocketAddr, extra: &[String]) -> Vec<String> {
        let mut hosts: Vec<String> = ["localhost", "127.0.0.1", "::1"].map(String::from).to_vec();
        let ip = listen.ip();
        if ip.is_unspecified() {
            for iface in if_addrs::get_if_addrs().unwrap_or_default() {
                if ip.is_ipv6() || iface.ip().is_ipv4() {
                    hosts.push(iface.ip().to_string());
                }
            }
        } else {
            hosts.push(ip.to_string());
        }
        hosts.extend(extra.iter().map(|h| normalise_host(h)));
        hosts.sort();
        hosts.dedup();
        hosts
    }

    fn own_host(&self, host: &str) -> bool {
        let host = normalise_host(host);
        self.hosts.iter().any(|h| *h == host) || host.ends_with(".localhost")
    }

    fn own_origin(&self, origin: &str) -> bool {
        if self.origins.iter().any(|o| o.trim_end_matches('/') == origin) {
            return true;
        }
        let Ok(url) = url::Url::parse(origin) else { return false };
        url.scheme() == "http"
            && url.port_or_known_default() == Some(self.port)
            && url.host_str().is_some_and(|h| self.own_host(h))
    }
}

/// `Host` without its port, lowercase, IPv6 without brackets.
fn normalise_host(host: &str) -> String {
    let host = host.trim().to_ascii_lowercase();
    let without_port = match host.parse::<axum::http::uri::Authority>() {
        Ok(a) => a.host().to_string(),
        Err(_) => host,
    };
    let bare = without_port.trim_start_matches('[').trim_end_matches(']');
    match bare.parse::<IpAddr>() {
        Ok(ip) => ip.to_string(),
        Err(_) => bare.trim_end_matches('.').to_string(),
    }
}

fn refuse(status: StatusCode, message: &str) -> Response {
    (status, axum::Json(serde_json::json!({ "error": message }))).into_response()
}

fn header_str<'h>(headers: &'h HeaderMap, name: header::HeaderName) -> Option<&'h str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

fn query_value<'q>(query: Option<&'q str>, key: &str) -> Option<&'q str> {
    query?.split('&').find_map(|kv| kv.strip_prefix(key)?.strip_prefix('='))
}

/// The guard as middleware: refuses what [`Policy`] does not allow, before any handler runs.
pub async fn check(State(policy): State<Arc<Policy>>, request: Request, next: Next) -> Response {
    match verdict(&policy, request.method(), request.uri(), request.headers()) {
        Ok(()) => next.run(request).await,
        Err(response) => response,
    }
}

/// Why a request may not pass, as the answer to give.
fn verdict(policy: &Policy, method: &Method, uri: &axum::http::Uri, headers: &HeaderMap) -> Result<(), Response> {
    let host = header_str(headers, header::HOST).or_else(|| uri.authority().map(|a| a.as_str()));
    match host {
        Some(h) if policy.own_host(h) => {}
        Some(h) => {
            return Err(refuse(
                StatusCode::MISDIRECTED_REQUEST,
                &format!(
                    "this node does not answer to the name {:?}; use its address, or start it with --allow-host NAME",
                    h.chars().take(100).collect::<String>()
                ),
            ));
        }
        None => return Err(refuse(StatusCode::BAD_REQUEST, "a request must name the node in its Host header")),
    }
    if let Some(origin) = header_str(headers, header::ORIGIN)
        && !policy.own_origin(origin)
    {
        return Err(refuse(
            StatusCode::FORBIDDEN,
            "pages of other sites cannot use this node; its own web UI and tools without an Origin can",
        ));
    }
    let announced = header_str(headers, header::CONTENT_LENGTH).and_then(|l| l.trim().parse::<u64>().ok());
    if announced.is_some_and(|l| l > MAX_BODY_BYTES as u64) {
        return Err(refuse(
            StatusCode::PAYLOAD_TOO_LARGE,
            &format!("a request body has at most {} KiB", MAX_BODY_BYTES / 1024),
        ));
    }
    let path = uri.path();
    let api = path == "/api" || path.starts_with("/api/");
    if !api {
        return Ok(());
    }
    // Browsers say where a request comes from even when they send no Origin (a plain GET of
    // an image or a script). Following a link to a calendar feed stays possible.
    let navigating = method == Method::GET && headers.get("sec-fetch-mode").is_some_and(|m| m == "navigate");
    if headers.get("sec-fetch-site").is_some_and(|s| s == "cross-site" || s == "same-site") && !navigating {
        return Err(refuse(StatusCode::FORBIDDEN, "pages of other sites cannot use this node"));
    }
    let write = !matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS);
    if write {
        let json = header_str(headers, header::CONTENT_TYPE)
            .and_then(|c| c.split(';').next())
            .is_some_and(|c| c.trim().eq_ignore_ascii_case("application/json"));
        if !json {
            return Err(refuse(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "a call that changes something takes a JSON body: send Content-Type: application/json",
            ));
        }
    }
    let token = &policy.token;
    let bearer = header_str(headers, header::AUTHORIZATION).and_then(|v| v.strip_prefix("Bearer "));
    let given = bearer.or_else(|| query_value(uri.query(), "token"));
    if given.is_some_and(|g| token.matches(g)) {
        return Ok(());
    }
    // The read-only key opens what a festival publishes: its schedule feeds and programme.
    let published = [".ics", "/schedule.xml", "/schedule.json", "/programme"].iter().any(|end| path.ends_with(end));
    let calendar = method == Method::GET
        && published
        && query_value(uri.query(), "key").is_some_and(|k| policy.calendar_key.matches(k));
    if calendar {
        return Ok(());
    }
    Err(refuse(
        StatusCode::UNAUTHORIZED,
        "this node needs its token: open the link `pandafest serve` printed (it ends in #token=…), \
         or send Authorization: Bearer TOKEN (`pandafest token` prints it)",
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    const TOKEN: &str = "0123456789abcdef";

    fn policy() -> Policy {
        Policy {
            hosts: Policy::for_listen("127.0.0.1:7878".parse().unwrap(), &["camp.example".into()]),
            port: 7878,
            origins: vec!["http://127.0.0.1:5173".into()],
            token: Secret::new(TOKEN.into()),
            calendar_key: Secret::new("calkey".into()),
        }
    }

    fn check(policy: &Policy, method: &str, uri: &str, headers: &[(&str, &str)]) -> u16 {
        let mut map = HeaderMap::new();
        for (k, v) in headers {
            map.insert(header::HeaderName::from_bytes(k.as_bytes()).unwrap(), v.parse().unwrap());
        }
        let method = Method::from_bytes(method.as_bytes()).unwrap();
        match verdict(policy, &method, &uri.parse().unwrap(), &map) {
            Ok(()) => 200,
            Err(r) => r.status().as_u16(),
        }
    }

    #[test]
    fn hosts_origins_and_body_types() {
        let p = policy();
        let bearer = format!("Bearer {TOKEN}");
        let local = ("host", "127.0.0.1:7878");
        let json = ("content-type", "application/json; charset=utf-8");
        let cases: Vec<(&str, &str, Vec<(&str, &str)>, u16)> = vec![
            ("GET", "/api/v1/identity", vec![local], 200),
            ("GET", "/api/v1/identity", vec![("host", "localhost:7878")], 200),
            ("GET", "/api/v1/identity", vec![("host", "[::1]:7878")], 200),
            ("GET", "/api/v1/identity", vec![("host", "CAMP.example")], 200),
            ("GET", "/api/v1/identity/secret", vec![("host", "evil.example:7878")], 421),
            ("GET", "/", vec![("host", "evil.example")], 421),
            ("GET", "/api/v1/identity", vec![], 400),
            ("POST", "/api/v1/festivals", vec![local, json, ("origin", "http://127.0.0.1:7878")], 200),
            ("POST", "/api/v1/festivals", vec![local, json, ("origin", "http://localhost:7878")], 200),
            ("POST", "/api/v1/festivals", vec![local, json, ("origin", "http://127.0.0.1:5173")], 200),
            ("POST", "/api/v1/festivals", vec![local, json, ("origin", "http://evil.example")], 403),
            ("POST", "/api/v1/festivals", vec![local, json, ("origin", "http://127.0.0.1:9999")], 403),
            ("POST", "/api/v1/festivals", vec![local, json, ("origin", "null")], 403),
            ("POST", "/api/v1/festivals", vec![local, ("content-type", "text/plain")], 415),
            ("POST", "/api/v1/festivals", vec![local, ("content-type", "application/x-www-form-urlencoded")], 415),
            ("POST", "/api/v1/festivals", vec![local, ("content-type", "multipart/form-data; boundary=x")], 415),
            ("POST", "/api/v1/events/x/cancel", vec![local], 415),
            ("POST", "/api/v1/festivals", vec![local, json], 200),
            ("GET", "/api/v1/identity/secret", vec![local, ("sec-fetch-site", "cross-site")], 403),
            ("GET", "/api/v1/identity/secret", vec![local, ("sec-fetch-site", "same-origin")], 200),
            (
                "GET",
                "/api/v1/festivals/x/schedule.ics",
                vec![local, ("sec-fetch-site", "cross-site"), ("sec-fetch-mode", "navigate")],
                200,
            ),
            ("GET", "/", vec![local, ("sec-fetch-site", "cross-site")], 200),
        ];
        for (method, uri, mut headers, status) in cases {
            headers.push(("authorization", &bearer));
            assert_eq!(check(&p, method, uri, &headers), status, "{method} {uri} {headers:?}");
        }
    }

    #[test]
    fn tokens_and_calendar_keys() {
        let p = policy();
        let local = ("host", "127.0.0.1");
        assert_eq!(check(&p, "GET", "/api/v1/identity", &[local]), 401);
        assert_eq!(check(&p, "GET", "/api/v1/identity", &[local, ("authorization", "Bearer 0123456789abcdef")]), 200);
        assert_eq!(check(&p, "GET", "/api/v1/identity", &[local, ("authorization", "Bearer 0123456789abcdeF")]), 401);
        assert_eq!(check(&p, "GET", "/api/v1/stream?token=0123456789abcdef", &[local]), 200);
        assert_eq!(check(&p, "GET", "/api/v1/stream?token=", &[local]), 401);
        assert_eq!(check(&p, "GET", "/api/v1/festivals/x/schedule.ics?key=calkey", &[local]), 200);
        assert_eq!(check(&p, "GET", "/api/v1/identity?key=calkey", &[local]), 401);
        for published in ["schedule.xml", "schedule.json", "programme"] {
            let uri = format!("/api/v1/festivals/x/{published}?key=calkey");
            assert_eq!(check(&p, "GET", &uri, &[local]), 200, "{uri}");
            assert_eq!(check(&p, "GET", &uri.replace("calkey", "wrong"), &[local]), 401, "{uri}");
        }
        assert_eq!(check(&p, "GET", "/api/v1/festivals/x/events?key=calkey", &[local]), 401);
        assert_eq!(check(&p, "GET", "/", &[local]), 200, "the UI's files need no token");
    }

    #[test]
    fn tokens_are_checked_before_serving() {
        let lan: SocketAddr = "0.0.0.0:7878".parse().unwrap();
        let local: SocketAddr = "127.0.0.1:7878".parse().unwrap();
        assert!(check_token("", local).is_err());
        assert!(check_token("", lan).is_err());
        assert!(check_token("short", lan).is_err());
        assert!(check_token("short", local).is_ok());
        assert!(check_token("0123456789abcdef", lan).is_ok());
    }
}
