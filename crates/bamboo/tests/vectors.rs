//! The published bamboo-rs vectors, reproduced byte for byte (signatures included).

use bamboo::{Author, Entry, Hash, Keypair, MemoryLogs, NewEntry, Signature, verify_signature};
use serde_json::Value;

fn vectors() -> Value {
    serde_json::from_str(include_str!("data/bamboo-test-vectors.json")).unwrap()
}

fn bytes(v: &Value) -> Vec<u8> {
    hex::decode(v.as_str().unwrap()).unwrap()
}

fn keypair(vector: &Value) -> Keypair {
    let secret: [u8; 32] = bytes(&vector["author"]["secret"]).try_into().unwrap();
    let keypair = Keypair::from_secret(secret);
    assert_eq!(keypair.author().to_hex(), vector["author"]["public"].as_str().unwrap());
    keypair
}

fn hash_field(v: &Value) -> Option<Hash> {
    v.get("Blake2b").map(|h| Hash::from_hex(h.as_str().unwrap()).unwrap())
}

/// Checks one vector entry field by field, re-encodes it, and re-signs it.
fn check_entry(keypair: &Keypair, item: &Value) -> (Entry, Vec<u8>) {
    let encoded = bytes(&item["encoded"]);
    let entry = Entry::decode(&encoded).expect("vector decodes");
    let d = &item["decoded"];
    assert_eq!(entry.author, Author::from_hex(d["author"].as_str().unwrap()).unwrap());
    assert_eq!(entry.log_id, d["logId"].as_u64().unwrap());
    assert_eq!(entry.seq_num, d["seqNum"].as_u64().unwrap());
    assert_eq!(entry.end_of_log, d["isEndOfFeed"].as_bool().unwrap());
    assert_eq!(entry.payload_size, d["payloadSize"].as_u64().unwrap());
    assert_eq!(Some(entry.payload_hash), hash_field(&d["payloadHash"]));
    assert_eq!(entry.backlink, hash_field(&d["backlink"]));
    assert_eq!(entry.lipmaa_link, hash_field(&d["lipmaaLink"]));
    assert_eq!(hex::encode(entry.signature.0), d["sig"].as_str().unwrap());
    assert_eq!(entry.encode(), encoded, "re-encoding reproduces the bytes");
    verify_signature(&encoded, &entry).expect("vector signature verifies");

    // Ed25519 is deterministic: signing the same fields again gives the same bytes.
    let mut unsigned = Entry { signature: Signature([0; 64]), ..entry.clone() };
    let mut signed_part = Vec::new();
    unsigned.encode_unsigned(&mut signed_part);
    unsigned.signature = keypair.sign(&signed_part);
    assert_eq!(unsigned.encode(), encoded, "re-signing reproduces the signature");

    if let Some(payload) = item.get("payload") {
        let payload = bytes(payload);
        let resigned = NewEntry {
            log_id: entry.log_id,
            seq_num: entry.seq_num,
            lipmaa_link: entry.lipmaa_link,
            backlink: entry.backlink,
            payload: &payload,
            end_of_log: entry.end_of_log,
        }
        .sign(keypair)
        .unwrap();
        assert_eq!(resigned.bytes, encoded, "building from the payload reproduces the entry");
    }
    (entry, encoded)
}

#[test]
fn valid_first_entry_byte_for_byte() {
    let v = vectors();
    let vector = &v["validFirstEntry"];
    let keypair = keypair(vector);
    let (entry, encoded) = check_entry(&keypair, vector);
    assert_eq!(encoded.len(), 166, "a first entry is 166 bytes");
    assert_eq!(bytes(&vector["payload"]), b"hello bamboo!");
    let mut logs = MemoryLogs::new();
    let payload = bytes(&vector["payload"]);
    logs.insert(&encoded, Some(&payload)).expect("verifies with its payload");
    assert_eq!(entry.seq_num, 1);
}

#[test]
fn five_valid_entries_byte_for_byte_and_as_a_log() {
    let v = vectors();
    let vector = &v["fiveValidEntries"];
    let keypair = keypair(vector);
    let mut logs = MemoryLogs::new();
    let mut previous: Option<Hash> = None;
    let items = vector["entries"].as_array().unwrap();
    assert_eq!(items.len(), 4, "the vector named five holds four entries");
    for (i, item) in items.iter().enumerate() {
        let (entry, encoded) = check_entry(&keypair, item);
        assert_eq!(entry.seq_num, i as u64 + 1);
        assert_eq!(entry.backlink, previous);
        let payload = bytes(&item["payload"]);
        assert_eq!(payload, format!("message number {}", i + 1).as_bytes());
        logs.insert(&encoded, Some(&payload)).unwrap_or_else(|e| panic!("entry {}: {e}", i + 1));
        previous = Some(Hash::of(&encoded));
    }
    let fourth = Entry::decode(&bytes(&items[3]["encoded"])).unwrap();
    assert_eq!(fourth.lipmaa_link, Some(Hash::of(&bytes(&items[0]["encoded"]))), "entry 4 links to entry 1");
}

#[test]
fn partial_replication_vector_verifies_from_its_certificate_path_alone() {
    let v = vectors();
    let vector = &v["valid_partial_replicated_seq_100"];
    let keypair = keypair(vector);
    let items = vector["entries"].as_array().unwrap();
    let mut logs = MemoryLogs::new();
    let mut seqs = Vec::new();
    for item in items {
        let (entry, encoded) = check_entry(&keypair, item);
        seqs.push(entry.seq_num);
        logs.insert(&encoded, None).unwrap_or_else(|e| panic!("entry {}: {e}", entry.seq_num));
    }
    assert_eq!(seqs, [1, 4, 13, 40, 80, 93, 97, 98, 99, 100]);
    let mut path = bamboo::link_path(100, 1);
    path.reverse();
    assert_eq!(seqs, path, "the vector is exactly the link path from 100 to 1");
}

#[test]
fn partial_replication_vector_without_a_path_entry_is_rejected() {
    let v = vectors();
    let items = v["valid_partial_replicated_seq_100"]["entries"].as_array().unwrap();
    let mut logs = MemoryLogs::new();
    for item in items.iter().filter(|item| item["decoded"]["seqNum"] != 40) {
        let encoded = bytes(&item["encoded"]);
        let seq = item["decoded"]["seqNum"].as_u64().unwrap();
        let verdict = logs.insert(&encoded, None);
        if seq < 40 {
            verdict.unwrap();
        } else if seq == 80 {
            assert!(
                matches!(
                    verdict,
                    Err(bamboo::Error::Verify(bamboo::VerifyError::NoPathToFirstEntry { seq_num: 80, .. }))
                ),
                "{verdict:?}"
            );
            break;
        }
    }
}
