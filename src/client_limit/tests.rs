use super::*;
use actix_web::http::header::HeaderValue;
use std::sync::atomic::AtomicI64;

/// A clock the test moves by hand.
#[derive(Default)]
struct ManualClock(AtomicI64);

impl ManualClock {
    fn advance(&self, millis: i64) {
        self.0.fetch_add(millis, Ordering::SeqCst);
    }
}

impl Clock for ManualClock {
    fn now_millis(&self) -> i64 {
        self.0.load(Ordering::SeqCst)
    }
}

fn limiter() -> (Arc<ManualClock>, ClientLimiter) {
    let clock = Arc::new(ManualClock::default());
    (clock.clone(), ClientLimiter::new(clock))
}

const RATE: Rate = Rate {
    per_second: 2.0,
    burst: 3,
};

fn ip(text: &str) -> IpAddr {
    text.parse().unwrap()
}

#[test]
fn a_client_gets_its_burst_then_waits_for_the_refill() {
    let (clock, limiter) = limiter();
    let client = ip("203.0.113.7");
    for _ in 0..3 {
        assert_eq!(limiter.take(client, RATE), Ok(()));
    }
    // Two a second: the next token is half a second away, said as 1 s.
    assert_eq!(
        limiter.take(client, RATE),
        Err(Limited {
            retry_after_secs: 1
        })
    );
    clock.advance(499);
    assert!(limiter.take(client, RATE).is_err());
    clock.advance(1);
    assert_eq!(limiter.take(client, RATE), Ok(()));
    assert!(limiter.take(client, RATE).is_err());
    // A long pause refills to the burst, never beyond.
    clock.advance(3_600_000);
    for _ in 0..3 {
        assert_eq!(limiter.take(client, RATE), Ok(()));
    }
    assert!(limiter.take(client, RATE).is_err());
}

#[test]
fn refused_attempts_do_not_consume_tokens_and_retry_after_is_honest() {
    let (clock, limiter) = limiter();
    let slow = Rate {
        per_second: 0.1,
        burst: 1,
    };
    let client = ip("203.0.113.7");
    assert!(limiter.take(client, slow).is_ok());
    assert_eq!(
        limiter.take(client, slow),
        Err(Limited {
            retry_after_secs: 10
        })
    );
    clock.advance(4_000);
    for _ in 0..100 {
        assert_eq!(
            limiter.take(client, slow),
            Err(Limited {
                retry_after_secs: 6
            })
        );
    }
    clock.advance(6_000);
    assert!(limiter.take(client, slow).is_ok());
}

#[test]
fn clients_have_buckets_of_their_own() {
    let (_, limiter) = limiter();
    for _ in 0..3 {
        limiter.take(ip("203.0.113.7"), RATE).unwrap();
    }
    assert!(limiter.take(ip("203.0.113.7"), RATE).is_err());
    assert!(limiter.take(ip("203.0.113.8"), RATE).is_ok());
}

#[test]
fn an_ipv6_client_is_one_client_across_its_64_and_mapped_ipv4_is_ipv4() {
    let (_, limiter) = limiter();
    for last in 1..=3 {
        limiter
            .take(bucket_key(ip(&format!("2001:db8:1:2::{last}"))), RATE)
            .unwrap();
    }
    let same_64 = bucket_key(ip("2001:db8:1:2:ffff:ffff:ffff:ffff"));
    assert!(limiter.take(same_64, RATE).is_err());
    let next_64 = bucket_key(ip("2001:db8:1:3::1"));
    assert!(limiter.take(next_64, RATE).is_ok());
    assert_eq!(bucket_key(ip("::ffff:192.0.2.1")), ip("192.0.2.1"));
}

#[test]
fn refilled_buckets_are_dropped_and_memory_stays_bounded() {
    let (clock, limiter) = limiter();
    for n in 0..1000u32 {
        limiter.take(IpAddr::from(n.to_be_bytes()), RATE).unwrap();
    }
    assert_eq!(limiter.clients(), 1000);
    // Everyone idle long enough to be full again: the next sweep drops them.
    clock.advance(SWEEP_EVERY_MS);
    limiter.take(ip("203.0.113.7"), RATE).unwrap();
    assert_eq!(limiter.clients(), 1);
    // A flood of distinct clients never holds more than MAX_CLIENTS buckets.
    for n in 0..(MAX_CLIENTS as u32 + 10) {
        limiter
            .take(IpAddr::from((n + 1_000_000).to_be_bytes()), RATE)
            .unwrap();
        assert!(limiter.clients() <= MAX_CLIENTS);
    }
}

fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
    let mut map = HeaderMap::new();
    for (name, value) in pairs {
        map.append(
            HeaderName::from_bytes(name.as_bytes()).unwrap(),
            HeaderValue::from_str(value).unwrap(),
        );
    }
    map
}

#[test]
fn the_trusted_header_names_the_client_by_its_right_most_entry() {
    let (_, limiter) = limiter();
    let peer = Some(ip("10.0.0.1"));
    let xff = HeaderName::from_static("x-forwarded-for");
    let client =
        |pairs: &[(&str, &str)], trusted| limiter.client_of(&headers(pairs), peer, trusted);
    // The proxy appended the last entry; the client wrote the ones before.
    let sent = [("x-forwarded-for", "6.6.6.6, 198.51.100.9")];
    assert_eq!(client(&sent, Some(&xff)), ip("198.51.100.9"));
    // A second header line: the proxy's is the last one.
    let two = [
        ("x-forwarded-for", "6.6.6.6"),
        ("x-forwarded-for", "198.51.100.9"),
    ];
    assert_eq!(client(&two, Some(&xff)), ip("198.51.100.9"));
    // Not configured: the header is the client's own word, ignored.
    assert_eq!(client(&sent, None), ip("10.0.0.1"));
    // Configured but absent or not an address: the TCP peer.
    assert_eq!(client(&[], Some(&xff)), ip("10.0.0.1"));
    assert_eq!(
        client(&[("x-forwarded-for", "unknown")], Some(&xff)),
        ip("10.0.0.1")
    );
    let forwarded = HeaderName::from_static("forwarded");
    assert_eq!(
        client(
            &[(
                "forwarded",
                "for=6.6.6.6, for=\"[2001:db8::7]:4711\";proto=https"
            )],
            Some(&forwarded)
        ),
        ip("2001:db8::")
    );
}

#[test]
fn addresses_are_read_in_every_usual_form() {
    for (value, expected) in [
        ("198.51.100.9", "198.51.100.9"),
        ("198.51.100.9:443", "198.51.100.9"),
        ("2001:db8::7", "2001:db8::7"),
        ("[2001:db8::7]:443", "2001:db8::7"),
        ("[2001:db8::7]", "2001:db8::7"),
        ("For=\"198.51.100.9\"", "198.51.100.9"),
    ] {
        assert_eq!(last_address(value), Some(ip(expected)), "{value}");
    }
    for value in ["", "unknown", "_hidden", "for=_x"] {
        assert_eq!(last_address(value), None, "{value}");
    }
}
