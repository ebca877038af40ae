//! Invite links: a festival's id and some addresses of peers that hold it.
//!
//! `pandafest://join?festival=<128 hex>&peer=<address>&peer=…`; the same query after
//! `#/join?` in a web address opens the web UI's join screen.

use model::Id;

use crate::error::{ApiError, ApiResult};
use crate::node::Node;

/// The WebSocket path of a node's sync endpoint.
pub const SYNC_PATH: &str = "/sync";

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Invite {
    pub festival: Id,
    pub peers: Vec<String>,
}

fn encode(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => out.push(b as char),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

fn decode(s: &str) -> Option<String> {
    let bytes = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' => {
                let hex = s.get(i + 1..i + 3)?;
                out.push(u8::from_str_radix(hex, 16).ok()?);
                i += 3;
            }
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8(out).ok()
}

impl Invite {
    pub fn to_link(&self) -> String {
        let mut link = format!("pandafest://join?festival={}", self.festival.to_hex());
        for p in &self.peers {
            link.push_str("&peer=");
            link.push_str(&encode(p));
        }
        link
    }

    /// Reads a `pandafest://join?…` link, or any URL whose query (or `#/join?` fragment)
    /// carries `festival=` and `peer=`.
    pub fn parse(link: &str) -> Result<Invite, String> {
        let query = link
            .split_once("join?")
            .map(|(_, q)| q)
            .ok_or_else(|| format!("{link:?} is not an invite link (pandafest://join?festival=…&peer=…)"))?;
        let mut festival = None;
        let mut peers = Vec::new();
        for pair in query.split('&') {
            let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
            let value = decode(value).ok_or_else(|| format!("the invite link has a broken value: {pair}"))?;
            match key {
                "festival" => {
                    festival = Some(Id::from_hex(&value).ok_or("the invite link's festival id is not 128 hex digits")?)
                }
                "peer" if !value.is_empty() => peers.push(value),
                _ => {}
            }
        }
        let festival = festival.ok_or("the invite link names no festival")?;
        Ok(Invite { festival, peers })
    }
}

/// `host:port`, `http://host:port` or `ws://host:port/sync` → the sync endpoint's URL.
pub fn ws_url(address: &str) -> String {
    let a = address.trim().trim_end_matches('/');
    let with_scheme = if let Some(rest) = a.strip_prefix("http://") {
        format!("ws://{rest}")
    } else if let Some(rest) = a.strip_prefix("https://") {
        format!("wss://{rest}")
    } else if a.starts_with("ws://") || a.starts_with("wss://") {
        a.to_string()
    } else {
        format!("ws://{a}")
    };
    if with_scheme.ends_with(SYNC_PATH) { with_scheme } else { format!("{with_scheme}{SYNC_PATH}") }
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
    }

    #[test]
    fn round_trip_and_web_form() {
        let invite = Invite {
            festival: Id(bamboo::Hash([0xab; 64])),
            peers: vec!["ws://10.0.0.2:7878/sync".into(), "fest.example:443".into()],
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
