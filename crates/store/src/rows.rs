//! The plan's rows read back: the [`model::RowSource`] of a store on disk, over a read-only
//! connection of its own, so that the plan can forget rows it wrote ([`model::State`]'s lazy
//! tables) while the store's connection is inside a write transaction.

use std::path::Path;
use std::sync::{Mutex, mpsc};

use rusqlite::{Connection, OpenFlags, OptionalExtension};

pub(crate) struct SqlRows {
    reader: Mutex<Reader>,
    /// A second connection, opened at the first [`model::RowSource::rows_of`] worth two:
    /// a page of the programme reads some 500 rows, each from a 16 KB page of its own, and
    /// copying those pages is most of its time (issue 15).
    helper: Mutex<Option<Helper>>,
    path: std::path::PathBuf,
}

/// A second reader on a thread of its own, which stays put between queries: a thread spawned
/// for each query often started only once the one that spawned it waited for it (the
/// scheduler placed it on the same core).
struct Helper {
    jobs: mpsc::Sender<Job>,
    /// Whether it was given reads since its snapshot last ended: a store that commits
    /// batch after batch wakes it only after a query.
    reading: bool,
}

type Rows = Result<Vec<Option<Vec<u8>>>, String>;

enum Job {
    Read { table: &'static str, keys: Vec<Vec<u8>>, reply: mpsc::SyncSender<Rows> },
    Release,
}

impl Helper {
    fn start(path: &Path) -> std::io::Result<Helper> {
        let mut reader = Reader::open(path).map_err(std::io::Error::other)?;
        let (jobs, queue) = mpsc::channel();
        std::thread::Builder::new().name("pandafest-rows".into()).spawn(move || {
            // Ends when the store drops its `SqlRows`, and with it the sender.
            for job in queue {
                match job {
                    Job::Read { table, keys, reply } => {
                        let _ = reply.send(reader.rows_of(table, &keys));
                    }
                    Job::Release => reader.release(),
                }
            }
        })?;
        Ok(Helper { jobs, reading: false })
    }

    /// Starts reading `keys` of the plan's `table`; `None` if the thread is gone.
    fn read(&mut self, table: &'static str, keys: Vec<Vec<u8>>) -> Option<mpsc::Receiver<Rows>> {
        let (reply, rows) = mpsc::sync_channel(1);
        self.jobs.send(Job::Read { table, keys, reply }).ok()?;
        self.reading = true;
        Some(rows)
    }

    /// Ends its snapshot before any read that follows: the thread takes its jobs in order.
    fn release(&mut self) {
        if std::mem::take(&mut self.reading) {
            let _ = self.jobs.send(Job::Release);
        }
    }
}

/// The fewest rows that [`model::RowSource::rows_of`] splits between the two connections:
/// handing rows to the helper and back costs some tens of microseconds, a row read about ten.
const SPLIT_FROM: usize = 16;

/// The connection, and whether it is inside a read transaction: the rows a query reads come
/// from one snapshot, taken at its first read, instead of a lock and a WAL lookup per row
/// (the day's programme reads five rows per event).
struct Reader {
    conn: Connection,
    reading: bool,
}

impl Reader {
    fn open(path: &Path) -> rusqlite::Result<Reader> {
        let conn = crate::open_beside(path, OpenFlags::SQLITE_OPEN_READ_ONLY)?;
        // Its own page cache, small: the rows it reads are few and scattered, and the
        // plan's memory is what issue 15 bounds.
        conn.pragma_update(None, "cache_size", -4096)?;
        conn.busy_timeout(std::time::Duration::from_secs(30))?;
        Ok(Reader { conn, reading: false })
    }

    /// The value stored under each of `keys` in the plan's `table` (checked by the caller).
    fn rows_of(&mut self, table: &str, keys: &[impl AsRef<[u8]>]) -> Rows {
        let sql = format!("SELECT value FROM m_{table} WHERE key = ?1");
        let conn = self.snapshot().map_err(|e| e.to_string())?;
        let mut stmt = conn.prepare_cached(&sql).map_err(|e| e.to_string())?;
        let mut read = |k: &[u8]| stmt.query_row([k], |r| r.get(0)).optional().map_err(|e| e.to_string());
        keys.iter().map(|k| read(k.as_ref())).collect()
    }

    fn snapshot(&mut self) -> rusqlite::Result<&Connection> {
        if !self.reading {
            self.conn.execute_batch("BEGIN")?;
            self.reading = true;
        }
        Ok(&self.conn)
    }

    fn release(&mut self) {
        if std::mem::take(&mut self.reading) {
            // A read transaction has nothing to lose; if it cannot end, the next
            // `BEGIN` fails and the plan reports its rows unreadable.
            let _ = self.conn.execute_batch("COMMIT");
        }
    }
}

impl SqlRows {
    pub(crate) fn open(path: &Path) -> rusqlite::Result<SqlRows> {
        Ok(SqlRows { reader: Mutex::new(Reader::open(path)?), helper: Mutex::new(None), path: path.to_path_buf() })
    }

