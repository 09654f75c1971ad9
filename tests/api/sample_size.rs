//! `splitcast sample-size`, through the real binary, against the statsmodels
//! table in `tests/fixtures/stats_cases.json`.

use std::process::Command;

const CASES: &str = include_str!("../fixtures/stats_cases.json");

fn sample_size(args: &[String]) -> (i32, String, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_splitcast"))
        .arg("sample-size")
        .args(args)
        .output()
        .unwrap();
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

/// N of the last line, `N per arm`.
fn per_arm(stdout: &str) -> u64 {
    let last = stdout.lines().last().unwrap_or_default();
    let n = last
        .strip_suffix(" per arm")
        .unwrap_or_else(|| panic!("last line: {stdout}"));
    n.parse().unwrap_or_else(|_| panic!("an integer: {stdout}"))
}

#[test]
fn the_plan_agrees_with_statsmodels_to_one_participant() {
    let fixtures: serde_json::Value = serde_json::from_str(CASES).unwrap();
    let cases = fixtures["sample_size"].as_array().unwrap();
    assert!(cases.len() >= 10);
    for case in cases {
        let mut args = vec![
            "--baseline".to_owned(),
            case["baseline"].to_string(),
            "--lift".to_owned(),
            case["lift"].to_string(),
            "--power".to_owned(),
            case["power"].to_string(),
            "--alpha".to_owned(),
            case["alpha"].to_string(),
        ];
        if case["relative"] == true {
            args.push("--relative".to_owned());
        }
        let (status, stdout, stderr) = sample_size(&args);
        assert_eq!(status, 0, "{args:?}: {stderr}");
        let expected = case["per_arm"].as_u64().unwrap();
        assert!(
            per_arm(&stdout).abs_diff(expected) <= 1,
            "{args:?}: {stdout} vs statsmodels {expected}"
        );
    }
}

#[test]
fn power_and_alpha_default_to_80_and_5_percent() {
    let args = ["--baseline", "0.12", "--lift", "0.03"].map(String::from);
    let (status, stdout, _) = sample_size(&args);
    assert_eq!(status, 0);
    // statsmodels: 2030.97 at alpha 0.05, power 0.8.
    assert_eq!(per_arm(&stdout), 2031);
}

#[test]
fn a_question_without_an_answer_is_one_line_naming_the_option() {
    for (args, option) in [
        (vec!["--baseline", "1.5", "--lift", "0.03"], "--baseline"),
        (vec!["--baseline", "0.9", "--lift", "0.2"], "--lift"),
        (vec!["--baseline", "0.1", "--lift", "0"], "--lift"),
        (
            vec!["--baseline", "0.1", "--lift", "0.01", "--power", "1"],
            "--power",
        ),
        (
            vec!["--baseline", "0.1", "--lift", "0.01", "--alpha", "0"],
            "--alpha",
        ),
        (vec!["--baseline", "twelve", "--lift", "0.03"], "--baseline"),
        (vec!["--baseline", "0.12"], "--lift"),
    ] {
        let args: Vec<String> = args.into_iter().map(String::from).collect();
        let (status, stdout, stderr) = sample_size(&args);
        assert_eq!(status, 2, "{args:?}: {stdout}");
        let lines: Vec<&str> = stderr.lines().filter(|l| !l.trim().is_empty()).collect();
        assert_eq!(lines.len(), 1, "{args:?}: {stderr}");
        assert!(lines[0].contains(option), "{args:?}: {stderr}");
    }
}
