//! A fast path for reading CBOR into `ciborium::Value`s, for the shapes that payloads and
//! sync messages are made of. ciborium reads through serde and reads headers a byte at a
//! time: reading the `Value` was two thirds of decoding an operation (1.1 of 1.6 µs, issue
//! 15), on the thread that checks signatures natively and on the browser's storing worker.
//!
//! What this reads, it reads as `ciborium::from_reader` does. Anything else (floats, tags,
//! indefinite lengths, deep nesting, malformed bytes) it leaves to ciborium, which reads
//! every CBOR item and explains what is wrong: so callers keep one reading and one set of
//! errors, and this module holds no rule of its own.

use ciborium::value::{Integer, Value};

/// Containers nested deeper than this are left to ciborium. A payload nests three deep (an
/// operation's map, a list of windows, a window), and so does a sync message's batch of
/// entries (the message, its entries, an entry); the sync protocol lets ciborium read eight
/// (`sync::wire`, which asserts that it is deeper), so whatever this reads, ciborium would too.
pub const MAX_NESTING: usize = 4;

/// The most items an array or map is given room for before they are read. A length is only
/// what the bytes claim: room for as many `Value`s (32 bytes each) as a megabyte message has
/// bytes left would be 32 MB, at each level of nesting. Beyond this the vector grows as the
/// items come (serde bounds its own preallocation the same way).
const ROOM_AHEAD: usize = 1024;

/// The first CBOR item of `bytes` and the number of bytes it took, if it is made only of
/// integers, byte and text strings, arrays and maps of definite length, booleans and null;
/// `None` otherwise: then read it with ciborium.
pub fn read(bytes: &[u8]) -> Option<(Value, usize)> {
    let mut r = Reader { bytes, at: 0 };
    let value = r.item(0)?;
    Some((value, r.at))
}

struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: u64) -> Option<&'a [u8]> {
        let end = self.at.checked_add(usize::try_from(n).ok()?)?;
        let taken = self.bytes.get(self.at..end)?;
        self.at = end;
        Some(taken)
    }

    fn argument(&mut self, info: u8) -> Option<u64> {
        Some(match info {
            0..=23 => u64::from(info),
            24 => u64::from(self.take(1)?[0]),
            25 => u64::from(u16::from_be_bytes(self.take(2)?.try_into().ok()?)),
            26 => u64::from(u32::from_be_bytes(self.take(4)?.try_into().ok()?)),
            27 => u64::from_be_bytes(self.take(8)?.try_into().ok()?),
            // Reserved, or an indefinite length.
            _ => return None,
        })
    }

    /// Items inside `nesting` containers.
    fn item(&mut self, nesting: usize) -> Option<Value> {
        let initial = *self.take(1)?.first()?;
        let (major, info) = (initial >> 5, initial & 0x1f);
        if major == 7 {
            return match info {
                20 => Some(Value::Bool(false)),
                21 => Some(Value::Bool(true)),
                22 => Some(Value::Null),
                _ => None,
            };
        }
        let n = self.argument(info)?;
        Some(match major {
            0 => Value::Integer(Integer::from(n)),
            1 => Value::Integer(Integer::try_from(-1 - i128::from(n)).ok()?),
            2 => Value::Bytes(self.take(n)?.to_vec()),
            3 => Value::Text(std::str::from_utf8(self.take(n)?).ok()?.to_owned()),
            4 | 5 if nesting >= MAX_NESTING => return None,
            4 => {
                let mut items = Vec::with_capacity(self.room(n));
                for _ in 0..n {
                    items.push(self.item(nesting + 1)?);
                }
                Value::Array(items)
            }
            5 => {
                let mut entries = Vec::with_capacity(self.room(n) / 2);
                for _ in 0..n {
                    let key = self.item(nesting + 1)?;
                    entries.push((key, self.item(nesting + 1)?));
                }
                Value::Map(entries)
            }
            // Tags.
            _ => return None,
        })
    }

    fn room(&self, claimed: u64) -> usize {
        // Each item takes a byte at least.
        usize::try_from(claimed).unwrap_or(usize::MAX).min(self.bytes.len() - self.at).min(ROOM_AHEAD)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// What ciborium reads of `bytes` with sync's recursion limit, and the bytes it took.
    fn ciborium_read(bytes: &[u8]) -> Option<(Value, usize)> {
        let mut rest = bytes;
        let value: Value = ciborium::de::from_reader_with_recursion_limit(&mut rest, 8).ok()?;
        Some((value, bytes.len() - rest.len()))
    }

    fn check(bytes: &[u8]) {
        if let Some(fast) = read(bytes) {
            assert_eq!(Some(fast), ciborium_read(bytes), "{bytes:02x?}");
        }
    }

    fn encoded(value: &Value) -> Vec<u8> {
        let mut bytes = Vec::new();
        ciborium::into_writer(value, &mut bytes).expect("encodes");
        bytes
    }

    fn values() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            any::<u64>().prop_map(|n| Value::Integer(n.into())),
            any::<i64>().prop_map(|n| Value::Integer(n.into())),
            (0..=u64::MAX).prop_map(|n| Value::Integer(Integer::try_from(-1 - i128::from(n)).unwrap())),
            prop::collection::vec(any::<u8>(), 0..80).prop_map(Value::Bytes),
            ".{0,20}".prop_map(Value::Text),
            any::<bool>().prop_map(Value::Bool),
            Just(Value::Null),
            any::<f64>().prop_map(Value::Float),
        ];
        leaf.prop_recursive(6, 64, 8, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..8).prop_map(Value::Array),
                prop::collection::vec((inner.clone(), inner), 0..6).prop_map(Value::Map),
            ]
        })
    }

    proptest! {
        #[test]
        fn what_it_reads_ciborium_reads_the_same(value in values(), trailing in prop::collection::vec(any::<u8>(), 0..4)) {
            let mut bytes = encoded(&value);
            let len = bytes.len();
            bytes.extend(trailing);
            check(&bytes);
            // Every cut and every flipped byte too.
            for cut in [0, len / 3, len / 2, len.saturating_sub(1)] {
                check(&bytes[..cut]);
            }
            for i in (0..len).step_by(len / 8 + 1) {
                let mut flipped = bytes.clone();
                flipped[i] ^= 0x20;
                check(&flipped);
            }
        }

        #[test]
        fn on_any_bytes_it_reads_as_ciborium_or_not_at_all(bytes in prop::collection::vec(any::<u8>(), 0..64)) {
            check(&bytes);
        }
    }

    #[test]
    fn it_reads_what_payloads_and_sync_messages_are_made_of() {
        let nested = Value::Array(vec![Value::Array(vec![Value::Array(vec![Value::Map(vec![(
            Value::Text("k".into()),
            Value::Bytes(vec![1; 64]),
        )])])])]);
        let shapes = [
            Value::Map(vec![
                (Value::Text("v".into()), Value::Integer(1.into())),
                (Value::Text("n".into()), Value::Integer((-300).into())),
                (Value::Text("all".into()), Value::Bool(true)),
            ]),
            nested,
            Value::Integer(u64::MAX.into()),
            Value::Text("Zeltbühne".into()),
        ];
        for value in shapes {
            let bytes = encoded(&value);
            assert_eq!(read(&bytes), Some((value, bytes.len())));
            check(&bytes);
        }
        // At every depth around sync's limit, it reads as ciborium does or leaves it.
        for depth in 0..12 {
            let nest = (0..depth).fold(Value::Integer(7.into()), |inner, _| Value::Array(vec![inner]));
            check(&encoded(&nest));
        }
        // Left to ciborium: a float, a tag, an indefinite length, five containers deep.
        for bytes in [&[0xf9, 0x3c, 0x00][..], &[0xc1, 0x00], &[0x9f, 0xff], &[0x81, 0x81, 0x81, 0x81, 0x81, 0x00]] {
            assert_eq!(read(bytes), None, "{bytes:02x?}");
        }
    }
}
