//! The wire format: every message is one CBOR array `[major, type, fields…]`.
//!
//! Encoding is deterministic (shortest integer heads, definite lengths) so that a message
//! has one encoding and tests can pin bytes. Decoding accepts any well-formed CBOR of the
//! right shape, ignores array elements after the known fields (room for minor versions),
//! checks every count against the receiver's [`Limits`] and never panics.
//! `docs/sync.md` is the normative description.

use bamboo::Author;
use blake2::Blake2bMac;
use blake2::digest::consts::U32;
use blake2::digest::{KeyInit, Mac};
use ciborium::Value;
use thiserror::Error;

use crate::FestivalId;
use crate::overlay::OverlayMessage;

/// The wire format's major version: peers with another major version cannot talk.
/// Version 2 names festivals by [`Token`]s instead of their ids.
pub const VERSION_MAJOR: u64 = 2;
/// The minor version this code speaks: additions a peer of the same major may ignore.
/// Minor 1 adds lazy push (`Lazy`, `Note`, `Eager`), sent only to peers of minor 1 or later.
pub const VERSION_MINOR: u64 = 1;

/// Nesting deeper than any message needs is refused before it can exhaust the stack.
const MAX_DEPTH: usize = 8;
// `parse` takes what `model::cbor` reads as read; it reads only what ciborium reads within
// this limit.
const _: () = assert!(model::cbor::MAX_NESTING < MAX_DEPTH);
/// The longest reason text a `Close` may carry.
pub const MAX_REASON_BYTES: usize = 1024;

pub(crate) mod kind {
    pub const HELLO: u64 = 0;
    pub const AUTH: u64 = 1;
    pub const FESTIVALS: u64 = 2;
    pub const HAVE: u64 = 3;
    pub const PLAN: u64 = 4;
    pub const ENTRIES: u64 = 5;
    pub const CREDIT: u64 = 6;
    pub const DONE: u64 = 7;
    pub const OVERLAY: u64 = 9;
    pub const LAZY: u64 = 10;
    pub const NOTE: u64 = 11;
    pub const EAGER: u64 = 12;
    pub const CLOSE: u64 = 15;
}

/// What a peer accepts. Each side announces its own in `Hello`, sends within the other's,
/// and ends the session when the other exceeds its own.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// The largest encoded message.
    pub max_message_bytes: u32,
    /// The most entries in one `Entries` batch.
    pub max_batch_entries: u32,
    /// The most log heights in one `Have`.
    pub max_heights: u32,
    /// The most festival tokens in one `Festivals` message.
    pub max_festivals: u32,
    /// The most `Entries` batches in flight (sent, not yet credited).
    pub window: u32,
}

impl Limits {
    /// The smallest limits a peer may announce: below them some valid entry or log
    /// could not be replicated at all.
    pub const MIN: Limits =
        Limits { max_message_bytes: 64 * 1024, max_batch_entries: 1, max_heights: 16, max_festivals: 1, window: 1 };

    /// A browser peer's limits on a WebSocket: batches of up to 2048 entries in 2 MiB. A
    /// browser stores each batch in one transaction, and its commits (OPFS) cost more than a
    /// native node's. `npm run measure` (10 000 entries, 2026-12-05) synced into the browser
    /// peer in about 870 ms in batches of 1024, 740 ms of 2048, 700–730 ms of 4096 and
    /// 730–780 ms of 8192 (fewer batches overlap less with the sender); with the second
    /// worker verifying signatures, 625–700 ms of 2048 and 650–690 ms of 4096 (the same
    /// runs vary by 20 % over an hour on this machine). Of those equals, the smaller batches
    /// hold less memory (a window of 4 × 2 MiB).
    pub fn for_browser() -> Limits {
        Limits { max_message_bytes: 2 * 1024 * 1024, max_batch_entries: 2048, window: 4, ..Limits::default() }
    }

