//! Which addresses a notifier must not reach when
//! `notify.block_private_addresses` is on: anything that is not a public
//! unicast address on the internet (loopback, private networks, link-local
//! — where cloud metadata services live —, shared, reserved, multicast),
//! including an IPv6 address that embeds such an IPv4 address.
//! Used by the configuration for literal addresses and by the notifiers'
//! DNS resolver for every name they look up.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// Whether `ip` is not a public unicast address. Written out here because
/// std's `IpAddr::is_global` is still unstable; the ranges are IANA's
/// special-purpose registries (RFC 6890 and its updates).
pub fn is_private(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => is_private_v4(v4),
        IpAddr::V6(v6) => is_private_v6(v6),
    }
}

fn is_private_v4(ip: Ipv4Addr) -> bool {
    let [a, b, c, _] = ip.octets();
    ip.is_unspecified()
        || a == 0 // "this network"
        || ip.is_loopback()
        || ip.is_private()
        || ip.is_link_local()
        || (a == 100 && (b & 0xc0) == 64) // shared address space (carrier NAT)
        || (a == 192 && b == 0 && c == 0) // IETF protocol assignments
        || ip.is_documentation()
        || (a == 198 && (b & 0xfe) == 18) // benchmarking
        || ip.is_multicast()
        || a >= 240 // reserved, and the broadcast address
}

fn is_private_v6(ip: Ipv6Addr) -> bool {
    // An address that carries an IPv4 address reaches that address: a
    // mapped, NAT64 or 6to4 form of 127.0.0.1 is 127.0.0.1.
    if let Some(v4) = embedded_v4(ip) {
        return is_private_v4(v4);
    }
    let segments = ip.segments();
    ip.is_unspecified()
        || ip.is_loopback()
        || ip.is_unique_local()
        || ip.is_unicast_link_local()
        || (segments[0] & 0xffc0) == 0xfec0 // site-local (deprecated)
        || ip.is_multicast()
        || (segments[0] == 0x2001 && segments[1] == 0x0db8) // documentation
        || (segments[0] & 0xfff0) == 0x3ff0 // documentation (3fff::/20)
        || segments[0] == 0 // the rest of ::/8: reserved, IPv4-compatible
        || segments[..4] == [0x100, 0, 0, 0] // discard-only
        || segments[..3] == [0x64, 0xff9b, 1] // local-use NAT64, any prefix length
        // IETF protocol assignments, Teredo (2001::/32) among them: a Teredo
        // address hides its IPv4 server and client, so it is refused whole.
        || (segments[0] == 0x2001 && segments[1] < 0x0200)
        || segments[0] == 0x5f00 // SRv6 segment identifiers
}

/// The IPv4 address `ip` embeds in a form that reaches it: IPv4-mapped
/// (`::ffff:a.b.c.d`), well-known NAT64 (`64:ff9b::/96`) and 6to4
/// (`2002:AABB:CCDD::/48` reaches `AA.BB.CC.DD`'s network).
fn embedded_v4(ip: Ipv6Addr) -> Option<Ipv4Addr> {
    if let Some(v4) = ip.to_ipv4_mapped() {
        return Some(v4);
    }
    let s = ip.segments();
    let v4 = |high: u16, low: u16| {
        let [a, b] = high.to_be_bytes();
        let [c, d] = low.to_be_bytes();
        Ipv4Addr::new(a, b, c, d)
    };
    if s[..6] == [0x64, 0xff9b, 0, 0, 0, 0] {
        return Some(v4(s[6], s[7]));
    }
    if s[0] == 0x2002 {
        return Some(v4(s[1], s[2]));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::is_private;

    fn private(text: &str) -> bool {
        is_private(text.parse().unwrap())
    }

    #[test]
    fn internal_addresses_are_private() {
        for address in [
            "127.0.0.1",
            "127.255.0.9",
            "0.0.0.0",
            "10.1.2.3",
            "172.16.0.1",
            "172.31.255.255",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "100.127.255.254",
            "192.0.0.8",
            "198.18.0.1",
            "224.0.0.1",
            "255.255.255.255",
            "::",
            "::1",
            "fc00::1",
            "fd12:3456::1",
            "fe80::1",
            "fec0::1",
            "ff02::1",
            "::ffff:127.0.0.1",
            "::ffff:169.254.169.254",
            "64:ff9b::a00:1",
            "2001:db8::1",
            "::127.0.0.1",
            "::8.8.8.8", // IPv4-compatible: deprecated, refused whatever it embeds
            "::ffff:0:127.0.0.1",
            "64:ff9b::7f00:1",
            "64:ff9b::a9fe:a9fe",
            "64:ff9b:1::808:808", // local-use NAT64
            "2002:7f00:1::",      // 6to4 of 127.0.0.1
            "2002:a9fe:a9fe::1",  // 6to4 of 169.254.169.254
            "2002:c0a8:101::1",   // 6to4 of 192.168.1.1
            "2002:a00:1:1::1",    // 6to4 of 10.0.0.1
            "2002::",             // 6to4 of 0.0.0.0
            "2001::1",            // Teredo
            "2001:0:4136:e378:8000:63bf:3fff:fdd2",
            "2001:2::1",  // benchmarking
            "2001:10::1", // ORCHID
            "100::1",     // discard-only
            "3fff::1",    // documentation
            "5f00::1",    // SRv6
        ] {
            assert!(private(address), "{address} should be private");
        }
    }

    #[test]
    fn public_addresses_are_not() {
        for address in [
            "1.1.1.1",
            "8.8.8.8",
            "149.154.167.220", // api.telegram.org
            "162.159.135.232", // discord.com
            "172.32.0.1",
            "172.15.255.255",
            "100.128.0.1",
            "100.63.255.255",
            "198.20.0.1",
            "2606:4700::6810:84e5",
            "2001:4860:4860::8888",
            "::ffff:8.8.8.8",
            "64:ff9b::808:808",
            "2002:808:808::1", // 6to4 of 8.8.8.8
            "2002:101:101::",
            "2001:200::1", // just past the IETF protocol assignments
            "2a00:1450:4001::200e",
        ] {
            assert!(!private(address), "{address} should be public");
        }
    }
}
