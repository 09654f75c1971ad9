//! The notifiers' DNS resolver when `notify.block_private_addresses` is on:
//! a name is looked up as usual, and only its public addresses are handed to
//! the connector. Checking each answer, not the configured name once, is what
//! stops a name that is re-pointed at an internal service later (DNS
//! rebinding). Addresses written in a URL never reach a resolver; the
//! configuration refuses the private ones.

use std::collections::HashSet;
use std::net::SocketAddr;

use reqwest::dns::{Addrs, Name, Resolve, Resolving};

/// Why a connection was not attempted: every address of the host is private.
#[derive(Debug, thiserror::Error)]
#[error(
    "{host} resolves only to private addresses, which notify.block_private_addresses refuses \
     (list the host in notify.allowed_hosts to allow it)"
)]
pub struct PrivateAddress {
    host: String,
}

/// A resolver that drops non-public addresses, except for allowed hosts.
#[derive(Debug, Default)]
pub struct GuardedResolver {
    /// Lower-case host names exempt from the check.
    allowed: HashSet<String>,
}

impl GuardedResolver {
    /// A resolver that exempts `allowed_hosts` (as written in URLs).
    pub fn new(allowed_hosts: &[String]) -> Self {
        Self {
            allowed: allowed_hosts
                .iter()
                .map(|host| host.to_ascii_lowercase())
                .collect(),
        }
    }
}

impl Resolve for GuardedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let host = name.as_str().to_owned();
        let exempt = self.allowed.contains(&host.to_ascii_lowercase());
        Box::pin(async move {
            // The port is the connector's; the system resolver wants one.
            let found: Vec<SocketAddr> =
                tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            let usable: Vec<SocketAddr> = found
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

/// Whether a transport error's cause chain holds a [`PrivateAddress`].
pub fn refused_as_private(error: &(dyn std::error::Error + 'static)) -> bool {
    let mut cause = Some(error);
    while let Some(current) = cause {
        if current.is::<PrivateAddress>() {
            return true;
        }
        cause = current.source();
    }
    false
}
