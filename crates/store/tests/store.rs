//! The store as a node uses it: appending, reopening, importing, rejecting, two handles.

use model::op::{EventFields, FestivalFields};
use model::{Id, Operation, TimeFrame, Timestamp};
use store::{Commit, Store, verify_entries};

fn festival_op(name: &str) -> Operation {
    Operation::FestivalCreate {
        parent: None,
        fields: FestivalFields {
            name: name.into(),
            description: String::new(),
            timezone: "UTC".into(),
            frame: None,
            ticket: None,
        },
    }
}

fn event_op(title: &str) -> Operation {
    let frame = TimeFrame::new(Timestamp(1_000_000), Timestamp(2_000_000)).unwrap();
    Operation::EventCreate(EventFields { title: title.into(), description: String::new(), frame, bundle: false })
}

/// A store in memory with a festival of `n` events (`e0`, `e1`, …), each its own entry.
fn with_events(n: usize) -> (Store, Id) {
    let mut store = Store::open_in_memory().unwrap();
    let fest = store.append(Id(bamboo::Hash([0; 64])), festival_op("Fest")).unwrap();
    for i in 0..n {
        store.append(fest, event_op(&format!("e{i}"))).unwrap();
    }
    (store, fest)
}

/// A store at `path` with a festival of `n` events (`e0`, `e1`, …), each its own entry: the
/// store, the festival and the events.
fn events_on_disk(path: &std::path::Path, n: usize) -> (Store, Id, Vec<Id>) {
    let mut s = Store::open(path).unwrap();
    let fest = s.append(Id(bamboo::Hash([0; 64])), festival_op("Fest")).unwrap();
    let events = (0..n).map(|i| s.append(fest, event_op(&format!("e{i}"))).unwrap()).collect();
    (s, fest, events)
}

/// Copies the WAL of the database at `path` back and empties its file, so that the file's
/// length shows what the writes after need (a restart writes it over from its start and keeps
/// its length). The database's page size.
fn empty_wal(path: &std::path::Path) -> u64 {
    let side = rusqlite::Connection::open(path).unwrap();
    side.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |r| r.get::<_, i64>(0)).unwrap();
    side.query_row("PRAGMA page_size", [], |r| r.get::<_, i64>(0)).unwrap() as u64
}

fn export(store: &Store, festival: &Id) -> Vec<(Vec<u8>, Vec<u8>)> {
    let mut out = Vec::new();
    store.export(festival, |e, p| out.push((e.to_vec(), p.to_vec()))).unwrap();
    out
}

#[test]
fn appended_operations_survive_reopening() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("db.sqlite");
    let (fest, key) = {
        let mut s = Store::open(&path).unwrap();
        let fest = Id(bamboo::Hash([0; 64]));
        let fest = s.append(fest, festival_op("Fest")).unwrap();
        for i in 0..50 {
            s.append(fest, event_op(&format!("e{i}"))).unwrap();
        }
        (fest, s.me())
    };
    let s = Store::open(&path).unwrap();
    assert_eq!(s.me(), key, "the key pair is kept");
    assert_eq!(s.state().festival(&fest).unwrap().fields.name, "Fest");
    assert_eq!(s.state().events_in(&fest).count(), 50);
    assert_eq!(s.heights(&fest).unwrap()[0].seq, 51);
    assert!(s.check_integrity().unwrap().is_empty());
}

#[test]
fn import_elsewhere_gives_the_same_plan_and_twice_changes_nothing() {
    let (a, fest) = with_events(20);
    let mut b = Store::open_in_memory().unwrap();
    let file = export(&a, &fest);
    let verified: Vec<_> = verify_entries(file.clone()).into_iter().map(Result::unwrap).collect();
    let report = b.ingest(verified.clone()).unwrap();
    assert_eq!(report.stored.len(), 21);
    let again = b.ingest(verified).unwrap();
    assert_eq!((again.stored.len(), again.duplicates), (0, 21));
    assert_eq!(b.state().events_in(&fest).count(), 20);
    assert_eq!(export(&b, &fest), file);
}

