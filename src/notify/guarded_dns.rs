//! The notifiers' DNS resolver when `notify.block_private_addresses` is on:
//! a name is looked up as usual, and only its public addresses are handed to
//! the connector. Checking each answer, not the configured name once, is what
//! stops a name that is re-pointed at an internal service later (DNS
//! rebinding). Addresses written in a URL never reach a resolver; the
//! configuration refuses the private ones.

use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;

use reqwest::dns::{Addrs, Name, Resolve, Resolving};

use crate::configuration::NotifySettings;

/// Why a connection was not attempted: every address of the host is private.
#[derive(Debug, thiserror::Error)]
#[error(
    "{host} resolves only to private addresses, which notify.block_private_addresses refuses \
     (list the host in notify.allowed_hosts to allow it)"
)]
pub struct PrivateAddress {
    host: String,
}

/// How names are looked up: the system resolver, or a scripted one in tests.
type Lookup = std::sync::Arc<
    dyn Fn(String) -> Pin<Box<dyn Future<Output = std::io::Result<Vec<SocketAddr>>> + Send>>
        + Send
        + Sync,
>;

/// A resolver that drops non-public addresses, except for the hosts
/// `notify.allowed_hosts` exempts.
pub struct GuardedResolver {
    notify: NotifySettings,
    lookup: Lookup,
}

impl std::fmt::Debug for GuardedResolver {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GuardedResolver")
            .field("notify", &self.notify)
            .finish_non_exhaustive()
    }
}

impl GuardedResolver {
    /// A resolver under `notify`'s rules.
    pub fn new(notify: &NotifySettings) -> Self {
        Self::with_lookup(
            notify,
            std::sync::Arc::new(|host| {
                Box::pin(async move {
                    // The port is the connector's; the system resolver wants one.
                    Ok(tokio::net::lookup_host((host.as_str(), 0)).await?.collect())
                })
            }),
        )
    }

    fn with_lookup(notify: &NotifySettings, lookup: Lookup) -> Self {
        Self {
            notify: notify.clone(),
            lookup,
        }
    }
}

impl Resolve for GuardedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let host = name.as_str().to_owned();
        let exempt = self.notify.allows_host(&host);
        let lookup = (self.lookup)(host.clone());
        Box::pin(async move {
            let usable: Vec<SocketAddr> = lookup
                .await?
                .into_iter()
                .filter(|address| exempt || !crate::egress::is_private(address.ip()))
                .collect();
            if usable.is_empty() {
                return Err(Box::new(PrivateAddress { host }) as _);
            }
            Ok(Box::new(usable.into_iter()) as Addrs)
        })
    }
}

#[cfg(test)]
#[path = "guarded_dns_tests.rs"]
mod tests;