    /// These limits for a transport that carries messages of at most `max` bytes (a WebRTC
    /// data channel: Chromium's `maxMessageSize` is 256 KiB, and it drops larger messages
    /// without an error), never below [`Limits::MIN`].
    pub fn within_transport(self, max: u32) -> Limits {
        let max_message_bytes = self.max_message_bytes.min(max).max(Limits::MIN.max_message_bytes);
        Limits { max_message_bytes, ..self }
    }

    /// The limit (named as on the wire) that `self` has below [`Limits::MIN`], if any.
    pub fn below_minimum(&self) -> Option<(&'static str, u32, u32)> {
        let m = Limits::MIN;
        [
            ("max_message_bytes", self.max_message_bytes, m.max_message_bytes),
            ("max_batch_entries", self.max_batch_entries, m.max_batch_entries),
            ("max_heights", self.max_heights, m.max_heights),
            ("max_festivals", self.max_festivals, m.max_festivals),
            ("window", self.window, m.window),
        ]
        .into_iter()
        .find(|(_, value, min)| value < min)
    }
}

impl Default for Limits {
    /// 1 MiB messages, 1024 entries a batch, 8 batches in flight: at most about 8 MiB of
    /// received entries waits for verification per session. A batch is stored in one
    /// transaction, and each transaction waits for the disk: bigger batches, fewer waits.
    /// A batch's credit goes back only once its commit is on disk, and the next batch is
    /// then read, sent and checked before it can be stored: 4 batches in flight left the
    /// checking threads waiting for batches at 0.71–0.77 cores in a sync of 100,000
    /// entries, 8 at 0.81–0.85, the sync's entries flowing 3–7 % sooner (three pairs of
    /// runs, `perf`; issue 15).
    fn default() -> Limits {
        Limits {
            max_message_bytes: 1024 * 1024,
            max_batch_entries: 1024,
            max_heights: 1024,
            max_festivals: 256,
            window: 8,
        }
    }
}

/// How far one log reaches: its author, its log id, and the greatest sequence number
/// up to which every entry is held.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct LogHeight {
    pub author: Author,
    pub log_id: u64,
    pub seq: u64,
}

/// An entry as carried on the wire: its Bamboo encoding and its payload.
#[derive(Clone, PartialEq, Eq)]
pub struct WireEntry {
    pub entry: Vec<u8>,
    pub payload: Vec<u8>,
}

impl std::fmt::Debug for WireEntry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "WireEntry({} + {} bytes)", self.entry.len(), self.payload.len())
    }
}

/// A festival as one side names it to the other on one session: a BLAKE2b-256 MAC keyed
/// with the festival's id over both sides' keys and fresh nonces (`docs/sync.md` §4).
///
/// Only a peer that holds the id can compute or recognise it; it differs per session and
/// per direction, so it links nothing across sessions, and a peer cannot echo a token back
/// to pose as sharing the festival.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Token(pub [u8; 32]);

impl Token {
    /// The token by which `from` (whose `Hello` carried `from_nonce`) names `festival` to `to`.
    pub fn new(festival: &FestivalId, from: &Author, from_nonce: &[u8; 32], to: &Author, to_nonce: &[u8; 32]) -> Token {
        const CONTEXT: &[u8] = b"pandafest-sync/2 festival\0";
        let mut mac = <Blake2bMac<U32> as KeyInit>::new_from_slice(&festival.0.0).expect("64-byte keys fit BLAKE2b");
        for part in [CONTEXT, &from.0, from_nonce, &to.0, to_nonce] {
            mac.update(part);
        }
        Token(mac.finalize().into_bytes().into())
    }

    /// The first 8 hex digits, for messages.
    pub fn short(&self) -> String {
        self.0[..4].iter().map(|b| format!("{b:02x}")).collect()
    }
}

impl std::fmt::Debug for Token {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Token({})", self.short())
    }
}

/// The opening message of each side.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Hello {
    pub minor: u64,
    /// The key the sender will prove it holds.
    pub key: Author,
    /// Fresh randomness the other side must sign.
    pub nonce: [u8; 32],
    pub limits: Limits,
}