#[test]
fn a_batch_with_a_bad_entry_changes_nothing() {
    let (a, fest) = with_events(5);
    let mut file = export(&a, &fest);
    file.remove(2); // entry 3 missing: entry 4 links to it and to entry 1, so 4 is fine, but 5 has no path
    file.remove(2);
    let verified: Vec<_> = verify_entries(file).into_iter().map(Result::unwrap).collect();
    let mut b = Store::open_in_memory().unwrap();
    let err = b.ingest(verified).unwrap_err();
    assert!(err.to_string().contains("cannot be verified"), "{err}");
    assert_eq!(b.entry_count().unwrap(), 0);
    assert_eq!(b.state().festivals().count(), 0);
}

#[test]
fn two_handles_on_one_database_never_fork_their_log() {
    // Scenario: a CLI command and a running server append to the same node's log at once.
    // Assert: their entries get consecutive sequence numbers and both see all of them.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("db.sqlite");
    let mut a = Store::open(&path).unwrap();
    let fest = a.append(Id(bamboo::Hash([0; 64])), festival_op("Fest")).unwrap();
    let mut b = Store::open(&path).unwrap();
    for i in 0..10 {
        a.append(fest, event_op(&format!("a{i}"))).unwrap();
        b.append(fest, event_op(&format!("b{i}"))).unwrap();
    }
    assert!(b.state().events_in(&fest).count() >= 19);
    a.refresh().unwrap();
    assert_eq!(a.state().events_in(&fest).count(), 20);
    assert!(a.forks().unwrap().is_empty());
    assert!(a.check_integrity().unwrap().is_empty());
    assert_eq!(a.heights(&fest).unwrap()[0].seq, 21);
}

/// Every plan row, table by table, as the database holds them.
fn plan_rows(path: &std::path::Path) -> Vec<(String, Vec<u8>, Vec<u8>)> {
    let conn = rusqlite::Connection::open(path).unwrap();
    let mut rows = Vec::new();
    for table in model::State::TABLES {
        let mut stmt = conn.prepare(&format!("SELECT key, value FROM m_{table} ORDER BY key")).unwrap();
        let found = stmt.query_map([], |r| Ok((table.to_string(), r.get(0)?, r.get(1)?))).unwrap();
        rows.extend(found.map(|r| r.unwrap()));
    }
    rows
}

#[test]
fn plan_rows_written_late_or_never_still_follow_the_entries() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("db.sqlite");
    let mut a = Store::open(&path).unwrap();
    let fest = a.append(Id(bamboo::Hash([0; 64])), festival_op("Fest")).unwrap();
    for i in 0..30 {
        a.append(fest, event_op(&format!("a{i}"))).unwrap();
    }
    assert!(a.unflushed() > 0, "small writes leave the rows for later");
    // A second process on the same database sees everything and writes its rows when done.
    let mut b = Store::open(&path).unwrap();
    assert_eq!(b.state().events_in(&fest).count(), 30);
    b.append(fest, event_op("b")).unwrap();
    drop(b);
    a.append(fest, event_op("a-last")).unwrap();
    // The first process dies without writing its rows (`forget` skips `Drop`, as kill -9 does).
    std::mem::forget(a);

    let mut c = Store::open(&path).unwrap();
    assert_eq!(c.state().events_in(&fest).count(), 32, "the entries after the rows are folded at open");
    c.flush_plan().unwrap();
    assert_eq!(c.unflushed(), 0);
    drop(c);
    let written = plan_rows(&path);
    let mut d = Store::open(&path).unwrap();
    d.rebuild(&mut |_, _| {}).unwrap();
    drop(d);
    assert_eq!(plan_rows(&path), written, "the rows written piecemeal are the rows a rebuild writes");
}

