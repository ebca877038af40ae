//! YAMF hashes: BLAKE2b-512 digests with their type and length prefix.

use std::fmt;

use blake2::{Blake2b512, Digest};

/// Length of a YAMF BLAKE2b-512 hash on the wire: type (0), length (64), digest.
pub const YAMF_HASH_LEN: usize = 66;

/// A BLAKE2b-512 digest: the only hash Bamboo's YAMF knows (type 0, length 64).
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Hash(pub [u8; 64]);

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