/// Why a session closes, as sent in `Close`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CloseCode {
    Normal,
    Malformed,
    Version,
    Auth,
    Limit,
    Protocol,
    Boundary,
    InvalidEntry,
    Other(u64),
}

impl CloseCode {
    pub fn to_u64(self) -> u64 {
        match self {
            CloseCode::Normal => 0,
            CloseCode::Malformed => 1,
            CloseCode::Version => 2,
            CloseCode::Auth => 3,
            CloseCode::Limit => 4,
            CloseCode::Protocol => 5,
            CloseCode::Boundary => 6,
            CloseCode::InvalidEntry => 7,
            CloseCode::Other(n) => n,
        }
    }

    pub fn from_u64(n: u64) -> CloseCode {
        match n {
            0 => CloseCode::Normal,
            1 => CloseCode::Malformed,
            2 => CloseCode::Version,
            3 => CloseCode::Auth,
            4 => CloseCode::Limit,
            5 => CloseCode::Protocol,
            6 => CloseCode::Boundary,
            7 => CloseCode::InvalidEntry,
            n => CloseCode::Other(n),
        }
    }
}

/// One message of the sync protocol.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Message {
    Hello(Hello),
    /// The signature proving the sender's key (see [`auth_message`]).
    Auth {
        signature: [u8; 64],
    },
    /// Tokens of festivals the sender wants, added to those it named before; `done` on the
    /// last message of an announcement that takes several.
    Festivals {
        tokens: Vec<Token>,
        done: bool,
    },
    /// Log heights the sender holds: its inventory, the last message with `done`.
    Have {
        festival: Token,
        heights: Vec<LogHeight>,
        done: bool,
    },
    /// What the sender is about to send for the initial catch-up.
    Plan {
        festival: Token,
        entries: u64,
        bytes: u64,
    },
    Entries {
        batch: u64,
        festival: Token,
        entries: Vec<WireEntry>,
    },
    /// The sender may send this many more batches.
    Credit {
        batches: u32,
    },
    /// The sender has sent everything its `Plan` announced.
    Done {
        festival: Token,
    },
    Overlay {
        festival: Token,
        message: OverlayMessage,
    },
    /// From now on, tell the sender of the festival's new entries by `Note` instead of
    /// pushing them (Plumtree's prune: the sender received them from someone else first).
    Lazy {
        festival: Token,
    },
    /// The sender holds these logs up to these heights (Plumtree's IHAVE, sent after `Lazy`).
    Note {
        festival: Token,
        heights: Vec<LogHeight>,
    },
    /// Push the festival's new entries again; the sender holds these heights of logs a `Note`
    /// named (Plumtree's graft: a noted entry did not come by another path in time).
    Eager {
        festival: Token,
        heights: Vec<LogHeight>,
    },
    Close {
        code: CloseCode,
        reason: String,
    },
}

