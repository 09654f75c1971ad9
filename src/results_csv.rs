//! The `/results` report as CSV (`GET /results?format=csv`): one row per
//! experiment, goal and variant, quoted per RFC 4180 by the `csv` crate.

use crate::results::{Report, VariantReport};

/// The header row, in column order.
pub const HEADER: [&str; 11] = [
    "experiment",
    "goal",
    "variant",
    "participants",
    "conversions",
    "rate",
    "ci_low",
    "ci_high",
    "lift_abs",
    "p_value",
    "verdict",
];

/// One row: the fields in [`HEADER`]'s order, numbers as plain decimals
/// (Rust's shortest round-trip form, never an exponent), null as empty.
pub fn row(experiment: &str, goal: &str, variant: &VariantReport) -> [String; 11] {
    let number = |x: Option<f64>| x.map(|x| x.to_string()).unwrap_or_default();
    [
        experiment.to_owned(),
        goal.to_owned(),
        variant.name.clone(),
        variant.participants.to_string(),
        variant.conversions.to_string(),
        number(variant.rate),
        number(variant.ci_low),
        number(variant.ci_high),
        number(variant.lift_abs),
        number(variant.p_value),
        // The word /results answers (`better`, `worse`, ...), via its serde name.
        variant
            .verdict
            .and_then(|v| serde_json::to_value(v).ok())
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_default(),
    ]
}

/// Writes `rows` under [`HEADER`] as RFC 4180 CSV (CRLF line ends, fields
/// quoted when they hold a comma, a quote or a line break).
pub fn write<I, R>(rows: I) -> Result<Vec<u8>, csv::Error>
where
    I: IntoIterator<Item = R>,
    R: IntoIterator,
    R::Item: AsRef<[u8]>,
{
    let mut writer = csv::WriterBuilder::new()
        .terminator(csv::Terminator::CRLF)
        .from_writer(Vec::new());
    writer.write_record(HEADER)?;
    for record in rows {
        writer.write_record(record)?;
    }
    writer.into_inner().map_err(|e| e.into_error().into())
}

/// The whole report as CSV.
pub fn render(report: &Report) -> Result<Vec<u8>, csv::Error> {
    write(report.experiments.iter().flat_map(|e| {
        e.goals.iter().flat_map(move |g| {
            g.variants
                .iter()
                .map(move |v| row(e.name.as_str(), g.goal.as_str(), v))
        })
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_that_need_it_are_quoted_per_rfc_4180() {
        let rows = [[
            "a,b",
            "say \"hi\"",
            "two\nlines",
            "1",
            "0",
            "0.5",
            "",
            "",
            "",
            "",
            "",
        ]];
        let text = String::from_utf8(write(rows).unwrap()).unwrap();
        let expected = "experiment,goal,variant,participants,conversions,rate,ci_low,ci_high,\
                        lift_abs,p_value,verdict\r\n\
                        \"a,b\",\"say \"\"hi\"\"\",\"two\nlines\",1,0,0.5,,,,,\r\n";
        assert_eq!(text, expected);
    }

    #[test]
    fn numbers_are_plain_decimals() {
        let tiny: f64 = 1e-7;
        assert_eq!(tiny.to_string(), "0.0000001");
        assert_eq!(0.1_f64.to_string(), "0.1");
    }
}
