//! Lipmaa links and certificate pools.

/// The sequence number that entry `n` links to with its lipmaa link (0 for n = 1).
///
/// Computed with u128 intermediates because 3^k overflows u64 near the top of the range.
pub fn lipmaa(n: u64) -> u64 {
    if n <= 1 {
        return 0;
    }
    let n = n as u128;
    let mut m: u128 = 1;
    let mut po3: u128 = 3;
    // Find the smallest m = (3^k - 1) / 2 with m >= n.
    while m < n {
        po3 *= 3;
        m = (po3 - 1) / 2;
    }
    po3 /= 3;
    if m != n {
        let mut x = n;
        while x != 0 {
            m = (po3 - 1) / 2;
            po3 /= 3;
            x %= m;
        }
        if m != po3 {
            po3 = m;
        }
    }
    (n - po3) as u64
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
