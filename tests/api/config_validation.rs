//! Configuration errors, through the real binary: exit status 2 and one line
//! naming the key.

use crate::helpers::Patch;
use std::process::Command;

pub const DEFAULT: &str = include_str!("../../config/default.toml");

pub fn run(args: &[&str], config: &str, env: &[(&str, &str)]) -> (i32, String, String) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("config.toml");
    std::fs::write(&path, config).unwrap();
    let mut command = Command::new(env!("CARGO_BIN_EXE_splitcast"));
    command
        .args(args)
        .arg("--config")
        .arg(&path)
        .current_dir(dir.path());
    for (key, value) in env {
        command.env(key, value);
    }
    let output = command.output().unwrap();
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

pub fn rejects(config: &str, key: &str) {
    let (status, _, stderr) = run(&["check-config"], config, &[]);
    assert_eq!(status, 2, "{stderr}");
    let lines: Vec<&str> = stderr.lines().filter(|l| !l.trim().is_empty()).collect();
    assert_eq!(lines.len(), 1, "one line: {stderr}");
    assert!(lines[0].contains(key), "{key} not named in: {stderr}");
}

#[test]
fn the_default_configuration_is_valid_and_printed() {
    let (status, stdout, stderr) = run(&["check-config"], DEFAULT, &[]);
    assert_eq!(status, 0, "{stderr}");
    assert!(stdout.contains("homepage_cta"));
    assert!(stdout.contains("Welcome to our amazing service!"));
}

#[test]
fn each_validation_rule_names_its_key_and_exits_2() {
    let cases: Vec<(String, &str)> = vec![
        (
            DEFAULT.patched("weight = 50", "weight = -1"),
            "experiments.homepage_cta.variants",
        ),
        (
            DEFAULT.patched("weight = 50", "weight = 0"),
            "experiments.homepage_cta.variants",
        ),
        (
            DEFAULT.patched("name = \"B\"", "name = \"A\""),
            "experiments.homepage_cta.variants",
        ),
        (
            DEFAULT.patched("control = \"A\"", "control = \"Z\""),
            "experiments.homepage_cta.control",
        ),
        (
            DEFAULT
                .patched("status = \"running\"", "status = \"concluded\"")
                .patched("winner = \"\"", "winner = \"Z\""),
            "experiments.homepage_cta.winner",
        ),
        (
            DEFAULT.patched("goals = [\"conversion\"]", "goals = [\"Bad-Goal\"]"),
            "experiments.homepage_cta.goals",
        ),
        (
            DEFAULT.patched("# pool_size = 10 ", "pool_size = 0 "),
            "storage.pool_size",
        ),
        (
            DEFAULT.patched("# pool_size = 10 ", "write_timeout_secs = 0 "),
            "storage.write_timeout_secs",
        ),
        (
            DEFAULT.patched("# pool_size = 10 ", "read_timeout_secs = 0 "),
            "storage.read_timeout_secs",
        ),
        (
            DEFAULT.patched("traffic = 1.0", "traffic = 1.5"),
            "experiments.homepage_cta.traffic",
        ),
        (
            DEFAULT.patched("default = true", "default = false") + &second_experiment(),
            "experiments",
        ),
        (
            DEFAULT.to_owned()
                + &second_experiment().patched(
                    "[experiments.second]",
                    "[experiments.second]\ndefault = true",
                ),
            "experiments",
        ),
        (
            DEFAULT.patched("kind = \"log\"", "kind = \"pager\""),
            "notifiers.console.kind",
        ),
        (
            DEFAULT.to_owned() + "\n[notifiers.tg]\nkind = \"telegram\"\nchat_id = \"1\"\n",
            "notifiers.tg.bot_token",
        ),
        (
            DEFAULT.to_owned() + "\n[notifiers.d]\nkind = \"discord\"\n",
            "notifiers.d.webhook_url",
        ),
        (
            DEFAULT.to_owned()
                + "\n[notifiers.h]\nkind = \"webhook\"\nurl = \"https://x.example\"\nsecret = \"nope\"\n",
            "notifiers.h.secret",
        ),
        (
            DEFAULT.to_owned()
                + "\n[notifiers.b]\nkind = \"bliphq\"\nurl = \"https://x.example\"\nbot_token = \"x\"\n",
            "notifiers.b.bot_token",
        ),
        (
            DEFAULT.patched("max_age_days = 90", "max_age_days = 90\ncolour = \"red\""),
            "session",
        ),
        (
            DEFAULT.patched("[server]", "[server]\nthreads = 4"),
            "server",
        ),
        (
            DEFAULT.patched("secret_key = \"\"", "secret_key = \"c2hvcnQ=\""),
            "session.secret_key",
        ),
        (
            DEFAULT.patched("assignment = \"random\"", "assignment = \"sticky\""),
            "experiments.homepage_cta",
        ),
        (
            DEFAULT.replace("analysis = \"sequential\"", "analysis = \"bayesian\""),
            "experiments.homepage_cta",
        ),
        (
            DEFAULT.replace("analysis = \"sequential\"", "analysis = \"fixed\""),
            "experiments.homepage_cta.sample_size",
        ),
        (
            DEFAULT
                .replace("analysis = \"sequential\"", "analysis = \"fixed\"")
                .replace("# sample_size = 10000", "sample_size = 0"),
            "experiments.homepage_cta.sample_size",
        ),
        (
            DEFAULT.replace("sequential_tuning = 5000", "sequential_tuning = 0"),
            "experiments.homepage_cta.sequential_tuning",
        ),
        (
            DEFAULT.replace("sequential_tuning = 5000", "sequential_tuning = -2.5"),
            "experiments.homepage_cta.sequential_tuning",
        ),
    ];
    for (config, key) in cases {
        rejects(&config, key);
    }
}

