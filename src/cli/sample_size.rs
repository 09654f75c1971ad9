//! `splitcast sample-size`.

use super::{CliError, SampleSizeArgs};
use crate::planner::{Question, plan};

/// The plan: the question restated, then `N per arm` as the last line.
pub fn sample_size(args: &SampleSizeArgs) -> Result<String, CliError> {
    let plan = plan(Question {
        baseline: args.baseline,
        lift: args.lift,
        relative: args.relative,
        power: args.power,
        alpha: args.alpha,
    })?;
    Ok(format!(
        "from {:.2}% to {:.2}% ({:+.2} points), two-sided alpha {}, power {}:\n{} per arm\n",
        args.baseline * 100.0,
        plan.target * 100.0,
        (plan.target - args.baseline) * 100.0,
        args.alpha,
        args.power,
        plan.per_arm
    ))
}
