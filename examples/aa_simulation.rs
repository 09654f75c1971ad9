//! Proof by simulation that splitcast's verdicts survive peeking: simulated
//! experiments read by the same decision code as `/results` and the chat
//! notifications (`splitcast::analysis::assess`), with a look after every 100
//! participants per arm.
//!
//! ```sh
//! cargo run --release --example aa_simulation            # 2,000 experiments per row
//! cargo run --release --example aa_simulation -- 10000   # more
//! ```
//!
//! Prints a Markdown table for BENCHMARKS.md.

use splitcast::analysis::simulation::{Rates, Scenario, run};
use splitcast::experiment::Analysis;
use std::time::Instant;

const PER_ARM: u64 = 20_000;

fn main() {
    let experiments = std::env::args()
        .nth(1)
        .map(|n| n.parse().expect("the number of experiments"))
        .unwrap_or(2_000);
    let scenario = |treatment_rate: f64, seed: u64| Scenario {
        control_rate: 0.10,
        treatment_rate,
        per_arm: PER_ARM,
        look_every: 100,
        min_sample: 100,
        experiments,
        seed,
    };
    let started = Instant::now();
    let a_a = scenario(0.10, 1);
    let lift = scenario(0.11, 2);
    let sequential = Analysis::default();
    let fixed = Analysis::Fixed {
        sample_size: PER_ARM,
    };
    // N* near the comparison's final size (2 x 20,000) shows what tuning buys.
    let tuned = Analysis::Sequential {
        tuning: 2.0 * PER_ARM as f64,
    };
    let rows: [(&str, Rates, Rates); 3] = [
        (
            "sequential (N* = 5000, the default)",
            run(&a_a, sequential),
            run(&lift, sequential),
        ),
        (
            "sequential (N* = 40000)",
            run(&a_a, tuned),
            run(&lift, tuned),
        ),
        (
            "fixed horizon (Yates/Fisher)",
            run(&a_a, fixed),
            run(&lift, fixed),
        ),
    ];
    println!(
        "{experiments} simulated experiments per cell; 10% conversion, {PER_ARM} participants \
         per arm, a look after every 100 per arm ({} looks); verdict = Holm p < 0.05 with at \
         least 100 per arm.\n",
        PER_ARM / 100
    );
    println!(
        "| analysis | A/A: false alarm at any look | A/A: false alarm read once at 20,000 \
         | 10% → 11%: detected at any look | 10% → 11%: detected read once at 20,000 |"
    );
    println!("|---|---|---|---|---|");
    for (name, null, alternative) in rows {
        println!(
            "| {name} | {} | {} | {} | {} |",
            pct(null.any_look),
            pct(null.at_the_end),
            pct(alternative.any_look),
            pct(alternative.at_the_end)
        );
    }
    println!("\n({:.1} s)", started.elapsed().as_secs_f64());
}

fn pct(share: f64) -> String {
    format!("{:.1}%", share * 100.0)
}