/// Why bytes are not a valid message.
#[derive(Clone, Debug, PartialEq, Eq, Error)]
pub enum WireError {
    #[error("message of {len} bytes exceeds the limit of {max}")]
    TooLarge { len: usize, max: u32 },
    #[error("not CBOR: {0}")]
    NotCbor(String),
    #[error("{0} bytes after the message")]
    TrailingBytes(usize),
    #[error("a message is an array [major, type, ...]")]
    NotAMessage,
    #[error("wire version {major} is not supported (this peer speaks {VERSION_MAJOR})")]
    UnsupportedVersion { major: u64 },
    #[error("unknown message type {0}")]
    UnknownType(u64),
    #[error("a message {message} lacks its field `{field}`")]
    MissingField { message: &'static str, field: &'static str },
    #[error("field `{field}` must be {expected}")]
    WrongType { field: &'static str, expected: &'static str },
    #[error("{what}: {count} exceeds the limit of {max}")]
    TooMany { what: &'static str, count: usize, max: usize },
    #[error("sequence numbers start at 1; a height of 0 is not announced")]
    ZeroHeight,
}

/// The bytes a side signs to prove its key: a context string that no Bamboo entry can
/// start with, the verifier's nonce, the signer's key and the verifier's key.
pub fn auth_message(verifier_nonce: &[u8; 32], signer: &Author, verifier: &Author) -> Vec<u8> {
    const CONTEXT: &[u8] = b"pandafest-sync/2 auth\0";
    let mut m = Vec::with_capacity(CONTEXT.len() + 96);
    m.extend_from_slice(CONTEXT);
    m.extend_from_slice(verifier_nonce);
    m.extend_from_slice(&signer.0);
    m.extend_from_slice(&verifier.0);
    m
}

// ---------------------------------------------------------------------------------------
// Encoding

fn uint(n: u64) -> Value {
    Value::Integer(n.into())
}

fn token_value(t: &Token) -> Value {
    Value::Bytes(t.0.to_vec())
}

fn height_value(h: &LogHeight) -> Value {
    Value::Array(vec![Value::Bytes(h.author.0.to_vec()), uint(h.log_id), uint(h.seq)])
}

fn limits_value(l: &Limits) -> Value {
    Value::Array(vec![
        uint(l.max_message_bytes.into()),
        uint(l.max_batch_entries.into()),
        uint(l.max_heights.into()),
        uint(l.max_festivals.into()),
        uint(l.window.into()),
    ])
}

pub(crate) fn to_bytes(value: &Value) -> Vec<u8> {
    let mut out = Vec::new();
    ciborium::into_writer(value, &mut out).expect("writing to a Vec cannot fail");
    out
}

impl Message {
    /// The message type number on the wire.
    pub fn type_number(&self) -> u64 {
        match self {
            Message::Hello(_) => kind::HELLO,
            Message::Auth { .. } => kind::AUTH,
            Message::Festivals { .. } => kind::FESTIVALS,
            Message::Have { .. } => kind::HAVE,
            Message::Plan { .. } => kind::PLAN,
            Message::Entries { .. } => kind::ENTRIES,
            Message::Credit { .. } => kind::CREDIT,
            Message::Done { .. } => kind::DONE,
            Message::Overlay { .. } => kind::OVERLAY,
            Message::Lazy { .. } => kind::LAZY,
            Message::Note { .. } => kind::NOTE,
            Message::Eager { .. } => kind::EAGER,
            Message::Close { .. } => kind::CLOSE,
        }
    }

    /// The name used in errors and docs.
    pub fn name(&self) -> &'static str {
        type_name(self.type_number())
    }

    fn to_value(&self) -> Value {
        let mut fields = vec![uint(VERSION_MAJOR), uint(self.type_number())];
        match self {
            Message::Hello(h) => fields.extend([
                uint(h.minor),
                Value::Bytes(h.key.0.to_vec()),
                Value::Bytes(h.nonce.to_vec()),
                limits_value(&h.limits),
            ]),
            Message::Auth { signature } => fields.push(Value::Bytes(signature.to_vec())),
            Message::Festivals { tokens, done } => {
                fields.extend([Value::Array(tokens.iter().map(token_value).collect()), Value::Bool(*done)])
            }
            Message::Have { festival, heights, done } => fields.extend([
                token_value(festival),
                Value::Array(heights.iter().map(height_value).collect()),
                Value::Bool(*done),
            ]),
            Message::Plan { festival, entries, bytes } => {
                fields.extend([token_value(festival), uint(*entries), uint(*bytes)])
            }
            Message::Entries { batch, festival, entries } => fields.extend([
                uint(*batch),
                token_value(festival),
                Value::Array(
                    entries
                        .iter()
                        .map(|e| Value::Array(vec![Value::Bytes(e.entry.clone()), Value::Bytes(e.payload.clone())]))
                        .collect(),
                ),
            ]),
            Message::Credit { batches } => fields.push(uint((*batches).into())),
            Message::Done { festival } => fields.push(token_value(festival)),
            Message::Overlay { festival, message } => fields.extend([token_value(festival), message.to_value()]),
            Message::Lazy { festival } => fields.push(token_value(festival)),
            Message::Note { festival, heights } | Message::Eager { festival, heights } => {
                fields.extend([token_value(festival), Value::Array(heights.iter().map(height_value).collect())])
            }
            Message::Close { code, reason } => fields.extend([uint(code.to_u64()), Value::Text(reason.clone())]),
        }
        Value::Array(fields)
    }

