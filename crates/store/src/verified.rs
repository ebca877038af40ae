//! Entries whose signatures and payloads were checked: the input of [`crate::Store::ingest`].

use bamboo::{Entry, Hash, SignatureVerifier, SignedEntry};
use model::{Id, Key, LogEntry};

/// An entry whose encoding, signature and payload were checked. Only
/// [`verify_entries`] and the node's own signing produce one, so the store never takes
/// unchecked bytes.
#[derive(Clone, Debug)]
pub struct VerifiedEntry {
    bytes: Vec<u8>,
    payload: Vec<u8>,
    pub(crate) entry: Entry,
    pub(crate) hash: Hash,
}

impl VerifiedEntry {
    /// An entry this node signed itself.
    pub(crate) fn own(signed: SignedEntry, payload: Vec<u8>) -> VerifiedEntry {
        VerifiedEntry { bytes: signed.bytes, payload, entry: signed.entry, hash: signed.hash }
    }

    pub fn entry(&self) -> &Entry {
        &self.entry
    }

    pub fn hash(&self) -> Hash {
        self.hash
    }

    pub fn bytes(&self) -> &[u8] {
        &self.bytes
    }

    pub fn payload(&self) -> &[u8] {
        &self.payload
    }

    pub(crate) fn into_log_entry(self) -> LogEntry {
        LogEntry {
            hash: Id(self.hash),
            author: Key(self.entry.author),
            log_id: self.entry.log_id,
            seq: self.entry.seq_num,
            payload: self.payload,
        }
    }
}

/// Decodes each entry, checks its signature (in batches) and its payload against the
/// payload hash and size. One verdict per item, in order.
pub fn verify_entries(items: Vec<(Vec<u8>, Vec<u8>)>) -> Vec<Result<VerifiedEntry, bamboo::Error>> {
    verify_entries_with(&mut SignatureVerifier::default(), items)
}

/// As [`verify_entries`], reusing a verifier (and its cache of authors' keys) across calls.
pub fn verify_entries_with(
    verifier: &mut SignatureVerifier,
    items: Vec<(Vec<u8>, Vec<u8>)>,
) -> Vec<Result<VerifiedEntry, bamboo::Error>> {
    let decoded: Vec<Result<Entry, bamboo::Error>> =
        items.iter().map(|(bytes, _)| Entry::decode(bytes).map_err(bamboo::Error::from)).collect();
    let to_check: Vec<(&[u8], &Entry)> =
        items.iter().zip(&decoded).filter_map(|((b, _), d)| d.as_ref().ok().map(|e| (b.as_slice(), e))).collect();
    let mut signatures = verifier.verify_all(&to_check).into_iter();
    items
        .into_iter()
        .zip(decoded)
        .map(|((bytes, payload), decoded)| {
            let entry = decoded?;
            signatures.next().expect("one verdict per decoded entry")?;
            bamboo::verify_payload(&entry, &payload)?;
            let hash = Hash::of(&bytes);
            Ok(VerifiedEntry { bytes, payload, entry, hash })
        })
        .collect()
}
