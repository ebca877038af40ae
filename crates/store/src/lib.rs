//! pandafest's storage: the logs (the source of truth) and the materialised plan (a cache
//! that can always be rebuilt from them), in SQLite.
//!
//! - [`Store`]: one SQLite database in WAL mode. [`Store::ingest`] takes a batch of
//!   [`VerifiedEntry`]s (signatures already checked) and, in one transaction, checks
//!   them against their logs (links, forks, end of log), stores them, folds them into
//!   the [`model::State`] and writes the changed rows of the plan.
//! - [`verify_entries`]: decoding, batched signature checks and payload checks: the only
//!   way, besides signing one's own entries, to obtain a [`VerifiedEntry`].
//! - [`Store::append`]: signs an operation into the node's own log of a festival.
//! - [`Store::heights`], [`Store::entries_from`] and the [`sync::SyncStore`] they make: what
//!   replication reads, natively and in a browser.
//!
//! Schema changes are versioned migrations; the plan's rows carry the model's format
//! version, and a store whose plan is of another version rebuilds it at open.

#[cfg(not(target_arch = "wasm32"))]
mod checkpoint;
mod durable;
mod migrations;
#[cfg(not(target_arch = "wasm32"))]
mod rows;
#[cfg(target_arch = "wasm32")]
mod rows {
    /// A browser's database allows one connection: its plan stays in memory, and this is
    /// never made.
    pub(crate) enum SqlRows {}

    impl SqlRows {
        pub(crate) fn release(&self) {
            match *self {}
        }

        pub(crate) fn each_row(
            &self,
            _: &str,
            _: &mut dyn FnMut(&[u8], &[u8]) -> Result<(), crate::StoreError>,
        ) -> Result<(), crate::StoreError> {
            match *self {}
        }
    }

    impl model::RowSource for SqlRows {
        fn row(&self, _: &str, _: &[u8]) -> Result<Option<Vec<u8>>, String> {
            match *self {}
        }

        fn keys(&self, _: &str, _: &[u8], _: &[u8], _: usize) -> Result<Vec<Vec<u8>>, String> {
            match *self {}
        }

        fn rows(&self, _: &str, _: &[u8], _: &[u8], _: usize) -> Result<Vec<(Vec<u8>, Vec<u8>)>, String> {
            match *self {}
        }
    }
}
mod sql_log;
mod sync_store;
mod verified;

use std::path::Path;

use bamboo::{Admission, Author, Hash, Keypair, LogView, VerifyError};
use model::op::Payload;
use model::{Id, Key, LogEntry, Operation, State};
use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params};
use sync::LogHeight;

pub use durable::{Commit, Syncer};
use sql_log::BatchLogs;
pub use sql_log::SqlLog;
pub use verified::{
    DecodedEntry, Preverified, VerifiedEntry, decode_entry, verify_entries, verify_entries_checked, verify_signatures,
    verify_signatures_here,
};