    /// The deterministic CBOR encoding.
    pub fn encode(&self) -> Vec<u8> {
        match self {
            Message::Entries { batch, festival, entries } => encode_entries(*batch, festival, entries),
            _ => to_bytes(&self.to_value()),
        }
    }

    /// Whether `bytes` are a `Plan` that announces entries. A host that checks a session's
    /// batches on other threads starts once the peer announced some; reading the
    /// announcement as it arrives, rather than once the session read the messages queued
    /// before it, keeps the first batches off the session's thread. Never panics; anything
    /// larger than a `Plan` is not read.
    pub fn announces_entries(bytes: &[u8]) -> bool {
        const LARGEST_PLAN: u32 = 256;
        let limits = Limits { max_message_bytes: LARGEST_PLAN, ..Limits::MIN };
        matches!(Message::decode(bytes, &limits), Ok(Message::Plan { entries, .. }) if entries > 0)
    }

    /// Decodes one message, checking it against the receiver's `limits`. Never panics.
    pub fn decode(bytes: &[u8], limits: &Limits) -> Result<Message, WireError> {
        if bytes.len() > limits.max_message_bytes as usize {
            return Err(WireError::TooLarge { len: bytes.len(), max: limits.max_message_bytes });
        }
        let Value::Array(items) = parse(bytes)? else {
            return Err(WireError::NotAMessage);
        };
        let mut f = Fields::new(items, "message");
        let major = f.uint("major").map_err(|_| WireError::NotAMessage)?;
        let ty = f.uint("type").map_err(|_| WireError::NotAMessage)?;
        // `Close` keeps its layout in every major version, so a peer can always say why it
        // refuses; every other message of a foreign major version is refused unread.
        if major != VERSION_MAJOR && ty != kind::CLOSE {
            return Err(WireError::UnsupportedVersion { major });
        }
        f.message = type_name(ty);
        let message = match ty {
            kind::HELLO => Message::Hello(Hello {
                minor: f.uint("minor")?,
                key: Author(f.bytes_n::<32>("key")?),
                nonce: f.bytes_n::<32>("nonce")?,
                limits: f.limits()?,
            }),
            kind::AUTH => Message::Auth { signature: f.bytes_n::<64>("signature")? },
            kind::FESTIVALS => {
                let items = f.array("tokens", limits.max_festivals as usize)?;
                let tokens =
                    items.into_iter().map(|v| as_bytes_n::<32>(v, "token").map(Token)).collect::<Result<_, _>>()?;
                Message::Festivals { tokens, done: f.boolean("done")? }
            }
            kind::HAVE => {
                let festival = f.festival()?;
                let items = f.array("heights", limits.max_heights as usize)?;
                let heights = items.into_iter().map(height_of).collect::<Result<_, _>>()?;
                Message::Have { festival, heights, done: f.boolean("done")? }
            }
            kind::PLAN => {
                Message::Plan { festival: f.festival()?, entries: f.uint("entries")?, bytes: f.uint("bytes")? }
            }
            kind::ENTRIES => {
                let batch = f.uint("batch")?;
                let festival = f.festival()?;
                let items = f.array("entries", limits.max_batch_entries as usize)?;
                let entries = items.into_iter().map(entry_of).collect::<Result<_, _>>()?;
                Message::Entries { batch, festival, entries }
            }
            kind::CREDIT => {
                let batches = f.uint("batches")?;
                let batches = u32::try_from(batches)
                    .map_err(|_| WireError::WrongType { field: "batches", expected: "a 32-bit unsigned integer" })?;
                Message::Credit { batches }
            }
            kind::DONE => Message::Done { festival: f.festival()? },
            kind::OVERLAY => {
                let festival = f.festival()?;
                let message = OverlayMessage::from_value(f.next("message")?)?;
                Message::Overlay { festival, message }
            }
            kind::LAZY => Message::Lazy { festival: f.festival()? },
            kind::NOTE | kind::EAGER => {
                let festival = f.festival()?;
                let items = f.array("heights", limits.max_heights as usize)?;
                let heights = items.into_iter().map(height_of).collect::<Result<_, _>>()?;
                if ty == kind::NOTE {
                    Message::Note { festival, heights }
                } else {
                    Message::Eager { festival, heights }
                }
            }
            kind::CLOSE => {
                let code = CloseCode::from_u64(f.uint("code")?);
                let reason = f.text("reason", MAX_REASON_BYTES)?;
                Message::Close { code, reason }
            }
            other => return Err(WireError::UnknownType(other)),
        };
        Ok(message)
    }
}

