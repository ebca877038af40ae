//! The festivals one side of a session holds, and the peer's tokens for them.
//!
//! A community node holds a thousand festivals and a session for each browser that visits
//! one: a session kept this side's token and the peer's of every festival of the node in two
//! maps, 454 KB a session (issue 15: 200 sessions, 91 MB). Now it keeps the festivals in a
//! sorted list and, of the peer's tokens, their first 8 bytes and the festival's place: 72
//! bytes a festival. A token is a keyed hash (two BLAKE2b blocks), made again when a message
//! needs it.

use crate::FestivalId;
use crate::wire::Token;

#[derive(Clone, Debug, Default)]
pub(crate) struct Ours {
    /// Sorted, each once.
    festivals: Vec<FestivalId>,
    /// Once the peer is known: the first 8 bytes of the peer's token of each festival, with
    /// the festival's place in `festivals`, sorted.
    expected: Vec<(u64, u32)>,
}

fn prefix(token: &Token) -> u64 {
    u64::from_le_bytes(token.0[..8].try_into().expect("tokens are 32 bytes"))
}

impl Ours {
    pub(crate) fn new(festivals: impl IntoIterator<Item = FestivalId>) -> Ours {
        let mut festivals: Vec<FestivalId> = festivals.into_iter().collect();
        festivals.sort_unstable();
        festivals.dedup();
        festivals.shrink_to_fit();
        Ours { festivals, expected: Vec::new() }
    }

    pub(crate) fn contains(&self, festival: &FestivalId) -> bool {
        self.festivals.binary_search(festival).is_ok()
    }

    pub(crate) fn festivals(&self) -> &[FestivalId] {
        &self.festivals
    }

    /// Adds the festivals not held yet; returns them. The peer's tokens must be made again
    /// ([`Ours::expect`]) if any was added.
    pub(crate) fn add(&mut self, festivals: &[FestivalId]) -> Vec<FestivalId> {
        let mut new = Vec::new();
        for f in festivals {
            if let Err(at) = self.festivals.binary_search(f) {
                self.festivals.insert(at, *f);
                new.push(*f);
            }
        }
        if !new.is_empty() {
            self.expected.clear();
        }
        new
    }

    /// Indexes the peer's token of every festival: `theirs` makes one.
    pub(crate) fn expect(&mut self, theirs: impl Fn(&FestivalId) -> Token) {
        let mut expected: Vec<(u64, u32)> = Vec::with_capacity(self.festivals.len());
        expected.extend(self.festivals.iter().enumerate().map(|(i, f)| (prefix(&theirs(f)), i as u32)));
        expected.sort_unstable();
        self.expected = expected;
    }

    /// The festival the peer names by `token`, if this side holds it. `theirs` makes the
    /// peer's token of a festival, as given to [`Ours::expect`]: a candidate is checked
    /// whole, so a token equal in its first 8 bytes only names nothing.
    pub(crate) fn named(&self, token: &Token, theirs: impl Fn(&FestivalId) -> Token) -> Option<FestivalId> {
        let p = prefix(token);
        let from = self.expected.partition_point(|(q, _)| *q < p);
        self.expected[from..]
            .iter()
            .take_while(|(q, _)| *q == p)
            .map(|(_, i)| self.festivals[*i as usize])
            .find(|f| theirs(f) == *token)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(n: u8) -> FestivalId {
        model::Id(bamboo::Hash([n; 64]))
    }

    /// A stand-in for the keyed hash, with a first byte that can be made to collide.
    fn token(f: &FestivalId) -> Token {
        let mut t = [0u8; 32];
        t[0] = f.0.0[0] % 2;
        t[8] = f.0.0[0];
        Token(t)
    }

    #[test]
    fn a_token_names_the_festival_it_was_made_of() {
        let mut ours = Ours::new([id(5), id(3), id(5), id(9)]);
        assert_eq!(ours.festivals(), &[id(3), id(5), id(9)]);
        ours.expect(token);
        for f in [id(3), id(5), id(9)] {
            assert_eq!(ours.named(&token(&f), token), Some(f));
        }
        // Tokens 3 and 5 and 9 share their first 8 bytes; only the whole token names.
        assert_eq!(ours.named(&token(&id(7)), token), None);
        assert_eq!(ours.named(&Token([0xff; 32]), token), None);
    }

    #[test]
    fn festivals_added_are_named_once_indexed_again() {
        let mut ours = Ours::new([id(3)]);
        ours.expect(token);
        assert_eq!(ours.add(&[id(1), id(3), id(1)]), vec![id(1)]);
        assert!(ours.contains(&id(1)));
        assert_eq!(ours.named(&token(&id(3)), token), None, "not indexed yet");
        ours.expect(token);
        assert_eq!(ours.named(&token(&id(1)), token), Some(id(1)));
        assert_eq!(ours.named(&token(&id(3)), token), Some(id(3)));
    }
}
