//! The per-client limit on the durable writes anonymous visitors cause (a
//! new enrolment, a tracked view or conversion): a token bucket per client
//! address, in this process's memory. Only floods from one client are its
//! business; distributed ones are the proxy's or CDN's.
//!
//! Memory is bounded: a bucket that has refilled is the same as no bucket,
//! so sweeps drop those, and past [`MAX_CLIENTS`] live buckets the map is
//! cleared rather than grown (failing open: a client then starts full again).

use crate::clock::Clock;
use actix_web::http::header::{HeaderMap, HeaderName};
use std::collections::HashMap;
use std::net::{IpAddr, Ipv6Addr};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

/// Buckets kept at most (about 100 bytes each).
pub const MAX_CLIENTS: usize = 100_000;
/// How often refilled buckets are dropped.
const SWEEP_EVERY_MS: i64 = 30_000;
/// Headers that betray a proxy in front when none is configured as trusted.
const PROXY_HEADERS: [&str; 3] = ["x-forwarded-for", "x-real-ip", "forwarded"];

/// A refused write: when the client's next token is due.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limited {
    /// Whole seconds until a token is back (at least 1).
    pub retry_after_secs: u64,
}

/// The limit of one client.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Rate {
    /// Tokens added per second.
    pub per_second: f64,
    /// Tokens a full bucket holds.
    pub burst: u32,
}

#[derive(Debug, Clone, Copy)]
struct Bucket {
    tokens: f64,
    updated_ms: i64,
}

impl Bucket {
    fn refilled(self, rate: Rate, now_ms: i64) -> f64 {
        let elapsed = now_ms.saturating_sub(self.updated_ms).max(0) as f64 / 1000.0;
        (self.tokens + elapsed * rate.per_second).min(f64::from(rate.burst))
    }
}

struct Buckets {
    by_client: HashMap<IpAddr, Bucket>,
    swept_ms: i64,
}

/// The token buckets of every client seen recently.
pub struct ClientLimiter {
    clock: Arc<dyn Clock>,
    buckets: Mutex<Buckets>,
    warned_about_proxy: AtomicBool,
}

impl ClientLimiter {
    /// No client seen yet; time comes from `clock`.
    pub fn new(clock: Arc<dyn Clock>) -> Self {
        let now = clock.now_millis();
        Self {
            clock,
            buckets: Mutex::new(Buckets {
                by_client: HashMap::new(),
                swept_ms: now,
            }),
            warned_about_proxy: AtomicBool::new(false),
        }
    }

    /// Takes one token from `client`'s bucket, or says when one is due.
    pub fn take(&self, client: IpAddr, rate: Rate) -> Result<(), Limited> {
        let now = self.clock.now_millis();
        let mut buckets = self.buckets.lock().unwrap_or_else(|e| e.into_inner());
        if buckets.by_client.len() >= MAX_CLIENTS || now - buckets.swept_ms >= SWEEP_EVERY_MS {
            buckets.sweep(rate, now);
        }
        let burst = f64::from(rate.burst);
        let bucket = buckets.by_client.entry(client).or_insert(Bucket {
            tokens: burst,
            updated_ms: now,
        });
        let tokens = bucket.refilled(rate, now);
        bucket.updated_ms = now;
        if tokens >= 1.0 {
            bucket.tokens = tokens - 1.0;
            return Ok(());
        }
        bucket.tokens = tokens;
        let wait = (1.0 - tokens) / rate.per_second;
        Err(Limited {
            retry_after_secs: (wait.ceil() as u64).max(1),
        })
    }

    /// Buckets held now (for tests of the memory bound).
    pub fn clients(&self) -> usize {
        self.buckets
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .by_client
            .len()
    }

    /// The bucket key of a request: the address the trusted proxy header
    /// names when one is configured and present, else the TCP peer.
    pub fn client_of(
        &self,
        headers: &HeaderMap,
        peer: Option<IpAddr>,
        trusted: Option<&HeaderName>,
    ) -> IpAddr {
        let forwarded = match trusted {
            Some(name) => headers
                .get_all(name)
                .last()
                .and_then(|value| value.to_str().ok())
                .and_then(last_address),
            None => {
                self.warn_if_proxied(headers);
                None
            }
        };
        bucket_key(
            forwarded
                .or(peer)
                .unwrap_or(IpAddr::V6(Ipv6Addr::UNSPECIFIED)),
        )
    }

    /// Every client behind an unconfigured proxy shares the proxy's bucket:
    /// worth one warning per process, never one per request.
    fn warn_if_proxied(&self, headers: &HeaderMap) {
        if PROXY_HEADERS.iter().any(|h| headers.contains_key(*h))
            && !self.warned_about_proxy.swap(true, Ordering::Relaxed)
        {
            tracing::warn!(
                "requests carry a proxy header but limits.trusted_proxy_header is not set: \
                 every client behind that proxy shares one write limit"
            );
        }
    }
}

impl Buckets {
    fn sweep(&mut self, rate: Rate, now_ms: i64) {
        let full = f64::from(rate.burst);
        self.by_client
            .retain(|_, bucket| bucket.refilled(rate, now_ms) < full);
        if self.by_client.len() >= MAX_CLIENTS {
            tracing::warn!(
                clients = self.by_client.len(),
                "too many clients writing at once to keep a limit for each: limits reset"
            );
            self.by_client.clear();
        }
        self.swept_ms = now_ms;
    }
}

/// The right-most address of a header value: with `X-Forwarded-For` the
/// one the trusted proxy appended itself (entries to its left are whatever
/// the client sent). Accepts `1.2.3.4`, `1.2.3.4:80`, `[::1]:80`, `::1` and
/// RFC 7239's `for="[::1]:80"`.
fn last_address(value: &str) -> Option<IpAddr> {
    let entry = value.rsplit(',').next()?.trim();
    let entry = entry
        .split(';')
        .map(str::trim)
        .find_map(|part| {
            part.get(..4)
                .filter(|k| k.eq_ignore_ascii_case("for="))
                .map(|_| &part[4..])
        })
        .unwrap_or(entry)
        .trim_matches('"');
    if let Ok(ip) = entry.parse() {
        return Some(ip);
    }
    if let Some(rest) = entry.strip_prefix('[') {
        return rest.split(']').next()?.parse().ok();
    }
    entry.parse::<std::net::SocketAddr>().ok().map(|a| a.ip())
}

/// IPv4 as is; IPv6 by its /64, which one subscriber usually holds whole
/// (a client could otherwise take a new bucket per address).
fn bucket_key(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V4(_) => ip,
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => {
                let prefix = u128::from(v6) & !((1u128 << 64) - 1);
                IpAddr::V6(Ipv6Addr::from(prefix))
            }
        },
    }
}

#[cfg(test)]
mod tests;
