//! Every input kept from fuzzing (each crasher above all) is replayed here through the
//! same checks as the fuzz targets, on stable Rust. A file named `TARGET-…` goes to that
//! target's check.

use std::path::Path;

fn check_for(name: &str) -> fn(&[u8]) {
    match name.split('-').next() {
        Some("decode_message") => sync::fuzz::decode_message,
        Some("decode_overlay") => sync::fuzz::decode_overlay,
        Some("session_receive") => sync::fuzz::session_receive,
        _ => panic!("{name}: a regression file is named after its fuzz target"),
    }
}

// Scenario: every file in tests/fuzz_regressions, through its target's check.
// Assert: no check panics (each re-checks its own invariants), and the folder is not empty.
#[test]
fn fuzz_regression_files_replay_without_panic() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fuzz_regressions");
    let mut count = 0;
    for file in std::fs::read_dir(&dir).unwrap() {
        let path = file.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        check_for(&name)(&std::fs::read(&path).unwrap());
        count += 1;
    }
    assert!(count > 0, "no regression inputs in {}", dir.display());
}

/// The messages an honest peer sent in a real session, framed as `session_receive` reads them.
fn framed(messages: &[Vec<u8>]) -> Vec<u8> {
    let mut out = Vec::new();
    for m in messages {
        out.extend_from_slice(&(m.len() as u16).to_be_bytes());
        out.extend_from_slice(m);
    }
    out
}

/// Seeds the fuzz corpora with real messages: `cargo test -p pandafest-sync --test
/// fuzz_regressions -- --ignored` before a first `cargo fuzz run`.
#[test]
#[ignore]
fn write_fuzz_seed_corpora() {
    let ready = sync::fuzz::ready();
    let corpus = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/corpus");
    let write = |target: &str, name: String, bytes: &[u8]| {
        let dir = corpus.join(target);
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join(name), bytes).unwrap();
    };
    for (i, m) in ready.peer_messages.iter().chain(&ready.next_messages).enumerate() {
        write("decode_message", format!("seed-{i}"), m);
    }
    for (i, m) in ready.next_messages.iter().enumerate() {
        write("session_receive", format!("seed-{i}"), &framed(std::slice::from_ref(m)));
    }
    write("session_receive", "seed-all".into(), &framed(&ready.next_messages));
    write("session_receive", "seed-replay".into(), &framed(&ready.peer_messages));
    let me = sync::Peer::new(bamboo::Keypair::from_secret([5; 32]).author(), "wss://example.org/sync");
    let overlay = [
        sync::OverlayMessage::Introduce { peer: me.clone() },
        sync::OverlayMessage::Signal { to: me.key, from: me.key, data: "{\"sdp\":\"v=0\"}".into() },
    ];
    for (i, m) in overlay.iter().enumerate() {
        write("decode_overlay", format!("seed-{i}"), &m.encode());
    }
}
