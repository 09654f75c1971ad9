//! The hypergeometric distribution behind Fisher's exact test, evaluated in
//! log space so that tables of 10^7 participants neither overflow nor lose
//! their tails.

use statrs::function::factorial::ln_factorial;

/// Number of conversions `x` falling in arm A when `n` conversions are spread
/// over arms of `n1` and `n2` participants with the margins held fixed.
pub(super) struct Hypergeometric {
    n1: u64,
    n2: u64,
    n: u64,
    lo: u64,
    hi: u64,
}

/// Tail sums stop once a term adds less than this fraction of the sum so far:
/// below double precision, and the terms only shrink from there on.
const NEGLIGIBLE: f64 = 1e-17;

impl Hypergeometric {
    /// `None` when a margin is empty: then only one table is possible.
    pub(super) fn new(n1: u64, n2: u64, n: u64) -> Option<Self> {
        let total = n1.checked_add(n2)?;
        if n1 == 0 || n2 == 0 || n == 0 || n >= total {
            return None;
        }
        let (lo, hi) = (n.saturating_sub(n2), n.min(n1));
        Some(Self { n1, n2, n, lo, hi })
    }

    /// The mode as scipy computes it, floating-point division included, so
    /// that the side of the mode an observation falls on matches scipy's.
    pub(super) fn mode(&self) -> u64 {
        let total = (self.n1 + self.n2) as f64;
        let mode = ((self.n + 1) as f64 * (self.n1 + 1) as f64 / (total + 2.0)) as u64;
        mode.clamp(self.lo, self.hi)
    }

    /// ln of the probability of `x` up to the constant [`Self::ln_total`]:
    /// `-ln(x! (n1 - x)! (n - x)! (n2 - n + x)!)`.
    pub(super) fn ln_weight(&self, x: u64) -> f64 {
        let mut terms = [x, self.n1 - x, self.n - x, self.n2 + x - self.n].map(ln_factorial);
        // Mirror-image tables have the same four factorials in another order;
        // summing them sorted makes such ties equal to the last bit.
        terms.sort_by(f64::total_cmp);
        -terms.iter().sum::<f64>()
    }

    /// ln of the normalising constant: `ln(N! / (n1! n2! n! (N - n)!))`.
    pub(super) fn ln_total(&self) -> f64 {
        let total = self.n1 + self.n2;
        ln_factorial(total)
            - ln_factorial(self.n1)
            - ln_factorial(self.n2)
            - ln_factorial(self.n)
            - ln_factorial(total - self.n)
    }

    /// weight(x + 1) / weight(x), exact up to one rounding per operation.
    fn ratio_up(&self, x: u64) -> f64 {
        ((self.n1 - x) as f64 * (self.n - x) as f64)
            / ((x + 1) as f64 * (self.n2 + x + 1 - self.n) as f64)
    }

    /// ln of the sum of weights from `x` down to the bottom of the support;
    /// `x` must be at or below the mode so the terms only decrease.
    pub(super) fn ln_lower_tail(&self, x: u64) -> f64 {
        let (mut sum, mut term, mut at) = (1.0, 1.0, x);
        while at > self.lo && term > NEGLIGIBLE * sum {
            term /= self.ratio_up(at - 1);
            sum += term;
            at -= 1;
        }
        self.ln_weight(x) + sum.ln()
    }

    /// ln of the sum of weights from `x` up to the top of the support; `x`
    /// must be at or above the mode.
    pub(super) fn ln_upper_tail(&self, x: u64) -> f64 {
        let (mut sum, mut term, mut at) = (1.0, 1.0, x);
        while at < self.hi && term > NEGLIGIBLE * sum {
            term *= self.ratio_up(at);
            sum += term;
            at += 1;
        }
        self.ln_weight(x) + sum.ln()
    }

    /// Smallest `y >= mode` whose weight is at most `e^ln_limit`, found by
    /// bisection since weights fall monotonically above the mode.
    pub(super) fn first_at_most(&self, mode: u64, ln_limit: f64) -> Option<u64> {
        if self.ln_weight(self.hi) > ln_limit {
            return None;
        }
        let (mut lo, mut hi) = (mode, self.hi);
        while lo < hi {
            let mid = lo + (hi - lo) / 2;
            if self.ln_weight(mid) <= ln_limit {
                hi = mid;
            } else {
                lo = mid + 1;
            }
        }
        Some(lo)
    }

    /// Largest `y <= mode` whose weight is at most `e^ln_limit`.
    pub(super) fn last_at_most(&self, mode: u64, ln_limit: f64) -> Option<u64> {
        if self.ln_weight(self.lo) > ln_limit {
            return None;
        }
        let (mut lo, mut hi) = (self.lo, mode);
        while lo < hi {
            let mid = hi - (hi - lo) / 2;
            if self.ln_weight(mid) <= ln_limit {
                lo = mid;
            } else {
                hi = mid - 1;
            }
        }
        Some(lo)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weights_sum_to_the_normalising_constant() {
        let dist = Hypergeometric::new(7, 9, 6).unwrap();
        let total: f64 = (dist.lo..=dist.hi).map(|x| dist.ln_weight(x).exp()).sum();
        assert!((total.ln() - dist.ln_total()).abs() < 1e-13);
        let mode = dist.mode();
        let tails = dist.ln_lower_tail(mode).exp() + dist.ln_upper_tail(mode).exp()
            - dist.ln_weight(mode).exp();
        assert!((tails / total - 1.0).abs() < 1e-13);
    }

    #[test]
    fn mirror_tables_have_bit_identical_weights() {
        let dist = Hypergeometric::new(1_000_000, 1_000_000, 270_001).unwrap();
        assert_eq!(dist.ln_weight(120_000), dist.ln_weight(150_001));
    }

    #[test]
    fn an_empty_margin_has_no_distribution() {
        assert!(Hypergeometric::new(0, 5, 3).is_none());
        assert!(Hypergeometric::new(5, 5, 0).is_none());
        assert!(Hypergeometric::new(5, 5, 10).is_none());
    }
}
