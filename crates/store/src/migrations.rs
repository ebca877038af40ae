//! The schema, as numbered migrations; `PRAGMA user_version` records how far a database is.

use model::State;
use rusqlite::Connection;

use crate::StoreError;

/// Migration N (1-based) takes a database from version N-1 to N.
fn migrations() -> Vec<String> {
    let mut plan_tables = String::new();
    for table in State::TABLES {
        plan_tables
            .push_str(&format!("CREATE TABLE m_{table} (key BLOB PRIMARY KEY, value BLOB NOT NULL) WITHOUT ROWID;\n"));
    }
    vec![
        format!(
            "CREATE TABLE meta (key TEXT PRIMARY KEY, value ANY) STRICT;
         CREATE TABLE logs (
             author BLOB NOT NULL, log_id INTEGER NOT NULL,
             festival BLOB, max_seq INTEGER NOT NULL, end_seq INTEGER, fork_seq INTEGER,
             PRIMARY KEY (author, log_id)) WITHOUT ROWID;
         CREATE INDEX logs_by_festival ON logs (festival);
         CREATE TABLE entries (
             author BLOB NOT NULL, log_id INTEGER NOT NULL, seq INTEGER NOT NULL,
             hash BLOB NOT NULL UNIQUE, entry BLOB NOT NULL, payload BLOB NOT NULL,
             lipmaa_seq INTEGER, received INTEGER NOT NULL,
             PRIMARY KEY (author, log_id, seq)) WITHOUT ROWID;
         CREATE INDEX entries_by_lipmaa ON entries (author, log_id, lipmaa_seq) WHERE lipmaa_seq IS NOT NULL;
         CREATE UNIQUE INDEX entries_by_received ON entries (received);
         CREATE TABLE forks (
             author BLOB NOT NULL, log_id INTEGER NOT NULL, seq INTEGER NOT NULL,
             entry BLOB NOT NULL, payload BLOB NOT NULL,
             PRIMARY KEY (author, log_id, seq)) WITHOUT ROWID;
         {plan_tables}"
        ),
        // 2: the contiguous height of each log (what replication announces), kept on insert.
        "ALTER TABLE logs ADD COLUMN height INTEGER NOT NULL DEFAULT 0;
     UPDATE logs SET height = (SELECT COUNT(*) FROM entries e WHERE e.author = logs.author AND e.log_id = logs.log_id)
       WHERE max_seq = (SELECT COUNT(*) FROM entries e WHERE e.author = logs.author AND e.log_id = logs.log_id);"
            .to_string(),
        // 3: the plan's decisions and the resources' decision histories in tables of their
        // own, so that a plan on disk can forget them (issue 15). A new database has them
        // from migration 1, which creates every table of `State::TABLES`.
        "CREATE TABLE IF NOT EXISTS m_allocops (key BLOB PRIMARY KEY, value BLOB NOT NULL) WITHOUT ROWID;
         CREATE TABLE IF NOT EXISTS m_decisions (key BLOB PRIMARY KEY, value BLOB NOT NULL) WITHOUT ROWID;"
            .to_string(),
        // 4: the plan's indexes of events and requests, and its replacements, as rows, so that
        // a plan on disk keeps none of them in memory (issue 15). The plan is rebuilt into
        // them at open (`MODEL_ROWS_VERSION` 8).
        ["replacements", "eventindex", "eventspans", "requestindex", "requestspans", "organiserindex"]
            .map(|t| {
                format!("CREATE TABLE IF NOT EXISTS m_{t} (key BLOB PRIMARY KEY, value BLOB NOT NULL) WITHOUT ROWID;")
            })
            .join("\n"),
        // 5: each resource's decision history as one row per operation, and the operations
        // naming a request filed by it, so that a plan write appends instead of rewriting
        // whole histories (issue 15; `MODEL_ROWS_VERSION` 10).
        ["allocnaming", "alloclens"]
            .map(|t| {
                format!("CREATE TABLE IF NOT EXISTS m_{t} (key BLOB PRIMARY KEY, value BLOB NOT NULL) WITHOUT ROWID;")
            })
            .join("\n"),
        // 6: each resource's active slots as rows of their own, so that a plan on disk keeps
        // none of them in memory (issue 15; `MODEL_ROWS_VERSION` 11).
        "CREATE TABLE IF NOT EXISTS m_slots (key BLOB PRIMARY KEY, value BLOB NOT NULL) WITHOUT ROWID;".to_string(),
        // 7: the tables of whole records stored by rowid, their keys in an index of their own
        // (issue 15; `MODEL_ROWS_VERSION` 12 rebuilds the plan into them).
        RECORD_TABLES
            .map(|t| {
                format!(
                    "DROP TABLE IF EXISTS m_{t};
                     CREATE TABLE m_{t} (key BLOB NOT NULL UNIQUE, value BLOB NOT NULL);"
                )
            })
            .join("\n"),
        // 8: the entries without an index of their hashes (issue 15). Nothing looks an entry
        // up by its hash (the plan's records name entries by author, log and sequence number),
        // and the log's primary key already keeps each entry once: a hash is a digest of the
        // entry's bytes, its position among them. Inserting random hashes rewrote pages all
        // over that index in every transaction: a sync of 100,000 entries took 2.67 s without
        // it against 3.42 s with it, an import 2.39 s against 2.68 s (medians of 4 and 3).
        "CREATE TABLE entries_8 (
             author BLOB NOT NULL, log_id INTEGER NOT NULL, seq INTEGER NOT NULL,
             hash BLOB NOT NULL, entry BLOB NOT NULL, payload BLOB NOT NULL,
             lipmaa_seq INTEGER, received INTEGER NOT NULL,
             PRIMARY KEY (author, log_id, seq)) WITHOUT ROWID;
         INSERT INTO entries_8 (author, log_id, seq, hash, entry, payload, lipmaa_seq, received)
             SELECT author, log_id, seq, hash, entry, payload, lipmaa_seq, received FROM entries;
         DROP TABLE entries;
         ALTER TABLE entries_8 RENAME TO entries;
         CREATE INDEX entries_by_lipmaa ON entries (author, log_id, lipmaa_seq) WHERE lipmaa_seq IS NOT NULL;
         CREATE UNIQUE INDEX entries_by_received ON entries (received);"
            .to_string(),
        // 9: each log's bytes (its entries' and their payloads'), kept on insert, so that a
        // sync's `Plan` announces a whole log's bytes without reading its entries: the
        // serving node read 40 MB of entries for 100,000 of them before its first batch
        // (issue 15).
        "ALTER TABLE logs ADD COLUMN bytes INTEGER NOT NULL DEFAULT 0;
         UPDATE logs SET bytes = (SELECT COALESCE(SUM(length(e.entry) + length(e.payload)), 0) FROM entries e
           WHERE e.author = logs.author AND e.log_id = logs.log_id);"
            .to_string(),
    ]
}