fn second_experiment() -> String {
    "\n[experiments.second]\n[[experiments.second.variants]]\nname = \"A\"\nweight = 1\ncontent = {}\n[[experiments.second.variants]]\nname = \"B\"\nweight = 1\ncontent = {}\n".into()
}

#[test]
fn a_fixed_plan_with_its_sample_size_is_valid() {
    let fixed = DEFAULT
        .replace("analysis = \"sequential\"", "analysis = \"fixed\"")
        .replace("# sample_size = 10000", "sample_size = 10000");
    let (status, _, stderr) = run(&["check-config"], &fixed, &[]);
    assert_eq!(status, 0, "{stderr}");
    // A plan that is not fixed-horizon is still checked.
    let stray = DEFAULT.replace("# sample_size = 10000", "sample_size = -1");
    rejects(&stray, "experiments.homepage_cta.sample_size");
}

const PRODUCTION_KEY: &str =
    "c3BsaXRjYXN0LXRlc3Qta2V5LXRoYXQtaXMtYXQtbGVhc3Qtc2l4dHktZm91ci1ieXRlcy1sb25nLTAxMjM0NTY3ODk=";
const ADMIN_LINE: &str =
    "token = \"\"                         # Bearer token for /results; required in production";
const LONG_ADMIN_TOKEN: &str = "admin-secret-that-is-32-chars-long";

#[test]
fn production_requires_a_key_secure_cookies_and_an_admin_token() {
    let production = DEFAULT.patched(
        "environment = \"development\"",
        "environment = \"production\"",
    );
    rejects(&production, "session.secret_key");
    let key = PRODUCTION_KEY;
    let with_key = production.patched("secret_key = \"\"", &format!("secret_key = \"{key}\""));
    rejects(&with_key, "session.secure");
    let secure = with_key.patched("secure = false", "secure = true");
    rejects(&secure, "admin.token");
    let short = secure.patched(ADMIN_LINE, "token = \"admin-secret\"");
    rejects(&short, "admin.token");
    let long = LONG_ADMIN_TOKEN;
    let complete = secure.patched(ADMIN_LINE, &format!("token = \"{long}\""));
    assert_eq!(complete, production_config());
    let (status, stdout, stderr) = run(&["check-config"], &complete, &[]);
    assert_eq!(status, 0, "{stderr}");
    assert!(!stdout.contains(long) && !stdout.contains(key));
    for (key, env) in [
        ("ingest.token", "SPLITCAST__INGEST__TOKEN"),
        ("metrics.token", "SPLITCAST__METRICS__TOKEN"),
    ] {
        let (status, _, stderr) = run(&["check-config"], &complete, &[(env, "short-token")]);
        assert_eq!(status, 2, "{stderr}");
        assert!(
            stderr.contains(key) && !stderr.contains("short-token"),
            "{stderr}"
        );
    }
}

