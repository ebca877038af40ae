//! `pandafest log import`: everything is verified before anything is stored, so a file
//! with any bad line changes nothing; then the entries are stored in batches, each one
//! transaction, so that a crash keeps every batch reported as stored.

use super::output::{say, tell};
use std::collections::HashMap;
use std::path::{Path, PathBuf};

use bamboo::{Author, KnownEntry, LogView, MemoryLog, VerifyError};
use pandafest::error::ApiError;
use serde::Serialize;
use store::{SqlLog, VerifiedEntry, verify_entries};

use super::log::parse_lines;
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
    let text = std::fs::read_to_string(file)
        .map_err(|e| ApiError::bad_input(format!("cannot read {}: {e}", file.display())))?;
    let mut items = Vec::new();
    let mut line_numbers = Vec::new();
    for line in parse_lines(&text) {
        let line =
            line.map_err(|(n, reason)| ApiError::bad_input(format!("line {n}: {reason}; nothing was imported")))?;
        let payload = line.payload.ok_or_else(|| {
            ApiError::bad_input(format!("line {}: the payload is missing; nothing was imported", line.number))
        })?;
        line_numbers.push(line.number);
        items.push((line.entry, payload));
    }
    let total = items.len();
    phase("read and parsed");
    let mut verified = Vec::with_capacity(total);
    for (v, n) in verify_entries(items).into_iter().zip(&line_numbers) {
        verified.push(v.map_err(|e| ApiError::bad_input(format!("line {n}: {e}; nothing was imported")))?);
    }
    phase("signatures and payloads verified");
    let mut node = super::open(dir)?;
    check_links(&node.store, &verified, &line_numbers)?;
    phase("links checked");

    let mut progress = Progress::new("importing", "entries");
    let (mut new, mut duplicates, mut forks, mut done) = (0, 0, 0, 0);
    let mut rest = verified;
    while !rest.is_empty() {
        let tail = rest.split_off(rest.len().min(BATCH));
        let batch = std::mem::replace(&mut rest, tail);
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
    progress.finish();
    phase("stored");
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

/// Checks every entry against its log (as stored, plus the file's earlier lines).
fn check_links(store: &store::Store, entries: &[VerifiedEntry], lines: &[usize]) -> Result<(), ApiError> {
    let mut file_logs: HashMap<(Author, u64), MemoryLog> = HashMap::new();
    for (v, n) in entries.iter().zip(lines) {
        let e = v.entry();
        let key = (e.author, e.log_id);
        let file = file_logs.entry(key).or_default();
        let overlay = Overlay { stored: store.log_view(e.author, e.log_id)?, file };
        match bamboo::check_in_log(&overlay, e, v.hash()) {
            Ok(_) | Err(VerifyError::Fork { .. }) | Err(VerifyError::LogFrozenByFork { .. }) => {}
            Err(err) => return Err(ApiError::bad_input(format!("line {n}: {err}; nothing was imported"))),
        }
        file.insert(KnownEntry::of(e, v.hash()));
    }
    Ok(())
}
