//! Entries whose signatures and payloads were checked: the input of [`crate::Store::ingest`].

use std::collections::hash_map::{self, RandomState};
use std::collections::{HashMap, HashSet};
use std::hash::BuildHasher;

use bamboo::{Entry, Hash, SignatureVerifier, SignedEntry};
use model::{Id, Key, LogEntry, ReadEntry};

/// An entry whose encoding, signature and payload were checked. Only
/// [`verify_entries`] and the node's own signing produce one, so the store never takes
/// unchecked bytes.
///
/// Boxed: an entry is moved from the thread that checks it through the host's queue, a
/// table of entries checked ahead and the batch into the store, and whole (880 bytes) each
/// move was a copy: 6 % of the time of the thread that stores a sync (`perf`, issue 15).
#[derive(Clone, Debug)]
pub struct VerifiedEntry(Box<Checked>);

#[derive(Clone, Debug)]
struct Checked {
    bytes: Vec<u8>,
    /// The entry as the plan folds it, with the payload.
    read: ReadEntry,
    entry: Entry,
    hash: Hash,
}

impl VerifiedEntry {
    /// An entry this node signed itself.
    pub(crate) fn own(signed: SignedEntry, payload: Vec<u8>) -> VerifiedEntry {
        let read = ReadEntry::from(log_entry(&signed.entry, signed.hash, payload));
        VerifiedEntry(Box::new(Checked { bytes: signed.bytes, read, entry: signed.entry, hash: signed.hash }))
    }

    /// A decoded entry whose signature holds.
    fn verified(d: DecodedEntry) -> VerifiedEntry {
        let read = ReadEntry::from(log_entry(&d.entry, d.hash, d.payload));
        VerifiedEntry(Box::new(Checked { bytes: d.bytes, read, entry: d.entry, hash: d.hash }))
    }

    /// Decodes the operation now, so that the store does not: for a host that verifies on
    /// another thread than the one that stores (`pandafest log import`).
    pub fn with_op_decoded(mut self) -> VerifiedEntry {
        self.0.read.decode_op();
        self
    }

    pub fn entry(&self) -> &Entry {
        &self.0.entry
    }

    pub fn hash(&self) -> Hash {
        self.0.hash
    }

    pub fn bytes(&self) -> &[u8] {
        &self.0.bytes
    }

    pub fn payload(&self) -> &[u8] {
        &self.0.read.entry().payload
    }

    pub(crate) fn into_read_entry(self) -> ReadEntry {
        self.0.read
    }
}

fn log_entry(entry: &Entry, hash: Hash, payload: Vec<u8>) -> LogEntry {
    LogEntry { hash: Id(hash), author: Key(entry.author), log_id: entry.log_id, seq: entry.seq_num, payload }
}

/// An entry decoded strictly and its payload checked against the payload hash and size,
/// whose signature is not checked yet: [`verify_signatures`] makes it a [`VerifiedEntry`].
/// Splitting the two lets an import check a whole file's structure before it stores any of
/// it, and check signatures on another thread while storing.
#[derive(Clone, Debug)]
pub struct DecodedEntry {
    bytes: Vec<u8>,
    payload: Vec<u8>,
    entry: Entry,
    hash: Hash,
}

impl DecodedEntry {
    pub fn entry(&self) -> &Entry {
        &self.entry
    }

    pub fn hash(&self) -> Hash {
        self.hash
    }
}

/// Decodes an entry and checks its payload.
pub fn decode_entry(bytes: Vec<u8>, payload: Vec<u8>) -> Result<DecodedEntry, bamboo::Error> {
    let entry = Entry::decode(&bytes)?;
    bamboo::verify_payload(&entry, &payload)?;
    let hash = Hash::of(&bytes);
    Ok(DecodedEntry { bytes, payload, entry, hash })
}

/// Checks the signatures of decoded entries, in batches. One verdict per entry, in order.
///
/// Natively a large set is split over the machine's cores: the curve arithmetic is most of
/// the cost of storing a synced batch, and the cores would otherwise wait for it.
pub fn verify_signatures(
    verifier: &mut SignatureVerifier,
    decoded: Vec<DecodedEntry>,
) -> Vec<Result<VerifiedEntry, bamboo::Error>> {
    verify_with(decoded, |items| verify_on_cores(verifier, items))
}

/// [`verify_signatures`] on the caller's thread only: for a host that stores on another
/// thread meanwhile, which a split over every core would take time from (an import of
/// 100,000 entries took 0.25 s longer with the split, on two cores).
pub fn verify_signatures_here(
    verifier: &mut SignatureVerifier,
    decoded: Vec<DecodedEntry>,
) -> Vec<Result<VerifiedEntry, bamboo::Error>> {
    verify_with(decoded, |items| verifier.verify_all(items))
}

fn verify_with(
    decoded: Vec<DecodedEntry>,
    verify: impl FnOnce(&[(&[u8], &Entry)]) -> Vec<Result<(), bamboo::VerifyError>>,
) -> Vec<Result<VerifiedEntry, bamboo::Error>> {
    let to_check: Vec<(&[u8], &Entry)> = decoded.iter().map(|d| (d.bytes.as_slice(), &d.entry)).collect();
    let verdicts = verify(&to_check);
    decoded
        .into_iter()
        .zip(verdicts)
        .map(|(d, verdict)| {
            verdict?;
            Ok(VerifiedEntry::verified(d))
        })
        .collect()
}