#[test]
fn rows_written_at_once_on_two_threads_are_the_rows_written_a_few_at_a_time() {
    // Scenario: the same 361 entries (a festival, 300 events, 60 of them moved: rows
    // written, changed and deleted) go into two stores on disk: one stores and writes the
    // plan's rows 40 entries at a time, the other all at once (enough rows for a second
    // thread to encode them while the first inserts).
    // Assert: both databases hold the same rows, and those of a rebuild.
    let (mut memory, fest) = with_events(300);
    let events: Vec<Id> = memory.state().events_in(&fest).map(|e| e.id).collect();
    let frame = TimeFrame::new(Timestamp(5_000_000), Timestamp(6_000_000)).unwrap();
    for (i, e) in events.iter().enumerate().step_by(5) {
        let fields = EventFields { title: format!("moved {i}"), description: String::new(), frame, bundle: false };
        memory.append(fest, Operation::EventUpdate { event: *e, fields }).unwrap();
    }
    let entries: Vec<_> = verify_entries(export(&memory, &fest)).into_iter().map(Result::unwrap).collect();
    assert_eq!(entries.len(), 361);

    let dir = tempfile::tempdir().unwrap();
    let (piecemeal, whole) = (dir.path().join("piecemeal.sqlite"), dir.path().join("whole.sqlite"));
    let mut a = Store::open(&piecemeal).unwrap();
    for part in entries.chunks(40) {
        a.ingest(part.to_vec()).unwrap();
        a.flush_plan().unwrap();
    }
    drop(a);
    let mut b = Store::open(&whole).unwrap();
    b.ingest(entries).unwrap();
    assert_eq!(b.unflushed(), 361);
    b.flush_plan().unwrap();
    assert_eq!(b.state().events_in_frame(&fest, &frame).len(), 60);
    drop(b);
    let written = plan_rows(&whole);
    assert!(written.len() > 600, "{} rows", written.len());
    // Not `assert_eq!`: its message would print every row.
    assert!(plan_rows(&piecemeal) == written, "the rows written at once differ");
    let mut c = Store::open(&whole).unwrap();
    c.rebuild(&mut |_, _| {}).unwrap();
    drop(c);
    assert!(plan_rows(&whole) == written, "a rebuild writes other rows");
}

#[test]
fn a_plan_reading_rows_back_never_folds_twice_what_another_handle_wrote() {
    // Scenario: a server's plan forgot an event's row after writing it; a CLI command on the
    // same data directory updates that event and writes the rows. Assert: when the server
    // catches up it does not apply the update on top of the row that already holds it (the
    // event's change count, a calendar's SEQUENCE, would be 2), and its plan equals a fresh
    // open's, rows read back included.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("db.sqlite");
    let mut server = Store::open(&path).unwrap();
    let fest = server.append(Id(bamboo::Hash([0; 64])), festival_op("Fest")).unwrap();
    let event = server.append(fest, event_op("Opening")).unwrap();
    server.flush_plan().unwrap();
    assert_eq!(server.state().rows_held(), (0, 0, 0), "written rows are forgotten");
    let mut cli = Store::open(&path).unwrap();
    let frame = TimeFrame::new(Timestamp(1_000_000), Timestamp(3_000_000)).unwrap();
    let fields = EventFields { title: "Grand opening".into(), description: String::new(), frame, bundle: false };
    let update = cli.append(fest, Operation::EventUpdate { event, fields }).unwrap();
    cli.flush_plan().unwrap();
    drop(cli);
    server.refresh().unwrap();
    let seen = server.state().event(&event).unwrap();
    assert_eq!((seen.fields.title.as_str(), seen.sequence), ("Grand opening", 1));
    assert_eq!(server.state().op(&update).map(|r| r.kind.clone()).as_deref(), Some("event/update"));
    server.append(fest, event_op("Closing")).unwrap();
    let fresh = Store::open(&path).unwrap();
    for s in [&server, &fresh] {
        let mut titles: Vec<_> = s.state().events_in(&fest).map(|e| (e.fields.title.clone(), e.sequence)).collect();
        titles.sort();
        assert_eq!(titles, [("Closing".to_string(), 0), ("Grand opening".to_string(), 1)]);
    }
}

