//! The entry encoding: strict decoding, encoding, signing and signature checks.

use std::fmt;

use ed25519_zebra::{SigningKey, VerificationKey, VerificationKeyBytes};

use crate::error::{DecodeError, Field, VerifyError};
use crate::hash::{Hash, YAMF_HASH_LEN};
use crate::lipmaa::has_lipmaa_link;
use crate::varu64::{self, VarU64Error};

/// Length of the signature at the end of every entry.
pub const SIGNATURE_LEN: usize = 64;
/// The largest possible entry: tag, author, three 9-byte VarU64s, three hashes, signature.
pub const MAX_ENTRY_LEN: usize = 1 + 32 + 9 + 9 + 3 * YAMF_HASH_LEN + 9 + SIGNATURE_LEN;

/// An ed25519 public key: the identity of an author.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Author(pub [u8; 32]);

/// Hashed by its first 8 bytes, as a [`Hash`](crate::Hash) is and for the same reasons: a key
/// is a point's encoding, and each key equal to a given one in 8 bytes takes about 2^64 tries.
impl std::hash::Hash for Author {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        state.write_u64(u64::from_le_bytes(self.0[..8].try_into().expect("8 bytes")));
    }
}

impl Author {
    pub fn to_hex(&self) -> String {
        hex::encode(self.0)
    }

    pub fn from_hex(s: &str) -> Option<Author> {
        let mut out = [0u8; 32];
        hex::decode_to_slice(s, &mut out).ok()?;
        Some(Author(out))
    }
}

impl fmt::Debug for Author {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Author({}…)", &self.to_hex()[..12])
    }
}

impl fmt::Display for Author {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_hex())
    }
}

/// An ed25519 signature as found on the wire.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Signature(pub [u8; 64]);

impl fmt::Debug for Signature {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Signature({}…)", &hex::encode(&self.0[..8]))
    }
}

/// A decoded entry. Decoding guarantees the structural rules: tag, canonical numbers,
/// BLAKE2b-512 hashes, links present exactly when the sequence number demands them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Entry {
    pub end_of_log: bool,
    pub author: Author,
    pub log_id: u64,
    pub seq_num: u64,
    pub lipmaa_link: Option<Hash>,
    pub backlink: Option<Hash>,
    pub payload_size: u64,
    pub payload_hash: Hash,
    pub signature: Signature,
}

impl Entry {
    /// Decodes one entry, strictly: `bytes` must hold exactly one canonical entry.
    ///
    /// Rules checked, each with its own [`DecodeError`]: tag 0 or 1; canonical VarU64s;
    /// hashes of type 0 and length 64; seq_num > 0; lipmaa link and backlink present iff
    /// required by seq_num; no truncation; no trailing bytes.
    pub fn decode(bytes: &[u8]) -> Result<Entry, DecodeError> {
        let mut r = Reader { input: bytes, pos: 0 };
        let tag = r.take(1, Field::Tag)?[0];
        let end_of_log = match tag {
            0 => false,
            1 => true,
            other => return Err(DecodeError::InvalidTag(other)),
        };
        let author = Author(r.take(32, Field::Author)?.try_into().expect("32 bytes"));
        let log_id = r.varu64(Field::LogId)?;
        let seq_num = r.varu64(Field::SeqNum)?;
        if seq_num == 0 {
            return Err(DecodeError::SeqNumZero);
        }
        let want_lipmaa = has_lipmaa_link(seq_num);
        let want_backlink = seq_num > 1;
        let head = Head { end_of_log, author, log_id, seq_num };
        let body_start = r.pos;
        match r.body(head, want_lipmaa, want_backlink) {
            Ok(entry) => Ok(entry),
            Err(err) => {
                // Name the real mistake when the bytes parse cleanly with one link more or less.
                let alternatives: &[(bool, bool, DecodeError)] = match (want_lipmaa, want_backlink) {
                    (true, true) => &[(false, true, DecodeError::MissingLipmaaLink { seq_num })],
                    (false, true) => &[
                        (true, true, DecodeError::ExtraLipmaaLink { seq_num }),
                        (false, false, DecodeError::MissingBacklink { seq_num }),
                    ],
                    _ => &[(false, true, DecodeError::ExtraBacklink)],
                };
                for (lipmaa, backlink, named) in alternatives {
                    let mut alt = Reader { input: bytes, pos: body_start };
                    if alt.body(head, *lipmaa, *backlink).is_ok() {
                        return Err(named.clone());
                    }
                }
                Err(err)
            }
        }
    }

