//! Entries in the context of their log: building signed entries, link checks,
//! end of log, forks, and an in-memory set of logs.

use std::collections::{BTreeMap, HashMap};

use thiserror::Error;

use crate::entry::{Author, Entry, Keypair, Signature, SignatureVerifier};
use crate::error::{Error, VerifyError};
use crate::hash::Hash;
use crate::lipmaa::{has_lipmaa_link, lipmaa};

/// An entry with its encoding and its hash (the hash of the complete encoding).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SignedEntry {
    pub bytes: Vec<u8>,
    pub entry: Entry,
    pub hash: Hash,
}

/// The fields of an entry to be signed.
#[derive(Clone, Debug)]
pub struct NewEntry<'a> {
    pub log_id: u64,
    pub seq_num: u64,
    pub lipmaa_link: Option<Hash>,
    pub backlink: Option<Hash>,
    pub payload: &'a [u8],
    pub end_of_log: bool,
}

/// Why a new entry cannot be built.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum BuildError {
    #[error("sequence number 0 is invalid; logs start at 1")]
    SeqNumZero,
    #[error("entry {seq_num} needs {} lipmaa link", if *needed { "a" } else { "no" })]
    LipmaaLink { seq_num: u64, needed: bool },
    #[error("entry {seq_num} needs {} backlink", if *needed { "a" } else { "no" })]
    Backlink { seq_num: u64, needed: bool },
}

impl NewEntry<'_> {
    /// Signs the entry. Links must be present exactly when `seq_num` requires them.
    pub fn sign(&self, keypair: &Keypair) -> Result<SignedEntry, BuildError> {
        let seq_num = self.seq_num;
        if seq_num == 0 {
            return Err(BuildError::SeqNumZero);
        }
        let needs_lipmaa = has_lipmaa_link(seq_num);
        if self.lipmaa_link.is_some() != needs_lipmaa {
            return Err(BuildError::LipmaaLink { seq_num, needed: needs_lipmaa });
        }
        if self.backlink.is_some() != (seq_num > 1) {
            return Err(BuildError::Backlink { seq_num, needed: seq_num > 1 });
        }
        let mut entry = Entry {
            end_of_log: self.end_of_log,
            author: keypair.author(),
            log_id: self.log_id,
            seq_num,
            lipmaa_link: self.lipmaa_link,
            backlink: self.backlink,
            payload_size: self.payload.len() as u64,
            payload_hash: Hash::of(self.payload),
            signature: Signature([0; 64]),
        };
        let mut bytes = Vec::with_capacity(crate::entry::MAX_ENTRY_LEN);
        entry.encode_unsigned(&mut bytes);
        entry.signature = keypair.sign(&bytes);
        bytes.extend_from_slice(&entry.signature.0);
        let hash = Hash::of(&bytes);
        Ok(SignedEntry { bytes, entry, hash })
    }
}

/// Appends to one log of one author, remembering every hash to fill in lipmaa links.
/// Meant for tests, benchmarks and tools; a node looks the hashes up in its store.
pub struct LogWriter {
    keypair: Keypair,
    log_id: u64,
    hashes: Vec<Hash>,
}

impl LogWriter {
    pub fn new(keypair: Keypair, log_id: u64) -> LogWriter {
        LogWriter { keypair, log_id, hashes: Vec::new() }
    }

    pub fn author(&self) -> Author {
        self.keypair.author()
    }

    /// Signs the next entry with `payload`.
    pub fn append(&mut self, payload: &[u8]) -> SignedEntry {
        self.append_entry(payload, false)
    }

    /// Signs the end-of-log entry.
    pub fn end(&mut self, payload: &[u8]) -> SignedEntry {
        self.append_entry(payload, true)
    }

    fn append_entry(&mut self, payload: &[u8], end_of_log: bool) -> SignedEntry {
        let seq_num = self.hashes.len() as u64 + 1;
        let hash_at = |n: u64| self.hashes[(n - 1) as usize];
        let new = NewEntry {
            log_id: self.log_id,
            seq_num,
            lipmaa_link: has_lipmaa_link(seq_num).then(|| hash_at(lipmaa(seq_num))),
            backlink: (seq_num > 1).then(|| hash_at(seq_num - 1)),
            payload,
            end_of_log,
        };
        let signed = new.sign(&self.keypair).expect("links follow seq_num");
        self.hashes.push(signed.hash);
        signed
    }
}

