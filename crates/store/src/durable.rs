//! Natively, on disk: commits made durable by a thread of their own, so that the thread
//! that stores goes on with the next batch while the disk flushes the last one.
//!
//! A commit at `synchronous=FULL` waits for the disk (an `fsync` of the WAL, about 2 ms
//! here): 52 of them were 120 ms of the sync host's thread in a sync of 100,000 entries, with
//! nothing else to do for the other core meanwhile (issue 15). [`Store::ingest_deferred`]
//! commits at `NORMAL` instead (the WAL is written, not flushed: a killed process loses
//! nothing, a power cut may lose the last commits) and returns a [`Commit`]; whoever reports
//! those entries as stored (the peer's credit, the import's progress) first waits for
//! [`Syncer::on_durable`] or [`Syncer::wait`], which an `fsync` of the WAL begun after the
//! commit answers. One `fsync` answers every commit made before it began.
//!
//! [`Store::ingest_deferred`]: crate::Store::ingest_deferred

// A browser's store has no syncer (its database is no WAL): there only the types are used.
#![cfg_attr(target_arch = "wasm32", allow(dead_code))]

use std::path::PathBuf;
use std::sync::{Arc, Condvar, Mutex};

/// The number of a commit whose entries are durable once [`Syncer`] says so. `Commit(0)`
/// is durable already.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord)]
pub struct Commit(pub u64);

type Waiter = Box<dyn FnOnce(Result<(), String>) + Send>;

/// Makes deferred commits durable, on a thread of its own; cloned, the same thread. The
/// thread ends when the last clone is dropped.
#[derive(Clone)]
pub struct Syncer {
    shared: Arc<Shared>,
    /// The thread's end: dropping the last `Syncer` (not the thread's own `Shared`) stops it.
    _stop: Arc<Stop>,
}

struct Shared {
    state: Mutex<State>,
    wake: Condvar,
}

#[derive(Default)]
struct State {
    /// The last commit asked for.
    asked: u64,
    /// Every commit up to this one is durable.
    durable: u64,
    /// A flush failed: nothing after it is durable, ever (the kernel may have dropped the
    /// pages it could not write, and a later `fsync` would not say so).
    failed: Option<String>,
    waiters: Vec<(u64, Waiter)>,
    stopped: bool,
}

struct Stop(Arc<Shared>);

impl Drop for Stop {
    fn drop(&mut self) {
        if let Ok(mut state) = self.0.state.lock() {
            state.stopped = true;
        }
        self.0.wake.notify_all();
    }
}

impl Syncer {
    /// The syncer of the database at `db` (its WAL beside it).
    pub(crate) fn start(db: PathBuf) -> std::io::Result<Syncer> {
        let mut wal = db.clone().into_os_string();
        wal.push("-wal");
        let wal = PathBuf::from(wal);
        Syncer::with_flush(move || flush(&wal, &db))
    }

    /// A syncer whose thread calls `flush` to make every commit asked for so far durable.
    fn with_flush(flush: impl Fn() -> std::io::Result<()> + Send + 'static) -> std::io::Result<Syncer> {
        let shared = Arc::new(Shared { state: Mutex::new(State::default()), wake: Condvar::new() });
        let thread = shared.clone();
        std::thread::Builder::new().name("durable".into()).spawn(move || run(&thread, flush))?;
        Ok(Syncer { _stop: Arc::new(Stop(shared.clone())), shared })
    }

    /// The next commit's number, asked for once it was committed.
    pub(crate) fn ask(&self) -> Commit {
        let mut state = self.shared.state.lock().unwrap_or_else(|e| e.into_inner());
        state.asked += 1;
        let asked = state.asked;
        drop(state);
        self.shared.wake.notify_all();
        Commit(asked)
    }

    /// The last commit asked for (`Commit(0)` if none).
    pub(crate) fn last(&self) -> Commit {
        Commit(self.shared.state.lock().unwrap_or_else(|e| e.into_inner()).asked)
    }

    /// Calls `then` once `commit` is durable (at once if it is), on this thread or the
    /// syncer's; with the error if the disk refused a flush.
    pub fn on_durable(&self, commit: Commit, then: impl FnOnce(Result<(), String>) + Send + 'static) {
        let mut state = self.shared.state.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(e) = &state.failed {
            let e = e.clone();
            drop(state);
            return then(Err(e));
        }
        if commit.0 <= state.durable {
            drop(state);
            return then(Ok(()));
        }
        state.waiters.push((commit.0, Box::new(then)));
    }