    /// Appends the signed fields (all but the signature) in wire order.
    pub fn encode_unsigned(&self, out: &mut Vec<u8>) {
        out.push(u8::from(self.end_of_log));
        out.extend_from_slice(&self.author.0);
        varu64::encode(self.log_id, out);
        varu64::encode(self.seq_num, out);
        if let Some(l) = &self.lipmaa_link {
            l.write_yamf(out);
        }
        if let Some(b) = &self.backlink {
            b.write_yamf(out);
        }
        varu64::encode(self.payload_size, out);
        self.payload_hash.write_yamf(out);
    }

    /// The complete encoding, signature included.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(MAX_ENTRY_LEN);
        self.encode_unsigned(&mut out);
        out.extend_from_slice(&self.signature.0);
        out
    }
}

#[derive(Clone, Copy)]
struct Head {
    end_of_log: bool,
    author: Author,
    log_id: u64,
    seq_num: u64,
}

struct Reader<'a> {
    input: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize, field: Field) -> Result<&'a [u8], DecodeError> {
        let bytes = self.input.get(self.pos..self.pos + n).ok_or(DecodeError::Truncated(field))?;
        self.pos += n;
        Ok(bytes)
    }

    fn varu64(&mut self, field: Field) -> Result<u64, DecodeError> {
        match varu64::decode(&self.input[self.pos..]) {
            Ok((value, used)) => {
                self.pos += used;
                Ok(value)
            }
            Err(VarU64Error::Truncated) => Err(DecodeError::Truncated(field)),
            Err(VarU64Error::NonCanonical) => Err(DecodeError::NonCanonicalVarU64(field)),
        }
    }

    fn hash(&mut self, field: Field) -> Result<Hash, DecodeError> {
        let hash_type = self.varu64(field)?;
        if hash_type != 0 {
            return Err(DecodeError::UnsupportedHashType { field, hash_type });
        }
        let length = self.varu64(field)?;
        if length != 64 {
            return Err(DecodeError::UnsupportedHashLength { field, length });
        }
        Ok(Hash(self.take(64, field)?.try_into().expect("64 bytes")))
    }

    fn body(&mut self, head: Head, lipmaa: bool, backlink: bool) -> Result<Entry, DecodeError> {
        let lipmaa_link = if lipmaa { Some(self.hash(Field::LipmaaLink)?) } else { None };
        let backlink = if backlink { Some(self.hash(Field::Backlink)?) } else { None };
        let payload_size = self.varu64(Field::PayloadSize)?;
        let payload_hash = self.hash(Field::PayloadHash)?;
        let signature = Signature(self.take(SIGNATURE_LEN, Field::Signature)?.try_into().expect("64 bytes"));
        let rest = self.input.len() - self.pos;
        if rest != 0 {
            return Err(DecodeError::TrailingBytes(rest));
        }
        Ok(Entry {
            end_of_log: head.end_of_log,
            author: head.author,
            log_id: head.log_id,
            seq_num: head.seq_num,
            lipmaa_link,
            backlink,
            payload_size,
            payload_hash,
            signature,
        })
    }
}

/// Checks the signature of `entry` over the bytes exactly as received: all of `bytes` but
/// the last 64. `entry` must be the decoding of `bytes`.
pub fn verify_signature(bytes: &[u8], entry: &Entry) -> Result<(), VerifyError> {
    let key = VerificationKey::try_from(entry.author.0).map_err(|_| VerifyError::InvalidAuthorKey)?;
    let signed = &bytes[..bytes.len() - SIGNATURE_LEN];
    let sig = ed25519_zebra::Signature::from_bytes(&entry.signature.0);
    key.verify(&sig, signed).map_err(|_| VerifyError::InvalidSignature)
}

/// Checks many signatures at once with batch verification, falling back to single
/// verification for a batch that fails, so that each entry gets its own verdict.
///
/// ed25519-zebra's batch and single verification accept exactly the same signatures
/// (ZIP 215), so the verdicts equal those of [`verify_signature`].
pub fn verify_signatures(items: &[(&[u8], &Entry)]) -> Vec<Result<(), VerifyError>> {
    SignatureVerifier::default().verify_all(items)
}

/// Verifies signatures, keeping the decompressed keys of recent authors: a sync
/// delivers long runs of entries by the same few authors, and decompressing the
/// key is a tenth of the cost of a verification.
#[derive(Default, Clone)]
pub struct SignatureVerifier {
    keys: std::collections::HashMap<Author, Option<VerificationKey>>,
}

