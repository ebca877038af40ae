//! `cargo run --release -p pandafest-sync --example simulate [PEERS...] [--seed N] [--no-rotation] [--flood]`
//!
//! Simulates festivals of 100 and 1000 peers (or the sizes given) with churn and a healed
//! partition, and prints what the simulation measured, ready to paste into a note.

fn main() {
    let mut sizes = Vec::new();
    let mut seed = 1;
    let mut rotate = None;
    let mut lazy = true;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--seed" => seed = args.next().and_then(|s| s.parse().ok()).expect("--seed N"),
            "--no-rotation" => rotate = Some(0),
            // Every session pushes every entry (no Plumtree): the comparison.
            "--flood" => lazy = false,
            n => sizes.push(n.parse::<usize>().expect("peer counts are numbers")),
        }
    }
    if sizes.is_empty() {
        sizes = vec![100, 1000];
    }
    for peers in sizes {
        let mut config = sync::sim::SimConfig::new(peers, seed);
        config.rotate_every = rotate;
        config.lazy = lazy;
        let report = sync::sim::run(config);
        println!("{report}\n");
    }
}
