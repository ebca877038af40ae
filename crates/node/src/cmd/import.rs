//! `pandafest log import`: every line is decoded, its payload checked and its links
//! checked against the logs before anything is stored, so a malformed file changes nothing;
//! then the entries are stored in batches, each one transaction, so that a crash keeps
//! every batch reported as stored. Signatures are checked on a second thread one batch
//! ahead of storing; a bad signature stops the import at its batch, and the message says
//! which entries were kept (each of them verified).

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
    // Line by line: the file's text is never all in memory, only the decoded entries.
    let opened = std::fs::File::open(file)
        .map_err(|e| ApiError::bad_input(format!("cannot read {}: {e}", file.display())))?;
    let mut reader = std::io::BufReader::with_capacity(1 << 20, opened);
    let mut decoded = Vec::new();
    let mut line_numbers = Vec::new();
    let mut text = String::new();
    for number in 1.. {
        text.clear();
        let read = std::io::BufRead::read_line(&mut reader, &mut text)
            .map_err(|e| ApiError::bad_input(format!("cannot read {} at line {number}: {e}", file.display())))?;
        if read == 0 {
            break;
        }
        let Some(line) = parse_line(number, &text) else { continue };
        let line =
            line.map_err(|(n, reason)| ApiError::bad_input(format!("line {n}: {reason}; nothing was imported")))?;
        let payload = line.payload.ok_or_else(|| {
            ApiError::bad_input(format!("line {}: the payload is missing; nothing was imported", line.number))
        })?;
        let d = store::decode_entry(line.entry, payload)
            .map_err(|e| ApiError::bad_input(format!("line {number}: {e}; nothing was imported")))?;
        decoded.push(d);
        line_numbers.push(number);
    }
    let total = decoded.len();
    phase("read, parsed and decoded");
    let mut node = super::open(dir)?;
    if let Some((index, err)) = check_links(&node.store, &decoded)? {
        // A broken signature changes the entry's hash and so breaks the next entry's link:
        // name the first bad line, whichever check finds it.
        let before: Vec<DecodedEntry> = decoded[..=index].to_vec();
        let verdicts = store::verify_signatures(&mut bamboo::SignatureVerifier::default(), before);
        if let Some((n, Err(e))) = line_numbers.iter().zip(verdicts).find(|(_, v)| v.is_err()) {
            return Err(ApiError::bad_input(format!("line {n}: {e}; nothing was imported")));
        }
        return Err(ApiError::bad_input(format!("line {}: {err}; nothing was imported", line_numbers[index])));
    }
    phase("links checked");

    // Signatures are checked on a second thread, one batch ahead of the batch being stored,
    // so that the two halves of the work (the curve arithmetic and the database) overlap.
    // A bad signature is found only when its batch comes; the batches before it stay.
    let mut progress = Progress::new("importing", "entries");
    let (mut new, mut duplicates, mut forks, mut done) = (0, 0, 0, 0);
    // Each batch its own allocation: splitting the tail off one vector kept the whole
    // remainder's capacity in every batch, which grew with the square of the file.
    let mut batches = Vec::new();
    let mut rest = decoded.into_iter();
    for first in (0..total).step_by(BATCH) {
        batches.push((first, rest.by_ref().take(BATCH).collect::<Vec<_>>()));
    }
    std::thread::scope(|scope| -> Result<(), ApiError> {
        let (checked, verdicts) = std::sync::mpsc::sync_channel(1);
        scope.spawn(move || {
            let mut verifier = bamboo::SignatureVerifier::default();
            for (first, batch) in batches {
                if checked.send((first, store::verify_signatures(&mut verifier, batch))).is_err() {
                    return;
                }
            }
        });
        for (first, verdicts) in verdicts {
            let mut batch = Vec::with_capacity(verdicts.len());
            for (i, v) in verdicts.into_iter().enumerate() {
                let v = v.map_err(|e| {
                    let kept = match done {
                        0 => "nothing was imported".to_string(),
                        _ => format!(
                            "the {done} entries before line {} were stored, none from there on",
                            line_numbers[first]
                        ),
                    };
                    ApiError::bad_input(format!("line {}: {e}; {kept}", line_numbers[first + i]))
                })?;
                batch.push(v);
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

/// Checks every entry against its log (as stored, plus the file's earlier lines); returns
/// the first entry that does not fit, by index.
fn check_links(store: &store::Store, entries: &[DecodedEntry]) -> Result<Option<(usize, VerifyError)>, ApiError> {
    let mut file_logs: HashMap<(Author, u64), MemoryLog> = HashMap::new();
    for (index, v) in entries.iter().enumerate() {
        let e = v.entry();
        let key = (e.author, e.log_id);
        let file = file_logs.entry(key).or_default();
        let overlay = Overlay { stored: store.log_view(e.author, e.log_id)?, file };
        match bamboo::check_in_log(&overlay, e, v.hash()) {
            Ok(_) | Err(VerifyError::Fork { .. }) | Err(VerifyError::LogFrozenByFork { .. }) => {}
            Err(err) => return Ok(Some((index, err))),
        }
        file.insert(KnownEntry::of(e, v.hash()));
    }
    Ok(None)
}
