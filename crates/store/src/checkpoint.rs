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
use std::sync::mpsc::{Receiver, SyncSender, TrySendError, sync_channel};

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
        // As the writer opens it (the URI flag), or a data directory named `file:…` would be
        // two databases; no create: the writer made it.
        let conn = Connection::open_with_flags(
            path,
            OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX | OpenFlags::SQLITE_OPEN_URI,
        )?;
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

fn run(conn: Connection, woken: Receiver<()>) {
    while woken.recv().is_ok() {
        // Passive: never waits for the writer or readers, copies what it can. A failure
        // (a busy lock, a full disk) leaves the frames for the next checkpoint, the writer's
        // at the latest.
        let _ = conn.wal_checkpoint_v2(None::<&str>, rusqlite::wal::CheckpointMode::PASSIVE);
    }
}
