//! The festivals one side of a session holds, and the peer's tokens for them.
//!
//! A community node holds a thousand festivals and a session for each browser that visits
//! one: a session kept this side's token and the peer's of every festival of the node in two
//! maps, 454 KB a session (issue 15: 200 sessions, 91 MB). Now it keeps the festivals in a
//! sorted list, which the sessions of a host share, and of the peer's tokens their first 8
//! bytes and the festival's place: 16 bytes a festival. A token is a keyed hash (two BLAKE2b
//! blocks), made again when a message needs it.

use std::sync::Arc;

use crate::FestivalId;
use crate::wire::Token;

#[derive(Clone, Debug, Default)]
pub(crate) struct Ours {
    /// Sorted, each once. The host's list itself when it came sorted: the sessions of a
    /// node share one, so that a thousand festivals are held once, not once a session.
    festivals: Arc<[FestivalId]>,
    /// Once the peer is known: the first 8 bytes of the peer's token of each festival, with
    /// the festival's place in `festivals`, sorted.
    expected: Vec<(u64, u32)>,
}

/// `festivals` if it is sorted with each once, else a sorted copy without repeats.
fn sorted(festivals: Arc<[FestivalId]>) -> Arc<[FestivalId]> {
    if festivals.windows(2).all(|w| w[0] < w[1]) {
        return festivals;
    }
    let mut copy = festivals.to_vec();
    copy.sort_unstable();
    copy.dedup();
    copy.into()
}

fn prefix(token: &Token) -> u64 {
    u64::from_le_bytes(token.0[..8].try_into().expect("tokens are 32 bytes"))
}

impl Ours {
    pub(crate) fn new(festivals: Arc<[FestivalId]>) -> Ours {
        Ours { festivals: sorted(festivals), expected: Vec::new() }
    }

    pub(crate) fn contains(&self, festival: &FestivalId) -> bool {
        self.festivals.binary_search(festival).is_ok()
    }

    pub(crate) fn festivals(&self) -> &[FestivalId] {
        &self.festivals
    }

    /// Adds the festivals of `festivals` not held yet; returns them, sorted. If `festivals`
    /// holds every festival held already, it becomes the list (shared with whoever else
    /// holds it). The peer's tokens must be indexed again ([`Ours::expect`]) if any was added.
    pub(crate) fn add(&mut self, festivals: Arc<[FestivalId]>) -> Vec<FestivalId> {
        let mut new: Vec<FestivalId> = festivals.iter().filter(|f| !self.contains(f)).copied().collect();
        new.sort_unstable();
        new.dedup();
        let festivals = sorted(festivals);
        let holds_all = self.festivals.iter().all(|f| festivals.binary_search(f).is_ok());
        if new.is_empty() {
            // The same festivals: the list is shared, and the index still holds.
            if holds_all && festivals.len() == self.festivals.len() {
                self.festivals = festivals;
            }
            return new;
        }
        self.festivals = if holds_all {
            festivals
        } else {
            let mut all: Vec<FestivalId> = self.festivals.iter().chain(&new).copied().collect();
            all.sort_unstable();
            all.into()
        };
        self.expected.clear();
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
        let mut ours = Ours::new([id(5), id(3), id(5), id(9)].into());
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
        let mut ours = Ours::new([id(3)].into());
        ours.expect(token);
        assert_eq!(ours.add([id(1), id(3), id(1)].into()), vec![id(1)]);
        assert!(ours.contains(&id(1)));
        assert_eq!(ours.named(&token(&id(3)), token), None, "not indexed yet");
        ours.expect(token);
        assert_eq!(ours.named(&token(&id(1)), token), Some(id(1)));
        assert_eq!(ours.named(&token(&id(3)), token), Some(id(3)));
    }

    #[test]
    fn a_sorted_list_that_holds_every_festival_is_shared() {
        let host: Arc<[FestivalId]> = [id(1), id(2), id(3)].into();
        let mut ours = Ours::new(host.clone());
        assert!(Arc::ptr_eq(&ours.festivals, &host));
        let more: Arc<[FestivalId]> = [id(1), id(2), id(3), id(4)].into();
        assert_eq!(ours.add(more.clone()), vec![id(4)]);
        assert!(Arc::ptr_eq(&ours.festivals, &more));
        // A list without festival 2 is merged into a list of this side's own.
        let fewer: Arc<[FestivalId]> = [id(1), id(5)].into();
        assert_eq!(ours.add(fewer.clone()), vec![id(5)]);
        assert_eq!(ours.festivals(), &[id(1), id(2), id(3), id(4), id(5)]);
        assert!(ours.add(fewer).is_empty());
        // The same festivals in another list: that list is held, named as before.
        ours.expect(token);
        let same: Arc<[FestivalId]> = [id(5), id(4), id(3), id(2), id(1)].into();
        assert!(ours.add(same).is_empty());
        let same: Arc<[FestivalId]> = [id(1), id(2), id(3), id(4), id(5)].into();
        assert!(ours.add(same.clone()).is_empty());
        assert!(Arc::ptr_eq(&ours.festivals, &same));
        assert_eq!(ours.named(&token(&id(4)), token), Some(id(4)));
    }
}
