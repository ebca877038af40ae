//! Property tests: round trips, random logs, partial logs, single-byte mutations, batch verdicts.

use bamboo::{
    Entry, Hash, Keypair, LogWriter, MemoryLogs, Signature, SignedEntry, cert_pool, has_lipmaa_link, verify_signature,
    verify_signatures,
};
use proptest::prelude::*;

fn arb_hash() -> impl Strategy<Value = Hash> {
    prop::array::uniform32(any::<u8>()).prop_map(|h| {
        let mut full = [0u8; 64];
        full[..32].copy_from_slice(&h);
        full[32..].copy_from_slice(&h);
        Hash(full)
    })
}

prop_compose! {
    fn arb_entry()(
        end_of_log in any::<bool>(),
        author in prop::array::uniform32(any::<u8>()),
        log_id in prop_oneof![0u64..300, any::<u64>()],
        seq_num in prop_oneof![1u64..300, 1u64..=u64::MAX],
        lipmaa in arb_hash(),
        back in arb_hash(),
        payload_size in any::<u64>(),
        payload_hash in arb_hash(),
        sig_a in prop::array::uniform32(any::<u8>()),
        sig_b in prop::array::uniform32(any::<u8>()),
    ) -> Entry {
        let mut signature = [0u8; 64];
        signature[..32].copy_from_slice(&sig_a);
        signature[32..].copy_from_slice(&sig_b);
        Entry {
            end_of_log,
            author: bamboo::Author(author),
            log_id,
            seq_num,
            lipmaa_link: has_lipmaa_link(seq_num).then_some(lipmaa),
            backlink: (seq_num > 1).then_some(back),
            payload_size,
            payload_hash,
            signature: Signature(signature),
        }
    }
}

fn build_log(seed: u8, len: usize) -> Vec<(SignedEntry, Vec<u8>)> {
    let mut writer = LogWriter::new(Keypair::from_secret([seed; 32]), seed as u64);
    (0..len)
        .map(|i| {
            let payload = format!("entry {i} of log {seed}").into_bytes();
            (writer.append(&payload), payload)
        })
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn encode_decode_round_trip(entry in arb_entry()) {
        let bytes = entry.encode();
        prop_assert_eq!(Entry::decode(&bytes), Ok(entry));
    }

    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..400)) {
        let mut logs = MemoryLogs::new();
        let _ = logs.insert(&bytes, Some(&bytes));
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn random_logs_verify(seeds in prop::collection::vec((any::<u8>(), 1usize..45), 1..4)) {
        let mut logs = MemoryLogs::new();
        let mut seen = std::collections::HashSet::new();
        for (seed, len) in seeds {
            if !seen.insert(seed) {
                continue;
            }
            for (signed, payload) in build_log(seed, len) {
                let accepted = logs.insert(&signed.bytes, Some(&payload));
                prop_assert!(accepted.is_ok(), "seed {seed} seq {}: {:?}", signed.entry.seq_num, accepted);
            }
        }
    }

    #[test]
    fn certificate_pools_verify_alone(x in 1u64..121) {
        let pool = cert_pool(x);
        let log = build_log(3, *pool.last().unwrap() as usize);
        let mut logs = MemoryLogs::new();
        for seq in &pool {
            let (signed, _) = &log[*seq as usize - 1];
            prop_assert!(logs.insert(&signed.bytes, None).is_ok(), "pool of {x}: entry {seq}");
        }
    }

    #[test]
    fn any_single_byte_mutation_is_rejected(len in 1usize..20, pick in any::<prop::sample::Index>(), byte in any::<prop::sample::Index>(), flip in 1u8..=255) {
        let log = build_log(9, len);
        let target = pick.index(len);
        let mut logs = MemoryLogs::new();
        for (signed, payload) in &log[..target] {
            logs.insert(&signed.bytes, Some(payload)).unwrap();
        }
        let (signed, payload) = &log[target];
        let mut mutated = signed.bytes.clone();
        let at = byte.index(mutated.len());
        mutated[at] ^= flip;
        prop_assert!(logs.insert(&mutated, Some(payload)).is_err(), "byte {at} of entry {} flipped by {flip:#x}", target + 1);
        prop_assert!(logs.insert(&mutated, None).is_err());
        // The log is unchanged: the original still goes in.
        prop_assert!(logs.insert(&signed.bytes, Some(payload)).is_ok());
    }

    #[test]
    fn batch_and_single_verification_agree(corrupt in prop::collection::vec(any::<bool>(), 1..140)) {
        let log = build_log(5, corrupt.len());
        let mut bytes: Vec<Vec<u8>> = log.iter().map(|(s, _)| s.bytes.clone()).collect();
        for (b, bad) in bytes.iter_mut().zip(&corrupt) {
            if *bad {
                let n = b.len();
                b[n - 40] ^= 0x20;
            }
        }
        let entries: Vec<Entry> = bytes.iter().map(|b| Entry::decode(b).unwrap()).collect();
        let items: Vec<(&[u8], &Entry)> = bytes.iter().map(|b| b.as_slice()).zip(&entries).collect();
        let batch = verify_signatures(&items);
        let single: Vec<_> = items.iter().map(|(b, e)| verify_signature(b, e)).collect();
        prop_assert_eq!(&batch, &single);
        for (verdict, bad) in batch.iter().zip(&corrupt) {
            prop_assert_eq!(verdict.is_err(), *bad);
        }
    }
}

/// Over more than one batch of `VERIFY_BATCH`, with bad signatures alone, in pairs, in a run
/// longer than a retried batch and in the last, short batch: each verdict is the single check's.
#[test]
fn batches_and_their_retries_agree_with_single_verification() {
    let n = 2 * bamboo::VERIFY_BATCH + 300;
    let log = build_log(5, n);
    let mut bad: Vec<usize> = vec![3, 1100, 1101, n - 1];
    bad.extend(1500..1600);
    let mut bytes: Vec<Vec<u8>> = log.iter().map(|(s, _)| s.bytes.clone()).collect();
    for &i in &bad {
        let len = bytes[i].len();
        bytes[i][len - 40] ^= 0x20;
    }
    let entries: Vec<Entry> = bytes.iter().map(|b| Entry::decode(b).unwrap()).collect();
    let items: Vec<(&[u8], &Entry)> = bytes.iter().map(|b| b.as_slice()).zip(&entries).collect();
    let verdicts = verify_signatures(&items);
    assert_eq!(verdicts.len(), n);
    for (i, verdict) in verdicts.iter().enumerate() {
        assert_eq!(verdict.is_err(), bad.contains(&i), "entry {i}");
        assert_eq!(verdict, &verify_signature(items[i].0, items[i].1), "entry {i}");
    }
}