impl SignatureVerifier {
    const MAX_KEYS: usize = 4096;

    fn key(&mut self, author: Author) -> Option<VerificationKey> {
        if let Some(key) = self.keys.get(&author) {
            return *key;
        }
        if self.keys.len() >= Self::MAX_KEYS {
            self.keys.clear();
        }
        let key = VerificationKey::try_from(author.0).ok();
        self.keys.insert(author, key);
        key
    }

    /// Same verdict as [`verify_signature`].
    pub fn verify(&mut self, bytes: &[u8], entry: &Entry) -> Result<(), VerifyError> {
        let key = self.key(entry.author).ok_or(VerifyError::InvalidAuthorKey)?;
        let signed = &bytes[..bytes.len() - SIGNATURE_LEN];
        let sig = ed25519_zebra::Signature::from_bytes(&entry.signature.0);
        key.verify(&sig, signed).map_err(|_| VerifyError::InvalidSignature)
    }

    /// Same verdicts as [`verify_signatures`]. Checks the entries in batches of
    /// [`VERIFY_BATCH`]; a batch that fails is checked again in batches of
    /// [`VERIFY_BATCH_RETRY`], and only those that fail one signature at a time, so that one
    /// bad signature among a thousand costs about two batches and sixty-four single checks,
    /// not a thousand.
    pub fn verify_all(&mut self, items: &[(&[u8], &Entry)]) -> Vec<Result<(), VerifyError>> {
        let mut verdicts = Vec::with_capacity(items.len());
        for chunk in items.chunks(VERIFY_BATCH) {
            self.verify_chunk(chunk, &[VERIFY_BATCH_RETRY], &mut verdicts);
        }
        verdicts
    }

    /// Checks `chunk` as one batch; if that fails, in batches of the next of `retry`, and
    /// after the last one signature at a time.
    fn verify_chunk(
        &mut self,
        chunk: &[(&[u8], &Entry)],
        retry: &[usize],
        verdicts: &mut Vec<Result<(), VerifyError>>,
    ) {
        if chunk.len() > 1 {
            let mut batch = ed25519_zebra::batch::Verifier::new();
            for (bytes, entry) in chunk {
                let signed = &bytes[..bytes.len() - SIGNATURE_LEN];
                let sig = ed25519_zebra::Signature::from_bytes(&entry.signature.0);
                batch.queue((VerificationKeyBytes::from(entry.author.0), sig, signed));
            }
            if batch.verify(rand::rng()).is_ok() {
                verdicts.extend(chunk.iter().map(|_| Ok(())));
                return;
            }
        }
        match retry.split_first() {
            Some((&size, rest)) if size > 1 && size < chunk.len() => {
                for part in chunk.chunks(size) {
                    self.verify_chunk(part, rest, verdicts);
                }
            }
            _ => verdicts.extend(chunk.iter().map(|(bytes, entry)| self.verify(bytes, entry))),
        }
    }
}

/// How many signatures [`SignatureVerifier::verify_all`] checks in one batch: a sync's whole
/// message (`sync::Limits`: 1,024 entries). A batch's cost per signature falls with its size
/// (Straus, then Pippenger, over the batch's points): `cargo xtask bench`'s ingest measured
/// 100,100 signatures a second in batches of 64 and 119,500 in batches of 1,024 (it prints
/// both), on the 2-core machine of issue 15.
pub const VERIFY_BATCH: usize = 1024;

/// The batches a failed batch of [`VERIFY_BATCH`] is checked again in.
const VERIFY_BATCH_RETRY: usize = 64;

/// An ed25519 key pair held by an author.
#[derive(Clone)]
pub struct Keypair {
    signing: SigningKey,
}

impl Keypair {
    /// A new key pair from the operating system's randomness.
    pub fn generate() -> Keypair {
        let mut secret = [0u8; 32];
        rand::fill(&mut secret);
        Keypair::from_secret(secret)
    }

    pub fn from_secret(secret: [u8; 32]) -> Keypair {
        Keypair { signing: SigningKey::from(secret) }
    }

    pub fn secret(&self) -> [u8; 32] {
        self.signing.to_bytes()
    }

    pub fn author(&self) -> Author {
        Author(VerificationKeyBytes::from(&self.signing).into())
    }

    pub fn sign(&self, message: &[u8]) -> Signature {
        Signature(self.signing.sign(message).to_bytes())
    }
}

impl fmt::Debug for Keypair {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Keypair({:?})", self.author())
    }
}