/// The default configuration with what production requires.
pub fn production_config() -> String {
    DEFAULT
        .patched(
            "environment = \"development\"",
            "environment = \"production\"",
        )
        .patched(
            "secret_key = \"\"",
            &format!("secret_key = \"{PRODUCTION_KEY}\""),
        )
        .patched("secure = false", "secure = true")
        .patched(ADMIN_LINE, &format!("token = \"{LONG_ADMIN_TOKEN}\""))
}

fn accepts(config: &str) {
    let (status, _, stderr) = run(&["check-config"], config, &[]);
    assert_eq!(status, 0, "{stderr}");
}

#[test]
fn in_production_notifier_urls_must_be_https_and_not_private() {
    let hook = |url: &str| {
        format!(
            "\n[notifiers.hook]\nkind = \"webhook\"\nurl = \"{url}\"\n\
             secret = \"whsec_bmV2ZXItbG9nLXRoaXMtd2ViaG9vay1zZWNyZXQ=\"\n"
        )
    };
    let production = production_config();
    accepts(&(production.clone() + &hook("https://hooks.example/ab")));
    rejects(
        &(production.clone() + &hook("http://hooks.example/ab")),
        "notifiers.hook.url",
    );
    for inside in [
        "https://127.0.0.1:8443/ab",
        "https://10.0.0.5/ab",
        "https://169.254.169.254/latest",
        "https://[::1]/ab",
        "https://[::ffff:192.168.0.1]/ab",
    ] {
        let config = production.clone() + &hook(inside);
        let (status, _, stderr) = run(&["check-config"], &config, &[]);
        assert_eq!(status, 2, "{inside}: {stderr}");
        assert!(
            stderr.contains("notifiers.hook.url") && stderr.contains("private address"),
            "{inside}: {stderr}"
        );
        assert!(!stderr.contains(inside), "the URL is not echoed: {stderr}");
    }
    // An allowed host passes, named as in the URL (brackets optional for IPv6).
    let allowed = production.patched(
        "[notify]",
        "[notify]\nallowed_hosts = [\"10.0.0.5\", \"::1\"]",
    );
    accepts(&(allowed.clone() + &hook("https://10.0.0.5/ab")));
    accepts(&(allowed + &hook("https://[::1]/ab")));
    // The same list from the environment, comma-separated.
    let env = [(
        "SPLITCAST__NOTIFY__ALLOWED_HOSTS",
        "relay.internal,10.0.0.5",
    )];
    let from_env = production.clone() + &hook("https://10.0.0.5/ab");
    let (status, stdout, stderr) = run(&["check-config"], &from_env, &env);
    assert_eq!(status, 0, "{stderr}");
    assert!(stdout.contains("relay.internal"), "{stdout}");
    // Both rules can be switched off, and on in development.
    let relaxed = production.patched(
        "[notify]",
        "[notify]\nrequire_https = false\nblock_private_addresses = false",
    );
    accepts(&(relaxed + &hook("http://127.0.0.1:9000/ab")));
    accepts(&(DEFAULT.to_owned() + &hook("http://127.0.0.1:9000/ab")));
    let strict = DEFAULT.patched("[notify]", "[notify]\nrequire_https = true");
    rejects(
        &(strict + &hook("http://127.0.0.1:9000/ab")),
        "notifiers.hook.url",
    );
    // A Discord URL is a credential: refused without being echoed.
    let discord = "\n[notifiers.chat]\nkind = \"discord\"\n\
                   webhook_url = \"http://discord.example/api/webhooks/1/tok-en-secret\"\n";
    let (status, _, stderr) = run(&["check-config"], &(production + discord), &[]);
    assert_eq!(status, 2, "{stderr}");
    assert!(stderr.contains("notifiers.chat.webhook_url"), "{stderr}");
    assert!(!stderr.contains("tok-en-secret"), "{stderr}");
}