#[test]
fn a_row_read_back_after_its_write_is_the_one_written() {
    // Scenario: a server's plan reads an event's row back (the reads of a query come from one
    // snapshot of the database), updates the event, writes the rows and forgets them, then
    // reads the event again. Assert: it reads the update, not the snapshot of its first read.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("db.sqlite");
    let mut s = Store::open(&path).unwrap();
    let fest = s.append(Id(bamboo::Hash([0; 64])), festival_op("Fest")).unwrap();
    let event = s.append(fest, event_op("Opening")).unwrap();
    s.flush_plan().unwrap();
    assert_eq!(s.state().rows_held(), (0, 0, 0), "written rows are forgotten");
    assert_eq!(s.state().event(&event).unwrap().fields.title, "Opening");
    let frame = TimeFrame::new(Timestamp(1_000_000), Timestamp(3_000_000)).unwrap();
    let fields = EventFields { title: "Grand opening".into(), description: String::new(), frame, bundle: false };
    s.append(fest, Operation::EventUpdate { event, fields }).unwrap();
    s.flush_plan().unwrap();
    assert_eq!(s.state().rows_held(), (0, 0, 0), "written rows are forgotten");
    let seen = s.state().event(&event).unwrap();
    assert_eq!((seen.fields.title.as_str(), seen.sequence), ("Grand opening", 1));
}

#[test]
fn a_page_of_the_programme_read_back_on_two_connections_is_the_plan_as_written() {
    // Scenario: a plan on disk with 40 events (none asks for a resource: each is in the
    // programme) forgets its written rows; a page of 30 reads them back at once, half on the
    // store's reader and half on its second one. Every event is then renamed, the rows
    // written and forgotten again, and the page read again.
    let dir = tempfile::tempdir().unwrap();
    let (mut s, fest, events) = events_on_disk(&dir.path().join("db.sqlite"), 40);
    s.flush_plan().unwrap();
    let page = |s: &Store| {
        assert_eq!(s.state().rows_held(), (0, 0, 0), "written rows are forgotten");
        let (page, more) = s.state().programme_page(&fest, false, None, None, 30);
        assert!(more);
        page.iter().map(|(e, _)| (e.id, e.fields.title.clone())).collect::<Vec<_>>()
    };
    // The events start together: the page holds the 30 of the smallest ids.
    let titled = |prefix: &str| {
        let mut all: Vec<(Id, String)> = events.iter().enumerate().map(|(i, e)| (*e, format!("{prefix}{i}"))).collect();
        all.sort();
        all.truncate(30);
        all
    };
    // Assert: the page is the plan as written, both times; the second reader's snapshot ended
    // with the writes as the first's did (with its old snapshot, half the titles would be old).
    assert_eq!(page(&s), titled("e"));
    let frame = TimeFrame::new(Timestamp(1_000_000), Timestamp(2_000_000)).unwrap();
    for (i, event) in events.iter().enumerate() {
        let fields = EventFields { title: format!("renamed {i}"), description: String::new(), frame, bundle: false };
        s.append(fest, Operation::EventUpdate { event: *event, fields }).unwrap();
    }
    s.flush_plan().unwrap();
    assert_eq!(page(&s), titled("renamed "));
}

#[test]
fn reading_rows_back_while_writing_keeps_the_wal_bounded() {
    // Scenario: a plan reopened (its rows on disk only) updates one event after another, each
    // in its own transaction, folding it while the transaction is open: each reads a row
    // back from a snapshot of the reader, as a sync's batches do.
    // Assert: the WAL stays within twice the size at which it is checkpointed (here 50 pages,
    // where the checkpointing thread is woken; at 100 the writer checkpoints itself), with a
    // transaction's pages to spare: no snapshot outlives a commit, which would keep the WAL
    // from restarting (it grew until the disk was full in the plan bench; here it would pass
    // 600 pages).
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("db.sqlite");
    let (s, fest, events) = events_on_disk(&path, 200);
    drop(s);
    let mut s = Store::open(&path).unwrap();
    s.set_wal_autocheckpoint(50).unwrap();
    let page = empty_wal(&path);
    let frame = TimeFrame::new(Timestamp(1_000_000), Timestamp(3_000_000)).unwrap();
    let wal = dir.path().join("db.sqlite-wal");
    let mut largest = 0;
    for (i, event) in events.iter().enumerate() {
        let fields = EventFields { title: format!("take {i}"), description: "x".repeat(3000), frame, bundle: false };
        s.append(fest, Operation::EventUpdate { event: *event, fields }).unwrap();
        largest = largest.max(std::fs::metadata(&wal).unwrap().len());
    }
    assert_eq!(s.state().event(&events[199]).unwrap().sequence, 1);
    assert!(largest < 150 * (page + 24), "the WAL grew to {largest} bytes ({page}-byte pages)");
}

