//! The API's seed calls and every input kept from fuzzing it (each crasher above all),
//! replayed on a fresh node each.

#[test]
fn fuzz_regression_files_replay_without_panic() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fuzz_regressions");
    let mut inputs: Vec<Vec<u8>> = service::fuzz::seeds();
    for file in std::fs::read_dir(&dir).unwrap() {
        inputs.push(std::fs::read(file.unwrap().path()).unwrap());
    }
    for input in inputs {
        let (mut node, ids) = service::fuzz::node();
        service::fuzz::api_call(&mut node, &ids, &input);
    }
}

/// Writes the seed calls into the fuzzer's corpus (`cargo test -- --ignored`, before fuzzing).
#[test]
#[ignore]
fn write_fuzz_seed_corpus() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/corpus/api_call");
    std::fs::create_dir_all(&dir).unwrap();
    for (i, seed) in service::fuzz::seeds().iter().enumerate() {
        std::fs::write(dir.join(format!("seed-{i}")), seed).unwrap();
    }
}
