//! `pandafest log import`: every line is decoded, its payload checked and its links
//! checked against the logs before anything is stored, so a malformed file changes nothing;
//! then the entries are stored in batches, each one transaction, so that a crash keeps
//! every batch reported as stored. Signatures are checked on a second thread one batch
//! ahead of storing; a bad signature stops the import at its batch, and the message says
//! which entries were kept (each of them verified).
//!
//! The file is read twice, a line at a time: once to check it, once to store it. Only what
//! the link checks need of each entry stays in memory between the two (its hash, `FileLog`),
//! never the entries: holding a million decoded entries took 1.4 GB.

use super::output::{say, tell};
use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

use bamboo::{Author, Hash, KnownEntry, LogView, VerifyError};
use pandafest::error::ApiError;
use serde::Serialize;
use store::{DecodedEntry, SqlLog};

use super::log::parse_line;
use super::output::Progress;

/// Entries stored per transaction. Four batches are in memory at once (the one stored, two
/// verified in the channel, one verified and waiting for room in it), 14,000 entries. Batches
/// of 5,000 rather than 10,000 made a million-entry import peak 24 MB lower, and 100,000
/// entries imported as fast (issue 15).
const BATCH: usize = 3_500;

/// What the link checks need of one log's entries read so far from the file: each entry's
/// hash and, of an entry that came before an entry it links to, that link. A link whose
/// target was there is checked once and forgotten: a file in log order keeps 64 bytes an
/// entry, where a `MemoryLog` kept about 400 (400 MB at a million entries, the import's peak).
#[derive(Default)]
struct FileLog {
    /// The hashes of entries 1, 2, … n, with no gap.
    first: Vec<Hash>,
    /// The hashes of entries after a gap.
    rest: BTreeMap<u64, Hash>,
    /// Entries with links to entries not read yet, with those links only.
    waiting: Vec<KnownEntry>,
    end_of_log: Option<u64>,
}

impl FileLog {
    /// Of an entry admitted against `view` (this log and the store's): itself with only the
    /// links whose targets `view` does not hold yet, if any.
    fn unresolved(view: &impl LogView, e: &bamboo::Entry, hash: Hash) -> Option<KnownEntry> {
        let seq = e.seq_num;
        let missing = |target: u64, link: Option<Hash>| link.filter(|_| view.entry(target).is_none());
        let backlink = if seq > 1 { missing(seq - 1, e.backlink) } else { None };
        let lipmaa_link = if bamboo::has_lipmaa_link(seq) { missing(bamboo::lipmaa(seq), e.lipmaa_link) } else { None };
        (backlink.is_some() || lipmaa_link.is_some()).then_some(KnownEntry {
            seq_num: seq,
            hash,
            end_of_log: e.end_of_log,
            lipmaa_link,
            backlink,
        })
    }

    /// Adds an entry, or puts a fork's in place of the entry it forks (as a `MemoryLog` did),
    /// so that the entries after it in the file link to it.
    fn insert(&mut self, e: &bamboo::Entry, hash: Hash, unresolved: Option<KnownEntry>) {
        let seq = e.seq_num;
        self.waiting.retain(|k| k.seq_num != seq);
        self.waiting.extend(unresolved);
        if e.end_of_log {
            self.end_of_log = Some(seq);
        }
        let next = self.first.len() as u64 + 1;
        if seq < next {
            // Sequence numbers start at 1 (the decoder refuses 0).
            self.first[(seq - 1) as usize] = hash;
            return;
        }
        if seq > next {
            self.rest.insert(seq, hash);
            return;
        }
        self.first.push(hash);
        while let Some(hash) = self.rest.remove(&(self.first.len() as u64 + 1)) {
            self.first.push(hash);
        }
    }
}

