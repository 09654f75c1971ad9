use super::*;

const SEQUENTIAL: Analysis = Analysis::Sequential { tuning: 5000.0 };

fn arm(participants: u64, conversions: u64) -> Arm {
    Arm::new(participants, conversions)
}

fn one(analysis: Analysis, control: Arm, treatment: Arm) -> Assessment {
    assess(analysis, 100, control, &[treatment])[0]
}

#[test]
fn the_seed_example_is_inconclusive_under_the_sequential_analysis() {
    let a = one(SEQUENTIAL, arm(1000, 120), arm(1000, 150));
    assert_eq!(a.test, Some(Test::Sequential));
    assert!((a.p_value.unwrap() - 0.470691).abs() < 1e-6);
    assert_eq!(a.p_value_holm, a.p_value);
    let [low, high] = a.lift_abs_ci.unwrap();
    assert!((low + 0.017693).abs() < 1e-6 && (high - 0.077693).abs() < 1e-6);
    let fixed = a.fixed_horizon.unwrap();
    assert_eq!(fixed.test, TestUsed::Chi2Yates);
    assert!((fixed.p_value - 0.0577).abs() < 1e-4);
    assert_eq!(a.verdict, Verdict::Inconclusive);
    assert_eq!(a.progress, None);
}

#[test]
fn a_clear_difference_is_better_or_worse_by_its_sign() {
    let better = one(SEQUENTIAL, arm(5000, 500), arm(5000, 700));
    assert_eq!(better.verdict, Verdict::Better);
    let worse = one(SEQUENTIAL, arm(5000, 700), arm(5000, 500));
    assert_eq!(worse.verdict, Verdict::Worse);
}

#[test]
fn below_the_minimum_sample_the_verdict_waits() {
    let a = one(SEQUENTIAL, arm(99, 0), arm(5000, 4000));
    assert_eq!(a.verdict, Verdict::Waiting);
    assert!(a.p_value.unwrap() < 0.05);
}

#[test]
fn fixed_mode_waits_for_the_plan_then_uses_yates() {
    let fixed = Analysis::Fixed { sample_size: 2000 };
    let early = one(fixed, arm(1999, 100), arm(2500, 400));
    assert_eq!(early.verdict, Verdict::Waiting);
    assert!((early.progress.unwrap() - 0.9995).abs() < 1e-12);
    let done = one(fixed, arm(2000, 100), arm(2500, 400));
    assert_eq!(done.verdict, Verdict::Better);
    assert_eq!(done.progress, Some(1.0));
    assert_eq!(done.test, Some(Test::Chi2Yates));
    assert_eq!(done.p_value, Some(done.fixed_horizon.unwrap().p_value));
    let ci = done.lift_abs_ci.unwrap();
    assert!(ci[0] > 0.0 && ci[1] > ci[0]);
}

#[test]
fn holm_is_applied_across_the_goals_comparisons() {
    let all = assess(
        SEQUENTIAL,
        100,
        arm(5000, 500),
        &[arm(5000, 600), arm(5000, 500), arm(0, 0)],
    );
    let (p0, p1) = (all[0].p_value.unwrap(), all[1].p_value.unwrap());
    assert_eq!(all[0].p_value_holm, Some((2.0 * p0).min(1.0)));
    assert_eq!(all[1].p_value_holm, Some(p1.max(2.0 * p0).min(1.0)));
    assert_eq!(all[2].p_value_holm, None);
    assert_eq!(all[2].verdict, Verdict::Waiting);
}

#[test]
fn degenerate_inputs_give_p_one_and_no_interval_never_nan() {
    for (control, treatment) in [(arm(1000, 0), arm(1000, 0)), (arm(300, 300), arm(400, 400))] {
        let a = one(SEQUENTIAL, control, treatment);
        assert_eq!(a.p_value, Some(1.0));
        assert_eq!((a.lift_abs_ci, a.lift_rel_ci), (None, None));
        assert_eq!(a.verdict, Verdict::Inconclusive);
    }
    let empty = one(SEQUENTIAL, arm(0, 0), arm(10, 1));
    assert_eq!((empty.p_value, empty.test), (None, None));
    assert_eq!(empty.fixed_horizon, None);
    let no_base = one(SEQUENTIAL, arm(1000, 0), arm(1000, 30));
    assert!(no_base.lift_abs_ci.is_some() && no_base.lift_rel_ci.is_none());
}