/// What a log remembers of an entry to check the entries that link to it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct KnownEntry {
    pub seq_num: u64,
    pub hash: Hash,
    pub end_of_log: bool,
    pub lipmaa_link: Option<Hash>,
    pub backlink: Option<Hash>,
}

impl KnownEntry {
    pub fn of(entry: &Entry, hash: Hash) -> KnownEntry {
        KnownEntry {
            seq_num: entry.seq_num,
            hash,
            end_of_log: entry.end_of_log,
            lipmaa_link: entry.lipmaa_link,
            backlink: entry.backlink,
        }
    }

    /// The hash this entry links to sequence number `target` with, if it links there.
    pub fn links_to(&self, target: u64) -> Option<Hash> {
        if self.seq_num == target + 1 {
            return self.backlink;
        }
        if has_lipmaa_link(self.seq_num) && lipmaa(self.seq_num) == target {
            return self.lipmaa_link;
        }
        None
    }
}

/// What is known of one log (one author, one log id), as a store sees it.
pub trait LogView {
    /// The known entry with this sequence number.
    fn entry(&self, seq_num: u64) -> Option<KnownEntry>;
    /// Known entries with a greater sequence number whose backlink or lipmaa link
    /// targets `seq_num`. Only asked when an entry arrives after newer ones.
    fn entries_linking_to(&self, seq_num: u64) -> Vec<KnownEntry>;
    /// The greatest known sequence number.
    fn max_seq_num(&self) -> Option<u64>;
    /// The sequence number of the known end-of-log entry.
    fn end_of_log(&self) -> Option<u64>;
    /// The sequence number at which the author forked this log, if a fork is known.
    fn fork(&self) -> Option<u64>;
}

/// Whether an entry is new to its log or already there.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Admission {
    New,
    Duplicate,
}

/// Checks a decoded, signature-checked entry against what is known of its log.
///
/// Rules checked, each with its own [`VerifyError`]:
/// - a different entry with the same sequence number is a fork; a forked log takes no
///   entries at or after the fork;
/// - no entry after an end-of-log entry;
/// - a known backlink or lipmaa target must have the hash the entry links to;
/// - entry 1 needs nothing, any other entry needs at least one known link target
///   (so that a link path to entry 1 exists: partial logs from certificate pools verify);
/// - known newer entries that link to this one must carry its hash.
pub fn check_in_log(view: &impl LogView, entry: &Entry, hash: Hash) -> Result<Admission, VerifyError> {
    let seq_num = entry.seq_num;
    if let Some(existing) = view.entry(seq_num) {
        if existing.hash == hash {
            return Ok(Admission::Duplicate);
        }
        return Err(VerifyError::Fork { seq_num, existing: existing.hash });
    }
    if let Some(fork_seq) = view.fork()
        && seq_num >= fork_seq
    {
        return Err(VerifyError::LogFrozenByFork { fork_seq });
    }
    if let Some(end_seq) = view.end_of_log()
        && seq_num > end_seq
    {
        return Err(VerifyError::EntryAfterEndOfLog { seq_num, end_seq });
    }
    if entry.end_of_log
        && let Some(max) = view.max_seq_num().filter(|&max| max > seq_num)
    {
        return Err(VerifyError::EntryAfterEndOfLog { seq_num: max, end_seq: seq_num });
    }
    if seq_num > 1 {
        let mut any_known = false;
        if let Some(target) = view.entry(seq_num - 1) {
            any_known = true;
            if Some(target.hash) != entry.backlink {
                return Err(VerifyError::BacklinkMismatch { seq_num });
            }
        }
        let lipmaa_seq = lipmaa(seq_num);
        if let Some(link) = entry.lipmaa_link
            && let Some(target) = view.entry(lipmaa_seq)
        {
            any_known = true;
            if target.hash != link {
                return Err(VerifyError::LipmaaLinkMismatch { seq_num, target: lipmaa_seq });
            }
        }
        if !any_known {
            let mut links = vec![seq_num - 1];
            if entry.lipmaa_link.is_some() {
                links.push(lipmaa_seq);
            }
            return Err(VerifyError::NoPathToFirstEntry { seq_num, links });
        }
    }
    if view.max_seq_num().is_some_and(|max| max > seq_num) {
        for successor in view.entries_linking_to(seq_num) {
            if successor.links_to(seq_num) != Some(hash) {
                return Err(VerifyError::SuccessorLinkMismatch { successor: successor.seq_num });
            }
        }
    }
    Ok(Admission::New)
}

