use std::fmt;

use thiserror::Error;

use crate::Hash;

/// A field of the entry encoding, named in decode errors.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field {
    Tag,
    Author,
    LogId,
    SeqNum,
    LipmaaLink,
    Backlink,
    PayloadSize,
    PayloadHash,
    Signature,
}

impl fmt::Display for Field {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Field::Tag => "tag",
            Field::Author => "author",
            Field::LogId => "log id",
            Field::SeqNum => "sequence number",
            Field::LipmaaLink => "lipmaa link",
            Field::Backlink => "backlink",
            Field::PayloadSize => "payload size",
            Field::PayloadHash => "payload hash",
            Field::Signature => "signature",
        })
    }
}

/// Why bytes are not a well-formed entry. One variant per rule of the encoding.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum DecodeError {
    #[error("input ends inside the {0}")]
    Truncated(Field),
    #[error("tag byte {0:#04x} is neither 0x00 (entry) nor 0x01 (end of log)")]
    InvalidTag(u8),
    #[error("the {0} is not canonically encoded (a shorter VarU64 exists)")]
    NonCanonicalVarU64(Field),
    #[error("the {field} has hash type {hash_type}; only 0 (BLAKE2b-512) is allowed")]
    UnsupportedHashType { field: Field, hash_type: u64 },
    #[error("the {field} declares digest length {length}; BLAKE2b-512 needs 64")]
    UnsupportedHashLength { field: Field, length: u64 },
    #[error("sequence number 0 is invalid; logs start at 1")]
    SeqNumZero,
    #[error("entry {seq_num} must carry a lipmaa link but has none")]
    MissingLipmaaLink { seq_num: u64 },
    #[error("entry {seq_num} carries a lipmaa link it must not have")]
    ExtraLipmaaLink { seq_num: u64 },
    #[error("entry {seq_num} must carry a backlink but has none")]
    MissingBacklink { seq_num: u64 },
    #[error("entry 1 carries a link it must not have")]
    ExtraBacklink,
    #[error("{0} trailing bytes after the signature")]
    TrailingBytes(usize),
}

/// Why a well-formed entry is not valid in its log. One variant per rule of verification.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum VerifyError {
    #[error("the author is not a valid ed25519 public key")]
    InvalidAuthorKey,
    #[error("the signature does not verify")]
    InvalidSignature,
    #[error("the payload does not match the payload hash")]
    PayloadHashMismatch,
    #[error("the payload has {actual} bytes but the entry declares {declared}")]
    PayloadSizeMismatch { declared: u64, actual: u64 },
    #[error("the backlink of entry {seq_num} does not point to the known entry {}", seq_num - 1)]
    BacklinkMismatch { seq_num: u64 },
    #[error("the lipmaa link of entry {seq_num} does not point to the known entry {target}")]
    LipmaaLinkMismatch { seq_num: u64, target: u64 },
    #[error("entry {seq_num} cannot be verified: none of the entries it links to ({}) is known", links.iter().map(u64::to_string).collect::<Vec<_>>().join(", "))]
    NoPathToFirstEntry { seq_num: u64, links: Vec<u64> },
    #[error("entry {seq_num} follows the end-of-log entry {end_seq}")]
    EntryAfterEndOfLog { seq_num: u64, end_seq: u64 },
    #[error("fork: a different entry {seq_num} ({}) is already in this log", existing.to_hex())]
    Fork { seq_num: u64, existing: Hash },
    #[error("the log is frozen: its author forked it at entry {fork_seq}")]
    LogFrozenByFork { fork_seq: u64 },
    #[error("entry {successor} is known and does not link to this entry")]
    SuccessorLinkMismatch { successor: u64 },
}

/// Any reason an entry is rejected.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum Error {
    #[error(transparent)]
    Decode(#[from] DecodeError),
    #[error(transparent)]
    Verify(#[from] VerifyError),
}
