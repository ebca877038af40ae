//! The checks the fuzz target runs, shared with the regression test that replays every
//! kept input on stable Rust. Not part of the API.

use bamboo::Hash;

use crate::op::{self, Decoded};
use crate::{Id, Key, LogEntry, State};

/// Decodes arbitrary bytes as a payload and folds them into a state as the first and the
/// second entry of a log. Panics on a broken invariant.
pub fn decode_apply(data: &[u8]) {
    if let Decoded::Op(p) = op::decode(data) {
        assert_eq!(p.encode(), data, "an accepted payload is the only encoding of its operation");
    }
    let mut state = State::new();
    let author = Key(bamboo::Author([3; 32]));
    for seq in 1..=2 {
        let hash = Id(Hash::of(&[data, &[seq as u8]].concat()));
        state.apply(LogEntry { hash, author, log_id: 0, seq, payload: data.to_vec() });
    }
    let _ = state.take_changes();
}