pub(crate) fn type_name(ty: u64) -> &'static str {
    match ty {
        kind::HELLO => "Hello",
        kind::AUTH => "Auth",
        kind::FESTIVALS => "Festivals",
        kind::HAVE => "Have",
        kind::PLAN => "Plan",
        kind::ENTRIES => "Entries",
        kind::CREDIT => "Credit",
        kind::DONE => "Done",
        kind::OVERLAY => "Overlay",
        kind::LAZY => "Lazy",
        kind::NOTE => "Note",
        kind::EAGER => "Eager",
        kind::CLOSE => "Close",
        _ => "message",
    }
}

/// The length of a CBOR head for argument `n`.
pub(crate) fn head_len(n: u64) -> usize {
    match n {
        0..24 => 1,
        24..0x100 => 2,
        0x100..0x1_0000 => 3,
        0x1_0000..0x1_0000_0000 => 5,
        _ => 9,
    }
}

/// A CBOR head (major type and argument) in its shortest form, as ciborium writes it.
fn write_head(out: &mut Vec<u8>, major: u8, n: u64) {
    let m = major << 5;
    match n {
        0..24 => out.push(m | n as u8),
        24..0x100 => out.extend_from_slice(&[m | 24, n as u8]),
        0x100..0x1_0000 => {
            out.push(m | 25);
            out.extend_from_slice(&(n as u16).to_be_bytes());
        }
        0x1_0000..0x1_0000_0000 => {
            out.push(m | 26);
            out.extend_from_slice(&(n as u32).to_be_bytes());
        }
        _ => {
            out.push(m | 27);
            out.extend_from_slice(&n.to_be_bytes());
        }
    }
}

/// An `Entries` message's bytes, written directly: the bulk of what a node sends. Through a
/// `Value` each entry and payload was copied once more and the tree allocated and dropped,
/// 54 of the serving thread's 187 samples in a sync of 100,000 entries, 12 of 131 after (`perf`,
/// issue 15).
/// The same bytes as [`Message::to_value`]'s (`entries_are_written_as_their_value_is`).
fn encode_entries(batch: u64, festival: &Token, entries: &[WireEntry]) -> Vec<u8> {
    const ARRAY: u8 = 4;
    const BYTES: u8 = 2;
    let items = entries.iter().map(|e| entry_item_len(e.entry.len(), e.payload.len())).sum();
    let len = entries_frame_len(batch, entries.len(), items);
    let mut out = Vec::with_capacity(len);
    write_head(&mut out, ARRAY, 5);
    write_head(&mut out, 0, VERSION_MAJOR);
    write_head(&mut out, 0, kind::ENTRIES);
    write_head(&mut out, 0, batch);
    write_head(&mut out, BYTES, festival.0.len() as u64);
    out.extend_from_slice(&festival.0);
    write_head(&mut out, ARRAY, entries.len() as u64);
    for e in entries {
        write_head(&mut out, ARRAY, 2);
        write_head(&mut out, BYTES, e.entry.len() as u64);
        out.extend_from_slice(&e.entry);
        write_head(&mut out, BYTES, e.payload.len() as u64);
        out.extend_from_slice(&e.payload);
    }
    debug_assert_eq!(out.len(), len);
    out
}

