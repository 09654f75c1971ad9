//! The guard against a scripted resolver: each lookup answers the next of a
//! list of answers, as a DNS server under an attacker's control would, so
//! that rebinding (a name re-pointed between two connections) and mixed
//! public and private answers are provoked on purpose.

use super::*;
use reqwest::dns::Resolve;
use std::str::FromStr;
use std::sync::{Arc, Mutex};

const PUBLIC: &str = "93.184.215.14";

/// A resolver whose lookups answer `answers` in turn, and the names asked.
fn scripted(
    notify: &NotifySettings,
    answers: Vec<Vec<&'static str>>,
) -> (GuardedResolver, Arc<Mutex<Vec<String>>>) {
    let answers = Arc::new(Mutex::new(answers.into_iter()));
    let asked = Arc::new(Mutex::new(Vec::new()));
    let seen = asked.clone();
    let lookup: Lookup = Arc::new(move |host| {
        seen.lock().unwrap().push(host);
        let next = answers.lock().unwrap().next().expect("a scripted answer");
        let addresses = next
            .into_iter()
            .map(|ip| SocketAddr::new(ip.parse().unwrap(), 0))
            .collect();
        Box::pin(async move { Ok(addresses) })
    });
    (GuardedResolver::with_lookup(notify, lookup), asked)
}

async fn resolve(resolver: &GuardedResolver, host: &str) -> Result<Vec<String>, String> {
    match resolver.resolve(Name::from_str(host).unwrap()).await {
        Ok(addrs) => Ok(addrs.map(|a| a.ip().to_string()).collect()),
        Err(e) => Err(e.to_string()),
    }
}

#[tokio::test]
async fn a_name_rebound_to_a_private_address_is_refused_at_the_next_connection() {
    let (resolver, asked) = scripted(
        &NotifySettings::default(),
        vec![vec![PUBLIC], vec!["10.0.0.5"], vec!["169.254.169.254"]],
    );
    assert_eq!(resolve(&resolver, "hooks.example").await.unwrap(), [PUBLIC]);
    // The same name, re-pointed: every answer is checked again.
    for _ in 0..2 {
        let refused = resolve(&resolver, "hooks.example").await.unwrap_err();
        assert!(refused.contains("hooks.example resolves only to private addresses"));
    }
    assert_eq!(asked.lock().unwrap().len(), 3, "one lookup per connection");
}

#[tokio::test]
async fn of_mixed_answers_only_the_public_addresses_reach_the_connector() {
    let (resolver, _) = scripted(
        &NotifySettings::default(),
        vec![vec![
            "127.0.0.1",
            PUBLIC,
            "192.168.1.1",
            "::1",
            "fd00::1",
            "2606:4700::1111",
        ]],
    );
    assert_eq!(
        resolve(&resolver, "mixed.example").await.unwrap(),
        [PUBLIC, "2606:4700::1111"]
    );
}

#[tokio::test]
async fn an_allowed_host_may_resolve_to_private_addresses_and_no_other_may() {
    let notify = NotifySettings {
        allowed_hosts: vec!["chat.internal".into()],
        ..NotifySettings::default()
    };
    let (resolver, _) = scripted(&notify, vec![vec!["10.1.2.3"], vec!["10.1.2.3"]]);
    assert_eq!(
        resolve(&resolver, "chat.internal").await.unwrap(),
        ["10.1.2.3"]
    );
    assert!(resolve(&resolver, "other.internal").await.is_err());
}
