//! YAMF hashes: BLAKE2b-512 digests with their type and length prefix.

use std::fmt;

use blake2::{Blake2b512, Digest};

/// Length of a YAMF BLAKE2b-512 hash on the wire: type (0), length (64), digest.
pub const YAMF_HASH_LEN: usize = 66;

/// A BLAKE2b-512 digest: the only hash Bamboo's YAMF knows (type 0, length 64).
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Hash(pub [u8; 64]);

/// A hash table keyed by digests hashes their first 8 bytes, not all 64: the plan's tables
/// and sets are keyed by ids, and SipHash over 72 bytes (with the array's length) was about
/// 7 % of storing an import (issue 15). Equal digests have equal first bytes. A table stays
/// safe from crafted keys: its hasher is keyed, so only digests equal in their first 8 bytes
/// share a hash whatever the key, and each digest equal to a given one in 8 bytes takes
/// about 2^64 tries to make.
impl std::hash::Hash for Hash {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        state.write_u64(u64::from_le_bytes(self.0[..8].try_into().expect("8 bytes")));
    }
}

impl Hash {
    /// Hashes `bytes` with unkeyed BLAKE2b-512.
    pub fn of(bytes: &[u8]) -> Hash {
        Hash(Blake2b512::digest(bytes).into())
    }

    /// Appends the YAMF encoding: `00 40` and the digest.
    pub fn write_yamf(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&[0x00, 0x40]);
        out.extend_from_slice(&self.0);
    }

    pub fn as_bytes(&self) -> &[u8; 64] {
        &self.0
    }

    pub fn to_hex(&self) -> String {
        hex::encode(self.0)
    }

    /// Parses 128 hex digits.
    pub fn from_hex(s: &str) -> Option<Hash> {
        let mut out = [0u8; 64];
        hex::decode_to_slice(s, &mut out).ok()?;
        Some(Hash(out))
    }
}

impl fmt::Debug for Hash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Hash({}…)", &self.to_hex()[..16])
    }
}

impl fmt::Display for Hash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_hex())
    }
}
