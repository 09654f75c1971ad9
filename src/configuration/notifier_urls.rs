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
