//! What nodes exchange about peers, inside a sync session's `Overlay` message for a shared
//! festival: introductions (Spray's join: a node bridges two of its peers of a festival to
//! each other) and WebRTC signalling relayed one hop. Entries are never carried here.

use bamboo::Author;
use ciborium::Value;

use crate::wire::{Fields, WireError, as_array, as_bytes_n, as_uint, parse, to_bytes};

/// The longest address a peer may advertise.
pub const MAX_ADDR_BYTES: usize = 256;
/// The largest signalling message (an SDP with its ICE candidates).
pub const MAX_SIGNAL_BYTES: usize = 16 * 1024;

/// A peer: its key (its identity, proven by the session handshake) and an address to reach
/// it (e.g. a `wss://` URL), empty when it can only be reached through others.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Peer {
    pub key: Author,
    pub addr: String,
}

impl Peer {
    pub fn new(key: Author, addr: impl Into<String>) -> Peer {
        Peer { key, addr: addr.into() }
    }
}

/// A message about peers of a festival both ends of the session share. The sender is the
/// authenticated peer of the session that carries it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum OverlayMessage {
    /// Spray's join: the sender bridges the receiver to `peer`, another peer of the festival
    /// it holds a session with (a browser opens a WebRTC connection through the sender).
    Introduce { peer: Peer },
    /// WebRTC signalling (an SDP offer or answer, as text) from `from` to `to`, relayed one
    /// hop by a peer both hold sessions with. The relay forwards it unchanged; the sync
    /// handshake on the resulting connection proves both keys, so a relay cannot pose as either.
    Signal { to: Author, from: Author, data: String },
}

mod kind {
    pub const INTRODUCE: u64 = 0;
    pub const SIGNAL: u64 = 1;
}

pub(crate) fn peer_value(p: &Peer) -> Value {
    Value::Array(vec![Value::Bytes(p.key.0.to_vec()), Value::Text(p.addr.clone())])
}

pub(crate) fn addr_of(f: &mut Fields) -> Result<String, WireError> {
    f.text("addr", MAX_ADDR_BYTES)
}

pub(crate) fn peer_of(v: Value) -> Result<Peer, WireError> {
    let mut f = Fields::new(as_array(v, "peer", usize::MAX)?, "peer");
    Ok(Peer { key: Author(as_bytes_n::<32>(f.next("key")?, "key")?), addr: addr_of(&mut f)? })
}

impl OverlayMessage {
    pub(crate) fn to_value(&self) -> Value {
        let u = |n: u64| Value::Integer(n.into());
        Value::Array(match self {
            OverlayMessage::Introduce { peer } => vec![u(kind::INTRODUCE), peer_value(peer)],
            OverlayMessage::Signal { to, from, data } => vec![
                u(kind::SIGNAL),
                Value::Bytes(to.0.to_vec()),
                Value::Bytes(from.0.to_vec()),
                Value::Text(data.clone()),
            ],
        })
    }

    pub(crate) fn from_value(v: Value) -> Result<OverlayMessage, WireError> {
        let mut f = Fields::new(as_array(v, "overlay message", usize::MAX)?, "overlay message");
        let ty = as_uint(f.next("type")?, "type")?;
        Ok(match ty {
            kind::INTRODUCE => OverlayMessage::Introduce { peer: peer_of(f.next("peer")?)? },
            kind::SIGNAL => OverlayMessage::Signal {
                to: Author(f.bytes_n::<32>("to")?),
                from: Author(f.bytes_n::<32>("from")?),
                data: f.text("data", MAX_SIGNAL_BYTES)?,
            },
            other => return Err(WireError::UnknownType(other)),
        })
    }

    /// The CBOR encoding on its own (inside a sync session it travels in an `Overlay` message).
    pub fn encode(&self) -> Vec<u8> {
        to_bytes(&self.to_value())
    }

    /// Decodes a standalone overlay message. Never panics.
    pub fn decode(bytes: &[u8], max_bytes: usize) -> Result<OverlayMessage, WireError> {
        if bytes.len() > max_bytes {
            return Err(WireError::TooLarge { len: bytes.len(), max: max_bytes.try_into().unwrap_or(u32::MAX) });
        }
        OverlayMessage::from_value(parse(bytes)?)
    }

    pub fn name(&self) -> &'static str {
        match self {
            OverlayMessage::Introduce { .. } => "Introduce",
            OverlayMessage::Signal { .. } => "Signal",
        }
    }
}
