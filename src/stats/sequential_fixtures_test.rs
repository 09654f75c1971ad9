//! The sequential test against gbstats 0.8.0 and the sample-size planner
//! against statsmodels: the `sequential` and `sample_size` sections of
//! `tests/fixtures/stats_cases.json`, written by
//! `tests/fixtures/make_stats_fixtures.py`.

use serde::Deserialize;

use crate::stats::{Arm, Difference, fixed_interval, sample_size_per_arm, sequential};

const CASES: &str = include_str!("../../tests/fixtures/stats_cases.json");

#[derive(Deserialize)]
struct Fixtures {
    sequential: Vec<SequentialCase>,
    sample_size: Vec<SampleSizeCase>,
}

#[derive(Deserialize)]
struct ArmCase {
    participants: u64,
    conversions: u64,
}

impl ArmCase {
    fn arm(&self) -> Arm {
        Arm::new(self.participants, self.conversions)
    }
}

#[derive(Deserialize)]
struct SequentialCase {
    name: String,
    control: ArmCase,
    treatment: ArmCase,
    tuning: f64,
    absolute: DifferenceCase,
    relative: DifferenceCase,
}

/// gbstats' answers for one difference type; null where undefined.
#[derive(Deserialize)]
struct DifferenceCase {
    p_value: Option<f64>,
    ci: Option<[f64; 2]>,
    fixed_ci: Option<[f64; 2]>,
    /// What gbstats' `compute_result()` reports, guards included.
    gbstats_result_p_value: f64,
}

#[derive(Deserialize)]
struct SampleSizeCase {
    baseline: f64,
    lift: f64,
    relative: bool,
    power: f64,
    alpha: f64,
    per_arm: u64,
}

fn fixtures() -> Fixtures {
    serde_json::from_str(CASES).expect("stats_cases.json parses")
}

/// 1e-6 relative; absolute 1e-12 where the reference is below 1e-300.
fn assert_close(what: &str, actual: f64, expected: f64) {
    let ok = if expected.abs() < 1e-300 {
        (actual - expected).abs() <= 1e-12
    } else {
        (actual - expected).abs() <= 1e-6 * expected.abs()
    };
    assert!(ok, "{what}: got {actual:e}, gbstats {expected:e}");
}

fn assert_interval(what: &str, actual: Option<[f64; 2]>, expected: Option<[f64; 2]>) {
    match (actual, expected) {
        (Some(actual), Some(expected)) => {
            assert_close(&format!("{what} low"), actual[0], expected[0]);
            assert_close(&format!("{what} high"), actual[1], expected[1]);
        }
        (None, None) => {}
        _ => panic!("{what}: got {actual:?}, gbstats {expected:?}"),
    }
}

#[test]
fn there_are_enough_cases_and_the_seed_is_one_of_them() {
    let fixtures = fixtures();
    assert!(fixtures.sequential.len() >= 30);
    assert!(fixtures.sample_size.len() >= 10);
    let seed = fixtures
        .sequential
        .iter()
        .find(|c| c.name.starts_with("seed: ") && c.tuning == 5000.0)
        .expect("the seed's example is a fixture");
    assert!((seed.absolute.p_value.unwrap() - 0.470691).abs() < 1e-6);
    let ci = seed.absolute.ci.unwrap();
    assert!((ci[0] + 0.017693).abs() < 1e-6 && (ci[1] - 0.077693).abs() < 1e-6);
}

#[test]
fn sequential_p_values_and_intervals_match_gbstats() {
    for case in fixtures().sequential {
        let (control, treatment) = (case.control.arm(), case.treatment.arm());
        for (difference, expected) in [
            (Difference::Absolute, &case.absolute),
            (Difference::Relative, &case.relative),
        ] {
            let what = format!("{} ({difference:?})", case.name);
            let actual = sequential(control, treatment, difference, case.tuning);
            match (actual, expected.p_value) {
                (Some(actual), Some(p)) => assert_close(&format!("{what} p"), actual.p_value, p),
                (None, None) => {}
                _ => panic!("{what}: got {actual:?}, gbstats p {:?}", expected.p_value),
            }
            assert_interval(
                &format!("{what} ci"),
                actual.map(|s| s.interval),
                expected.ci,
            );
            assert_interval(
                &format!("{what} fixed ci"),
                fixed_interval(control, treatment, difference),
                expected.fixed_ci,
            );
        }
    }
}

#[test]
fn where_gbstats_does_not_give_up_its_result_is_ours() {
    // compute_result() answers p = 1 as soon as either arm alone has no
    // variance (or the control rate is 0); everywhere else it is the formula.
    let mut compared = 0;
    for case in fixtures().sequential {
        let (control, treatment) = (case.control.arm(), case.treatment.arm());
        let spread = |arm: Arm| arm.rate().is_some_and(|p| p > 0.0 && p < 1.0);
        if !(spread(control) && spread(treatment)) {
            continue;
        }
        for (difference, expected) in [
            (Difference::Absolute, &case.absolute),
            (Difference::Relative, &case.relative),
        ] {
            let actual = sequential(control, treatment, difference, case.tuning).unwrap();
            let what = format!("{} ({difference:?}) compute_result p", case.name);
            assert_close(&what, actual.p_value, expected.gbstats_result_p_value);
            compared += 1;
        }
    }
    assert!(compared >= 40, "{compared}");
}

#[test]
fn sample_sizes_agree_with_statsmodels_to_one_participant() {
    for case in fixtures().sample_size {
        let target = if case.relative {
            case.baseline * (1.0 + case.lift)
        } else {
            case.baseline + case.lift
        };
        let actual = sample_size_per_arm(case.baseline, target, case.alpha, case.power)
            .expect("fixture has an answer");
        assert!(
            actual.abs_diff(case.per_arm) <= 1,
            "{} -> {target} (alpha {}, power {}): {actual}, statsmodels {}",
            case.baseline,
            case.alpha,
            case.power,
            case.per_arm
        );
    }
}