/// The plan tables whose rows are whole records, of a hundred bytes to a few kilobytes (an
/// event about 470, a request 410, an operation 215): stored by rowid, with the keys in an
/// index of their own. A WITHOUT ROWID table is a b-tree of whole rows, its interior pages
/// too: seven rows to a page, a lookup of 200,000 events went seven pages deep and the
/// interior pages outgrew the reader's cache, about 4.7 page reads a row (a schedule page of
/// a million-entry festival read 2,300 pages). An index of the keys holds about 50 to a page,
/// and the rowid b-tree some 400. The other tables' rows (index members, the ids waited for,
/// small numbers, a decision, a replacement's id) are about as small as their keys, and stay
/// WITHOUT ROWID: one b-tree, not two.
const RECORD_TABLES: [&str; 10] =
    ["logs", "festivals", "resources", "events", "requests", "ops", "collectives", "votes", "allocops", "allocnaming"];

pub fn migrate(conn: &mut Connection) -> Result<(), StoreError> {
    let migrations = migrations();
    let known = migrations.len() as i64;
    let found: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    if found > known {
        return Err(StoreError::TooNew { found, known });
    }
    if found == known {
        return Ok(());
    }
    // In one transaction, committed (and waited for on disk) once: a new database took
    // eight commits, each an fsync, before a sync of it could start.
    let tx = conn.transaction()?;
    for sql in migrations.iter().skip(found as usize) {
        tx.execute_batch(sql)?;
    }
    tx.pragma_update(None, "user_version", known)?;
    tx.commit()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn every_table_of_records_is_a_plan_table() {
        for t in super::RECORD_TABLES {
            assert!(model::State::TABLES.contains(&t), "{t}");
        }
    }
}