#[test]
fn a_thread_copies_the_wal_back_while_the_writer_goes_on() {
    // Scenario: writes fill the WAL past the size at which the writer wakes the checkpointing
    // thread (here 50 pages), but not to twice that, where it would checkpoint itself.
    // Assert: the pages reach the database file (it grows): the thread copied them, since
    // the writer checkpoints only at 100 pages (the rule is `checkpoint`'s own unit test; a
    // thread that could not start would pass here too: the writer then checkpoints at 50).
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("db.sqlite");
    let mut s = Store::open(&path).unwrap();
    let fest = s.append(Id(bamboo::Hash([0; 64])), festival_op("Fest")).unwrap();
    s.set_wal_autocheckpoint(50).unwrap();
    let page = empty_wal(&path);
    let (wal, db) = (dir.path().join("db.sqlite-wal"), path.clone());
    let len = |p: &std::path::Path| std::fs::metadata(p).unwrap().len();
    let before = len(&db);
    let frames = || len(&wal).saturating_sub(32) / (page + 24);
    let mut i = 0;
    while frames() < 50 {
        let op = Operation::EventCreate(EventFields {
            title: format!("e{i}"),
            description: "x".repeat(3000),
            frame: TimeFrame::new(Timestamp(1_000_000), Timestamp(3_000_000)).unwrap(),
            bundle: false,
        });
        s.append(fest, op).unwrap();
        i += 1;
    }
    assert!(frames() < 100, "one write took the WAL from under 50 pages to {}", frames());
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while len(&db) == before {
        if std::time::Instant::now() >= deadline {
            // This failed twice in about 175 runs (issue 15), cause unknown: what the WAL
            // held then, and what a checkpoint from outside makes of it (busy, frames in the
            // WAL, frames copied), tell the next one.
            let side = rusqlite::Connection::open(&path).unwrap();
            let outside: (i64, i64, i64) = side
                .query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
                .unwrap();
            panic!(
                "no page reached the database file in 20 s: {i} writes, {} frames in the WAL file, database {before} \
                 bytes then {} now; a checkpoint from outside: {outside:?}",
                frames(),
                len(&db)
            );
        }
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
}

#[test]
fn a_plan_on_disk_rebuilt_in_chunks_is_the_plan_folded_at_once() {
    // Scenario: a store on disk rebuilds its plan a few entries per transaction (as a large
    // one does, to bound its memory), with events moved and requests decided across chunks.
    // Assert: the plan equals the one of an in-memory store importing the same entries, rows
    // read back included, and again after reopening.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("db.sqlite");
    let mut s = Store::open(&path).unwrap();
    let fest = s.append(Id(bamboo::Hash([0; 64])), festival_op("Fest")).unwrap();
    let mut events = Vec::new();
    for i in 0..12 {
        events.push(s.append(fest, event_op(&format!("e{i}"))).unwrap());
    }
    let frame = TimeFrame::new(Timestamp(5_000_000), Timestamp(6_000_000)).unwrap();
    for (i, e) in events.iter().enumerate().step_by(3) {
        let fields = EventFields { title: format!("moved {i}"), description: String::new(), frame, bundle: false };
        s.append(fest, Operation::EventUpdate { event: *e, fields }).unwrap();
    }
    let view = |s: &Store| {
        let mut v: Vec<_> = s
            .state()
            .events_in(&fest)
            .map(|e| (e.fields.title.clone(), e.sequence, e.fields.frame.start().0))
            .collect();
        v.sort();
        v
    };
    let mut memory = Store::open_in_memory().unwrap();
    memory.ingest(verify_entries(export(&s, &fest)).into_iter().map(Result::unwrap).collect()).unwrap();
    let expected = view(&memory);
    assert_eq!(expected.len(), 12);
    s.set_rebuild_chunk(4);
    s.rebuild(&mut |_, _| {}).unwrap();
    assert_eq!(s.state().rows_held(), (0, 0, 0), "a chunked rebuild forgets what it wrote");
    assert_eq!(view(&s), expected);
    drop(s);
    let reopened = Store::open(&path).unwrap();
    assert_eq!(view(&reopened), expected);
    assert_eq!(reopened.state().events_in_frame(&fest, &frame).len(), 4);
}

/// A store at `path` holding a festival with 30 events, its plan written; the festival and
/// the node's key.
fn thirty_events_on_disk(path: &std::path::Path) -> (Id, model::Key) {
    let (mut s, fest, _) = events_on_disk(path, 30);
    s.flush_plan().unwrap();
    (fest, s.me())
}

#[test]
fn a_store_from_before_the_stored_indexes_rebuilds_them_at_open() {
    // Scenario: a database of schema 3 and plan rows of version 7, whose indexes of events
    // and requests were built in memory at load and never stored.
    // Assert: opening it rebuilds the plan into the new index rows: a day's events, the
    // node's own events and every event are found, without reading any event at load.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("db.sqlite");
    let (fest, me) = thirty_events_on_disk(&path);
    {
        let conn = rusqlite::Connection::open(&path).unwrap();
        for t in ["replacements", "eventindex", "eventspans", "requestindex", "requestspans", "organiserindex"] {
            conn.execute_batch(&format!("DROP TABLE m_{t}")).unwrap();
        }
        conn.execute_batch(
            "ALTER TABLE logs DROP COLUMN bytes; PRAGMA user_version = 3;
             UPDATE meta SET value = 7 WHERE key = 'model_rows_version'",
        )
        .unwrap();
    }
    let day = TimeFrame::new(Timestamp(0), Timestamp(86_400_000)).unwrap();
    for open in ["rebuilt", "loaded"] {
        let s = Store::open(&path).unwrap();
        assert_eq!(s.state().rows_held().0, 0, "{open}: no event is held after open");
        assert_eq!(s.state().events_in_frame(&fest, &day).len(), 30, "{open}");
        assert_eq!(s.state().events_of(&me).count(), 30, "{open}");
        assert_eq!(s.state().event_ids().len(), 30, "{open}");
    }
}

#[test]
fn a_store_with_an_index_of_entry_hashes_drops_it_at_open_and_keeps_every_entry() {
    // Scenario: a database of schema 7, whose entries table keeps an index of the entries'
    // hashes (`hash ... UNIQUE`).
    // Assert: opening it moves the entries to a table without that index, every entry and
    // both other indexes with them; the log goes on (a new entry links to the old ones), and
    // the plan finds every event again.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("db.sqlite");
    let (fest, _) = thirty_events_on_disk(&path);
    let exported = |s: &Store| {
        let mut lines = Vec::new();
        s.export(&fest, |e, p| lines.push((e.to_vec(), p.to_vec()))).unwrap();
        lines
    };
    let before = exported(&Store::open(&path).unwrap());
    assert_eq!(before.len(), 31);
    let indexes = |path: &std::path::Path| -> Vec<String> {
        let conn = rusqlite::Connection::open(path).unwrap();
        let mut stmt = conn
            .prepare("SELECT name FROM sqlite_schema WHERE tbl_name = 'entries' AND type = 'index' ORDER BY name")
            .unwrap();
        stmt.query_map([], |r| r.get(0)).unwrap().map(Result::unwrap).collect()
    };
    {
        let conn = rusqlite::Connection::open(&path).unwrap();
        conn.execute_batch(
            "CREATE TABLE old_entries (
                 author BLOB NOT NULL, log_id INTEGER NOT NULL, seq INTEGER NOT NULL,
                 hash BLOB NOT NULL UNIQUE, entry BLOB NOT NULL, payload BLOB NOT NULL,
                 lipmaa_seq INTEGER, received INTEGER NOT NULL,
                 PRIMARY KEY (author, log_id, seq)) WITHOUT ROWID;
             INSERT INTO old_entries SELECT * FROM entries;
             DROP TABLE entries;
             ALTER TABLE old_entries RENAME TO entries;
             CREATE INDEX entries_by_lipmaa ON entries (author, log_id, lipmaa_seq) WHERE lipmaa_seq IS NOT NULL;
             CREATE UNIQUE INDEX entries_by_received ON entries (received);
             ALTER TABLE logs DROP COLUMN bytes;
             PRAGMA user_version = 7;",
        )
        .unwrap();
    }
    assert_eq!(indexes(&path), ["entries_by_lipmaa", "entries_by_received", "sqlite_autoindex_entries_1"]);
    let mut s = Store::open(&path).unwrap();
    assert_eq!(indexes(&path), ["entries_by_lipmaa", "entries_by_received"]);
    assert_eq!(exported(&s), before);
    assert_eq!(s.check_integrity().unwrap(), Vec::<String>::new());
    s.append(fest, event_op("after")).unwrap();
    let day = TimeFrame::new(Timestamp(0), Timestamp(86_400_000)).unwrap();
    assert_eq!(s.state().events_in_frame(&fest, &day).len(), 31);
    drop(s);
    let s = Store::open(&path).unwrap();
    assert_eq!(exported(&s).len(), 32);
    assert_eq!(s.state().event_ids().len(), 31);
}

