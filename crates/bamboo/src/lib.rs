//! Strict Bamboo: the single-writer append-only log format pandafest is built on.
//!
//! This is the original Bamboo (YAMF hashes with BLAKE2b-512), byte-compatible with the
//! published vectors of bamboo-rs, but strict where bamboo-rs-core is lenient: one signed
//! entry has exactly one encoding and therefore exactly one hash.
//!
//! - [`Entry`]: a decoded entry; [`Entry::decode`] enforces every structural rule and
//!   reports each broken rule as its own [`DecodeError`].
//! - [`verify_signature`] / [`verify_signatures`]: ed25519 (ZIP 215 rules via ed25519-zebra)
//!   over the bytes exactly as received; the batch gives the same verdicts as single checks.
//! - [`check_in_log`]: the rules that need the rest of the log (links, end of log, forks),
//!   against any [`LogView`]; [`MemoryLogs`] is a complete in-memory verifier built on it.
//! - [`lipmaa`], [`cert_pool`], [`link_path`]: the skip-link arithmetic.
//! - [`NewEntry`] / [`LogWriter`] / [`Keypair`]: writing signed entries.
//!
//! No I/O happens here.

mod entry;
mod error;
mod hash;
mod lipmaa;
mod log;
pub mod varu64;

pub use entry::{
    Author, Entry, Keypair, MAX_ENTRY_LEN, SIGNATURE_LEN, Signature, SignatureVerifier, VERIFY_BATCH, verify_signature,
    verify_signatures,
};
pub use error::{DecodeError, Error, Field, VerifyError};
pub use hash::{Hash, YAMF_HASH_LEN};
pub use lipmaa::{cert_pool, has_lipmaa_link, link_path, lipmaa};
pub use log::{
    Accepted, Admission, BuildError, KnownEntry, LogKey, LogView, LogWriter, MemoryLog, MemoryLogs, NewEntry,
    SignedEntry, check_in_log, verify_payload,
};

#[doc(hidden)]
pub mod fuzz;
