//! The rules a notifier URL must follow: `http(s)://` with a host, `https://`
//! under `notify.require_https`, and no private address written in it under
//! `notify.block_private_addresses` (host names are checked at each lookup,
//! by the notifiers' resolver).

use super::NotifySettings;

/// What is wrong with a notifier URL under `notify`'s rules, in words that
/// do not repeat the URL. A host name is checked when it is looked up (the
/// notifiers' resolver); an address written in the URL is checked here.
pub(super) fn check(value: &str, notify: &NotifySettings) -> Result<(), String> {
    let url =
        url::Url::parse(value).map_err(|_| "must be an http:// or https:// URL".to_owned())?;
    match url.scheme() {
        "https" => {}
        "http" if !notify.requires_https() => {}
        "http" => {
            return Err("must be an https:// URL (notify.require_https, on in production)".into());
        }
        _ => return Err("must be an http:// or https:// URL".into()),
    }
    let private = match url.host() {
        Some(url::Host::Ipv4(ip)) => crate::egress::is_private(ip.into()),
        Some(url::Host::Ipv6(ip)) => crate::egress::is_private(ip.into()),
        Some(url::Host::Domain(_)) => false,
        None => return Err("must name a host".into()),
    };
    let host = url.host_str().unwrap_or_default();
    if private && notify.blocks_private_addresses() && !notify.allows_host(host) {
        return Err(
            "points at a private address (notify.block_private_addresses, on in \
                    production; list the host in notify.allowed_hosts to allow it)"
                .into(),
        );
    }
    Ok(())
}

/// A notifier URL as `check-config` prints it: its user name, password,
/// every query value and any fragment replaced by `REDACTED`. Unlike
/// `storage.url`, every query value is hidden, not only secret-named ones: a
/// hook's query is often its credential (`?code=`, `?sig=`). Unparseable
/// text is hidden whole.
pub(super) fn redacted(value: &str) -> String {
    let Ok(mut url) = url::Url::parse(value) else {
        return "[redacted: not a valid URL]".to_owned();
    };
    if !url.username().is_empty() {
        let _ = url.set_username("REDACTED");
    }
    if url.password().is_some() {
        let _ = url.set_password(Some("REDACTED"));
    }
    if url.query().is_some() {
        let keys: Vec<String> = url.query_pairs().map(|(k, _)| k.into_owned()).collect();
        url.query_pairs_mut()
            .clear()
            .extend_pairs(keys.iter().map(|k| (k, "REDACTED")));
    }
    if url.fragment().is_some() {
        url.set_fragment(Some("REDACTED"));
    }
    url.to_string()
}

#[cfg(test)]
mod tests {
    use super::redacted;

    #[test]
    fn credentials_in_a_notifier_url_are_hidden_and_the_rest_kept() {
        for (url, shown) in [
            (
                "https://user:pw@hooks.example.com/x?token=abc",
                "https://REDACTED:REDACTED@hooks.example.com/x?token=REDACTED",
            ),
            (
                "https://hooks.example.com/x?code=c0de&v=2#sig",
                "https://hooks.example.com/x?code=REDACTED&v=REDACTED#REDACTED",
            ),
            ("https://api.telegram.org", "https://api.telegram.org/"),
            (
                "http://[::1]:8080/api/notify",
                "http://[::1]:8080/api/notify",
            ),
            ("not a url", "[redacted: not a valid URL]"),
        ] {
            assert_eq!(redacted(url), shown);
        }
    }
}