/// The encoded size of an `Entries` message with `count` entries whose items (each
/// `[entry, payload]` array) take `items_len` bytes, and of one such item.
pub(crate) fn entries_frame_len(batch: u64, count: usize, items_len: usize) -> usize {
    // [major, type, batch, token, [items]]
    1 + 1 + 1 + head_len(batch) + 2 + 32 + head_len(count as u64) + items_len
}

pub(crate) fn entry_item_len(entry: usize, payload: usize) -> usize {
    1 + head_len(entry as u64) + entry + head_len(payload as u64) + payload
}

// ---------------------------------------------------------------------------------------
// Decoding

pub(crate) fn parse(bytes: &[u8]) -> Result<Value, WireError> {
    // Decoding messages through ciborium was a tenth of the storing thread in a sync of
    // 100,000 entries (`model::cbor`, issue 15).
    if let Some((value, used)) = model::cbor::read(bytes) {
        return match bytes.len() - used {
            0 => Ok(value),
            trailing => Err(WireError::TrailingBytes(trailing)),
        };
    }
    let mut rest = bytes;
    let value: Value = ciborium::de::from_reader_with_recursion_limit(&mut rest, MAX_DEPTH)
        .map_err(|e| WireError::NotCbor(e.to_string()))?;
    if !rest.is_empty() {
        return Err(WireError::TrailingBytes(rest.len()));
    }
    Ok(value)
}

/// Reads the fields of an array in order; elements after the known ones are ignored.
pub(crate) struct Fields {
    items: std::vec::IntoIter<Value>,
    pub(crate) message: &'static str,
}

impl Fields {
    pub(crate) fn new(items: Vec<Value>, message: &'static str) -> Fields {
        Fields { items: items.into_iter(), message }
    }

    pub(crate) fn next(&mut self, field: &'static str) -> Result<Value, WireError> {
        self.items.next().ok_or(WireError::MissingField { message: self.message, field })
    }

    pub(crate) fn uint(&mut self, field: &'static str) -> Result<u64, WireError> {
        as_uint(self.next(field)?, field)
    }

    pub(crate) fn boolean(&mut self, field: &'static str) -> Result<bool, WireError> {
        match self.next(field)? {
            Value::Bool(b) => Ok(b),
            _ => Err(WireError::WrongType { field, expected: "a boolean" }),
        }
    }

    pub(crate) fn bytes_n<const N: usize>(&mut self, field: &'static str) -> Result<[u8; N], WireError> {
        as_bytes_n(self.next(field)?, field)
    }

    pub(crate) fn text(&mut self, field: &'static str, max: usize) -> Result<String, WireError> {
        match self.next(field)? {
            Value::Text(t) if t.len() <= max => Ok(t),
            Value::Text(t) => Err(WireError::TooMany { what: field, count: t.len(), max }),
            _ => Err(WireError::WrongType { field, expected: "text" }),
        }
    }

    pub(crate) fn array(&mut self, field: &'static str, max: usize) -> Result<Vec<Value>, WireError> {
        as_array(self.next(field)?, field, max)
    }

    fn festival(&mut self) -> Result<Token, WireError> {
        as_bytes_n::<32>(self.next("festival")?, "festival").map(Token)
    }

    fn limits(&mut self) -> Result<Limits, WireError> {
        let items = self.array("limits", usize::MAX)?;
        let mut f = Fields::new(items, "limits");
        let mut next = |field| {
            let n = f.uint(field)?;
            u32::try_from(n).map_err(|_| WireError::WrongType { field, expected: "a 32-bit unsigned integer" })
        };
        Ok(Limits {
            max_message_bytes: next("max_message_bytes")?,
            max_batch_entries: next("max_batch_entries")?,
            max_heights: next("max_heights")?,
            max_festivals: next("max_festivals")?,
            window: next("window")?,
        })
    }
}

