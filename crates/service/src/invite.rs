//! Invite links: a festival's id and some addresses of peers that hold it.
//!
//! `pandafest://join?festival=<128 hex>&peer=<address>&peer=…`; the same query after
//! `#/join?` in a web address opens the web UI's join screen.

use model::Id;

use crate::error::{ApiError, ApiResult};
use crate::node::Node;

/// The WebSocket path of a node's sync endpoint.
pub const SYNC_PATH: &str = "/sync";

/// What a node that only this machine can reach tells the people sharing from it.
pub const LOOPBACK_HINT: &str = "only this machine can reach this node, so invite and calendar links work only here: \
     to let others in, restart it with `pandafest serve --listen 0.0.0.0:7878` (everyone on the festival's network) \
     or `--public-url https://NAME` (behind a public address or relay)";

/// Whether someone else could reach a sync address: not a loopback host.
pub fn reachable(address: &str) -> bool {
    let Some(url) = sync_url(address) else { return false };
    let Ok(uri) = url.parse::<http::Uri>() else { return false };
    let host = uri.host().unwrap_or("").trim_start_matches('[').trim_end_matches(']');
    match host.parse::<std::net::IpAddr>() {
        Ok(ip) => !ip.is_loopback() && !ip.is_unspecified(),
        Err(_) => host != "localhost" && !host.ends_with(".localhost"),
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Invite {
    pub festival: Id,
    pub peers: Vec<String>,
}

impl Invite {
    pub fn to_link(&self) -> String {
        let mut query = form_urlencoded::Serializer::new(String::new());
        query.append_pair("festival", &self.festival.to_hex());
        for p in &self.peers {
            query.append_pair("peer", p);
        }
        format!("pandafest://join?{}", query.finish())
    }

    /// Reads a `pandafest://join?…` link, or any URL whose query (or `#/join?` fragment)
    /// carries `festival=` and `peer=`. Peers that are no sync address are left out.
    pub fn parse(link: &str) -> Result<Invite, String> {
        let query = link
            .split_once("join?")
            .map(|(_, q)| q)
            .ok_or_else(|| format!("{link:?} is not an invite link (pandafest://join?festival=…&peer=…)"))?;
        let mut festival = None;
        let mut peers = Vec::new();
        for (key, value) in form_urlencoded::parse(query.as_bytes()) {
            match key.as_ref() {
                "festival" => {
                    festival = Some(Id::from_hex(&value).ok_or("the invite link's festival id is not 128 hex digits")?)
                }
                "peer" => peers.extend(sync_url(&value)),
                _ => {}
            }
        }
        let festival = festival.ok_or("the invite link names no festival")?;
        Ok(Invite { festival, peers })
    }
}

/// A node's sync endpoint from an address as people type it or links carry it:
/// `host:port`, `http(s)://host:port` or `ws(s)://host:port[/path]`; the path is `/sync`
/// unless one is given. `None` if it is no such address. The browser peer uses this rule too.
pub fn sync_url(address: &str) -> Option<String> {
    let a = address.trim();
    let with_scheme = if a.contains("://") { a.to_string() } else { format!("ws://{a}") };
    // `http::Uri` parses without the IDNA tables of `url`, which would weigh on the wasm.
    let uri: http::Uri = with_scheme.parse().ok()?;
    let scheme = match uri.scheme_str()? {
        "http" | "ws" => "ws",
        "https" | "wss" => "wss",
        _ => return None,
    };
    let authority = uri.authority().filter(|a| !a.host().is_empty())?;
    // Only host[:port]: no user info, and a port that is a port.
    let port_ok = authority.port_u16().is_some() || authority.as_str() == authority.host();
    if !port_ok || authority.as_str().contains('@') {
        return None;
    }
    let path = match uri.path_and_query().map(|p| p.as_str()) {
        None | Some("" | "/") => SYNC_PATH,
        Some(p) => p,
    };
    Some(format!("{scheme}://{authority}{path}"))
}

/// [`sync_url`], or the address as given when it is none (dialing it then says why).
pub fn ws_url(address: &str) -> String {
    sync_url(address).unwrap_or_else(|| address.trim().to_string())
}

fn setting_key(festival: &Id) -> String {
    format!("joined:{}", festival.to_hex())
}

/// Festivals this node joined by invite, with the peers it learnt them from (kept as
/// settings `joined:<id>`).
pub fn joined(node: &Node) -> Vec<(Id, Vec<String>)> {
    node.store
        .settings_with_prefix("joined:")
        .unwrap_or_default()
        .into_iter()
        .filter_map(|(id, peers)| Some((Id::from_hex(&id)?, peers.split_whitespace().map(str::to_string).collect())))
        .collect()
}

fn joined_peers(node: &Node, festival: &Id) -> ApiResult<Vec<String>> {
    Ok(node
        .store
        .setting(&setting_key(festival))?
        .map(|p| p.split_whitespace().map(str::to_string).collect())
        .unwrap_or_default())
}

/// Remembers that this node joined the festival of `link`, with its peers (as sync URLs)
/// minus `own`, this node's own addresses (a link made by a browser syncing with this very
/// node names it). Returns the festival and every peer known for it.
pub fn remember_join(node: &Node, link: &str, own: &[String]) -> ApiResult<Invite> {
    let invite = Invite::parse(link).map_err(ApiError::bad_input)?;
    let mut peers: Vec<String> = invite.peers.iter().map(|p| ws_url(p)).filter(|p| !own.contains(p)).collect();
    peers.extend(joined_peers(node, &invite.festival)?);
    peers.sort();
    peers.dedup();
    node.store.set_setting(&setting_key(&invite.festival), Some(&peers.join(" ")))?;
    Ok(Invite { festival: invite.festival, peers })
}

/// An invite to `festival` naming `peers` (this node's addresses, the peers it syncs with)
/// and the peers it learnt the festival and its parents from.
pub fn invite(node: &Node, festival: &str, peers: Vec<String>) -> ApiResult<Invite> {
    let id = node.festival_id(festival)?;
    let mut peers: Vec<String> = peers.iter().map(|p| ws_url(p)).collect();
    for f in node.state().ancestry(&id) {
        peers.extend(joined_peers(node, &f)?);
    }
    peers.sort();
    peers.dedup();
    Ok(Invite { festival: id, peers })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_become_sync_urls() {
        assert_eq!(ws_url("127.0.0.1:7878"), "ws://127.0.0.1:7878/sync");
        assert_eq!(ws_url("http://10.0.0.2:7878/"), "ws://10.0.0.2:7878/sync");
        assert_eq!(ws_url("https://fest.example"), "wss://fest.example/sync");
        assert_eq!(ws_url("ws://a:1/sync"), "ws://a:1/sync");
        assert_eq!(ws_url("[::1]:7878"), "ws://[::1]:7878/sync");
        assert_eq!(ws_url("wss://relay.example/festival/sync"), "wss://relay.example/festival/sync");
        for bad in ["", "  ", "ftp://x/", "ws://", "javascript:alert(1)", "ws://a b/"] {
            assert_eq!(sync_url(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn round_trip_and_web_form() {
        let invite = Invite {
            festival: Id(bamboo::Hash([0xab; 64])),
            peers: vec!["ws://10.0.0.2:7878/sync".into(), "wss://fest.example/sync".into()],
        };
        let link = invite.to_link();
        assert!(link.starts_with("pandafest://join?festival=abab"));
        assert_eq!(Invite::parse(&link), Ok(invite.clone()));
        let web = link.replace("pandafest://join?", "http://127.0.0.1:7878/#/join?");
        assert_eq!(Invite::parse(&web), Ok(invite));
        assert!(Invite::parse("https://example.com").is_err());
        assert!(Invite::parse("pandafest://join?festival=12").is_err());
    }
}
