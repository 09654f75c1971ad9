//! The effective configuration as `check-config` prints it: every secret is
//! replaced by a marker that tells only whether it is set, and the
//! credentials a URL can carry by `REDACTED`.

use super::{NotifierTarget, Settings, notifier_urls};
use crate::experiment::Analysis;
use secrecy::{ExposeSecret, SecretString};
use serde_json::{Value, json};

fn redact(secret: &SecretString) -> &'static str {
    if secret.expose_secret().is_empty() {
        ""
    } else {
        "[redacted]"
    }
}

pub(super) fn render(settings: &Settings) -> String {
    let mut experiments = serde_json::Map::new();
    for e in settings.experiments.iter() {
        let variants: Vec<Value> = e
            .variants
            .iter()
            .map(|v| {
                let content: Value = serde_json::from_slice(&v.content_json).unwrap_or(Value::Null);
                json!({"name": v.name, "weight": v.share, "content": content})
            })
            .collect();
        let is_default = settings.experiments.default_experiment().name == e.name;
        let analysis = match e.analysis {
            Analysis::Sequential { tuning } => {
                json!({"analysis": "sequential", "sequential_tuning": tuning})
            }
            Analysis::Fixed { sample_size } => {
                json!({"analysis": "fixed", "sample_size": sample_size})
            }
        };
        let mut table = json!({
            "default": is_default,
            "status": e.status,
            "assignment": e.assignment,
            "traffic": e.traffic,
            "goals": e.goals,
            "control": e.control().name,
            "winner": e.winner.map(|w| e.variants[w].name.to_string()).unwrap_or_default(),
            "seed": e.seed,
            "variants": variants,
        });
        if let (Value::Object(table), Value::Object(fields)) = (&mut table, analysis) {
            table.extend(fields);
        }
        experiments.insert(e.name.to_string(), table);
    }
    let mut notifiers = serde_json::Map::new();
    for n in &settings.notifiers {
        let mut table = json!({"kind": n.target.kind(), "enabled": true, "events": n.events});
        if let Some(rate) = n.rate_per_minute {
            table["rate_per_minute"] = json!(rate);
        }
        match &n.target {
            NotifierTarget::Log => {}
            NotifierTarget::Bliphq { url, api_key } => {
                table["url"] = json!(notifier_urls::redacted(url));
                table["api_key"] = json!(redact(api_key));
            }
            NotifierTarget::Telegram {
                bot_token,
                chat_id,
                api_base,
            } => {
                table["bot_token"] = json!(redact(bot_token));
                table["chat_id"] = json!(chat_id);
                table["api_base"] = json!(notifier_urls::redacted(api_base));
            }
            NotifierTarget::Discord { webhook_url } => {
                table["webhook_url"] = json!(redact(webhook_url));
            }
            NotifierTarget::Webhook { url, secret } => {
                table["url"] = json!(notifier_urls::redacted(url));
                table["secret"] = json!(redact(secret));
            }
        }
        notifiers.insert(n.name.clone(), table);
    }
    let mut storage = json!({"url": super::storage::redacted(&settings.storage.url)});
    storage["write_timeout_secs"] = json!(settings.storage.write_timeout_secs);
    storage["read_timeout_secs"] = json!(settings.storage.read_timeout_secs);
    if let Some(size) = settings.storage.pool_size {
        storage["pool_size"] = json!(size);
    }
    let s = &settings.session;
    let effective = json!({
        "environment": settings.environment,
        "server": settings.server,
        "session": {
            "cookie_name": s.cookie_name,
            "secret_key": if s.generated_key { "" } else { "[redacted]" },
            "content_security": s.content_security,
            "secure": s.secure,
            "same_site": s.same_site,
            "max_age_days": s.max_age_days,
            "user_id_secret": match s.user_ids {
                crate::configuration::UserIdPolicy::Signed(_) => "[redacted]",
                _ => "",
            },
            "trust_user_id_header": matches!(s.user_ids, crate::configuration::UserIdPolicy::Trusted),
        },
        "storage": storage,
        "admin": {"token": redact(&settings.admin.token)},
        "ingest": {
            "token": redact(&settings.ingest.token),
            "signing_secret": redact(&settings.ingest.signing_secret),
            "max_body_bytes": settings.ingest.max_body_bytes,
        },
        "metrics": {"token": redact(&settings.metrics.token)},
        "notify": settings.notify,
        "experiments": experiments,
        "notifiers": notifiers,
        "history": settings.history,
        "limits": {
            "enabled": settings.limits.is_on(settings.environment),
            "writes_per_second": settings.limits.writes_per_second,
            "burst": settings.limits.burst,
            "trusted_proxy_header": settings.limits.trusted_proxy_header,
        },
    });
    toml::to_string_pretty(&effective).unwrap_or_else(|e| format!("# cannot render: {e}\n"))
}