pub(crate) fn as_uint(v: Value, field: &'static str) -> Result<u64, WireError> {
    match v {
        Value::Integer(i) => {
            u64::try_from(i).map_err(|_| WireError::WrongType { field, expected: "an unsigned integer" })
        }
        _ => Err(WireError::WrongType { field, expected: "an unsigned integer" }),
    }
}

pub(crate) fn as_bytes_n<const N: usize>(v: Value, field: &'static str) -> Result<[u8; N], WireError> {
    let expected = match N {
        32 => "32 bytes",
        64 => "64 bytes",
        _ => "a byte string of fixed length",
    };
    match v {
        Value::Bytes(b) => b.try_into().map_err(|_| WireError::WrongType { field, expected }),
        _ => Err(WireError::WrongType { field, expected }),
    }
}

pub(crate) fn as_array(v: Value, field: &'static str, max: usize) -> Result<Vec<Value>, WireError> {
    match v {
        Value::Array(items) if items.len() <= max => Ok(items),
        Value::Array(items) => Err(WireError::TooMany { what: field, count: items.len(), max }),
        _ => Err(WireError::WrongType { field, expected: "an array" }),
    }
}

fn height_of(v: Value) -> Result<LogHeight, WireError> {
    let mut f = Fields::new(as_array(v, "height", usize::MAX)?, "height");
    let author = Author(f.bytes_n::<32>("author")?);
    let log_id = f.uint("log_id")?;
    let seq = f.uint("seq")?;
    if seq == 0 {
        return Err(WireError::ZeroHeight);
    }
    Ok(LogHeight { author, log_id, seq })
}

fn entry_of(v: Value) -> Result<WireEntry, WireError> {
    let mut f = Fields::new(as_array(v, "entry", usize::MAX)?, "entry");
    let entry = match f.next("entry")? {
        Value::Bytes(b) => b,
        _ => return Err(WireError::WrongType { field: "entry", expected: "bytes" }),
    };
    let payload = match f.next("payload")? {
        Value::Bytes(b) => b,
        _ => return Err(WireError::WrongType { field: "payload", expected: "bytes" }),
    };
    Ok(WireEntry { entry, payload })
}

#[cfg(test)]
mod tests {
    use super::*;

    // Scenario: `Entries` messages whose numbers and lengths lie on each side of every
    // boundary of CBOR's head sizes (24, 256, 65,536, 2^32).
    // Assert: the direct writer gives exactly the bytes of the message's `Value`, and the
    // size `entries_frame_len` computes.
    #[test]
    fn entries_are_written_as_their_value_is() {
        let festival = Token([7; 32]);
        let check = |m: &Message, what: &str| {
            let Message::Entries { batch, entries, .. } = m else { unreachable!() };
            let bytes = m.encode();
            assert_eq!(bytes, to_bytes(&m.to_value()), "{what}");
            let items = entries.iter().map(|e| entry_item_len(e.entry.len(), e.payload.len())).sum();
            assert_eq!(bytes.len(), entries_frame_len(*batch, entries.len(), items), "{what}");
        };
        let lens = [0, 1, 23, 24, 255, 256, 65_535, 65_536];
        for batch in [0, 23, 24, 255, 256, 65_535, 65_536, u32::MAX as u64, 1 << 32, u64::MAX] {
            let m = Message::Entries { batch, festival, entries: vec![] };
            check(&m, &format!("batch {batch}"));
        }
        for (i, &entry) in lens.iter().enumerate() {
            for &payload in &lens {
                let e = WireEntry { entry: vec![i as u8; entry], payload: vec![0xee; payload] };
                let m = Message::Entries { batch: 3, festival, entries: vec![e] };
                check(&m, &format!("entry {entry}, payload {payload}"));
            }
        }
        for count in [23, 24, 255, 256] {
            let entries = (0..count).map(|i| WireEntry { entry: vec![i as u8; i % 40], payload: vec![1] }).collect();
            let m = Message::Entries { batch: 1, festival, entries };
            check(&m, &format!("{count} entries"));
        }
    }
}
