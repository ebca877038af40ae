//! VarU64: the variable-length integer of Bamboo.
//!
//! First byte < 248: the value. First byte 248 + k: k + 1 big-endian bytes follow.
//! Only the shortest encoding of a value is accepted.

/// Why a VarU64 could not be read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VarU64Error {
    /// The input ended inside the number.
    Truncated,
    /// A shorter encoding of the same value exists.
    NonCanonical,
}

/// Bytes needed to encode `n`.
pub fn encoded_len(n: u64) -> usize {
    if n < 248 { 1 } else { 1 + (8 - n.leading_zeros() as usize / 8) }
}

/// Appends the canonical encoding of `n`.
pub fn encode(n: u64, out: &mut Vec<u8>) {
    if n < 248 {
        out.push(n as u8);
        return;
    }
    let len = encoded_len(n) - 1;
    out.push(247 + len as u8);
    out.extend_from_slice(&n.to_be_bytes()[8 - len..]);
}

/// Reads one canonical VarU64 from the front of `input`; returns the value and the bytes used.
pub fn decode(input: &[u8]) -> Result<(u64, usize), VarU64Error> {
    let Some(&first) = input.first() else {
        return Err(VarU64Error::Truncated);
    };
    if first < 248 {
        return Ok((first as u64, 1));
    }
    let len = (first - 247) as usize;
    let Some(bytes) = input.get(1..1 + len) else {
        return Err(VarU64Error::Truncated);
    };
    let mut buf = [0u8; 8];
    buf[8 - len..].copy_from_slice(bytes);
    let value = u64::from_be_bytes(buf);
    if encoded_len(value) != 1 + len {
        return Err(VarU64Error::NonCanonical);
    }
    Ok((value, 1 + len))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn boundaries_round_trip() {
        for n in [0, 1, 247, 248, 255, 256, 65535, 65536, u32::MAX as u64, u64::MAX] {
            let mut out = Vec::new();
            encode(n, &mut out);
            assert_eq!(out.len(), encoded_len(n));
            assert_eq!(decode(&out), Ok((n, out.len())), "value {n}");
        }
    }

    #[test]
    fn rejects_non_canonical_encodings() {
        assert_eq!(decode(&[0xf8, 0x00]), Err(VarU64Error::NonCanonical));
        assert_eq!(decode(&[0xf8, 247]), Err(VarU64Error::NonCanonical));
        assert_eq!(decode(&[0xf8, 248]), Ok((248, 2)));
        assert_eq!(decode(&[0xf9, 0x00, 0xff]), Err(VarU64Error::NonCanonical));
        assert_eq!(decode(&[0xf9, 0x01, 0x00]), Ok((256, 3)));
        assert_eq!(decode(&[0xff, 0, 0, 0, 0, 0, 0, 0, 1]), Err(VarU64Error::NonCanonical));
    }

    #[test]
    fn rejects_truncated_input() {
        assert_eq!(decode(&[]), Err(VarU64Error::Truncated));
        assert_eq!(decode(&[0xf9, 0x01]), Err(VarU64Error::Truncated));
    }
}