#[test]
fn a_store_whose_records_are_without_rowid_moves_them_to_rowid_tables_at_open() {
    // Scenario: a database of schema 6 and plan rows of version 11, whose tables of whole
    // records (events, requests, operations…) are WITHOUT ROWID b-trees, rows and all.
    // Assert: opening it moves those tables to rowid tables with an index of their keys, and
    // rebuilds the plan into them: every event is found again, also after another open.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("db.sqlite");
    let (fest, _) = thirty_events_on_disk(&path);
    let layout = |path: &std::path::Path| -> String {
        let conn = rusqlite::Connection::open(path).unwrap();
        conn.query_row("SELECT sql FROM sqlite_schema WHERE name = 'm_events'", [], |r| r.get(0)).unwrap()
    };
    {
        let conn = rusqlite::Connection::open(&path).unwrap();
        conn.execute_batch(
            "CREATE TABLE old_events (key BLOB PRIMARY KEY, value BLOB NOT NULL) WITHOUT ROWID;
             INSERT INTO old_events SELECT key, value FROM m_events;
             DROP TABLE m_events;
             ALTER TABLE old_events RENAME TO m_events;
             ALTER TABLE logs DROP COLUMN bytes;
             PRAGMA user_version = 6;
             UPDATE meta SET value = 11 WHERE key = 'model_rows_version'",
        )
        .unwrap();
    }
    assert!(layout(&path).contains("WITHOUT ROWID"));
    let day = TimeFrame::new(Timestamp(0), Timestamp(86_400_000)).unwrap();
    for open in ["rebuilt", "loaded"] {
        let s = Store::open(&path).unwrap();
        assert_eq!(s.state().events_in_frame(&fest, &day).len(), 30, "{open}");
        assert_eq!(s.state().event_ids().len(), 30, "{open}");
        drop(s);
        let sql = layout(&path);
        assert!(!sql.contains("WITHOUT ROWID") && sql.contains("UNIQUE"), "{open}: {sql}");
    }
}