    /// Ends the snapshot the reads since the last call came from. The store calls it before
    /// and after each of its commits and before each request: a row the plan forgot once
    /// written is never read back from a snapshot older than its write, another process's
    /// writes are seen, and no snapshot keeps a checkpoint from restarting the WAL.
    pub(crate) fn release(&self) {
        if let Ok(mut reader) = self.reader.lock() {
            reader.release();
        }
        if let Ok(mut helper) = self.helper.lock()
            && let Some(helper) = helper.as_mut()
        {
            helper.release();
        }
    }

    /// Calls `f` with every row of the plan's `table`, over this connection.
    pub(crate) fn each_row(
        &self,
        table: &str,
        f: &mut dyn FnMut(&[u8], &[u8]) -> Result<(), crate::StoreError>,
    ) -> Result<(), crate::StoreError> {
        let mut reader =
            self.reader.lock().map_err(|_| crate::StoreError::CorruptPlan("the row reader panicked".into()))?;
        // A load sees the rows as they are now.
        reader.release();
        let table = checked(table).map_err(crate::StoreError::CorruptPlan)?;
        crate::each_row(&reader.conn, table, f)
    }
}

/// Only the plan's own tables, whose names come from [`model::State::TABLES`].
fn checked(table: &str) -> Result<&'static str, String> {
    model::State::TABLES.iter().find(|t| **t == table).copied().ok_or_else(|| format!("no plan table {table}"))
}

impl model::RowSource for SqlRows {
    fn row(&self, table: &str, key: &[u8]) -> Result<Option<Vec<u8>>, String> {
        let table = checked(table)?;
        let mut reader = self.reader.lock().map_err(|_| "the row reader panicked".to_string())?;
        Ok(reader.rows_of(table, &[key])?.pop().flatten())
    }

    /// Half the rows on the store's reader, half on the helper's connection at the same
    /// time. The helper's snapshot may be newer than the reader's only by a commit of another
    /// process: this process's plan holds the rows it has not written yet, and both
    /// snapshots end at the same points ([`SqlRows::release`]).
    fn rows_of(&self, table: &str, keys: &[Vec<u8>]) -> Result<Vec<Option<Vec<u8>>>, String> {
        let table = checked(table)?;
        let mut reader = self.reader.lock().map_err(|_| "the row reader panicked".to_string())?;
        if keys.len() < SPLIT_FROM {
            return reader.rows_of(table, keys);
        }
        let mut helper = self.helper.lock().map_err(|_| "the second row reader panicked".to_string())?;
        if helper.is_none() {
            *helper = Some(Helper::start(&self.path).map_err(|e| e.to_string())?);
        }
        let (mine, theirs) = keys.split_at(keys.len() / 2);
        let Some(theirs) = helper.as_mut().and_then(|h| h.read(table, theirs.to_vec())) else {
            // The helper is gone (it panicked): everything on the reader.
            *helper = None;
            return reader.rows_of(table, keys);
        };
        let mut rows = reader.rows_of(table, mine)?;
        rows.extend(theirs.recv().map_err(|_| "the second row reader panicked".to_string())??);
        Ok(rows)
    }

    fn keys(&self, table: &str, from: &[u8], to: &[u8], limit: usize) -> Result<Vec<Vec<u8>>, String> {
        let mut reader = self.reader.lock().map_err(|_| "the row reader panicked".to_string())?;
        let sql = format!("SELECT key FROM m_{} WHERE key >= ?1 AND key <= ?2 ORDER BY key LIMIT ?3", checked(table)?);
        let limit = i64::try_from(limit).unwrap_or(-1);
        let conn = reader.snapshot().map_err(|e| e.to_string())?;
        let mut stmt = conn.prepare_cached(&sql).map_err(|e| e.to_string())?;
        let rows = stmt.query_map(rusqlite::params![from, to, limit], |r| r.get(0)).map_err(|e| e.to_string())?;
        rows.collect::<Result<Vec<Vec<u8>>, _>>().map_err(|e| e.to_string())
    }

    fn rows(&self, table: &str, from: &[u8], to: &[u8], limit: usize) -> Result<Vec<(Vec<u8>, Vec<u8>)>, String> {
        let mut reader = self.reader.lock().map_err(|_| "the row reader panicked".to_string())?;
        let sql =
            format!("SELECT key, value FROM m_{} WHERE key >= ?1 AND key <= ?2 ORDER BY key LIMIT ?3", checked(table)?);
        let limit = i64::try_from(limit).unwrap_or(-1);
        let conn = reader.snapshot().map_err(|e| e.to_string())?;
        let mut stmt = conn.prepare_cached(&sql).map_err(|e| e.to_string())?;
        let rows = stmt
            .query_map(rusqlite::params![from, to, limit], |r| Ok((r.get(0)?, r.get(1)?)))
            .map_err(|e| e.to_string())?;
        rows.collect::<Result<Vec<_>, _>>().map_err(|e| e.to_string())
    }
}
