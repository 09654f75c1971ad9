//! GrowthBook-compatible hashing (SDK hashing version 2), so that the same
//! user gets the same variant here, in any GrowthBook SDK, and on every
//! splitcast instance, with or without a cookie.

/// FNV-1a, 32 bit, over the UTF-16 code units of `text` (as the JS SDK does).
pub fn fnv1a32(text: &str) -> u32 {
    text.encode_utf16().fold(0x811c_9dc5_u32, |hash, unit| {
        (hash ^ u32::from(unit)).wrapping_mul(0x0100_0193)
    })
}

/// The bucket in `[0, 1)` of `id` for `seed`, hashing version 2:
/// `fnv1a32(str(fnv1a32(seed + id))) % 10000 / 10000`.
pub fn bucket(seed: &str, id: &str) -> f64 {
    let inner = fnv1a32(&format!("{seed}{id}"));
    f64::from(fnv1a32(&inner.to_string()) % 10_000) / 10_000.0
}

/// The ranges `[start, end)` of each variant for normalised `shares` and
/// `coverage`: variant i starts where the full shares before it end, so
/// lowering coverage only drops visitors out, never moves them.
pub fn bucket_ranges(shares: &[f64], coverage: f64) -> Vec<(f64, f64)> {
    let mut start = 0.0;
    shares
        .iter()
        .map(|share| {
            let range = (start, start + coverage * share);
            start += share;
            range
        })
        .collect()
}

/// The variant whose range holds `bucket`, if any.
pub fn choose(bucket: f64, ranges: &[(f64, f64)]) -> Option<usize> {
    ranges
        .iter()
        .position(|&(start, end)| bucket >= start && bucket < end)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn version_two_buckets_match_growthbooks_published_vectors() {
        assert_eq!(bucket("seed", "a"), 0.0505);
        assert_eq!(bucket("feature-exp", "d123"), 0.6468);
        assert_eq!(bucket("feature-exp", "i123"), 0.9943);
    }

    #[test]
    fn fnv1a_matches_the_version_one_vectors() {
        // v1: fnv(id + seed) % 1000 / 1000 with an empty seed.
        let v1 = |id: &str| f64::from(fnv1a32(id) % 1000) / 1000.0;
        assert_eq!(v1("a"), 0.22);
        assert_eq!(v1("b"), 0.077);
        assert_eq!(v1("ab"), 0.946);
        assert_eq!(v1("def"), 0.652);
        assert_eq!(v1("123"), 0.011);
    }

    fn close(a: &[(f64, f64)], b: &[(f64, f64)]) -> bool {
        a.iter()
            .zip(b)
            .all(|(x, y)| (x.0 - y.0).abs() < 1e-9 && (x.1 - y.1).abs() < 1e-9)
    }

    #[test]
    fn ranges_shrink_with_coverage_without_moving() {
        assert!(close(
            &bucket_ranges(&[0.5, 0.5], 0.5),
            &[(0.0, 0.25), (0.5, 0.75)]
        ));
        assert!(close(
            &bucket_ranges(&[0.2, 0.3, 0.5], 0.2),
            &[(0.0, 0.04), (0.2, 0.26), (0.5, 0.6)]
        ));
    }

    #[test]
    fn a_bucket_outside_every_range_is_not_enrolled() {
        let ranges = bucket_ranges(&[0.5, 0.5], 0.5);
        assert_eq!(choose(0.3, &ranges), None);
        assert_eq!(choose(0.1, &ranges), Some(0));
        assert_eq!(choose(0.6, &ranges), Some(1));
    }
}