/// Checks a payload against the entry that commits to it.
///
/// A hash mismatch means a wrong payload; a matching hash with a wrong declared size
/// means the entry itself is invalid.
pub fn verify_payload(entry: &Entry, payload: &[u8]) -> Result<(), VerifyError> {
    if Hash::of(payload) != entry.payload_hash {
        return Err(VerifyError::PayloadHashMismatch);
    }
    if payload.len() as u64 != entry.payload_size {
        return Err(VerifyError::PayloadSizeMismatch { declared: entry.payload_size, actual: payload.len() as u64 });
    }
    Ok(())
}

/// One log held in memory.
#[derive(Default, Debug, Clone)]
pub struct MemoryLog {
    entries: BTreeMap<u64, KnownEntry>,
    end_of_log: Option<u64>,
    fork: Option<u64>,
}

impl LogView for MemoryLog {
    fn entry(&self, seq_num: u64) -> Option<KnownEntry> {
        self.entries.get(&seq_num).copied()
    }

    fn entries_linking_to(&self, seq_num: u64) -> Vec<KnownEntry> {
        self.entries
            .range(seq_num + 1..)
            .map(|(_, known)| *known)
            .filter(|known| known.links_to(seq_num).is_some())
            .collect()
    }

    fn max_seq_num(&self) -> Option<u64> {
        self.entries.keys().next_back().copied()
    }

    fn end_of_log(&self) -> Option<u64> {
        self.end_of_log
    }

    fn fork(&self) -> Option<u64> {
        self.fork
    }
}

impl MemoryLog {
    /// Adds an entry known to be valid (checked earlier, e.g. read from a store).
    pub fn insert(&mut self, known: KnownEntry) {
        if known.end_of_log {
            self.end_of_log = Some(known.seq_num);
        }
        self.entries.insert(known.seq_num, known);
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

/// Identifies a log: its author and log id.
pub type LogKey = (Author, u64);

/// A verified entry as accepted by [`MemoryLogs`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Accepted {
    pub entry: Entry,
    pub hash: Hash,
    pub admission: Admission,
}

/// Logs of many authors held in memory: a complete verifier for streams of entries.
#[derive(Default, Clone)]
pub struct MemoryLogs {
    logs: HashMap<LogKey, MemoryLog>,
    verifier: SignatureVerifier,
}

impl MemoryLogs {
    pub fn new() -> MemoryLogs {
        MemoryLogs::default()
    }

    pub fn log(&self, author: Author, log_id: u64) -> Option<&MemoryLog> {
        self.logs.get(&(author, log_id))
    }

    /// Decodes and verifies one entry (and its payload, when given), then adds it.
    pub fn insert(&mut self, bytes: &[u8], payload: Option<&[u8]>) -> Result<Accepted, Error> {
        self.insert_batch(&[(bytes, payload)]).pop().expect("one verdict per entry")
    }

    /// Verifies and adds entries in the order given, batching the signature checks.
    /// Returns one verdict per entry; a rejected entry changes nothing.
    pub fn insert_batch(&mut self, items: &[(&[u8], Option<&[u8]>)]) -> Vec<Result<Accepted, Error>> {
        let decoded: Vec<Result<Entry, Error>> =
            items.iter().map(|(bytes, _)| Entry::decode(bytes).map_err(Error::from)).collect();
        let to_check: Vec<(&[u8], &Entry)> =
            items.iter().zip(&decoded).filter_map(|((bytes, _), d)| d.as_ref().ok().map(|e| (*bytes, e))).collect();
        let mut signatures = self.verifier.verify_all(&to_check).into_iter();
        let mut verdicts = Vec::with_capacity(items.len());
        for ((bytes, payload), decoded) in items.iter().zip(decoded) {
            let verdict = decoded.and_then(|entry| {
                signatures.next().expect("one signature verdict per decoded entry")?;
                if let Some(payload) = payload {
                    verify_payload(&entry, payload)?;
                }
                let hash = Hash::of(bytes);
                let log = self.logs.entry((entry.author, entry.log_id)).or_default();
                let admission = match check_in_log(log, &entry, hash) {
                    Ok(admission) => admission,
                    Err(err) => {
                        if let VerifyError::Fork { seq_num, .. } = err {
                            log.fork = Some(log.fork.map_or(seq_num, |f| f.min(seq_num)));
                        }
                        return Err(err.into());
                    }
                };
                if admission == Admission::New {
                    log.insert(KnownEntry::of(&entry, hash));
                }
                Ok(Accepted { entry, hash, admission })
            });
            verdicts.push(verdict);
        }
        verdicts
    }
}
