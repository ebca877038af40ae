//! `pandafest log import`: every line is decoded, its payload checked and its links
//! checked against the logs before anything is stored, so a malformed file changes nothing;
//! then the entries are stored in batches, each one transaction, so that a crash keeps
//! every batch reported as stored. Signatures are checked on a second thread one batch
//! ahead of storing; a bad signature stops the import at its batch, and the message says
//! which entries were kept (each of them verified).
//!
//! The file is read twice, a line at a time: once to check it, once to store it. Only what
//! the link checks need of each entry stays in memory between the two, never the entries:
//! holding a million decoded entries took 1.4 GB.

use super::output::{say, tell};
use std::collections::HashMap;
use std::path::{Path, PathBuf};

use bamboo::{Author, KnownEntry, LogView, MemoryLog, VerifyError};
use pandafest::error::ApiError;
use serde::Serialize;
use store::{DecodedEntry, SqlLog};

use super::log::parse_line;
use super::output::Progress;

/// Entries stored per transaction.
const BATCH: usize = 10_000;

/// The store's log with the file's entries checked so far on top.
struct Overlay<'a> {
    stored: SqlLog<'a>,
    file: &'a MemoryLog,
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

    // First reading: every line decoded and linked to its log, nothing stored.
    let mut file_logs: HashMap<(Author, u64), MemoryLog> = HashMap::new();
    let mut total = 0;
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

    // Second reading: signatures are checked on a second thread, one batch ahead of the
    // batch being stored, so that the two halves of the work (the curve arithmetic and the
    // database) overlap. A bad signature is found only when its batch comes; the batches
    // before it stay.
    let mut progress = Progress::new("importing", "entries");
    let (mut new, mut duplicates, mut forks, mut done) = (0, 0, 0, 0);
    std::thread::scope(|scope| -> Result<(), ApiError> {
        let (checked, verdicts) = std::sync::mpsc::sync_channel::<Checked>(1);
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
                if checked.send(Ok((numbers, store::verify_signatures(&mut verifier, batch)))).is_err() {
                    return;
                }
            }
        });
        for message in verdicts {
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
            let report = node.store.ingest(batch)?;
            new += report.stored.len();
            duplicates += report.duplicates;
            forks += report.forks.len();
            progress.update(done as u64, total as u64);
            if json {
                println!("{}", serde_json::to_string(&BatchStored { stored: done, total }).expect("serialises"));
            }
        }
        Ok(())
    })?;
    progress.finish();
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
/// to the file's; returns why it does not fit, if it does not.
fn check_link(
    store: &store::Store,
    file_logs: &mut HashMap<(Author, u64), MemoryLog>,
    d: &DecodedEntry,
) -> Result<Option<VerifyError>, ApiError> {
    let e = d.entry();
    let file = file_logs.entry((e.author, e.log_id)).or_default();
    let overlay = Overlay { stored: store.log_view(e.author, e.log_id)?, file };
    match bamboo::check_in_log(&overlay, e, d.hash()) {
        Ok(_) | Err(VerifyError::Fork { .. }) | Err(VerifyError::LogFrozenByFork { .. }) => {}
        Err(err) => return Ok(Some(err)),
    }
    file.insert(KnownEntry::of(e, d.hash()));
    Ok(None)
}