#[test]
fn received_order_follows_the_order_entries_were_stored_and_knows_no_other_entry() {
    let mut s = Store::open_in_memory().unwrap();
    let fest = s.append(Id(bamboo::Hash([0; 64])), festival_op("Fest")).unwrap();
    let first = s.append(fest, event_op("first")).unwrap();
    let second = s.append(fest, event_op("second")).unwrap();
    let at = |s: &Store, id: &Id| {
        let e = s.state().event(id).unwrap();
        let (author, log_id) = e.log;
        let seq = s.state().op(id).unwrap().seq;
        s.received_order(&author, log_id, seq).unwrap()
    };
    let (a, b) = (at(&s, &first).unwrap(), at(&s, &second).unwrap());
    assert!(a < b, "{a} < {b}");
    assert_eq!(s.received_order(&s.me(), 0, 99).unwrap(), None);
    assert_eq!(s.received_order(&model::Key(bamboo::Author([7; 32])), 0, 1).unwrap(), None);
}

#[test]
fn a_plan_of_another_format_is_rebuilt_at_open_with_its_progress_reported() {
    // Scenario: a store whose plan's rows are of an older format (as after an upgrade) is
    // opened with a progress callback.
    // Assert: the plan is folded again from every entry, the callback hears of each chunk up
    // to (all, all), and the plan is the one before; the next open rebuilds nothing.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("db.sqlite");
    let mut s = Store::open(&path).unwrap();
    let fest = s.append(Id(bamboo::Hash([0; 64])), festival_op("Fest")).unwrap();
    let events: Vec<Id> = (0..9).map(|i| s.append(fest, event_op(&format!("e{i}"))).unwrap()).collect();
    drop(s);
    let conn = rusqlite::Connection::open(&path).unwrap();
    conn.execute("UPDATE meta SET value = 1 WHERE key = 'model_rows_version'", []).unwrap();
    drop(conn);
    let mut heard = Vec::new();
    let s = Store::open_with_progress(&path, &mut |done, total| heard.push((done, total))).unwrap();
    assert_eq!(heard.last(), Some(&(10, 10)), "{heard:?}");
    assert!(events.iter().all(|e| s.state().event(e).is_some()));
    drop(s);
    let mut again = Vec::new();
    let s = Store::open_with_progress(&path, &mut |done, total| again.push((done, total))).unwrap();
    assert!(again.is_empty(), "{again:?}");
    assert_eq!(s.state().events_in(&fest).count(), 9);
}

