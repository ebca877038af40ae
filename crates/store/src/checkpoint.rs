//! Natively, the WAL is copied back into the database (checkpointed) by a thread with a
//! connection of its own, while the writer goes on writing.
//!
//! SQLite's own autocheckpoint runs inside the commit that filled the WAL, on the writer's
//! thread: the import's storing thread and the sync's hub spent about 6 % of their time
//! copying 64 MB of pages back (issue 15), while the other core waited for them. A passive
//! checkpoint may run beside a writer: it copies the frames committed when it began and
//! leaves the rest. The WAL starts over from its beginning at the next write after a
//! checkpoint that copied every frame; the writer itself checkpoints once the WAL holds
//! [`HARD`] times the pages at which it woke the thread, which copies what the thread has
//! not yet (most of it is), so that the WAL stays bounded however busy the writer is.

use std::ffi::c_int;
use std::path::Path;
use std::sync::mpsc::{Receiver, RecvTimeoutError, SyncSender, TrySendError, sync_channel};
use std::time::Duration;

use rusqlite::hooks::Wal;
use rusqlite::{Connection, OpenFlags};

/// The writer checkpoints itself at this many times the pages at which it wakes the thread.
const HARD: u32 = 2;

/// Wakes the checkpointing thread; the thread ends once every sender is dropped.
pub(crate) struct Checkpointer {
    wake: SyncSender<()>,
}

impl Checkpointer {
    /// Starts the thread on its own connection to the database at `path` (already in WAL
    /// mode). The thread ends when the checkpointer is dropped.
    pub(crate) fn start(path: &Path) -> Result<Checkpointer, crate::StoreError> {
        // No create: the writer made it.
        let conn = crate::open_beside(path, OpenFlags::SQLITE_OPEN_READ_WRITE)?;
        // Its page cache is not used by a checkpoint, which copies frames from the WAL.
        conn.pragma_update(None, "cache_size", -64)?;
        // Room for one wake: a commit while a checkpoint runs asks for one more after it.
        let (wake, woken) = sync_channel(1);
        std::thread::Builder::new()
            .name("checkpoint".into())
            .spawn(move || run(conn, woken))
            .map_err(|e| crate::StoreError::Thread("checkpointing", e))?;
        Ok(Checkpointer { wake })
    }

    /// Makes `writer` wake the thread after each commit that leaves `pages` or more in the
    /// WAL, and checkpoint itself at [`HARD`] times that. Replaces SQLite's autocheckpoint
    /// (and is replaced by a `wal_autocheckpoint` pragma).
    pub(crate) fn attach(&self, writer: &mut Connection, pages: u32) -> rusqlite::Result<()> {
        let wake = self.wake.clone();
        let pages = pages.max(1);
        writer.wal_hook(Some(move |wal: &mut Wal, frames: c_int| {
            let frames = frames.max(0) as u32;
            if frames < pages {
                return Ok(());
            }
            if frames < pages.saturating_mul(HARD) {
                match wake.try_send(()) {
                    Ok(()) | Err(TrySendError::Full(())) => return Ok(()),
                    // No thread (it could not start its connection): as SQLite's autocheckpoint.
                    Err(TrySendError::Disconnected(())) => {}
                }
            }
            // Beyond twice the size the thread is not woken again: a checkpoint of the
            // writer's fails while the thread's runs (one at a time, and the writer's does not
            // wait), and a thread woken by every commit would keep the WAL from restarting for
            // as long as the writes go on (in a debug build, the WAL test's WAL grew to six
            // times the size). As SQLite's own hook: the commit happened whatever the
            // checkpoint does, so its error is not the commit's.
            let _ = wal.checkpoint();
            Ok(())
        }))
    }
}

/// The first wait before a checkpoint that left frames behind is tried again; each wait after
/// is twice the one before, up to [`RETRY_MAX`].
const RETRY_FIRST: Duration = Duration::from_millis(5);
const RETRY_MAX: Duration = Duration::from_secs(1);

