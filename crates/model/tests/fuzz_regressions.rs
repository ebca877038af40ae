//! Every input kept from fuzzing payloads (each crasher above all) is replayed here.

#[test]
fn fuzz_regression_files_replay_without_panic() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fuzz_regressions");
    let mut count = 0;
    for file in std::fs::read_dir(&dir).unwrap() {
        model::fuzz::decode_apply(&std::fs::read(file.unwrap().path()).unwrap());
        count += 1;
    }
    assert!(count > 0, "no regression inputs in {}", dir.display());
}