#[test]
fn check_config_hides_every_storage_password_and_refuses_what_serve_would() {
    let url = "postgres://app:hunter2@db.example:5432/ab?sslpassword=hunter3&sslmode=require";
    let (status, stdout, stderr) = run(
        &["check-config"],
        DEFAULT,
        &[("SPLITCAST__STORAGE__URL", url)],
    );
    assert_eq!(status, 0, "{stderr}");
    assert!(
        !stdout.contains("hunter2") && !stdout.contains("hunter3"),
        "{stdout}"
    );
    assert!(stdout.contains("db.example:5432/ab"), "{stdout}");
    for bad in ["mysql://db/app", "postgres://db.example:notaport/app"] {
        let (status, _, stderr) = run(
            &["check-config"],
            DEFAULT,
            &[("SPLITCAST__STORAGE__URL", bad)],
        );
        assert_eq!(status, 2, "{bad}: {stderr}");
        assert!(stderr.contains("storage.url"), "{stderr}");
    }
}

#[test]
fn environment_variables_override_the_file_and_secrets_are_redacted() {
    let with_telegram = DEFAULT.to_owned()
        + "\n[notifiers.team_chat]\nkind = \"telegram\"\nenabled = false\nbot_token = \"\"\nchat_id = \"\"\n";
    let (status, stdout, stderr) = run(
        &["check-config"],
        &with_telegram,
        &[
            ("SPLITCAST__SERVER__PORT", "9191"),
            ("SPLITCAST__NOTIFIERS__TEAM_CHAT__ENABLED", "true"),
            (
                "SPLITCAST__NOTIFIERS__TEAM_CHAT__BOT_TOKEN",
                "123456:SECRET-bot-token",
            ),
            ("SPLITCAST__NOTIFIERS__TEAM_CHAT__CHAT_ID", "-1001234"),
            ("SPLITCAST__ADMIN__TOKEN", "admin-token-value"),
        ],
    );
    assert_eq!(status, 0, "{stderr}");
    assert!(stdout.contains("port = 9191"), "{stdout}");
    assert!(stdout.contains("-1001234"), "{stdout}");
    assert!(!stdout.contains("SECRET-bot-token") && !stderr.contains("SECRET-bot-token"));
    assert!(!stdout.contains("admin-token-value"));
    assert!(stdout.contains("[redacted]"));
}

#[test]
fn a_missing_config_file_is_one_line_and_exit_2() {
    let output = Command::new(env!("CARGO_BIN_EXE_splitcast"))
        .args(["check-config", "--config", "/nonexistent/splitcast.toml"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("/nonexistent/splitcast.toml"));
}

#[test]
fn the_production_example_is_valid_once_its_secrets_come_from_the_environment() {
    let example = include_str!("../../config/production.example.toml");
    let key = "c3BsaXRjYXN0LXRlc3Qta2V5LXRoYXQtaXMtYXQtbGVhc3Qtc2l4dHktZm91ci1ieXRlcy1sb25nLTAxMjM0NTY3ODk=";
    rejects(example, "session.secret_key");
    let (status, stdout, stderr) = run(
        &["check-config"],
        example,
        &[
            ("SPLITCAST__SESSION__SECRET_KEY", key),
            (
                "SPLITCAST__ADMIN__TOKEN",
                "prod-admin-token-of-32-characters",
            ),
        ],
    );
    assert_eq!(status, 0, "{stderr}");
    assert!(stdout.contains("environment = \"production\""), "{stdout}");
    assert!(!stdout.contains("prod-admin-token") && !stdout.contains(key));
}

#[test]
fn the_history_interval_is_between_a_second_and_a_day_and_printed() {
    for bad in ["interval_secs = 0", "interval_secs = 86401"] {
        rejects(
            &DEFAULT.patched("interval_secs = 3600", bad),
            "history.interval_secs",
        );
    }
    let config = DEFAULT.patched("interval_secs = 3600", "interval_secs = 60");
    let (status, stdout, stderr) = run(&["check-config"], &config, &[]);
    assert_eq!(status, 0, "{stderr}");
    assert!(
        stdout.contains("[history]\ninterval_secs = 60\n"),
        "{stdout}"
    );
}