impl LogView for FileLog {
    fn entry(&self, seq_num: u64) -> Option<KnownEntry> {
        let hash = match seq_num.checked_sub(1).and_then(|i| self.first.get(usize::try_from(i).ok()?)) {
            Some(hash) => *hash,
            None => *self.rest.get(&seq_num)?,
        };
        // `check_in_log` asks only the hash of an entry; the links it needs are `waiting`'s.
        let end_of_log = self.end_of_log == Some(seq_num);
        Some(KnownEntry { seq_num, hash, end_of_log, lipmaa_link: None, backlink: None })
    }

    fn entries_linking_to(&self, seq_num: u64) -> Vec<KnownEntry> {
        self.waiting.iter().filter(|k| k.links_to(seq_num).is_some()).copied().collect()
    }

    fn max_seq_num(&self) -> Option<u64> {
        let first = (!self.first.is_empty()).then_some(self.first.len() as u64);
        first.max(self.rest.keys().next_back().copied())
    }

    fn end_of_log(&self) -> Option<u64> {
        self.end_of_log
    }

    fn fork(&self) -> Option<u64> {
        None
    }
}

/// The store's log with the file's entries checked so far on top.
struct Overlay<'a> {
    stored: &'a SqlLog<'a>,
    file: &'a FileLog,
}

impl LogView for Overlay<'_> {
    fn entry(&self, seq_num: u64) -> Option<KnownEntry> {
        self.file.entry(seq_num).or_else(|| self.stored.entry(seq_num))
    }

    fn entries_linking_to(&self, seq_num: u64) -> Vec<KnownEntry> {
        let mut all = self.stored.entries_linking_to(seq_num);
        all.extend(self.file.entries_linking_to(seq_num));
        all
    }

    fn max_seq_num(&self) -> Option<u64> {
        self.file.max_seq_num().max(self.stored.max_seq_num())
    }

    fn end_of_log(&self) -> Option<u64> {
        match (self.file.end_of_log(), self.stored.end_of_log()) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    fn fork(&self) -> Option<u64> {
        self.stored.fork()
    }
}

#[derive(Serialize)]
struct BatchStored {
    stored: usize,
    total: usize,
}

#[derive(Serialize)]
struct Summary {
    file: String,
    entries: usize,
    new: usize,
    duplicates: usize,
    forks: usize,
    decisions: Vec<pandafest::agent::AgentAction>,
}

