//! Invite links: a festival's id and some addresses of peers that hold it.
//!
//! `pandafest://join?festival=<128 hex>&peer=<address>&peer=…`; the same query after
//! `#/join?` in a web address opens the web UI's join screen.

use model::Id;

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

/// Addresses at which a node listening on `listen` can be reached by others: the
/// address itself, or for an unspecified one (0.0.0.0) the machine's primary address,
/// found without sending anything.
pub fn reachable_addresses(listen: std::net::SocketAddr) -> Vec<String> {
    if !listen.ip().is_unspecified() {
        return vec![format!("ws://{listen}/sync")];
    }
    let primary = std::net::UdpSocket::bind("0.0.0.0:0")
        .and_then(|s| s.connect("192.0.2.1:9").map(|()| s))
        .and_then(|s| s.local_addr())
        .map(|a| a.ip());
    match primary {
        Ok(ip) if !ip.is_unspecified() => vec![format!("ws://{ip}:{}/sync", listen.port())],
        _ => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
