//! Lipmaa links and certificate pools.

use std::ops::{Div, Mul, Rem, Sub};

/// The sequence number that entry `n` links to with its lipmaa link (0 for n = 1).
pub fn lipmaa(n: u64) -> u64 {
    if n <= 1 {
        return 0;
    }
    // In u64 as long as the search for a power of three stays within one, in u128 above: a
    // u128 division is a library call, natively twice as slow (91 against 41 ns a call, n up
    // to 2,000,000), and a browser's sync spent about 25 ms of 10,000 entries in it
    // (`npm run measure`, traced), its checking and its storing worker alike.
    if n <= IN_U64_UP_TO { lipmaa_in(n) } else { lipmaa_in(u128::from(n)) as u64 }
}

/// The largest `n` whose search for the smallest (3^k - 1) / 2 >= n stops at 3^40, the largest
/// power of three in a u64.
const IN_U64_UP_TO: u64 = (3u64.pow(40) - 1) / 2;

/// [`lipmaa`] of `n` > 1 in the integers `T`, which must hold 3^k for the smallest
/// (3^k - 1) / 2 >= n.
fn lipmaa_in<T>(n: T) -> T
where
    T: Copy + PartialOrd + From<u8> + Sub<Output = T> + Mul<Output = T> + Div<Output = T> + Rem<Output = T>,
{
    let (zero, one, two, three) = (T::from(0), T::from(1), T::from(2), T::from(3));
    let mut m = one;
    let mut po3 = three;
    // Find the smallest m = (3^k - 1) / 2 with m >= n.
    while m < n {
        po3 = po3 * three;
        m = (po3 - one) / two;
    }
    po3 = po3 / three;
    if m != n {
        let mut x = n;
        while x != zero {
            m = (po3 - one) / two;
            po3 = po3 / three;
            x = x % m;
        }
        if m != po3 {
            po3 = m;
        }
    }
    n - po3
}

/// Whether entry `n` carries a lipmaa link distinct from its backlink.
pub fn has_lipmaa_link(n: u64) -> bool {
    n > 1 && lipmaa(n) != n - 1
}

/// The shortest link path from `from` down to `to` (both included), newest first.
///
/// Follows the lipmaa link whenever it does not jump past `to`, the backlink otherwise.
pub fn link_path(from: u64, to: u64) -> Vec<u64> {
    assert!(to >= 1 && from >= to, "link_path needs 1 <= to <= from");
    let mut path = vec![from];
    let mut n = from;
    while n > to {
        let l = lipmaa(n);
        n = if l >= to { l } else { n - 1 };
        path.push(n);
    }
    path
}

/// The certificate pool of entry `n`: the sequence numbers whose entries prove `n` belongs to its log.
///
/// It is the union of the shortest paths `n -> 1` and `z -> n`, where z is the smallest
/// number >= n of the form (3^k - 1) / 2. Returned ascending.
pub fn cert_pool(n: u64) -> Vec<u64> {
    assert!(n >= 1, "sequence numbers start at 1");
    let mut z: u128 = 1;
    let mut po3: u128 = 3;
    while z < n as u128 {
        po3 *= 3;
        z = (po3 - 1) / 2;
    }
    let z = u64::try_from(z).unwrap_or(n);
    let mut pool = link_path(n, 1);
    pool.extend(link_path(z, n));
    pool.sort_unstable();
    pool.dedup();
    pool
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lipmaa_matches_the_spec_table() {
        let expected = [
            0, 1, 2, 1, 4, 5, 6, 4, 8, 9, 10, 8, 4, 13, 14, 15, 13, 17, 18, 19, 17, 21, 22, 23, 21, 13, 26, 27, 28, 26,
            30, 31, 32, 30, 34, 35, 36, 34, 26, 13,
        ];
        for (i, want) in expected.iter().enumerate() {
            assert_eq!(lipmaa(i as u64 + 1), *want, "lipmaa({})", i + 1);
        }
    }

    #[test]
    fn lipmaa_large_values() {
        let cases: [(u64, u64); 13] = [
            (100, 99),
            (120, 80),
            (121, 40),
            (122, 121),
            (364, 121),
            (1000, 996),
            (1093, 364),
            (3280, 1093),
            (9841, 3280),
            ((1 << 32) - 1, 4294967294),
            (1 << 32, 4294967292),
            (1 << 63, (1 << 63) - 1),
            (u64::MAX, 18446744073709551611),
        ];
        for (n, want) in cases {
            assert_eq!(lipmaa(n), want, "lipmaa({n})");
        }
    }

    // Scenario: n from 2 to 200,000, each side of every (3^k - 1) / 2 in a u64, the largest n
    // computed in u64, and 10,000 spread up to it.
    // Assert: lipmaa in u64 is lipmaa in u128, as the spec's table and the cases above check.
    #[test]
    fn lipmaa_in_u64_is_lipmaa_in_u128() {
        let mut ns: Vec<u64> = (2..=200_000).collect();
        for k in 1..=40 {
            let m = (3u64.pow(k) - 1) / 2;
            ns.extend([m - 1, m, m + 1].into_iter().filter(|&n| (2..=IN_U64_UP_TO).contains(&n)));
        }
        let mut x = 0x9e37_79b9_7f4a_7c15u64;
        for _ in 0..10_000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            ns.push(2 + x % (IN_U64_UP_TO - 1));
        }
        ns.push(IN_U64_UP_TO);
        for n in ns {
            assert_eq!(u128::from(lipmaa_in(n)), lipmaa_in(u128::from(n)), "lipmaa({n})");
        }
        assert_eq!(lipmaa(IN_U64_UP_TO + 1), lipmaa_in(u128::from(IN_U64_UP_TO + 1)) as u64);
    }

    #[test]
    fn lipmaa_links_present_for_the_listed_numbers() {
        let with: Vec<u64> = (2..=40).filter(|&n| has_lipmaa_link(n)).collect();
        assert_eq!(with, [4, 8, 12, 13, 17, 21, 25, 26, 30, 34, 38, 39, 40]);
    }

    #[test]
    fn cert_pool_of_23_is_the_spec_example() {
        assert_eq!(cert_pool(23), [1, 4, 13, 17, 21, 22, 23, 24, 25, 26, 39, 40]);
        assert_eq!(cert_pool(1), [1]);
        assert_eq!(cert_pool(4), [1, 4]);
    }

    #[test]
    fn partial_vector_path_is_the_lipmaa_path_from_100() {
        let mut path = link_path(100, 1);
        path.reverse();
        assert_eq!(path, [1, 4, 13, 40, 80, 93, 97, 98, 99, 100]);
    }
}