pub fn run(dir: &Option<PathBuf>, file: &Path, json: bool) -> Result<(), ApiError> {
    let timing = std::env::var_os("PANDAFEST_TIMING").is_some();
    let clock = std::time::Instant::now();
    let phase = |name: &str| {
        if timing {
            tell!("{name}: {:.2} s", clock.elapsed().as_secs_f64());
        }
    };
    let mut node = super::open(dir)?;

    // Second reading: signatures are checked on a second thread, one batch ahead of the
    // batch being stored, so that the two halves of the work (the curve arithmetic and the
    // database) overlap; the thread starts with the first reading, so that the first batch
    // is checked meanwhile. A bad signature is found only when its batch comes; the batches
    // before it stay.
    let (mut new, mut duplicates, mut forks, mut done, mut total) = (0, 0, 0, 0, 0);
    let imported = std::thread::scope(|scope| -> Result<(), ApiError> {
        // Room in the channel: the verifier works ahead of the store. Storing a batch
        // takes about 30 ms and verifying one of 5,000 about 55, but every 20,000 entries
        // the store also writes the plan's rows, 75–215 ms more; with no room in the
        // channel, the verifier waited with its one batch meanwhile, and the store then
        // waited for it at each batch after (0.3 s of a 1.9 s import of 100,000 entries,
        // `PANDAFEST_TIMING=1`). With room for one and batches of 3,500, 100,000 entries
        // import in 1.40 s against 1.62 s (medians of 3 alternating), as many entries in
        // memory, and a million in as long (medians of 3, 41.0 and 39.9 s, the same peak).
        // Batches of 2,500 with room for two made the million 8 % slower: more commits.
        // Room for two batches of 3,500: the verifier is about as fast as the store, and the
        // store, faster between the plan's writes, still waited 0.06–0.08 s in all for
        // signatures with room for one. 100,000 entries imported in 1.20 s against 1.25 s
        // (medians of 6 alternating; room for three or four no faster); a million in 35.3
        // against 35.8 s, at a peak of 137 MB against 133.
        let (checked, verdicts) = std::sync::mpsc::sync_channel::<Checked>(2);
        scope.spawn(move || {
            let mut verifier = bamboo::SignatureVerifier::default();
            let mut lines = match Lines::open(file) {
                Ok(lines) => lines,
                Err(e) => return drop(checked.send(Err((0, e.to_string())))),
            };
            loop {
                let (mut numbers, mut batch) = (Vec::with_capacity(BATCH), Vec::with_capacity(BATCH));
                for line in lines.by_ref().take(BATCH) {
                    match line {
                        Ok((n, d)) => {
                            numbers.push(n);
                            batch.push(d);
                        }
                        Err(e) => return drop(checked.send(Err(e))),
                    }
                }
                if batch.is_empty() {
                    return;
                }
                // On this thread only, the operations decoded too: the storing thread has
                // the other core.
                let verdicts = store::verify_signatures_here(&mut verifier, batch)
                    .into_iter()
                    .map(|v| v.map(store::VerifiedEntry::with_op_decoded))
                    .collect();
                if checked.send(Ok((numbers, verdicts))).is_err() {
                    return;
                }
            }
        });
        // First reading: every line decoded and linked to its log, nothing stored.
        let mut file_logs = HashMap::new();
        for line in Lines::open(file)? {
            let (number, d) =
                line.map_err(|(n, why)| ApiError::bad_input(format!("line {n}: {why}; nothing was imported")))?;
            if let Some(err) = check_link(&node.store, &mut file_logs, &d)? {
                // A broken signature changes the entry's hash and so breaks the next entry's
                // link: name the first bad line, whichever check finds it.
                if let Some((n, e)) = first_bad_signature(file, number)? {
                    return Err(ApiError::bad_input(format!("line {n}: {e}; nothing was imported")));
                }
                return Err(ApiError::bad_input(format!("line {number}: {err}; nothing was imported")));
            }
            total += 1;
        }
        drop(file_logs);
        phase("read, decoded and links checked");
        let mut progress = Progress::new("importing", "entries");
        // How long the store waited for the verifier (`PANDAFEST_TIMING`).
        let mut waited = std::time::Duration::ZERO;
        let mut verdicts = verdicts.into_iter();
        // The batch stored last, reported once its commit is durable (after the next batch
        // is stored: the disk flushes one while the other is stored).
        let mut unreported: Option<(store::Commit, usize)> = None;
        let syncer = node.store.syncer().cloned();
        let mut report = |stored: Option<(store::Commit, usize)>| -> Result<(), ApiError> {
            let Some((commit, done)) = stored else { return Ok(()) };
            if let Some(syncer) = &syncer {
                syncer.wait(commit).map_err(ApiError::internal)?;
            }
            progress.update(done as u64, total as u64);
            if json {
                println!("{}", serde_json::to_string(&BatchStored { stored: done, total }).expect("serialises"));
            }
            Ok(())
        };
        loop {
            let asked = std::time::Instant::now();
            let Some(message) = verdicts.next() else { break };
            waited += asked.elapsed();
            let kept = |first_line: usize| match done {
                0 => "nothing was imported".to_string(),
                _ => format!("the {done} entries before line {first_line} were stored, none from there on"),
            };
            let (numbers, verdicts) = message.map_err(|(n, why)| {
                // The first reading found every line good: the file changed since.
                ApiError::bad_input(format!("line {n}: {why} (the file changed while it was imported); {}", kept(n)))
            })?;
            let mut batch = Vec::with_capacity(verdicts.len());
            for (v, n) in verdicts.into_iter().zip(&numbers) {
                batch.push(v.map_err(|e| ApiError::bad_input(format!("line {n}: {e}; {}", kept(numbers[0]))))?);
            }
            done += batch.len();
            let (stored, commit) = node.store.ingest_deferred(batch)?;
            new += stored.stored.len();
            duplicates += stored.duplicates;
            forks += stored.forks.len();
            report(unreported.replace((commit, done)))?;
        }
        report(unreported.take())?;
        progress.finish();
        if timing {
            tell!("waited for signatures: {:.2} s", waited.as_secs_f64());
        }
        Ok(())
    });
    // An error says which entries were stored: they are durable first.
    if let Some(syncer) = node.store.syncer() {
        syncer.wait(node.store.last_deferred()).map_err(ApiError::internal)?;
    }
    imported?;
    phase("stored");
    node.store.flush_plan()?;
    phase("plan written");
    let decisions = node.run_agent()?;
    let summary = Summary { file: file.display().to_string(), entries: total, new, duplicates, forks, decisions };
    if json {
        println!("{}", serde_json::to_string(&summary).expect("serialises"));
    } else {
        say!("imported {} entries from {}: {new} new, {duplicates} already here", total, summary.file);
        if forks > 0 {
            say!("warning: {forks} forks found; those logs are frozen at the fork and their authors flagged");
        }
        for d in &summary.decisions {
            let reason = d.reason.as_ref().map(|r| format!(": {r}")).unwrap_or_default();
            say!("policy agent: {} request {}{reason}", d.action, &d.request[..8]);
        }
    }
    Ok(())
}

