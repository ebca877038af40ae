//! A crash in the middle of a large import: the store stays consistent and keeps every
//! batch the import reported as stored.

mod support;

use std::io::{BufRead, BufReader, Write};
use std::process::Stdio;

use bamboo::{Keypair, LogWriter};
use model::op::{EventFields, FestivalFields, Payload};
use model::{Operation, TimeFrame, Timestamp};
use support::{Person, s};

/// A festival with `n` events by one author, as an export file.
fn big_file(path: &std::path::Path, n: usize) {
    let mut w = LogWriter::new(Keypair::from_secret([42; 32]), 0);
    let mut out = std::io::BufWriter::new(std::fs::File::create(path).unwrap());
    let create = Payload {
        festival: None,
        op: Operation::FestivalCreate {
            parent: None,
            fields: FestivalFields {
                name: "Big".into(),
                description: String::new(),
                timezone: "UTC".into(),
                frame: None,
                ticket: None,
            },
        },
    }
    .encode();
    let e = w.append(&create);
    writeln!(out, "{} {}", hex::encode(&e.bytes), hex::encode(&create)).unwrap();
    for i in 0..n {
        let start = 1_782_864_000_000 + i as i64 * 3_600_000;
        let frame = TimeFrame::new(Timestamp(start), Timestamp(start + 3_600_000)).unwrap();
        let payload = Payload {
            festival: None,
            op: Operation::EventCreate(EventFields {
                title: format!("Event {i}"),
                description: String::new(),
                frame,
                bundle: false,
            }),
        }
        .encode();
        let e = w.append(&payload);
        writeln!(out, "{} {}", hex::encode(&e.bytes), hex::encode(&payload)).unwrap();
    }
}

#[test]
fn kill_9_during_a_large_import_keeps_every_reported_batch() {
    let p = Person::new("Ana");
    let file = p.path().join("big.txt");
    let total = 40_000;
    big_file(&file, total);
    let mut child =
        p.command(&["log", "import", file.to_str().unwrap(), "--json"]).stdout(Stdio::piped()).spawn().unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut reported = 0;
    // Wait until at least two batches are reported, then kill without warning.
    while reported < 4_000 {
        let line = lines.next().expect("import reports batches").unwrap();
        let v: serde_json::Value = serde_json::from_str(&line).unwrap();
        reported = v["stored"].as_u64().expect("a batch line") as usize;
    }
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    assert!(reported < total + 1, "the import must still be running when killed (it reported {reported})");

    let festivals = p.json(&["festival", "list"]);
    let festival = s(&festivals[0]["id"]);
    let events_before = p.json(&["event", "list", "--festival", &festival]).as_array().unwrap().len();
    assert!(events_before + 1 >= reported, "{events_before} events stored but {reported} entries reported");
    let exported = std::fs::read_to_string(p.export(&festival)).unwrap().lines().count();
    assert_eq!(exported, events_before + 1, "the plan matches the stored entries");
    // Rebuilding from the logs finds no problem and gives the same plan.
    let out = p.ok(&["rebuild"]);
    assert!(out.contains(&format!("from {exported} entries")), "{out}");
    assert_eq!(p.json(&["event", "list", "--festival", &festival]).as_array().unwrap().len(), events_before);
    // Importing again completes the job.
    let out = p.import(&file);
    assert!(out.contains(&format!("{} new, {} already here", total + 1 - exported, exported)), "{out}");
    assert_eq!(p.json(&["event", "list", "--festival", &festival]).as_array().unwrap().len(), total);
}