#[test]
fn a_deferred_batch_is_stored_at_once_and_durable_when_its_commit_says_so() {
    // Scenario: batches stored without waiting for the disk, into a store on disk and one
    // in memory; the store on disk reopened.
    // Assert: each batch is stored (and folded) when `ingest_deferred` returns, under a
    // commit numbered after the last; the syncer says each durable, an earlier one at once;
    // the reopened store has them. In memory there is no syncer and the commit is 0.
    let (a, fest) = with_events(40);
    let verified: Vec<_> = verify_entries(export(&a, &fest)).into_iter().map(Result::unwrap).collect();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("db.sqlite");
    let mut s = Store::open(&path).unwrap();
    let (first, c1) = s.ingest_deferred(verified[..21].to_vec()).unwrap();
    let (second, c2) = s.ingest_deferred(verified[21..].to_vec()).unwrap();
    assert_eq!((first.stored.len(), second.stored.len()), (21, 20));
    assert!(Commit::default() < c1 && c1 < c2 && s.last_deferred() == c2, "{c1:?} {c2:?}");
    assert_eq!(s.state().events_in(&fest).count(), 40);
    let syncer = s.syncer().expect("a store on disk has a syncer").clone();
    assert_eq!(syncer.wait(c2), Ok(()));
    let (tx, rx) = std::sync::mpsc::channel();
    syncer.on_durable(c1, move |r| tx.send(r).unwrap());
    assert_eq!(rx.try_recv(), Ok(Ok(())), "an earlier commit is durable at once");
    drop((s, syncer));
    let s = Store::open(&path).unwrap();
    assert_eq!(export(&s, &fest), export(&a, &fest));

    let mut memory = Store::open_in_memory().unwrap();
    let (report, commit) = memory.ingest_deferred(verified).unwrap();
    assert_eq!((report.stored.len(), commit), (41, Commit::default()));
    assert!(memory.syncer().is_none());
}

// Scenario: a log of 40 entries, written in batches; the bytes of every range of it asked
// for, as a sync's `Plan` asks, and summed from the entries themselves.
// Assert: the same for every range (before, within and past the log's end), and the store
// finds its logs' counts of bytes right; an unknown log has none.
#[test]
fn a_logs_bytes_are_counted_as_its_entries_are_stored() {
    let (store, fest) = with_events(39);
    let entries = export(&store, &fest);
    assert_eq!(entries.len(), 40);
    let author = store.me().0;
    let size = |from: u64, to: u64| -> u64 {
        entries
            .iter()
            .enumerate()
            .filter(|(i, _)| (from..=to).contains(&(*i as u64 + 1)))
            .map(|(_, (e, p))| (e.len() + p.len()) as u64)
            .sum()
    };
    for from in 0..=42 {
        for to in 0..=42 {
            assert_eq!(store.log_bytes_between(&author, 0, from, to).unwrap(), size(from, to), "{from}..={to}");
        }
    }
    assert_eq!(store.log_bytes_between(&author, 1, 1, 40).unwrap(), 0);
    assert_eq!(store.check_integrity().unwrap(), Vec::<String>::new());
}