fn run(conn: Connection, woken: Receiver<()>) {
    // How long to wait before trying again, while the last checkpoint left frames behind.
    let mut retry: Option<Duration> = None;
    loop {
        let wake = match retry {
            None => woken.recv().map_err(|_| RecvTimeoutError::Disconnected),
            Some(wait) => woken.recv_timeout(wait),
        };
        match wake {
            Ok(()) => retry = None,
            Err(RecvTimeoutError::Timeout) => {}
            Err(RecvTimeoutError::Disconnected) => return,
        }
        // Passive: never waits for the writer or readers, copies what it can. A failure
        // (a busy lock, a full disk) leaves the frames for the next checkpoint, the writer's
        // at the latest.
        let done = conn.wal_checkpoint_v2(None::<&str>, rusqlite::wal::CheckpointMode::PASSIVE);
        // A reader's snapshot from before the last commit keeps that commit's frames from
        // being copied. Once in about a hundred runs of the WAL test, the commit that woke
        // the thread was itself still held so (its frames copied 49 of 55): with no
        // further commit to wake it, the thread left them in the WAL (issue 15). It tries
        // again, sooner first, until it copies them or a commit wakes it.
        retry = match done {
            Ok((frames, copied)) if copied < frames => {
                Some(retry.map_or(RETRY_FIRST, |wait| (wait * 2).min(RETRY_MAX)))
            }
            _ => None,
        };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A writer on a new database at `path` in WAL mode, with a table `t` of blobs.
    fn wal_table(path: &Path) -> Connection {
        let writer = Connection::open(path).unwrap();
        writer.pragma_update(None, "journal_mode", "WAL").unwrap();
        writer.execute_batch("CREATE TABLE t (v BLOB)").unwrap();
        writer
    }

    /// A reader's snapshot taken before the writes keeps the woken thread from copying their
    /// frames; once the reader ends, the thread copies them without being woken again.
    #[test]
    fn frames_a_reader_held_back_are_copied_once_it_ends() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("db.sqlite");
        let writer = wal_table(&path);
        writer.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |r| r.get::<_, i64>(0)).unwrap();
        let len = |p: &Path| std::fs::metadata(p).map_or(0, |m| m.len());
        let before = len(&path);
        let reader = Connection::open(&path).unwrap();
        reader.execute_batch("BEGIN").unwrap();
        reader.query_row("SELECT count(*) FROM t", [], |r| r.get::<_, i64>(0)).unwrap();
        for _ in 0..5 {
            writer.execute("INSERT INTO t (v) VALUES (zeroblob(3000))", []).unwrap();
        }
        let checkpointer = Checkpointer::start(&path).unwrap();
        checkpointer.wake.send(()).unwrap();
        // Time for the thread to try; whenever it does, the reader holds every frame back.
        std::thread::sleep(Duration::from_millis(200));
        assert_eq!(len(&path), before, "a frame was copied past the reader's snapshot");
        reader.execute_batch("COMMIT").unwrap();
        let deadline = std::time::Instant::now() + Duration::from_secs(20);
        while len(&path) == before {
            assert!(std::time::Instant::now() < deadline, "the frames stayed in the WAL for 20 s");
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// The writer's rule, with the test in the thread's place: a commit that leaves the WAL
    /// below `pages` does nothing; from `pages` on it wakes the thread and leaves the pages
    /// where they are; the commit that leaves twice that checkpoints on the writer (the
    /// database file grows) and wakes nobody.
    #[test]
    fn the_writer_wakes_the_thread_then_checkpoints_itself() {
        let dir = tempfile::tempdir().unwrap();
        let (path, wal) = (dir.path().join("db.sqlite"), dir.path().join("db.sqlite-wal"));
        let mut writer = wal_table(&path);
        let page = writer.query_row("PRAGMA page_size", [], |r| r.get::<_, i64>(0)).unwrap() as u64;
        let (wake, woken) = sync_channel(1);
        Checkpointer { wake }.attach(&mut writer, 20).unwrap();
        let len = |p: &Path| std::fs::metadata(p).map_or(0, |m| m.len());
        // The WAL file's frames, until it first starts over.
        let frames = || len(&wal).saturating_sub(32) / (page + 24);
        let before = len(&path);
        let mut woke = 0;
        loop {
            writer.execute("INSERT INTO t (v) VALUES (zeroblob(3000))", []).unwrap();
            let (now, was_woken) = (frames(), woken.try_recv().is_ok());
            if now >= 40 {
                assert!(!was_woken, "woken at {now} pages");
                assert!(len(&path) > before, "the writer did not checkpoint at {now} pages");
                break;
            }
            assert_eq!(was_woken, now >= 20, "at {now} pages");
            assert_eq!(len(&path), before, "the writer checkpointed at {now} pages");
            woke += usize::from(was_woken);
        }
        assert!(woke >= 2, "woken {woke} times between 20 and 40 pages");
    }
}