/// The format of the plan's rows; a change makes stores rebuild their plan at open.
/// 8: the indexes of events and requests are rows of their own ([`model::State::TABLES`]);
/// 9: so is each id waited for; 10: each operation of a resource's decision history;
/// 11: each active slot; 12: the tables of whole records stored by rowid (migration 7);
/// 13: index members with their frames' ends; 14: events with the sequence number that
/// created them, and no operation records of the creations their events and requests hold;
/// 15: rows of events, requests and operation records without their ids and authors;
/// 16: an allocation's slots found by the first 16 bytes of their requests' ids, not 8.
const MODEL_ROWS_VERSION: i64 = 16;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database error: {0}")]
    Sql(#[from] rusqlite::Error),
    #[error("the database holds a plan that cannot be read ({0}); run `pandafest rebuild`")]
    CorruptPlan(String),
    #[error("the database was written by a newer pandafest (schema {found}, this one knows up to {known})")]
    TooNew { found: i64, known: i64 },
    #[error("entry {index} of the batch is rejected: {error}")]
    Rejected { index: usize, error: bamboo::Error },
    #[error("cannot write to festival {0}: this node does not hold it")]
    UnknownFestival(Id),
    #[error("this node has written entries with its key; a key can only be imported into a node that wrote nothing")]
    KeyInUse,
    #[error("cannot sign the entry: {0}")]
    Build(#[from] bamboo::BuildError),
    #[error("cannot start the store's {0} thread: {1}")]
    Thread(&'static str, std::io::Error),
}

/// What happened to a batch.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct IngestReport {
    /// Entries stored now, as (author, log id, seq, hash).
    pub stored: Vec<(Author, u64, u64, Hash)>,
    pub duplicates: usize,
    /// Forks found: the log is frozen at that entry and the author flagged; the second
    /// entry is kept as evidence.
    pub forks: Vec<(Author, u64, u64)>,
    /// Entries not stored because their log is frozen by a fork.
    pub frozen: usize,
}

/// The SQLite store of one node.
pub struct Store {
    conn: Connection,
    plan: Plan,
    keypair: Keypair,
    data_version: i64,
    /// Entries a lazy plan folds per transaction when rebuilt ([`FLUSH_AFTER`]).
    rebuild_chunk: usize,
    /// Natively, on disk: the thread that copies the WAL back into the database.
    #[cfg(not(target_arch = "wasm32"))]
    checkpointer: Option<checkpoint::Checkpointer>,
    /// Natively, on disk: the thread that makes [`Store::ingest_deferred`]'s commits durable.
    syncer: Option<Syncer>,
}

/// The plan in memory and how far it is from the entries and from its rows.
struct Plan {
    state: State,
    /// The greatest `received` number folded into `state`: entries stored by other
    /// processes (a CLI command beside a running server) come after it.
    last_received: i64,
    /// Entries folded into `state` since its rows were last written (see [`Store::flush_plan`]).
    unflushed: usize,
    /// Where a store on disk reads back the rows its plan forgot (`None`: in memory).
    rows: Option<std::sync::Arc<rows::SqlRows>>,
    /// The `plan_received` of the rows this process last wrote or loaded. If the stored
    /// one differs, another process wrote rows, which may hold entries this plan has not
    /// folded yet: a plan that reads rows back must load again before it folds them.
    mark: Option<i64>,
    /// The node's key: the plan indexes its events only ([`State::index_events_of`]).
    me: Key,
}

/// The page size of a new database on disk (natively).
#[cfg(not(target_arch = "wasm32"))]
const PAGE_SIZE: i64 = 16_384;

/// A write also writes the plan's rows once this many entries were folded since they were
/// last written: the number of entries a restart folds again at most, besides those stored
/// since the host's last [`Store::flush_plan`]. The rows changed in between are held in
/// memory; at 10,000, a million-entry import peaked 30 MB lower, but imports of 250,000
/// entries took 20–30 % longer (issue 15).
const FLUSH_AFTER: usize = 20_000;

impl Store {
    /// Opens (or creates) the database at `path`, migrating its schema, loading the plan,
    /// and creating the node's key pair on first use.
    pub fn open(path: &Path) -> Result<Store, StoreError> {
        Store::open_with_progress(path, &mut |_, _| {})
    }

    /// As [`Store::open`], reporting (done, total) entries if the plan is rebuilt (its rows
    /// are of another format: a million entries take most of a minute).
    pub fn open_with_progress(path: &Path, progress: &mut dyn FnMut(u64, u64)) -> Result<Store, StoreError> {
        let conn = Connection::open(path)?;
        Store::from_connection(conn, Some(path), progress)
    }

    /// A store that lives in memory only: for tests and tools.
    pub fn open_in_memory() -> Result<Store, StoreError> {
        Store::from_connection(Connection::open_in_memory()?, None, &mut |_, _| {})
    }

    /// `path`: where `conn`'s database is, if on disk.
    fn from_connection(
        mut conn: Connection,
        path: Option<&Path>,
        progress: &mut dyn FnMut(u64, u64),
    ) -> Result<Store, StoreError> {
        // Pages of 16 KB, not SQLite's 4 KB: a batch writes a quarter as many WAL frames
        // (two writes each) and b-tree pages, for rows of 200 to 600 bytes. 100,000 entries
        // imported in 1.11 s against 1.28 s (medians of 3, alternating) and synced in 1.42
        // against 1.56 s (medians of 4); a million imported as fast, at the same peak (134
        // against 131–135 MB); its whole programme about 5 % slower (issue 15). Only a new
        // database takes it (before its first table); an older one keeps its pages. A
        // browser's database (OPFS) synced no faster with it.
        #[cfg(not(target_arch = "wasm32"))]
        conn.pragma_update(None, "page_size", PAGE_SIZE)?;
        // WAL lets readers (another CLI process, the HTTP server) run while a batch is
        // written; FULL makes every committed batch durable, so nothing acknowledged is lost.
        // In a browser the OPFS VFS allows one connection and no WAL.
        #[cfg(not(target_arch = "wasm32"))]
        conn.pragma_update(None, "journal_mode", "WAL")?;
        // Natively, the plan forgets the rows it wrote and reads them back when asked
        // (issue 15: bounded memory), over a connection opened once the database has its
        // pages and WAL: opened on a database not yet made, a million-entry import into a new
        // data directory peaked 15 MB higher. A browser's database takes one connection only.
        #[cfg(not(target_arch = "wasm32"))]
        let rows = match path {
            Some(path) => Some(std::sync::Arc::new(rows::SqlRows::open(path)?)),
            None => None,
        };
        #[cfg(target_arch = "wasm32")]
        let rows = {
            let _ = path;
            None
        };
        conn.pragma_update(None, "synchronous", "FULL")?;
        conn.pragma_update(None, "foreign_keys", "ON")?;
        // A batch touches pages all over the plan's indexes of ids (hashes); with SQLite's
        // default 2 MB cache they are evicted and re-read within the same transaction. 16 MB,
        // not 64 or 32: a million-entry import peaked 35 MB lower with 32 than with 64, and
        // another 11 MB lower with 16 (its sync 9 MB); 100,000 entries imported as fast,
        // 250,000 about 5 % slower (issue 15).
        conn.pragma_update(None, "cache_size", -16_384)?;
        // Checkpoint less often: each checkpoint copies the whole WAL back, and pages that
        // several batches changed are copied once per checkpoint (64 MB of WAL).
        #[cfg(not(target_arch = "wasm32"))]
        let checkpointer = match path {
            Some(path) => {
                let page_size: i64 = conn.query_row("PRAGMA page_size", [], |r| r.get(0))?;
                let checkpointer = checkpoint::Checkpointer::start(path)?;
                checkpointer.attach(&mut conn, ((64 << 20) / page_size.max(512)) as u32)?;
                Some(checkpointer)
            }
            None => None,
        };
        #[cfg(not(target_arch = "wasm32"))]
        let syncer = path
            .map(|path| Syncer::start(path.to_path_buf()))
            .transpose()
            .map_err(|e| StoreError::Thread("syncing", e))?;
        #[cfg(target_arch = "wasm32")]
        let syncer = None;
        conn.busy_timeout(std::time::Duration::from_secs(30))?;
        // A write uses two statements per plan table besides its own; with rusqlite's
        // default of 16 they would be prepared again on every batch.
        conn.set_prepared_statement_cache_capacity(64);
        stable_plans(&conn)?;
        migrations::migrate(&mut conn)?;
        let keypair = load_or_create_key(&conn)?;
        let rows_version: Option<i64> =
            conn.query_row("SELECT value FROM meta WHERE key = 'model_rows_version'", [], |r| r.get(0)).optional()?;
        let me = Key(keypair.author());
        let mut state = State::new();
        state.index_events_of(me);
        let plan = Plan { state, last_received: 0, unflushed: 0, rows, mark: None, me };
        let mut store = Store {
            conn,
            plan,
            keypair,
            data_version: 0,
            rebuild_chunk: FLUSH_AFTER,
            #[cfg(not(target_arch = "wasm32"))]
            checkpointer,
            syncer,
        };
        if rows_version == Some(MODEL_ROWS_VERSION) {
            store.reload()?;
        } else {
            store.rebuild(progress)?;
        }
        store.data_version = data_version(&store.conn)?;
        Ok(store)
    }

    /// The node's key pair.
    pub fn keypair(&self) -> &Keypair {
        &self.keypair
    }

    pub fn me(&self) -> Key {
        Key(self.keypair.author())
    }

    /// The materialised plan.
    pub fn state(&self) -> &State {
        &self.plan.state
    }

    /// What the entries folded since the last call touched ([`State::take_changed`]); `None`
    /// if anything may have (the plan was loaded or rebuilt since).
    pub fn take_changed(&mut self) -> Option<model::Changed> {
        self.plan.state.take_changed()
    }

    /// Forgets the rows the plan read back beyond its cache's bound, as between requests: for
    /// a query that reads a page at a time. Keeps the read snapshot.
    pub fn trim(&mut self) {
        self.plan.state.trim();
    }

    /// Stores a batch of verified entries in one transaction.
    ///
    /// Each entry must fit its log (links, end of log); a duplicate is skipped; a fork is
    /// kept as evidence and freezes its log (entries after it are skipped). Any other
    /// broken rule rejects the whole batch and leaves the store unchanged.
    pub fn ingest(&mut self, batch: Vec<VerifiedEntry>) -> Result<IngestReport, StoreError> {
        let (report, forked) = self.ingest_tx(batch)?;
        self.after_ingest(forked)?;
        Ok(report)
    }

    /// As [`Store::ingest`], but without waiting for the disk: the batch is stored (a
    /// killed process keeps it) and durable (a power cut keeps it) once [`Store::syncer`]
    /// says the returned commit is. Whoever reports the entries as stored waits for that
    /// first. In memory or in a browser, as [`Store::ingest`], and the commit is durable.
    pub fn ingest_deferred(&mut self, batch: Vec<VerifiedEntry>) -> Result<(IngestReport, Commit), StoreError> {
        let Some(syncer) = self.syncer.clone() else { return Ok((self.ingest(batch)?, Commit::default())) };
        self.conn.pragma_update(None, "synchronous", "NORMAL")?;
        let stored = self.ingest_tx(batch);
        // Every other write waits for the disk, as before; a failure to say so fails the
        // batch, which is stored but reported as not (its peer sends it again: a duplicate).
        self.conn.pragma_update(None, "synchronous", "FULL")?;
        let (report, forked) = stored?;
        let commit = syncer.ask();
        self.after_ingest(forked)?;
        Ok((report, commit))
    }

    /// What makes [`Store::ingest_deferred`]'s commits durable (natively, on disk).
    pub fn syncer(&self) -> Option<&Syncer> {
        self.syncer.as_ref()
    }

    /// The last commit [`Store::ingest_deferred`] made (`Commit(0)` if none).
    pub fn last_deferred(&self) -> Commit {
        self.syncer.as_ref().map_or(Commit::default(), Syncer::last)
    }

    /// The batch's transaction; whether a log forked since the plan was last folded.
    fn ingest_tx(&mut self, batch: Vec<VerifiedEntry>) -> Result<(IngestReport, bool), StoreError> {
        let tx = self.conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let forked = catch_up(&tx, &mut self.plan)?;
        let report = ingest_in(&tx, &mut self.plan.state, &mut self.plan.last_received, batch)?;
        self.plan.unflushed += report.stored.len();
        let wrote = flush_in(&tx, &mut self.plan, FLUSH_AFTER)?;
        self.plan.commit(tx, wrote)?;
        Ok((report, forked))
    }

    fn after_ingest(&mut self, forked: bool) -> Result<(), StoreError> {
        self.data_version = data_version(&self.conn)?;
        if forked || self.plan.state.needs_rebuild() {
            self.rebuild(&mut |_, _| {})?;
        }
        Ok(())
    }

    /// Folds entries that other processes stored since this store last looked.
    pub fn refresh(&mut self) -> Result<bool, StoreError> {
        // Between requests nothing borrows the plan: the time to forget what queries read,
        // and to see what other processes wrote.
        self.plan.state.trim();
        self.plan.release_snapshot();
        if self.plan.state.rows_unreadable() {
            // The logs are the source of truth; damaged rows are folded again from them.
            self.rebuild(&mut |_, _| {})?;
            return Ok(true);
        }
        let version = data_version(&self.conn)?;
        if version == self.data_version {
            return Ok(false);
        }
        self.data_version = version;
        let before = self.plan.last_received;
        if catch_up(&self.conn, &mut self.plan)? {
            self.rebuild(&mut |_, _| {})?;
        }
        Ok(self.plan.last_received != before)
    }

    /// Writes the plan's rows changed since they were last written, under the write lock.
    ///
    /// The rows are a cache of the entries (the source of truth), so writing them is
    /// deferred: a batch writes only its entries, and the rows follow every
    /// [`FLUSH_AFTER`] entries, when a host calls this (at the end of an import, when a
    /// server is idle, when a browser peer ticks), and when the store is dropped. Whatever
    /// the rows miss is folded again from the entries at open (`plan_received`).
    pub fn flush_plan(&mut self) -> Result<(), StoreError> {
        if self.plan.unflushed == 0 {
            return Ok(());
        }
        let tx = self.conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let forked = catch_up(&tx, &mut self.plan)?;
        if forked || self.plan.state.needs_rebuild() {
            drop(tx);
            return self.rebuild(&mut |_, _| {});
        }
        let wrote = flush_in(&tx, &mut self.plan, 1)?;
        self.plan.commit(tx, wrote)?;
        self.data_version = data_version(&self.conn)?;
        Ok(())
    }

    /// Entries folded into the plan but not yet in its rows.
    pub fn unflushed(&self) -> usize {
        self.plan.unflushed
    }

    /// Signs `op` into this node's log of `festival` and stores it. Returns the new id.
    pub fn append(&mut self, festival: Id, op: Operation) -> Result<Id, StoreError> {
        Ok(self.append_if(festival, op, |_| true)?.expect("the condition holds"))
    }

    /// As [`Store::append`], but only if `condition` holds of the plan once the write lock
    /// is held and entries stored meanwhile by other processes are folded in: a decision
    /// taken on a plan read earlier is written only if it still makes sense.
    pub fn append_if(
        &mut self,
        festival: Id,
        op: Operation,
        condition: impl FnOnce(&State) -> bool,
    ) -> Result<Option<Id>, StoreError> {
        // The write lock is taken before the log's head is read (in `append_chain_if`), so
        // that two processes appending at once cannot sign two entries with the same
        // sequence number.
        Ok(self.append_chain_if(festival, op, |_| Vec::new(), condition)?.map(|ids| ids[0]))
    }
}

impl Store {
    /// Signs `first` into this node's log of `festival`, then the operations `then` makes of
    /// its id, and stores them all in one transaction: an event with its requests is written
    /// whole or not at all, and waits for the disk once.
    pub fn append_chain(
        &mut self,
        festival: Id,
        first: Operation,
        then: impl FnOnce(Id) -> Vec<Operation>,
    ) -> Result<Vec<Id>, StoreError> {
        let ids = self.append_chain_if(festival, first, then, |_| true)?;
        Ok(ids.expect("the condition holds"))
    }

    /// Signs `ops` one after the other into this node's log of `festival` in one
    /// transaction, if `condition` holds of the plan under the write lock (see
    /// [`Store::append_if`]): an owner's release and confirm of a moved request.
    pub fn append_all_if(
        &mut self,
        festival: Id,
        mut ops: Vec<Operation>,
        condition: impl FnOnce(&State) -> bool,
    ) -> Result<Option<Vec<Id>>, StoreError> {
        if ops.is_empty() {
            return Ok(Some(Vec::new()));
        }
        let first = ops.remove(0);
        self.append_chain_if(festival, first, |_| ops, condition)
    }

    fn append_chain_if(
        &mut self,
        festival: Id,
        first: Operation,
        then: impl FnOnce(Id) -> Vec<Operation>,
        condition: impl FnOnce(&State) -> bool,
    ) -> Result<Option<Vec<Id>>, StoreError> {
        let tx = self.conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        catch_up(&tx, &mut self.plan)?;
        if !condition(&self.plan.state) {
            return Ok(None);
        }
        let mut ids = Vec::new();
        let mut ops = vec![first];
        let mut then = Some(then);
        while let Some(op) = ops.pop() {
            let signed = sign_next(&tx, &self.keypair, &self.plan.state, festival, op)?;
            let id = Id(signed.0.hash);
            ingest_in(
                &tx,
                &mut self.plan.state,
                &mut self.plan.last_received,
                vec![VerifiedEntry::own(signed.0, signed.1)],
            )?;
            ids.push(id);
            self.plan.unflushed += 1;
            if let Some(then) = then.take() {
                ops = then(id);
                ops.reverse();
            }
        }
        let wrote = flush_in(&tx, &mut self.plan, FLUSH_AFTER)?;
        self.plan.commit(tx, wrote)?;
        self.data_version = data_version(&self.conn)?;
        Ok(Some(ids))
    }
}

impl Drop for Store {
    fn drop(&mut self) {
        // Best effort: rows not written now are folded again from the entries at open.
        let _ = self.flush_plan();
    }
}

fn data_version(conn: &Connection) -> Result<i64, StoreError> {
    Ok(conn.query_row("PRAGMA data_version", [], |r| r.get(0))?)
}

fn max_received(conn: &Connection) -> Result<i64, StoreError> {
    Ok(conn.query_row("SELECT COALESCE(MAX(received), 0) FROM entries", [], |r| r.get(0))?)
}

/// Applies entries stored after `last_received` (by other processes, or by this one before
/// its plan's rows were written) to `state`. Their rows may not be written yet, so the
/// changes stay for [`Store::flush_plan`]. Returns whether a fork appeared, which calls for
/// a rebuild.
fn catch_up(conn: &Connection, plan: &mut Plan) -> Result<bool, StoreError> {
    if plan.rows.is_some() {
        let stored = plan_mark(conn)?;
        if stored.is_some() && stored != plan.mark {
            // Another process wrote rows (see `Plan::mark`); what this plan has not written
            // yet is in the entries after that mark, so nothing is lost by loading again.
            plan.load(conn)?;
        }
    }
    let before = plan.last_received;
    let (state, last_received) = (&mut plan.state, &mut plan.last_received);
    let mut stmt = conn.prepare_cached(
        "SELECT hash, author, log_id, seq, payload, received FROM entries WHERE received > ?1 ORDER BY received",
    )?;
    let mut rows = stmt.query([*last_received])?;
    state.defer_refolds();
    let folded = (|| -> Result<(), StoreError> {
        while let Some(row) = rows.next()? {
            state.apply(LogEntry {
                hash: Id(Hash(row.get::<_, [u8; 64]>(0)?)),
                author: Key(Author(row.get::<_, [u8; 32]>(1)?)),
                log_id: row.get::<_, i64>(2)? as u64,
                seq: row.get::<_, i64>(3)? as u64,
                payload: row.get(4)?,
            });
            *last_received = row.get(5)?;
        }
        Ok(())
    })();
    state.settle();
    folded?;
    let known_forks = state.forks().len();
    let stored_forks: i64 = conn.query_row("SELECT COUNT(*) FROM forks", [], |r| r.get(0))?;
    plan.unflushed += (plan.last_received - before) as usize;
    Ok(stored_forks as usize != known_forks)
}

/// Ends the reader's snapshot, before a commit (see [`Plan::commit`]) and after.
fn release(source: &Option<std::sync::Arc<rows::SqlRows>>) {
    if let Some(rows) = source {
        rows.release();
    }
}

/// After a committed chunk of a rebuild: the plan reads its rows back from now on, and
/// forgets those written (see [`Store::rebuild`]).
fn read_back(state: &mut State, source: &Option<std::sync::Arc<rows::SqlRows>>) {
    release(source);
    let Some(rows) = source else { return };
    if !state.is_lazy() {
        state.read_rows_from(rows.clone());
        state.written();
    }
}

/// Calls `f` with the key and value of every row of the plan's `table`.
fn each_row(
    conn: &Connection,
    table: &str,
    f: &mut dyn FnMut(&[u8], &[u8]) -> Result<(), StoreError>,
) -> Result<(), StoreError> {
    let mut stmt = conn.prepare(&format!("SELECT key, value FROM m_{table}"))?;
    let mut rows = stmt.query([])?;
    while let Some(row) = rows.next()? {
        let k = row.get_ref(0)?.as_blob().map_err(|e| StoreError::CorruptPlan(e.to_string()))?;
        let v = row.get_ref(1)?.as_blob().map_err(|e| StoreError::CorruptPlan(e.to_string()))?;
        f(k, v)?;
    }
    Ok(())
}

/// The `received` number up to which the stored rows hold the plan, if it was ever written.
fn plan_mark(conn: &Connection) -> Result<Option<i64>, StoreError> {
    Ok(conn.query_row("SELECT value FROM meta WHERE key = 'plan_received'", [], |r| r.get(0)).optional()?)
}

impl Plan {
    /// Loads the plan from its rows; the entries after their mark are left to [`catch_up`].
    fn load(&mut self, conn: &Connection) -> Result<(), StoreError> {
        // Row by row: the rows themselves are never all in memory at once. A lazy plan
        // reads them over its own connection, whose page cache is small: filling the
        // writer's (then 64 MB) while the indexes are built left that much behind in the heap.
        let mut loader = match &self.rows {
            Some(rows) => State::lazy_loader(rows.clone()),
            None => State::loader(),
        };
        loader.index_events_of(self.me);
        for table in loader.tables() {
            let mut load = |k: &[u8], v: &[u8]| loader.row(table, k, v).map_err(StoreError::CorruptPlan);
            match &self.rows {
                Some(rows) => rows.each_row(table, &mut load)?,
                None => each_row(conn, table, &mut load)?,
            }
        }
        self.state = loader.finish();
        // A store written before rows were deferred has rows for every entry.
        let mark = plan_mark(conn)?;
        self.last_received = match mark {
            Some(mark) => mark,
            None => max_received(conn)?,
        };
        self.mark = mark;
        self.unflushed = 0;
        Ok(())
    }

    /// Commits `tx`, which wrote the plan's rows if `wrote`: then the plan may forget them.
    fn commit(&mut self, tx: rusqlite::Transaction, wrote: bool) -> Result<(), StoreError> {
        // Before too: a snapshot still open at the commit keeps its checkpoint from
        // restarting the WAL, which then grows with every write (to a full disk).
        self.release_snapshot();
        tx.commit()?;
        if wrote {
            self.state.written();
        }
        self.state.trim();
        self.release_snapshot();
        Ok(())
    }

    /// The next row read back sees every commit until now (see `rows::SqlRows::release`).
    fn release_snapshot(&self) {
        release(&self.rows);
    }
}

/// Builds and signs the next entry of this node's log of `festival`.
fn sign_next(
    conn: &Connection,
    keypair: &Keypair,
    state: &State,
    festival: Id,
    op: Operation,
) -> Result<(bamboo::SignedEntry, Vec<u8>), StoreError> {
    let me = keypair.author();
    let creates_festival = matches!(op, Operation::FestivalCreate { .. });
    let existing: Option<i64> = if creates_festival {
        None
    } else {
        conn.prepare_cached("SELECT log_id FROM logs WHERE author = ?1 AND festival = ?2 ORDER BY log_id LIMIT 1")?
            .query_row(params![me.0.as_slice(), festival.0.0.as_slice()], |r| r.get(0))
            .optional()?
    };
    let (log_id, first) = match existing {
        Some(log_id) => (log_id as u64, false),
        None => {
            if !creates_festival && state.festival(&festival).is_none() {
                return Err(StoreError::UnknownFestival(festival));
            }
            let next: i64 = conn.query_row(
                "SELECT COALESCE(MAX(log_id) + 1, 0) FROM logs WHERE author = ?1",
                [me.0.as_slice()],
                |r| r.get(0),
            )?;
            (next as u64, true)
        }
    };
    let payload = Payload { festival: (first && !creates_festival).then_some(festival), op }.encode();
    let log = SqlLog::load(conn, me, log_id)?;
    let seq_num = log.max_seq_num().unwrap_or(0) + 1;
    let hash_at = |seq: u64| log.entry(seq).map(|k| k.hash);
    let new = bamboo::NewEntry {
        log_id,
        seq_num,
        lipmaa_link: bamboo::has_lipmaa_link(seq_num).then(|| hash_at(bamboo::lipmaa(seq_num))).flatten(),
        backlink: (seq_num > 1).then(|| hash_at(seq_num - 1)).flatten(),
        payload: &payload,
        end_of_log: false,
    };
    Ok((new.sign(keypair)?, payload))
}

/// The body of [`Store::ingest`], inside the caller's transaction.
fn ingest_in(
    tx: &Connection,
    state: &mut State,
    last_received: &mut i64,
    batch: Vec<VerifiedEntry>,
) -> Result<IngestReport, StoreError> {
    let mut report = IngestReport { stored: Vec::with_capacity(batch.len()), ..IngestReport::default() };
    let mut applied = Vec::with_capacity(batch.len());
    let mut logs = BatchLogs::new(tx);
    for (index, v) in batch.into_iter().enumerate() {
        let author = v.entry().author;
        let log_id = v.entry().log_id;
        let log = logs.log(author, log_id)?;
        match bamboo::check_in_log(log, v.entry(), v.hash()) {
            Ok(Admission::Duplicate) => report.duplicates += 1,
            Ok(Admission::New) => {
                *last_received += 1;
                log.add(v.entry(), v.hash(), v.bytes().len() + v.payload().len());
                insert_entry(tx, &v, *last_received)?;
                report.stored.push((author, log_id, v.entry().seq_num, v.hash()));
                applied.push(v.into_read_entry());
            }
            Err(VerifyError::Fork { seq_num, .. }) => {
                log.freeze(seq_num);
                tx.execute(
                    "INSERT OR IGNORE INTO forks (author, log_id, seq, entry, payload) VALUES (?1, ?2, ?3, ?4, ?5)",
                    params![author.0.as_slice(), log_id as i64, seq_num as i64, v.bytes(), v.payload()],
                )?;
                tx.execute(
                    "UPDATE logs SET fork_seq = MIN(COALESCE(fork_seq, ?3), ?3) WHERE author = ?1 AND log_id = ?2",
                    params![author.0.as_slice(), log_id as i64, seq_num as i64],
                )?;
                report.forks.push((author, log_id, seq_num));
            }
            Err(VerifyError::LogFrozenByFork { .. }) => report.frozen += 1,
            Err(error) => return Err(StoreError::Rejected { index, error: error.into() }),
        }
    }
    logs.write()?;
    // Fold after the log checks: a fork found later in the batch must freeze first.
    for (author, log_id, seq) in &report.forks {
        state.freeze_log(Key(*author), *log_id, *seq);
    }
    state.apply_all(applied);
    let mut touched: Vec<(Author, u64)> = report.stored.iter().map(|(a, l, _, _)| (*a, *l)).collect();
    touched.sort_unstable();
    touched.dedup();
    for (author, log_id) in touched {
        if let Some(festival) = state.log(&Key(author), log_id).and_then(|p| p.festival) {
            tx.prepare_cached("UPDATE logs SET festival = ?3 WHERE author = ?1 AND log_id = ?2 AND festival IS NULL")?
                .execute(params![author.0.as_slice(), log_id as i64, festival.0.0.as_slice()])?;
        }
    }
    Ok(report)
}

const HEIGHTS: &str = "SELECT author, log_id, max_seq FROM logs WHERE festival = ?1 ORDER BY author, log_id";

impl Store {
    /// The bytes (entries and their payloads) of a log's entries numbered `from_seq` to
    /// `to_seq`, both included: what a sync's `Plan` announces. A range to the log's end is
    /// its total (kept on insert) less the entries before it, when those are fewer: a sync
    /// into an empty node reads no entry for it.
    pub fn log_bytes_between(
        &self,
        author: &Author,
        log_id: u64,
        from_seq: u64,
        to_seq: u64,
    ) -> Result<u64, StoreError> {
        let sum = |from: u64, to: u64| -> Result<u64, StoreError> {
            if from > to {
                return Ok(0);
            }
            let sum: i64 = self
                .conn
                .prepare_cached(
                    "SELECT COALESCE(SUM(length(entry) + length(payload)), 0) FROM entries
                     WHERE author = ?1 AND log_id = ?2 AND seq BETWEEN ?3 AND ?4",
                )?
                .query_row(params![author.0.as_slice(), log_id as i64, from as i64, to as i64], |r| r.get(0))?;
            Ok(sum as u64)
        };
        let log: Option<(i64, i64)> = self
            .conn
            .prepare_cached("SELECT max_seq, bytes FROM logs WHERE author = ?1 AND log_id = ?2")?
            .query_row(params![author.0.as_slice(), log_id as i64], |r| Ok((r.get(0)?, r.get(1)?)))
            .optional()?;
        let Some((max_seq, total)) = log else { return Ok(0) };
        let (max_seq, total) = (max_seq as u64, total as u64);
        let from_seq = from_seq.max(1);
        if from_seq > to_seq {
            return Ok(0);
        }
        let before = from_seq - 1;
        if to_seq >= max_seq && before < to_seq - before {
            return Ok(total.saturating_sub(sum(1, before)?));
        }
        sum(from_seq, to_seq.min(max_seq))
    }

    /// The newest entry of every log of `festival` held here.
    pub fn heights(&self, festival: &Id) -> Result<Vec<LogHeight>, StoreError> {
        let mut stmt = self.conn.prepare_cached(HEIGHTS)?;
        let rows = stmt.query_map([festival.0.0.as_slice()], |r| {
            Ok(LogHeight {
                author: Author(r.get::<_, [u8; 32]>(0)?),
                log_id: r.get::<_, i64>(1)? as u64,
                seq: r.get::<_, i64>(2)? as u64,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Consecutive entries of one log from `from_seq` on, in log order, at most `limit`:
    /// (entry, payload). A gap (a partial log) ends the run.
    pub fn entries_from(
        &self,
        author: Author,
        log_id: u64,
        from_seq: u64,
        limit: usize,
    ) -> Result<Vec<(Vec<u8>, Vec<u8>)>, StoreError> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT seq, entry, payload FROM entries WHERE author = ?1 AND log_id = ?2 AND seq >= ?3 ORDER BY seq LIMIT ?4",
        )?;
        let rows = stmt.query_map(params![author.0.as_slice(), log_id as i64, from_seq as i64, limit as i64], |r| {
            Ok((r.get::<_, i64>(0)?, r.get(1)?, r.get(2)?))
        })?;
        let mut out = Vec::new();
        for (expected, row) in (from_seq as i64..).zip(rows) {
            let (seq, entry, payload) = row?;
            if seq != expected {
                break;
            }
            out.push((entry, payload));
        }
        Ok(out)
    }

    /// Every entry of `festival`'s logs, log by log in log order: (entry, payload).
    pub fn export(&self, festival: &Id, mut each: impl FnMut(&[u8], &[u8])) -> Result<usize, StoreError> {
        let mut stmt = self.conn.prepare(
            "SELECT e.entry, e.payload FROM entries e JOIN logs l ON l.author = e.author AND l.log_id = e.log_id
             WHERE l.festival = ?1 ORDER BY e.author, e.log_id, e.seq",
        )?;
        let mut rows = stmt.query([festival.0.0.as_slice()])?;
        let mut n = 0;
        while let Some(row) = rows.next()? {
            let (entry, payload): (Vec<u8>, Vec<u8>) = (row.get(0)?, row.get(1)?);
            each(&entry, &payload);
            n += 1;
        }
        Ok(n)
    }

    /// What this store knows of a log, as a [`bamboo::LogView`] (for checking a file
    /// against the store before anything is written).
    pub fn log_view(&self, author: Author, log_id: u64) -> Result<SqlLog<'_>, StoreError> {
        SqlLog::load(&self.conn, author, log_id)
    }

    /// The entries received after `after` (in the order received), with their `received`
    /// number and payload: what a notifier reads.
    pub fn received_entries_after(&self, after: i64, limit: usize) -> Result<Vec<(i64, Id, Vec<u8>)>, StoreError> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT received, hash, payload FROM entries WHERE received > ?1 ORDER BY received LIMIT ?2",
        )?;
        let rows = stmt.query_map(rusqlite::params![after, limit as i64], |r| {
            Ok((r.get::<_, i64>(0)?, Id(Hash(r.get::<_, [u8; 64]>(1)?)), r.get::<_, Vec<u8>>(2)?))
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// The order in which this node received the entry at `seq` of `author`'s log `log_id`:
    /// smaller is earlier.
    pub fn received_order(&self, author: &Key, log_id: u64, seq: u64) -> Result<Option<i64>, StoreError> {
        Ok(self
            .conn
            .prepare_cached("SELECT received FROM entries WHERE author = ?1 AND log_id = ?2 AND seq = ?3")?
            .query_row(params![author.0.0.as_slice(), log_id as i64, seq as i64], |r| r.get(0))
            .optional()?)
    }

    /// The `received` number of the newest entry folded into the plan: it grows with
    /// every entry stored, by this process or another.
    pub fn last_received(&self) -> i64 {
        self.plan.last_received
    }

    /// Ids of the entries received after `after`, in the order received.
    pub fn received_after(&self, after: i64) -> Result<Vec<Id>, StoreError> {
        let mut stmt = self.conn.prepare_cached("SELECT hash FROM entries WHERE received > ?1 ORDER BY received")?;
        let rows = stmt.query_map([after], |r| r.get::<_, [u8; 64]>(0))?;
        Ok(rows.map(|h| h.map(|h| Id(Hash(h)))).collect::<Result<_, _>>()?)
    }

    /// Number of entries stored.
    pub fn entry_count(&self) -> Result<u64, StoreError> {
        Ok(self.conn.query_row("SELECT COUNT(*) FROM entries", [], |r| r.get::<_, i64>(0))? as u64)
    }

    /// Forks recorded: (author, log id, seq).
    pub fn forks(&self) -> Result<Vec<(Author, u64, u64)>, StoreError> {
        let mut stmt = self.conn.prepare("SELECT author, log_id, seq FROM forks ORDER BY author, log_id, seq")?;
        let rows = stmt.query_map([], |r| {
            Ok((Author(r.get::<_, [u8; 32]>(0)?), r.get::<_, i64>(1)? as u64, r.get::<_, i64>(2)? as u64))
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Replaces the node's key pair; refused once the node has written anything, since its
    /// logs are signed with the key they began with.
    pub fn import_key(&mut self, secret: [u8; 32]) -> Result<(), StoreError> {
        let me = self.keypair.author();
        let written: i64 =
            self.conn.query_row("SELECT COUNT(*) FROM logs WHERE author = ?1", [me.0.as_slice()], |r| r.get(0))?;
        if written > 0 {
            return Err(StoreError::KeyInUse);
        }
        self.conn.execute("INSERT OR REPLACE INTO meta (key, value) VALUES ('secret_key', ?1)", [secret.as_slice()])?;
        self.keypair = Keypair::from_secret(secret);
        self.plan.me = Key(self.keypair.author());
        self.plan.state.index_events_of(self.plan.me);
        Ok(())
    }

    /// A value this node keeps for itself (settings, policy hooks), by key.
    pub fn setting(&self, key: &str) -> Result<Option<String>, StoreError> {
        Ok(self
            .conn
            .query_row("SELECT value FROM meta WHERE key = ?1", [format!("setting:{key}")], |r| r.get(0))
            .optional()?)
    }

    pub fn set_setting(&self, key: &str, value: Option<&str>) -> Result<(), StoreError> {
        match value {
            Some(v) => self.conn.execute(
                "INSERT OR REPLACE INTO meta (key, value) VALUES (?1, ?2)",
                params![format!("setting:{key}"), v],
            )?,
            None => self.conn.execute("DELETE FROM meta WHERE key = ?1", [format!("setting:{key}")])?,
        };
        Ok(())
    }

    /// Settings whose key starts with `prefix`, as (key without prefix, value).
    pub fn settings_with_prefix(&self, prefix: &str) -> Result<Vec<(String, String)>, StoreError> {
        let full = format!("setting:{prefix}");
        let mut stmt =
            self.conn.prepare("SELECT key, value FROM meta WHERE key >= ?1 AND key < ?1 || x'ff' ORDER BY key")?;
        let rows = stmt.query_map([&full], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))?;
        let mut out = Vec::new();
        for row in rows {
            let (k, v) = row?;
            out.push((k[full.len()..].to_string(), v));
        }
        Ok(out)
    }

    /// Throws the in-memory plan away and loads it again from the database, after a failure
    /// left it in doubt: a failed write's transaction rolled back, so the stored rows are right.
    pub fn reload(&mut self) -> Result<(), StoreError> {
        // The rows hold the plan up to `plan_received`; what came after is folded here.
        self.plan.load(&self.conn)?;
        self.data_version = data_version(&self.conn)?;
        if self.refresh_from_entries()? {
            self.rebuild(&mut |_, _| {})?;
        }
        Ok(())
    }

    /// Folds the entries after `last_received`, keeping their rows to write.
    fn refresh_from_entries(&mut self) -> Result<bool, StoreError> {
        let forked = catch_up(&self.conn, &mut self.plan)?;
        Ok(forked || self.plan.state.needs_rebuild())
    }

    /// Throws the plan away and folds it again from the stored entries, in batches,
    /// reporting (done, total) after each.
    pub fn rebuild(&mut self, progress: &mut dyn FnMut(u64, u64)) -> Result<(), StoreError> {
        let total = self.entry_count()?;
        let forks = self.forks()?;
        // The new plan reads rows back only once its first chunk is committed: until then the
        // stored rows are the old plan's, which it must not take for its own.
        let mut state = State::new();
        state.index_events_of(self.plan.me);
        let source = self.plan.rows.clone();
        for (author, log_id, seq) in forks {
            state.freeze_log(Key(author), log_id, seq);
        }
        // The entries stored now are folded; later ones are caught up with as usual.
        let last = max_received(&self.conn)?;
        // A plan on disk is folded in chunks, each committed with its rows, so that it holds
        // no more than a chunk's changes; in memory, in one transaction.
        let chunk = if source.is_some() { self.rebuild_chunk as i64 } else { i64::MAX };
        let mut after: (Vec<u8>, i64, i64) = (Vec::new(), -1, -1);
        let mut done = 0u64;
        loop {
            let t = self.conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            if done == 0 {
                for table in State::TABLES {
                    t.execute(&format!("DELETE FROM m_{table}"), [])?;
                }
                // Until the end, the rows are of no version: a process that dies midway
                // leaves a plan the next open rebuilds again.
                t.execute("DELETE FROM meta WHERE key IN ('model_rows_version', 'plan_received')", [])?;
            }
            let mut folded: i64 = 0;
            {
                // By log and sequence, so that each log's entries come in order.
                let mut stmt = t.prepare_cached(
                    "SELECT hash, author, log_id, seq, payload FROM entries
                     WHERE received <= ?1 AND (author, log_id, seq) > (?2, ?3, ?4)
                     ORDER BY author, log_id, seq LIMIT ?5",
                )?;
                let mut rows = stmt.query(params![last, after.0, after.1, after.2, chunk])?;
                // Settled before the rows are written (`take_changes`), also on an error.
                state.defer_refolds();
                while let Some(row) = rows.next()? {
                    let entry = LogEntry {
                        hash: Id(Hash(row.get::<_, [u8; 64]>(0)?)),
                        author: Key(Author(row.get::<_, [u8; 32]>(1)?)),
                        log_id: row.get::<_, i64>(2)? as u64,
                        seq: row.get::<_, i64>(3)? as u64,
                        payload: row.get(4)?,
                    };
                    after = (entry.author.0.0.to_vec(), entry.log_id as i64, entry.seq as i64);
                    state.apply(entry);
                    folded += 1;
                }
            }
            done += folded as u64;
            progress(done, total);
            write_plan(&t, &mut state, folded as usize)?;
            if folded < chunk {
                t.execute(
                    "INSERT OR REPLACE INTO meta (key, value) VALUES ('model_rows_version', ?1)",
                    [MODEL_ROWS_VERSION],
                )?;
                t.execute("INSERT OR REPLACE INTO meta (key, value) VALUES ('plan_received', ?1)", [last])?;
                release(&source);
                t.commit()?;
                state.written();
                read_back(&mut state, &source);
                break;
            }
            release(&source);
            t.commit()?;
            state.written();
            read_back(&mut state, &source);
        }
        self.plan.state = state;
        self.plan.unflushed = 0;
        self.plan.last_received = last;
        self.plan.mark = Some(last);
        // What other processes stored meanwhile.
        if catch_up(&self.conn, &mut self.plan)? {
            return Err(StoreError::CorruptPlan("a log forked while the plan was rebuilt; rebuild again".into()));
        }
        self.data_version = data_version(&self.conn)?;
        Ok(())
    }

    /// Sets how many entries a rebuild folds per transaction: for tests of a rebuild in
    /// many chunks without tens of thousands of entries.
    #[doc(hidden)]
    pub fn set_rebuild_chunk(&mut self, entries: usize) {
        self.rebuild_chunk = entries.max(1);
    }

    /// Sets the WAL's size (in pages) at which a commit checkpoints it: for tests of the WAL
    /// without 64 MB of writes.
    #[doc(hidden)]
    pub fn set_wal_autocheckpoint(&mut self, pages: u32) -> Result<(), StoreError> {
        #[cfg(not(target_arch = "wasm32"))]
        if let Some(checkpointer) = &self.checkpointer {
            return Ok(checkpointer.attach(&mut self.conn, pages)?);
        }
        Ok(self.conn.pragma_update(None, "wal_autocheckpoint", pages)?)
    }

    /// Checks that the stored logs are intact: every log's entries are contiguous from 1 to
    /// its height and chain by their backlinks. Returns the problems found.
    pub fn check_integrity(&self) -> Result<Vec<String>, StoreError> {
        let mut problems = Vec::new();
        let ok: String = self.conn.query_row("PRAGMA integrity_check", [], |r| r.get(0))?;
        if ok != "ok" {
            problems.push(format!("sqlite integrity check: {ok}"));
        }
        let mut stmt = self.conn.prepare(
            "SELECT l.author, l.log_id, l.max_seq, COUNT(e.seq), COALESCE(MAX(e.seq), 0), l.bytes,
                    COALESCE(SUM(length(e.entry) + length(e.payload)), 0) FROM logs l
             LEFT JOIN entries e ON e.author = l.author AND e.log_id = l.log_id GROUP BY l.author, l.log_id",
        )?;
        let rows = stmt.query_map([], |r| {
            Ok((
                Author(r.get::<_, [u8; 32]>(0)?),
                r.get::<_, i64>(1)?,
                r.get::<_, i64>(2)?,
                r.get::<_, i64>(3)?,
                r.get::<_, i64>(4)?,
                (r.get::<_, i64>(5)?, r.get::<_, i64>(6)?),
            ))
        })?;
        for row in rows {
            let (author, log_id, max_seq, count, max_entry, (bytes, summed)) = row?;
            if bytes != summed {
                problems.push(format!("log {}/{log_id}: {bytes} bytes counted but {summed} stored", author.to_hex()));
            }
            if max_seq != max_entry {
                problems
                    .push(format!("log {}/{log_id}: height {max_seq} but newest entry {max_entry}", author.to_hex()));
            }
            if count != max_entry {
                problems.push(format!("log {}/{log_id}: {count} entries for height {max_entry}", author.to_hex()));
            }
        }
        Ok(problems)
    }
}

/// Another connection to the store's database at `path`, for a thread or a reader of the
/// store's own. With the URI flag, as rusqlite's `Connection::open` of the writer has it: both
/// must read the path the same way, or a data directory named `file:…` would be two databases.
#[cfg(not(target_arch = "wasm32"))]
fn open_beside(path: &Path, flags: rusqlite::OpenFlags) -> rusqlite::Result<Connection> {
    use rusqlite::OpenFlags;
    let conn = Connection::open_with_flags(path, flags | OpenFlags::SQLITE_OPEN_NO_MUTEX | OpenFlags::SQLITE_OPEN_URI)?;
    stable_plans(&conn)?;
    Ok(conn)
}

/// Plans a statement once, whatever its parameters. Otherwise SQLite plans some statements
/// for the values bound (`festival = ?1` of [`HEIGHTS`], `LIMIT ?4` of `entries_from`), and
/// rusqlite's statement cache clears the bindings of a statement it takes back, so each such
/// statement was parsed and planned again on every use: 134 times in a sync of 100,000
/// entries (a `perf` probe on `sqlite3Reprepare`), after every batch the sync hub stores
/// (`Hub::notify_all` asks for the heights) and for every batch a node sends. The store's
/// statements have the same plans either way (`EXPLAIN QUERY PLAN`).
fn stable_plans(conn: &Connection) -> rusqlite::Result<()> {
    conn.set_db_config(rusqlite::config::DbConfig::SQLITE_DBCONFIG_ENABLE_QPSG, true)?;
    Ok(())
}

fn load_or_create_key(conn: &Connection) -> Result<Keypair, StoreError> {
    let secret: Option<Vec<u8>> =
        conn.query_row("SELECT value FROM meta WHERE key = 'secret_key'", [], |r| r.get(0)).optional()?;
    if let Some(secret) = secret.and_then(|s| <[u8; 32]>::try_from(s).ok()) {
        return Ok(Keypair::from_secret(secret));
    }
    let keypair = Keypair::generate();
    conn.execute("INSERT OR REPLACE INTO meta (key, value) VALUES ('secret_key', ?1)", [keypair.secret().as_slice()])?;
    Ok(keypair)
}

fn insert_entry(tx: &Connection, v: &VerifiedEntry, received: i64) -> Result<(), StoreError> {
    let e = v.entry();
    let lipmaa_seq = bamboo::has_lipmaa_link(e.seq_num).then(|| bamboo::lipmaa(e.seq_num) as i64);
    tx.prepare_cached(
        "INSERT INTO entries (author, log_id, seq, hash, entry, payload, lipmaa_seq, received) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
    )?
    .execute(params![
        e.author.0.as_slice(),
        e.log_id as i64,
        e.seq_num as i64,
        v.hash().0.as_slice(),
        v.bytes(),
        v.payload(),
        lipmaa_seq,
        received
    ])?;
    Ok(())
}

/// Inside a write transaction that has caught up: writes the plan's changed rows if at
/// least `min` entries were folded since the last time.
/// Returns whether it wrote, which [`Plan::commit`] takes with the transaction.
fn flush_in(tx: &Connection, plan: &mut Plan, min: usize) -> Result<bool, StoreError> {
    if plan.unflushed < min.max(1) || plan.state.needs_rebuild() {
        return Ok(false);
    }
    write_plan(tx, &mut plan.state, plan.unflushed)?;
    tx.execute("INSERT OR REPLACE INTO meta (key, value) VALUES ('plan_received', ?1)", [plan.last_received])?;
    plan.unflushed = 0;
    plan.mark = Some(plan.last_received);
    Ok(true)
}

/// The fewest entries whose rows [`write_plan`] encodes on a second thread: starting and
/// joining a scoped thread took 48 µs (median of 2,000 on this 2-core machine), and writing
/// the rows about 5 µs an entry (a sync of 100,000, `perf`); a server writes the rows of
/// each change on its own, a few rows, for which a thread is waste.
#[cfg(not(target_arch = "wasm32"))]
const ROWS_APART_FROM: usize = 256;

/// Writes the plan's changed rows, of `entries` entries folded since they were last written.
fn write_plan(tx: &Connection, state: &mut State, entries: usize) -> Result<(), StoreError> {
    let here = |state: &mut State| {
        state.take_changes_in_parts(|mut rows| {
            sort_rows(&mut rows);
            insert_rows(tx, &rows)
        })
    };
    #[cfg(target_arch = "wasm32")]
    let _ = entries;
    // Natively, for many rows, a second thread encodes the next part while this one inserts
    // the last. In a sync of 100,000 entries, encoding took 40 % of the rows' writes, and
    // every write of them held up the sync's batches (`perf`): 1.49 s against 1.56 s
    // (medians of 8 alternating runs; issue 15).
    #[cfg(not(target_arch = "wasm32"))]
    if entries >= ROWS_APART_FROM {
        let (parts, encoded) = std::sync::mpsc::sync_channel::<Vec<model::Row>>(1);
        return std::thread::scope(|scope| {
            std::thread::Builder::new()
                .name("pandafest-rows-out".into())
                .spawn_scoped(scope, move || {
                    // A send fails once the inserting side stopped at an error: so does this.
                    state.take_changes_in_parts(|mut rows| {
                        sort_rows(&mut rows);
                        parts.send(rows)
                    })
                })
                .map_err(|e| StoreError::Thread("rows-out", e))?;
            for rows in encoded {
                insert_rows(tx, &rows)?;
            }
            Ok(())
        });
    }
    here(state)
}

/// In key order, so that each table's b-tree is written from one end to the other.
fn sort_rows(rows: &mut [model::Row]) {
    rows.sort_unstable_by(|a, b| (a.0, &a.1).cmp(&(b.0, &b.1)));
}

fn insert_rows(tx: &Connection, rows: &[model::Row]) -> Result<(), StoreError> {
    // Each table's statements looked up once, not once a row.
    for run in rows.chunk_by(|a, b| a.0 == b.0) {
        let table = run[0].0;
        let mut upsert = tx.prepare_cached(&format!(
            "INSERT INTO m_{table} (key, value) VALUES (?1, ?2)
             ON CONFLICT (key) DO UPDATE SET value = excluded.value"
        ))?;
        let mut delete = tx.prepare_cached(&format!("DELETE FROM m_{table} WHERE key = ?1"))?;
        for (_, key, value) in run {
            match value {
                Some(value) => upsert.execute(params![key, value])?,
                None => delete.execute([key])?,
            };
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    // Scenario: a store is asked for a festival's log heights three times, as the sync hub
    // asks after every batch it stores.
    // Assert: SQLite prepared the statement once; without `stable_plans` it planned it again
    // for its parameter on every use after the first.
    #[test]
    fn a_cached_statement_is_not_planned_again_for_its_values() {
        let store = Store::open_in_memory().unwrap();
        for seed in 1..=3 {
            store.heights(&Id(bamboo::Hash([seed; 64]))).unwrap();
        }
        let stmt = store.conn.prepare_cached(HEIGHTS).unwrap();
        assert_eq!(stmt.get_status(rusqlite::StatementStatus::RePrepare), 0);
    }
}