/// Decodes each entry, checks its payload against the payload hash and size and its
/// signature (in batches). One verdict per item, in order.
pub fn verify_entries(items: Vec<(Vec<u8>, Vec<u8>)>) -> Vec<Result<VerifiedEntry, bamboo::Error>> {
    verify_entries_checked(items, &mut Preverified::default())
}

/// What a host checked of entries ahead of [`verify_entries_checked`], on another thread or
/// worker than the one that stores. Each mark is taken once, by the entry it was made for;
/// what was checked of one entry never passes for other bytes.
#[derive(Debug, Default)]
pub struct Preverified {
    /// Hashes of entries whose signatures were checked (a browser peer's second worker,
    /// which sends back hashes only). The hash covers the whole entry, signature and payload
    /// hash included.
    signatures: HashSet<Hash>,
    /// Whole entries, their operations decoded too ([`VerifiedEntry::with_op_decoded`]: a
    /// native node's blocking thread), found by a digest of their signatures and taken only
    /// for the same bytes and payload. Not by their hashes: hashing each entry and payload
    /// again to find it was a tenth of the time of the thread that stores a sync; nor by a
    /// digest of all their bytes, 2 % of it (issue 15). Entries whose digests collide replace
    /// each other; the one replaced is checked again.
    entries: HashMap<u64, VerifiedEntry>,
    digest: RandomState,
}

impl Preverified {
    /// The entry with this hash was decoded, its payload checked and its signature holds.
    pub fn mark_signature(&mut self, hash: Hash) {
        self.signatures.insert(hash);
    }

    /// This entry was checked whole.
    pub fn mark_entry(&mut self, entry: VerifiedEntry) {
        self.entries.insert(self.digest_of(entry.bytes()), entry);
    }

    /// Marks held.
    pub fn len(&self) -> usize {
        self.signatures.len() + self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Forgets every mark: the entries are then checked again when they come.
    pub fn clear(&mut self) {
        self.signatures.clear();
        self.entries.clear();
    }

    /// The digest of an entry's signature (its last bytes), or of all of it if shorter.
    fn digest_of(&self, bytes: &[u8]) -> u64 {
        self.digest.hash_one(&bytes[bytes.len().saturating_sub(bamboo::SIGNATURE_LEN)..])
    }

    fn take_entry(&mut self, bytes: &[u8], payload: &[u8]) -> Option<VerifiedEntry> {
        match self.entries.entry(self.digest_of(bytes)) {
            hash_map::Entry::Occupied(e) if e.get().bytes() == bytes && e.get().payload() == payload => {
                Some(e.remove())
            }
            _ => None,
        }
    }
}

/// As [`verify_entries`], but an entry marked in `ahead` is not checked again.
pub fn verify_entries_checked(
    items: Vec<(Vec<u8>, Vec<u8>)>,
    ahead: &mut Preverified,
) -> Vec<Result<VerifiedEntry, bamboo::Error>> {
    let mut verdicts: Vec<Option<Result<VerifiedEntry, bamboo::Error>>> = Vec::with_capacity(items.len());
    let mut unchecked = Vec::new();
    for (bytes, payload) in items {
        if let Some(v) = ahead.take_entry(&bytes, &payload) {
            verdicts.push(Some(Ok(v)));
            continue;
        }
        let d = match decode_entry(bytes, payload) {
            Ok(d) => d,
            Err(e) => {
                verdicts.push(Some(Err(e)));
                continue;
            }
        };
        if ahead.signatures.remove(&d.hash) {
            verdicts.push(Some(Ok(VerifiedEntry::verified(d))));
        } else {
            unchecked.push(d);
            verdicts.push(None);
        }
    }
    let mut rest = verify_signatures(&mut SignatureVerifier::default(), unchecked).into_iter();
    verdicts.into_iter().map(|v| v.unwrap_or_else(|| rest.next().expect("one verdict per unchecked entry"))).collect()
}

/// Below this many entries a second thread costs more than it saves.
#[cfg(not(target_arch = "wasm32"))]
const PARALLEL_FROM: usize = 512;

#[cfg(not(target_arch = "wasm32"))]
fn verify_on_cores(
    verifier: &mut SignatureVerifier,
    items: &[(&[u8], &Entry)],
) -> Vec<Result<(), bamboo::VerifyError>> {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    if cores < 2 || items.len() < PARALLEL_FROM {
        return verifier.verify_all(items);
    }
    let share = items.len().div_ceil(cores);
    let mut parts = items.chunks(share);
    let first = parts.next().unwrap_or_default();
    std::thread::scope(|scope| {
        let others: Vec<_> = parts
            .map(|part| {
                let mut verifier = verifier.clone();
                scope.spawn(move || verifier.verify_all(part))
            })
            .collect();
        let mut verdicts = verifier.verify_all(first);
        for other in others {
            verdicts.extend(other.join().expect("signature checks do not panic"));
        }
        verdicts
    })
}

#[cfg(target_arch = "wasm32")]
fn verify_on_cores(
    verifier: &mut SignatureVerifier,
    items: &[(&[u8], &Entry)],
) -> Vec<Result<(), bamboo::VerifyError>> {
    verifier.verify_all(items)
}
