use super::*;

const BASE: &str = r#"
[server]
port = 0
[session]
secret_key = "c3BsaXRjYXN0LXRlc3Qta2V5LXRoYXQtaXMtYXQtbGVhc3Qtc2l4dHktZm91ci1ieXRlcy1sb25nLTAxMjM0NTY3ODk="
[experiments.cta]
[[experiments.cta.variants]]
name = "A"
weight = 50
[[experiments.cta.variants]]
name = "B"
weight = 50
"#;

fn settings(text: &str) -> Settings {
    Settings::from_toml(text).unwrap()
}

fn participants(names: &[&str]) -> HashSet<String> {
    names.iter().map(|n| (*n).to_owned()).collect()
}

#[test]
fn sections_bound_at_start_keep_their_running_values() {
    let running = settings(BASE);
    let new = settings(&BASE.replace("port = 0", "port = 9999\nworkers = 3"));
    let (merged, outcome) = merge(&running, new, &participants(&[]));
    assert_eq!(merged.server.port, 0);
    assert_eq!(outcome.needs_restart.len(), 1);
    assert!(
        outcome.needs_restart[0].starts_with("server: "),
        "{outcome:?}"
    );
    assert!(outcome.refused.is_empty());
}

#[test]
fn an_unchanged_file_changes_nothing() {
    let (_, outcome) = merge(&settings(BASE), settings(BASE), &participants(&["cta"]));
    assert_eq!(outcome, ReloadOutcome::default());
}

#[test]
fn the_same_split_in_other_numbers_is_no_change() {
    let new = settings(&BASE.replace("weight = 50", "weight = 1"));
    let (_, outcome) = merge(&settings(BASE), new, &participants(&["cta"]));
    assert!(outcome.refused.is_empty(), "{outcome:?}");
}

#[test]
fn variants_weights_seed_and_method_are_frozen_by_participants() {
    let changes = [
        (
            BASE.replacen("weight = 50", "weight = 70", 1),
            "changing the weights",
        ),
        (
            BASE.replace("name = \"B\"", "name = \"C\""),
            "changing the variants",
        ),
        (
            BASE.replace(
                "[[experiments.cta.variants]]\nname = \"A\"",
                "seed = \"other\"\n[[experiments.cta.variants]]\nname = \"A\"",
            ),
            "changing the hash seed",
        ),
        (
            BASE.replace(
                "[[experiments.cta.variants]]\nname = \"A\"",
                "assignment = \"hash\"\n[[experiments.cta.variants]]\nname = \"A\"",
            ),
            "changing the assignment method",
        ),
    ];
    for (text, what) in changes {
        let running = settings(BASE);
        let (merged, outcome) = merge(&running, settings(&text), &participants(&["cta"]));
        assert_eq!(outcome.refused.len(), 1, "{what}");
        assert!(outcome.refused[0].contains(what), "{:?}", outcome.refused);
        let kept = merged.experiments.get(Some("cta")).unwrap();
        let old = running.experiments.get(Some("cta")).unwrap();
        assert_eq!(kept.seed, old.seed);
        assert_eq!(kept.shares(), old.shares());
        // Without participants the same change applies.
        let (_, free) = merge(&running, settings(&text), &participants(&[]));
        assert!(free.refused.is_empty(), "{what}");
    }
}