/// A batch of the second reading: its line numbers and each entry's signature verdict; or
/// a line that no longer reads.
type Checked = Result<(Vec<usize>, Vec<Result<store::VerifiedEntry, bamboo::Error>>), (usize, String)>;

/// The entries of an entry file, decoded a line at a time, with their line numbers; a line
/// that does not decode is an error with its number and why.
struct Lines {
    reader: std::io::BufReader<std::fs::File>,
    text: String,
    number: usize,
}

impl Lines {
    fn open(file: &Path) -> Result<Lines, ApiError> {
        let opened = std::fs::File::open(file)
            .map_err(|e| ApiError::bad_input(format!("cannot read {}: {e}", file.display())))?;
        Ok(Lines { reader: std::io::BufReader::with_capacity(1 << 20, opened), text: String::new(), number: 0 })
    }
}

impl Iterator for Lines {
    type Item = Result<(usize, DecodedEntry), (usize, String)>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            self.text.clear();
            self.number += 1;
            let n = self.number;
            match std::io::BufRead::read_line(&mut self.reader, &mut self.text) {
                Ok(0) => return None,
                Ok(_) => {}
                Err(e) => return Some(Err((n, format!("cannot be read: {e}")))),
            }
            let Some(line) = parse_line(n, &self.text) else { continue };
            let decoded = line.and_then(|line| {
                let payload = line.payload.ok_or((n, "the payload is missing".to_string()))?;
                store::decode_entry(line.entry, payload).map_err(|e| (n, e.to_string()))
            });
            return Some(decoded.map(|d| (n, d)));
        }
    }
}

/// The first line up to `last` whose signature does not verify: only when a link check
/// failed, so this reads the file again.
fn first_bad_signature(file: &Path, last: usize) -> Result<Option<(usize, bamboo::Error)>, ApiError> {
    let mut verifier = bamboo::SignatureVerifier::default();
    let mut lines = Lines::open(file)?.take_while(|l| l.as_ref().map_or(true, |(n, _)| *n <= last)).flatten();
    loop {
        let (numbers, batch): (Vec<usize>, Vec<DecodedEntry>) = lines.by_ref().take(BATCH).unzip();
        if batch.is_empty() {
            return Ok(None);
        }
        let verdicts = store::verify_signatures(&mut verifier, batch);
        if let Some((n, Err(e))) = numbers.into_iter().zip(verdicts).find(|(_, v)| v.is_err()) {
            return Ok(Some((n, e)));
        }
    }
}

