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
    wal: PathBuf,
    db: PathBuf,
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
        let shared =
            Arc::new(Shared { wal: wal.into(), db, state: Mutex::new(State::default()), wake: Condvar::new() });
        let thread = shared.clone();
        std::thread::Builder::new().name("durable".into()).spawn(move || run(&thread))?;
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

fn run(shared: &Shared) {
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
        let flushed = flush(shared).map_err(|e| format!("the entries stored could not be written to disk: {e}"));
        let done = {
            let mut state = shared.state.lock().unwrap_or_else(|e| e.into_inner());
            match flushed {
                Ok(()) if state.failed.is_none() => state.durable = target,
                Ok(()) => {}
                Err(e) => {
                    state.failed.get_or_insert(e);
                }
            }
            let (durable, failed) = (state.durable, state.failed.clone());
            let waiters = std::mem::take(&mut state.waiters);
            let (done, waiting): (Vec<_>, Vec<_>) =
                waiters.into_iter().partition(|(commit, _)| *commit <= durable || failed.is_some());
            state.waiters = waiting;
            (done, failed)
        };
        for (_, then) in done.0 {
            then(done.1.clone().map_or(Ok(()), Err));
        }
    }
}

/// Flushes the WAL, where a commit's pages are until a checkpoint copies them into the
/// database; with no WAL (the last connection to close checkpointed it and deleted it),
/// the database. Opened by name each time: it is the file's pages that are flushed, through
/// whichever descriptor, and SQLite may have made a new WAL since.
fn flush(shared: &Shared) -> std::io::Result<()> {
    match std::fs::File::open(&shared.wal) {
        Ok(wal) => wal.sync_data(),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => std::fs::File::open(&shared.db)?.sync_data(),
        Err(e) => Err(e),
    }
}
