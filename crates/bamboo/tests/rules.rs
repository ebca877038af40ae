//! Every rejection rule, each with a crafted entry that breaks exactly that rule.
//! The crafted bytes are validly signed, so the rule itself (not the signature) must catch them.

use bamboo::{Entry, Hash, Keypair, LogWriter, MemoryLogs, Signature, SignedEntry, varu64};
use expect_test::{Expect, expect};

fn keypair() -> Keypair {
    Keypair::from_secret([7; 32])
}

/// Signs arbitrary unsigned bytes, however malformed, with the test key.
fn sign_raw(unsigned: &[u8]) -> Vec<u8> {
    let mut out = unsigned.to_vec();
    out.extend_from_slice(&keypair().sign(unsigned).0);
    out
}

fn unsigned(entry: &Entry) -> Vec<u8> {
    let mut out = Vec::new();
    entry.encode_unsigned(&mut out);
    out
}

/// A log of `n` valid entries with payloads "p1", "p2", …
fn log(n: usize) -> (Vec<SignedEntry>, Vec<Vec<u8>>) {
    let mut writer = LogWriter::new(keypair(), 0);
    let payloads: Vec<Vec<u8>> = (1..=n).map(|i| format!("p{i}").into_bytes()).collect();
    (payloads.iter().map(|p| writer.append(p)).collect(), payloads)
}

/// Inserts the valid prefix, then `bad`, and compares the verdict on `bad` with `expect`.
fn check(prefix: &[SignedEntry], bad: &[u8], payload: Option<&[u8]>, expect: Expect) {
    let mut logs = MemoryLogs::new();
    for e in prefix {
        logs.insert(&e.bytes, None).unwrap();
    }
    let before = format!("{:?}", logs.log(keypair().author(), 0).map(|l| l.len()));
    let verdict = match logs.insert(bad, payload) {
        Ok(accepted) => format!("accepted seq {}", accepted.entry.seq_num),
        Err(err) => format!("{err:?}: {err}"),
    };
    expect.assert_eq(&verdict);
    let after = format!("{:?}", logs.log(keypair().author(), 0).map(|l| l.len()));
    if !verdict.starts_with("accepted") {
        assert_eq!(before, after, "a rejected entry changes nothing");
    }
}