/// Checks an entry against its log (as stored, plus the file's earlier lines) and adds it
/// to the file's; returns why it does not fit, if it does not. Each log's row is read from
/// the store once: nothing is stored during the first reading (once per line, it was a
/// third of the reading's time).
fn check_link<'s>(
    store: &'s store::Store,
    file_logs: &mut HashMap<(Author, u64), (SqlLog<'s>, FileLog)>,
    d: &DecodedEntry,
) -> Result<Option<VerifyError>, ApiError> {
    let e = d.entry();
    let (stored, file) = match file_logs.entry((e.author, e.log_id)) {
        std::collections::hash_map::Entry::Occupied(o) => o.into_mut(),
        std::collections::hash_map::Entry::Vacant(v) => {
            v.insert((store.log_view(e.author, e.log_id)?, FileLog::default()))
        }
    };
    let overlay = Overlay { stored, file };
    match bamboo::check_in_log(&overlay, e, d.hash()) {
        Ok(_) | Err(VerifyError::Fork { .. }) | Err(VerifyError::LogFrozenByFork { .. }) => {}
        Err(err) => return Ok(Some(err)),
    }
    let unresolved = FileLog::unresolved(&overlay, e, d.hash());
    file.insert(e, d.hash(), unresolved);
    Ok(None)
}

#[cfg(test)]
mod tests {
    use super::*;
    use bamboo::{Keypair, LogWriter, MemoryLog};
    use rand::rngs::StdRng;
    use rand::seq::SliceRandom;
    use rand::{RngExt, SeedableRng};

    /// A log's entries in random orders, some twice, some of them forked (the same key writing
    /// other entries): the file's view admits and refuses each entry as a `MemoryLog` holding
    /// every entry whole does.
    #[test]
    fn a_file_log_checks_links_as_a_memory_log_does() {
        let mut refused = 0;
        for seed in 0..300u64 {
            let mut rng = StdRng::seed_from_u64(seed);
            let key = [seed as u8; 32];
            let mut entries: Vec<(bamboo::Entry, Hash)> = Vec::new();
            let mut w = LogWriter::new(Keypair::from_secret(key), 0);
            let mut fork = LogWriter::new(Keypair::from_secret(key), 0);
            let forked_at = rng.random_range(1..30);
            for i in 0..40 {
                let e = w.append(format!("entry {i}").as_bytes());
                entries.push((bamboo::Entry::decode(&e.bytes).unwrap(), e.hash));
                let f = fork.append(format!("{} {i}", if i + 1 >= forked_at { "fork" } else { "entry" }).as_bytes());
                if i + 1 >= forked_at && i + 1 < forked_at + 3 {
                    entries.push((bamboo::Entry::decode(&f.bytes).unwrap(), f.hash));
                }
            }
            for _ in 0..rng.random_range(0..5) {
                let again = entries[rng.random_range(0..entries.len())].clone();
                entries.push(again);
            }
            // Mostly in order, as files are; sometimes shuffled a little or wholly.
            match rng.random_range(0..3) {
                0 => {}
                1 => {
                    for _ in 0..5 {
                        let (a, b) = (rng.random_range(0..entries.len()), rng.random_range(0..entries.len()));
                        entries.swap(a, b);
                    }
                }
                _ => entries.shuffle(&mut rng),
            }
            let (mut memory, mut file) = (MemoryLog::default(), FileLog::default());
            for (e, hash) in &entries {
                let expected = bamboo::check_in_log(&memory, e, *hash);
                assert_eq!(
                    format!("{:?}", bamboo::check_in_log(&file, e, *hash)),
                    format!("{expected:?}"),
                    "seed {seed}"
                );
                if matches!(expected, Ok(_) | Err(VerifyError::Fork { .. }) | Err(VerifyError::LogFrozenByFork { .. }))
                {
                    memory.insert(KnownEntry::of(e, *hash));
                    let unresolved = FileLog::unresolved(&file, e, *hash);
                    file.insert(e, *hash, unresolved);
                } else {
                    refused += 1;
                }
            }
        }
        assert!(refused > 100, "some orders leave entries without a path to the first: {refused}");
    }
}
