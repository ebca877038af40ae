//! `cargo xtask bench` (or `cargo bench -p pandafest-bamboo`): the Bamboo codec against the
//! raw ed25519 rates of this machine, measured side by side in one run.
//!
//! Prints rates (per second, best of several rounds) and the ratios the project tracks:
//! decode+verify against single verification (goal >= 0.9), and batched ingest above it.

use std::hint::black_box;
use std::time::{Duration, Instant};

use bamboo::{Entry, Keypair, LogWriter, MemoryLogs, SignatureVerifier, SignedEntry, verify_signature};

const AUTHORS: usize = 8;
const ENTRIES_PER_LOG: usize = 1_250;

/// Runs `f` (which processes `n` items) for several rounds and returns the best rate.
fn rate(n: usize, mut f: impl FnMut()) -> f64 {
    let mut best = f64::MAX;
    let deadline = Instant::now() + Duration::from_secs(3);
    for round in 0.. {
        let start = Instant::now();
        f();
        best = best.min(start.elapsed().as_secs_f64());
        if round >= 2 && Instant::now() > deadline {
            break;
        }
    }
    n as f64 / best
}

fn payload(author: usize, i: usize) -> Vec<u8> {
    // About the size of a pandafest operation: a CBOR map with a title and a time frame.
    format!("{{\"v\":1,\"op\":\"event\",\"title\":\"Workshop {i} by {author}\",\"start\":\"2026-07-01T18:00:00Z\",\"end\":\"2026-07-01T20:00:00Z\",\"description\":\"bring a laptop\"}}").into_bytes()
}

fn main() {
    let keys: Vec<Keypair> = (0..AUTHORS).map(|i| Keypair::from_secret([i as u8 + 1; 32])).collect();
    let payloads: Vec<Vec<Vec<u8>>> =
        (0..AUTHORS).map(|a| (0..ENTRIES_PER_LOG).map(|i| payload(a, i)).collect()).collect();
    let total = AUTHORS * ENTRIES_PER_LOG;

    // Logs interleaved by author, as they arrive from a sync.
    let mut logs: Vec<Vec<SignedEntry>> = Vec::new();
    let sign_rate = rate(total, || {
        logs = keys
            .iter()
            .zip(&payloads)
            .map(|(k, ps)| {
                let mut w = LogWriter::new(k.clone(), 0);
                ps.iter().map(|p| w.append(p)).collect()
            })
            .collect();
    });
    let entries: Vec<(&SignedEntry, &[u8])> = (0..ENTRIES_PER_LOG)
        .flat_map(|i| (0..AUTHORS).map(move |a| (a, i)))
        .map(|(a, i)| (&logs[a][i], payloads[a][i].as_slice()))
        .collect();
    let mean_len = entries.iter().map(|(e, _)| e.bytes.len()).sum::<usize>() as f64 / total as f64;

    // The limits: raw ed25519 on the same messages.
    let messages: Vec<(Keypair, Vec<u8>)> =
        entries.iter().map(|(e, _)| (keys[0].clone(), e.bytes[..e.bytes.len() - 64].to_vec())).collect();
    let raw_sign = rate(total, || {
        for (k, m) in &messages {
            black_box(k.sign(m));
        }
    });
    let raw_items: Vec<(ed25519_zebra::VerificationKey, ed25519_zebra::Signature, &[u8])> = entries
        .iter()
        .map(|(e, _)| {
            (
                ed25519_zebra::VerificationKey::try_from(e.entry.author.0).unwrap(),
                ed25519_zebra::Signature::from_bytes(&e.entry.signature.0),
                &e.bytes[..e.bytes.len() - 64],
            )
        })
        .collect();
    let raw_verify = rate(total, || {
        for (vk, sig, msg) in &raw_items {
            vk.verify(sig, msg).unwrap();
        }
    });
    let raw_batch = rate(total, || {
        for chunk in raw_items.chunks(64) {
            let mut batch = ed25519_zebra::batch::Verifier::new();
            for (vk, sig, msg) in chunk {
                batch.queue((ed25519_zebra::VerificationKeyBytes::from(*vk), *sig, *msg));
            }
            batch.verify(rand::rng()).unwrap();
        }
    });

    let decode = rate(total, || {
        for (e, _) in &entries {
            black_box(Entry::decode(&e.bytes).unwrap());
        }
    });
    let raw_verify_from_bytes = rate(total, || {
        for (e, _) in &entries {
            let vk = ed25519_zebra::VerificationKey::try_from(e.entry.author.0).unwrap();
            vk.verify(&ed25519_zebra::Signature::from_bytes(&e.entry.signature.0), &e.bytes[..e.bytes.len() - 64])
                .unwrap();
        }
    });
    let decode_verify_uncached = rate(total, || {
        for (e, _) in &entries {
            let entry = Entry::decode(&e.bytes).unwrap();
            verify_signature(&e.bytes, &entry).unwrap();
        }
    });
    let decode_verify = rate(total, || {
        let mut verifier = SignatureVerifier::default();
        for (e, _) in &entries {
            let entry = Entry::decode(&e.bytes).unwrap();
            verifier.verify(&e.bytes, &entry).unwrap();
        }
    });
    let full_single = rate(total, || {
        let mut logs = MemoryLogs::new();
        for (e, p) in &entries {
            logs.insert(&e.bytes, Some(p)).unwrap();
        }
    });
    let items: Vec<(&[u8], Option<&[u8]>)> = entries.iter().map(|(e, p)| (e.bytes.as_slice(), Some(*p))).collect();
    let full_batch = rate(total, || {
        let mut logs = MemoryLogs::new();
        for chunk in items.chunks(256) {
            for verdict in logs.insert_batch(chunk) {
                verdict.unwrap();
            }
        }
    });

    println!(
        "bamboo codec: {total} entries, {AUTHORS} logs, mean entry {mean_len:.0} bytes, mean payload {} bytes",
        payloads[0][0].len()
    );
    println!("{:<48} {:>12}", "measure", "per second");
    let row = |name: &str, r: f64| println!("{name:<48} {r:>12.0}");
    row("raw ed25519 sign", raw_sign);
    row("raw ed25519 verify (single, parsed key)", raw_verify);
    row("raw ed25519 verify (single, key from bytes)", raw_verify_from_bytes);
    row("raw ed25519 verify (batch of 64)", raw_batch);
    row("encode + sign (LogWriter::append)", sign_rate);
    row("decode", decode);
    row("decode + verify signature (key from bytes)", decode_verify_uncached);
    row("decode + verify signature (SignatureVerifier)", decode_verify);
    row("full check, single (MemoryLogs::insert)", full_single);
    row("full check, batched (MemoryLogs::insert_batch)", full_batch);
    println!();
    println!("ratio encode+sign / raw sign:                    {:.2}", sign_rate / raw_sign);
    println!("ratio decode+verify / raw single verify:         {:.2}  (goal >= 0.90)", decode_verify / raw_verify);
    println!(
        "ratio decode+verify / raw verify, both from key bytes: {:.2}",
        decode_verify_uncached / raw_verify_from_bytes
    );
    println!("ratio full single check / raw single verify:     {:.2}", full_single / raw_verify);
    println!("ratio full batched check / raw single verify:    {:.2}  (goal > 1)", full_batch / raw_verify);
    println!("ratio full batched check / raw batch verify:     {:.2}", full_batch / raw_batch);
}