    /// Waits until `commit` is durable.
    pub fn wait(&self, commit: Commit) -> Result<(), String> {
        let (tx, rx) = std::sync::mpsc::sync_channel(1);
        self.on_durable(commit, move |r| {
            let _ = tx.send(r);
        });
        rx.recv().unwrap_or_else(|_| Err("the store's syncing thread stopped".into()))
    }
}

fn run(shared: &Shared, flush: impl Fn() -> std::io::Result<()>) {
    loop {
        let target = {
            let mut state = shared.state.lock().unwrap_or_else(|e| e.into_inner());
            while state.asked == state.durable && !state.stopped {
                state = shared.wake.wait(state).unwrap_or_else(|e| e.into_inner());
            }
            if state.asked == state.durable {
                return;
            }
            state.asked
        };
        let flushed = flush().map_err(|e| format!("the entries stored could not be written to disk: {e}"));
        let (answered, failed) = {
            let mut state = shared.state.lock().unwrap_or_else(|e| e.into_inner());
            match flushed {
                Ok(()) => state.durable = target,
                Err(e) => state.failed = Some(e),
            }
            let (durable, failed) = (state.durable, state.failed.clone());
            let (answered, waiting): (Vec<_>, Vec<_>) = std::mem::take(&mut state.waiters)
                .into_iter()
                .partition(|(commit, _)| *commit <= durable || failed.is_some());
            state.waiters = waiting;
            (answered, failed)
        };
        for (_, then) in answered {
            then(failed.clone().map_or(Ok(()), Err));
        }
        // Nothing after a failed flush is durable: no more flushing (a later wait answers
        // with the failure at once).
        if failed.is_some() {
            return;
        }
    }
}

/// Flushes the WAL, where a commit's pages are until a checkpoint copies them into the
/// database; with no WAL (the last connection to close checkpointed it and deleted it),
/// the database. Opened by name each time: it is the file's pages that are flushed, through
/// whichever descriptor, and SQLite may have made a new WAL since.
fn flush(wal: &std::path::Path, db: &std::path::Path) -> std::io::Result<()> {
    match std::fs::File::open(wal) {
        Ok(wal) => wal.sync_data(),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => std::fs::File::open(db)?.sync_data(),
        Err(e) => Err(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::Duration;

    /// Commits asked for while a flush runs are answered by the next one: fewer flushes
    /// than commits, each commit durable, in any order asked.
    #[test]
    fn one_flush_answers_every_commit_before_it() {
        let flushes = Arc::new(AtomicUsize::new(0));
        let counted = flushes.clone();
        // The first flush waits until every commit was asked for.
        let (go, gate) = std::sync::mpsc::channel::<()>();
        let gate = Mutex::new(Some(gate));
        let syncer = Syncer::with_flush(move || {
            counted.fetch_add(1, Ordering::SeqCst);
            if let Some(gate) = gate.lock().unwrap().take() {
                let _ = gate.recv();
            }
            Ok(())
        })
        .unwrap();
        let commits: Vec<Commit> = (0..50).map(|_| syncer.ask()).collect();
        assert_eq!(commits.last(), Some(&Commit(50)));
        go.send(()).unwrap();
        assert_eq!(syncer.wait(commits[49]), Ok(()));
        for c in commits.iter().rev() {
            assert_eq!(syncer.wait(*c), Ok(()));
        }
        // The flush under way when they were asked for, and one more.
        assert!(flushes.load(Ordering::SeqCst) <= 2, "{} flushes", flushes.load(Ordering::SeqCst));
    }

    /// A flush that fails fails the commits waiting and every one after, at once, and the
    /// thread stops flushing.
    #[test]
    fn a_failed_flush_fails_every_later_commit() {
        let flushes = Arc::new(AtomicUsize::new(0));
        let counted = flushes.clone();
        let syncer = Syncer::with_flush(move || {
            counted.fetch_add(1, Ordering::SeqCst);
            Err(std::io::Error::other("the disk is gone"))
        })
        .unwrap();
        let first = syncer.ask();
        let failed = syncer.wait(first).unwrap_err();
        assert!(failed.contains("could not be written to disk: the disk is gone"), "{failed}");
        let later = syncer.ask();
        assert_eq!(syncer.wait(later), Err(failed));
        std::thread::sleep(Duration::from_millis(50));
        assert_eq!(flushes.load(Ordering::SeqCst), 1, "no flushing after a failure");
    }
}
