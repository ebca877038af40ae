//! The plan's rows read back: the [`model::RowSource`] of a store on disk, over a read-only
//! connection of its own, so that the plan can forget rows it wrote ([`model::State`]'s lazy
//! tables) while the store's connection is inside a write transaction.

use std::path::Path;
use std::sync::Mutex;

use rusqlite::{Connection, OpenFlags, OptionalExtension};

pub(crate) struct SqlRows {
    reader: Mutex<Reader>,
}

/// The connection, and whether it is inside a read transaction: the rows a query reads come
/// from one snapshot, taken at its first read, instead of a lock and a WAL lookup per row
/// (the day's programme reads five rows per event).
struct Reader {
    conn: Connection,
    reading: bool,
}

impl Reader {
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
        let conn = crate::open_beside(path, OpenFlags::SQLITE_OPEN_READ_ONLY)?;
        // Its own page cache, small: the rows it reads are few and scattered, and the
        // plan's memory is what issue 15 bounds.
        conn.pragma_update(None, "cache_size", -4096)?;
        conn.busy_timeout(std::time::Duration::from_secs(30))?;
        Ok(SqlRows { reader: Mutex::new(Reader { conn, reading: false }) })
    }

    /// Ends the snapshot the reads since the last call came from. The store calls it before
    /// and after each of its commits and before each request: a row the plan forgot once
    /// written is never read back from a snapshot older than its write, another process's
    /// writes are seen, and no snapshot keeps a checkpoint from restarting the WAL.
    pub(crate) fn release(&self) {
        if let Ok(mut reader) = self.reader.lock() {
            reader.release();
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
fn checked(table: &str) -> Result<&str, String> {
    match model::State::TABLES.contains(&table) {
        true => Ok(table),
        false => Err(format!("no plan table {table}")),
    }
}

impl model::RowSource for SqlRows {
    fn row(&self, table: &str, key: &[u8]) -> Result<Option<Vec<u8>>, String> {
        let mut reader = self.reader.lock().map_err(|_| "the row reader panicked".to_string())?;
        let sql = format!("SELECT value FROM m_{} WHERE key = ?1", checked(table)?);
        let conn = reader.snapshot().map_err(|e| e.to_string())?;
        conn.prepare_cached(&sql)
            .and_then(|mut stmt| stmt.query_row([key], |r| r.get(0)).optional())
            .map_err(|e| e.to_string())
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
