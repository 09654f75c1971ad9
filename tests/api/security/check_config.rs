//! `check-config` prints notifier URLs without the credentials they carry,
//! as it prints `storage.url`.

use crate::helpers::{BASE, DEMO};

#[test]
fn check_config_hides_credentials_in_notifier_urls() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("config.toml");
    let config = format!(
        "{BASE}\n{DEMO}\n\
         [notifiers.hook]\nkind = \"webhook\"\n\
         url = \"https://hookuser:hookpass@hooks.example.com/x?token=hooktoken\"\nsecret = \"whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD\"\n\
         [notifiers.blip]\nkind = \"bliphq\"\napi_key = \"k\"\n\
         url = \"https://blipuser:blippass@blip.example.com/api/notify?code=blipcode\"\n\
         [notifiers.tg]\nkind = \"telegram\"\nbot_token = \"1:t\"\nchat_id = \"1\"\n\
         api_base = \"https://tguser:tgpass@tg.example.com/?key=tgkey\"\n"
    );
    std::fs::write(&path, config).unwrap();
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_splitcast"))
        .arg("--config")
        .arg(&path)
        .arg("check-config")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{output:?}");
    for secret in [
        "hookuser",
        "hookpass",
        "hooktoken",
        "blipuser",
        "blippass",
        "blipcode",
        "tguser",
        "tgpass",
        "tgkey",
    ] {
        assert!(!stdout.contains(secret), "{secret} printed:\n{stdout}");
    }
    for shown in [
        "https://REDACTED:REDACTED@hooks.example.com/x?token=REDACTED",
        "https://REDACTED:REDACTED@blip.example.com/api/notify?code=REDACTED",
        "https://REDACTED:REDACTED@tg.example.com/?key=REDACTED",
    ] {
        assert!(stdout.contains(shown), "{shown} not in:\n{stdout}");
    }
}
