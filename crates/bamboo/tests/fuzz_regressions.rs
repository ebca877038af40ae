//! Every input kept from fuzzing (each crasher above all) is replayed here through the
//! same checks as the fuzz target, on stable Rust.

#[test]
fn fuzz_regression_files_replay_without_panic() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fuzz_regressions");
    let mut count = 0;
    for file in std::fs::read_dir(&dir).unwrap() {
        let path = file.unwrap().path();
        bamboo::fuzz::decode_verify(&std::fs::read(&path).unwrap());
        count += 1;
    }
    assert!(count > 0, "no regression inputs in {}", dir.display());
}