#[test]
fn tag_other_than_0_or_1() {
    let (entries, _) = log(1);
    let mut raw = unsigned(&entries[0].entry);
    raw[0] = 2;
    check(
        &[],
        &sign_raw(&raw),
        None,
        expect![[r#"Decode(InvalidTag(2)): tag byte 0x02 is neither 0x00 (entry) nor 0x01 (end of log)"#]],
    );
}

#[test]
fn non_canonical_varu64() {
    let (entries, _) = log(1);
    let raw = unsigned(&entries[0].entry);
    // log_id 0 written as f8 00 instead of 00.
    let mut bad = raw[..33].to_vec();
    bad.extend_from_slice(&[0xf8, 0x00]);
    bad.extend_from_slice(&raw[34..]);
    check(
        &[],
        &sign_raw(&bad),
        None,
        expect![[
            r#"Decode(NonCanonicalVarU64(LogId)): the log id is not canonically encoded (a shorter VarU64 exists)"#
        ]],
    );
}

#[test]
fn yamf_hash_type_other_than_blake2b() {
    let (entries, _) = log(1);
    let mut raw = unsigned(&entries[0].entry);
    let hash_at = raw.len() - 66;
    raw[hash_at] = 1;
    check(
        &[],
        &sign_raw(&raw),
        None,
        expect![[
            r#"Decode(UnsupportedHashType { field: PayloadHash, hash_type: 1 }): the payload hash has hash type 1; only 0 (BLAKE2b-512) is allowed"#
        ]],
    );
}

#[test]
fn yamf_length_other_than_64() {
    let (entries, _) = log(1);
    let mut raw = unsigned(&entries[0].entry);
    let len_at = raw.len() - 65;
    raw[len_at] = 32;
    check(
        &[],
        &sign_raw(&raw),
        None,
        expect![[
            r#"Decode(UnsupportedHashLength { field: PayloadHash, length: 32 }): the payload hash declares digest length 32; BLAKE2b-512 needs 64"#
        ]],
    );
}

#[test]
fn trailing_bytes() {
    let (entries, _) = log(1);
    let mut bytes = entries[0].bytes.clone();
    bytes.push(0);
    check(&[], &bytes, None, expect![[r#"Decode(TrailingBytes(1)): 1 trailing bytes after the signature"#]]);
}

#[test]
fn truncated_input() {
    let (entries, _) = log(1);
    let bytes = &entries[0].bytes[..entries[0].bytes.len() - 1];
    check(&[], bytes, None, expect![[r#"Decode(Truncated(Signature)): input ends inside the signature"#]]);
    check(&[], &entries[0].bytes[..20], None, expect![[r#"Decode(Truncated(Author)): input ends inside the author"#]]);
    check(&[], &[], None, expect![[r#"Decode(Truncated(Tag)): input ends inside the tag"#]]);
}

#[test]
fn seq_num_zero() {
    let (entries, _) = log(1);
    let mut raw = unsigned(&entries[0].entry);
    raw[34] = 0;
    check(
        &[],
        &sign_raw(&raw),
        None,
        expect![[r#"Decode(SeqNumZero): sequence number 0 is invalid; logs start at 1"#]],
    );
}

#[test]
fn missing_lipmaa_link() {
    let (entries, _) = log(4);
    let without = Entry { lipmaa_link: None, ..entries[3].entry.clone() };
    check(
        &entries[..3],
        &sign_raw(&unsigned(&without)),
        None,
        expect![[r#"Decode(MissingLipmaaLink { seq_num: 4 }): entry 4 must carry a lipmaa link but has none"#]],
    );
}

#[test]
fn extra_lipmaa_link() {
    let (entries, _) = log(2);
    let with = Entry { lipmaa_link: Some(entries[0].hash), ..entries[1].entry.clone() };
    check(
        &entries[..1],
        &sign_raw(&unsigned(&with)),
        None,
        expect![[r#"Decode(ExtraLipmaaLink { seq_num: 2 }): entry 2 carries a lipmaa link it must not have"#]],
    );
}

#[test]
fn missing_backlink_and_extra_backlink() {
    let (entries, _) = log(2);
    let without = Entry { backlink: None, ..entries[1].entry.clone() };
    check(
        &entries[..1],
        &sign_raw(&unsigned(&without)),
        None,
        expect![[r#"Decode(MissingBacklink { seq_num: 2 }): entry 2 must carry a backlink but has none"#]],
    );
    let first_with_link = Entry { backlink: Some(entries[1].hash), ..entries[0].entry.clone() };
    check(
        &[],
        &sign_raw(&unsigned(&first_with_link)),
        None,
        expect![[r#"Decode(ExtraBacklink): entry 1 carries a link it must not have"#]],
    );
}

#[test]
fn backlink_to_the_wrong_entry() {
    let (entries, _) = log(3);
    let wrong = Entry { backlink: Some(entries[0].hash), ..entries[2].entry.clone() };
    check(
        &entries[..2],
        &sign_raw(&unsigned(&wrong)),
        None,
        expect![[
            r#"Verify(BacklinkMismatch { seq_num: 3 }): the backlink of entry 3 does not point to the known entry 2"#
        ]],
    );
}

#[test]
fn lipmaa_link_to_the_wrong_entry() {
    let (entries, _) = log(4);
    let wrong = Entry { lipmaa_link: Some(entries[1].hash), ..entries[3].entry.clone() };
    check(
        &entries[..3],
        &sign_raw(&unsigned(&wrong)),
        None,
        expect![[
            r#"Verify(LipmaaLinkMismatch { seq_num: 4, target: 1 }): the lipmaa link of entry 4 does not point to the known entry 1"#
        ]],
    );
}

#[test]
fn link_into_another_log_is_no_path() {
    // Entry 2 of log 1 whose backlink is entry 1 of log 0: the link points to an entry of another log.
    let (entries, _) = log(1);
    let mut other = LogWriter::new(keypair(), 1);
    let _first_of_log_1 = other.append(b"x");
    let foreign = Entry { log_id: 1, seq_num: 2, backlink: Some(entries[0].hash), ..entries[0].entry.clone() };
    let mut logs = MemoryLogs::new();
    logs.insert(&entries[0].bytes, None).unwrap();
    logs.insert(&_first_of_log_1.bytes, None).unwrap();
    let err = logs.insert(&sign_raw(&unsigned(&foreign)), None).unwrap_err();
    expect![[r#"the backlink of entry 2 does not point to the known entry 1"#]].assert_eq(&err.to_string());
}

#[test]
fn payload_hash_and_size_mismatch() {
    let (entries, payloads) = log(1);
    check(
        &[],
        &entries[0].bytes,
        Some(b"not the payload"),
        expect![[r#"Verify(PayloadHashMismatch): the payload does not match the payload hash"#]],
    );
    let lying_size = Entry { payload_size: 99, ..entries[0].entry.clone() };
    check(
        &[],
        &sign_raw(&unsigned(&lying_size)),
        Some(&payloads[0]),
        expect![[
            r#"Verify(PayloadSizeMismatch { declared: 99, actual: 2 }): the payload has 2 bytes but the entry declares 99"#
        ]],
    );
}

#[test]
fn bad_signature() {
    let (entries, _) = log(1);
    let mut bytes = entries[0].bytes.clone();
    let last = bytes.len() - 1;
    bytes[last] ^= 1;
    check(&[], &bytes, None, expect![[r#"Verify(InvalidSignature): the signature does not verify"#]]);
    let forged = Entry { signature: Signature([0; 64]), ..entries[0].entry.clone() };
    check(&[], &forged.encode(), None, expect![[r#"Verify(InvalidSignature): the signature does not verify"#]]);
}

#[test]
fn entry_after_end_of_log() {
    let mut writer = LogWriter::new(keypair(), 0);
    let first = writer.append(b"a");
    let end = writer.end(b"bye");
    let after = writer.append(b"too late");
    check(
        &[first.clone(), end],
        &after.bytes,
        None,
        expect![[r#"Verify(EntryAfterEndOfLog { seq_num: 3, end_seq: 2 }): entry 3 follows the end-of-log entry 2"#]],
    );
}

#[test]
fn fork_is_detected_and_freezes_the_log() {
    let (entries, _) = log(3);
    let mut fork_writer = LogWriter::new(keypair(), 0);
    let _ = fork_writer.append(b"p1");
    let other_2 = fork_writer.append(b"another second entry");
    let other_3 = fork_writer.append(b"and a third");
    let mut logs = MemoryLogs::new();
    logs.insert(&entries[0].bytes, None).unwrap();
    logs.insert(&entries[1].bytes, None).unwrap();
    let err = logs.insert(&other_2.bytes, None).unwrap_err();
    assert!(err.to_string().starts_with("fork: a different entry 2"), "{err}");
    let err = logs.insert(&entries[2].bytes, None).unwrap_err();
    expect![[r#"the log is frozen: its author forked it at entry 2"#]].assert_eq(&err.to_string());
    let err = logs.insert(&other_3.bytes, None).unwrap_err();
    expect![[r#"the log is frozen: its author forked it at entry 2"#]].assert_eq(&err.to_string());
}

#[test]
fn duplicate_is_accepted_once() {
    let (entries, _) = log(2);
    let mut logs = MemoryLogs::new();
    logs.insert(&entries[0].bytes, None).unwrap();
    assert_eq!(logs.insert(&entries[0].bytes, None).unwrap().admission, bamboo::Admission::Duplicate);
    assert_eq!(logs.log(keypair().author(), 0).unwrap().len(), 1);
}

#[test]
fn late_entry_must_match_the_links_of_known_successors() {
    // Partial log 1, 4 (via lipmaa); then an entry 3 that 4 does not link to arrives.
    let (entries, _) = log(4);
    let mut fork_writer = LogWriter::new(keypair(), 0);
    let _ = fork_writer.append(b"p1");
    let _ = fork_writer.append(b"p2");
    let other_3 = fork_writer.append(b"not the real third");
    let mut logs = MemoryLogs::new();
    logs.insert(&entries[0].bytes, None).unwrap();
    logs.insert(&entries[3].bytes, None).unwrap();
    logs.insert(&entries[1].bytes, None).unwrap();
    let err = logs.insert(&other_3.bytes, None).unwrap_err();
    expect![[r#"entry 4 is known and does not link to this entry"#]].assert_eq(&err.to_string());
    logs.insert(&entries[2].bytes, None).unwrap();
}

#[test]
fn large_numbers_use_long_varu64() {
    let keypair = keypair();
    let entry = bamboo::NewEntry {
        log_id: u64::MAX,
        seq_num: 1,
        lipmaa_link: None,
        backlink: None,
        payload: b"x",
        end_of_log: false,
    }
    .sign(&keypair)
    .unwrap();
    assert_eq!(entry.bytes.len(), 166 + 8);
    let decoded = Entry::decode(&entry.bytes).unwrap();
    assert_eq!(decoded.log_id, u64::MAX);
    let mut buf = Vec::new();
    varu64::encode(u64::MAX, &mut buf);
    assert_eq!(buf.len(), 9);
    assert_eq!(Hash::of(&entry.bytes), entry.hash);
}
