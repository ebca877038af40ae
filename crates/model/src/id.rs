//! Identifiers: object ids are entry hashes, people are public keys.

use std::fmt;

use bamboo::{Author, Hash};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// The id of a festival, resource, event, request or operation: the hash of the entry
/// that created it. Serialised as bytes in CBOR and as hex in JSON.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Id(pub Hash);

/// A person: the ed25519 public key that signs their logs.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Key(pub Author);

impl Id {
    /// The first 8 bytes: what the plan keeps in memory to find an id it stores elsewhere
    /// (the ids a fold waits for; an allocation's slots keep 16, `alloc::Prefix`). Anyone can make two ids sharing
    /// them, so a prefix only narrows a search; the whole id decides.
    pub(crate) fn prefix(&self) -> u64 {
        u64::from_le_bytes(self.first_bytes())
    }

    /// The first `N` bytes (at most 64).
    pub(crate) fn first_bytes<const N: usize>(&self) -> [u8; N] {
        self.0.0[..N].try_into().expect("ids are 64 bytes")
    }

    pub fn to_hex(&self) -> String {
        self.0.to_hex()
    }

    pub fn from_hex(s: &str) -> Option<Id> {
        Hash::from_hex(s).map(Id)
    }

    /// The first 8 hex digits: enough for people to tell ids apart in a festival.
    pub fn short(&self) -> String {
        self.to_hex()[..8].to_string()
    }
}

impl Key {
    pub fn to_hex(&self) -> String {
        self.0.to_hex()
    }

    pub fn from_hex(s: &str) -> Option<Key> {
        Author::from_hex(s).map(Key)
    }
}

impl fmt::Display for Id {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_hex())
    }
}

impl fmt::Debug for Id {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Id({})", self.short())
    }
}

impl fmt::Display for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_hex())
    }
}

impl fmt::Debug for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Key({})", &self.to_hex()[..8])
    }
}

fn ser_bytes<S: Serializer>(bytes: &[u8], s: S) -> Result<S::Ok, S::Error> {
    if s.is_human_readable() { s.serialize_str(&hex::encode(bytes)) } else { s.serialize_bytes(bytes) }
}

fn de_bytes<'de, D: Deserializer<'de>, const N: usize>(d: D) -> Result<[u8; N], D::Error> {
    use serde::de::Error;
    if d.is_human_readable() {
        let s = String::deserialize(d)?;
        let mut out = [0u8; N];
        hex::decode_to_slice(&s, &mut out).map_err(|_| D::Error::custom(format!("expected {} hex digits", 2 * N)))?;
        Ok(out)
    } else {
        let bytes = serde_bytes_vec(d)?;
        bytes.try_into().map_err(|_| D::Error::custom(format!("expected {N} bytes")))
    }
}

pub(crate) fn serde_bytes_vec<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
    struct V;
    impl<'de> serde::de::Visitor<'de> for V {
        type Value = Vec<u8>;
        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str("bytes")
        }
        fn visit_bytes<E>(self, v: &[u8]) -> Result<Vec<u8>, E> {
            Ok(v.to_vec())
        }
        fn visit_byte_buf<E>(self, v: Vec<u8>) -> Result<Vec<u8>, E> {
            Ok(v)
        }
    }
    d.deserialize_bytes(V)
}

impl Serialize for Id {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        ser_bytes(&self.0.0, s)
    }
}

impl<'de> Deserialize<'de> for Id {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Id, D::Error> {
        de_bytes::<D, 64>(d).map(|b| Id(Hash(b)))
    }
}

impl Serialize for Key {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        ser_bytes(&self.0.0, s)
    }
}

impl<'de> Deserialize<'de> for Key {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Key, D::Error> {
        de_bytes::<D, 32>(d).map(|b| Key(Author(b)))
    }
}
