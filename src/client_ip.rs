//! The client's address: the TCP peer, unless the peer is a reverse proxy listed in
//! `TRUSTED_PROXIES`. Forwarding headers are believed only from such proxies: anyone else can
//! write any `X-Forwarded-For` they like.
//!
//! Invariants:
//! - Whatever counts or throttles clients by address (rate limits, the sign-in lockout) keys an
//!   IPv6 client by its /64 ([`subscriber_block`]): one subscriber usually holds a whole /64,
//!   so keying by the full address would give an attacker 2^64 fresh keys.
//! - A request is *local* ([`is_local`]) only when its TCP peer is a loopback address and it
//!   carries no forwarding header at all: a reverse proxy on the same host connects from
//!   loopback on behalf of remote visitors, and says so in such a header.

use std::net::IpAddr;

use actix_web::HttpRequest;

/// An address block such as `10.0.0.0/8` or `fd00::/8` (a bare address is a block of one).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Block {
    network: u128,
    mask: u128,
    v4: bool,
}

impl Block {
    fn parse(raw: &str) -> Result<Block, String> {
        let (address, prefix) = match raw.split_once('/') {
            Some((address, prefix)) => (address, Some(prefix)),
            None => (raw, None),
        };
        let address: IpAddr = address
            .trim()
            .parse()
            .map_err(|_| format!("{raw:?} is not an IP address or block"))?;
        let (bits, width) = match address.to_canonical() {
            IpAddr::V4(v4) => (u128::from(u32::from(v4)), 32),
            IpAddr::V6(v6) => (u128::from(v6), 128),
        };
        let prefix = match prefix {
            None => width,
            Some(prefix) => prefix
                .trim()
                .parse::<u32>()
                .ok()
                .filter(|prefix| *prefix <= width)
                .ok_or_else(|| format!("{raw:?} has a bad prefix length"))?,
        };
        let mask = if prefix == 0 {
            0
        } else {
            (u128::MAX << (width - prefix)) & (u128::MAX >> (128 - width))
        };
        Ok(Block {
            network: bits & mask,
            mask,
            v4: width == 32,
        })
    }

    fn contains(&self, address: IpAddr) -> bool {
        match address.to_canonical() {
            IpAddr::V4(v4) => self.v4 && u128::from(u32::from(v4)) & self.mask == self.network,
            IpAddr::V6(v6) => !self.v4 && u128::from(v6) & self.mask == self.network,
        }
    }
}

/// The reverse proxies whose `X-Forwarded-For` is believed (`TRUSTED_PROXIES`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TrustedProxies(Vec<Block>);

impl TrustedProxies {
    /// Comma-separated addresses and blocks; empty trusts nobody.
    pub fn parse(raw: &str) -> Result<TrustedProxies, String> {
        raw.split(',')
            .map(str::trim)
            .filter(|part| !part.is_empty())
            .map(Block::parse)
            .collect::<Result<_, _>>()
            .map(TrustedProxies)
    }

    pub fn contains(&self, address: IpAddr) -> bool {
        self.0.iter().any(|block| block.contains(address))
    }
}

/// The client of `req`: the TCP peer; or, when the peer is a trusted proxy, the last
/// `X-Forwarded-For` address that is not one (each trusted proxy appends the address it saw;
/// what stands left of the first untrusted one was written by the client itself).
pub fn client_ip(req: &HttpRequest, trusted: &TrustedProxies) -> Option<IpAddr> {
    let mut client = req.peer_addr()?.ip();
    if !trusted.contains(client) {
        return Some(client);
    }
    let forwarded = req
        .headers()
        .get_all("x-forwarded-for")
        .filter_map(|value| value.to_str().ok())
        .collect::<Vec<_>>();
    for hop in forwarded.iter().rev().flat_map(|value| value.rsplit(',')) {
        match hop.trim().parse::<IpAddr>() {
            Ok(address) => {
                client = address;
                if !trusted.contains(address) {
                    break;
                }
            }
            Err(_) => break,
        }
    }
    Some(client)
}

/// The block a client address is counted by: an IPv4 address itself, an IPv6 address's /64
/// (IPv4-mapped IPv6 addresses count as the IPv4 address).
pub fn subscriber_block(address: IpAddr) -> IpAddr {
    match address.to_canonical() {
        IpAddr::V4(v4) => IpAddr::V4(v4),
        IpAddr::V6(v6) => IpAddr::V6((u128::from(v6) & !(u128::MAX >> 64)).into()),
    }
}

/// The client of `req` as a key for per-client counts: its address, or `<block>/64` for IPv6.
pub fn client_key(req: &HttpRequest, trusted: &TrustedProxies) -> String {
    match client_ip(req, trusted).map(subscriber_block) {
        Some(IpAddr::V4(v4)) => v4.to_string(),
        Some(IpAddr::V6(v6)) => format!("{v6}/64"),
        None => "unknown".into(),
    }
}

/// Headers by which a proxy says it forwards someone else's request.
const FORWARDING_HEADERS: [&str; 3] = ["forwarded", "x-forwarded-for", "x-real-ip"];

/// Whether `req` comes from this machine itself: a loopback TCP peer (any of 127/8, `::1`, or
/// IPv4-mapped loopback) and no forwarding header (which a local proxy adds for remote clients).
pub fn is_local(req: &HttpRequest) -> bool {
    let loopback = req
        .peer_addr()
        .is_some_and(|peer| peer.ip().to_canonical().is_loopback());
    loopback && !FORWARDING_HEADERS.iter().any(|name| req.headers().contains_key(*name))
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::test::TestRequest;

    fn request(peer: &str, forwarded: Option<&str>) -> HttpRequest {
        let mut req = TestRequest::default().peer_addr(format!("{peer}:4000").parse().unwrap());
        if let Some(forwarded) = forwarded {
            req = req.insert_header(("X-Forwarded-For", forwarded));
        }
        req.to_http_request()
    }

    #[test]
    fn blocks_of_both_families_parse_and_match() {
        let trusted = TrustedProxies::parse("10.0.0.0/8, 192.168.1.7, fd00::/8").unwrap();
        assert!(trusted.contains("10.9.8.7".parse().unwrap()));
        assert!(trusted.contains("::ffff:10.1.1.1".parse().unwrap()));
        assert!(trusted.contains("192.168.1.7".parse().unwrap()));
        assert!(!trusted.contains("192.168.1.8".parse().unwrap()));
        assert!(trusted.contains("fd12::1".parse().unwrap()));
        assert!(!trusted.contains("fe80::1".parse().unwrap()));
        assert!(
            TrustedProxies::parse("0.0.0.0/0")
                .unwrap()
                .contains("8.8.8.8".parse().unwrap())
        );
        assert!(TrustedProxies::parse("10.0.0.0/33").is_err());
        assert!(TrustedProxies::parse("proxy.local").is_err());
        assert_eq!(TrustedProxies::parse(" ").unwrap(), TrustedProxies::default());
    }

    #[test]
    fn forwarded_addresses_count_only_from_trusted_proxies() {
        let none = TrustedProxies::default();
        let proxies = TrustedProxies::parse("10.0.0.0/8").unwrap();
        let ip = |s: &str| Some(s.parse::<IpAddr>().unwrap());
        assert_eq!(
            client_ip(&request("203.0.113.9", Some("1.2.3.4")), &none),
            ip("203.0.113.9")
        );
        assert_eq!(
            client_ip(&request("10.0.0.2", Some("1.2.3.4")), &proxies),
            ip("1.2.3.4")
        );
        assert_eq!(
            client_ip(&request("10.0.0.2", Some("6.6.6.6, 1.2.3.4, 10.0.0.1")), &proxies),
            ip("1.2.3.4"),
            "the spoofed left part is ignored"
        );
        assert_eq!(
            client_ip(&request("10.0.0.2", Some("garbage")), &proxies),
            ip("10.0.0.2")
        );
        assert_eq!(client_ip(&request("10.0.0.2", None), &proxies), ip("10.0.0.2"));
    }

    #[test]
    fn ipv6_clients_are_keyed_by_their_64() {
        let block = |s: &str| subscriber_block(s.parse().unwrap()).to_string();
        assert_eq!(block("2001:db8:1:2::1"), "2001:db8:1:2::");
        assert_eq!(block("2001:db8:1:2:ffff:eeee:dddd:cccc"), "2001:db8:1:2::");
        assert_eq!(block("::ffff:10.0.0.1"), "10.0.0.1");
        assert_eq!(block("10.0.0.1"), "10.0.0.1");
        let none = TrustedProxies::default();
        assert_eq!(
            client_key(&request("[2001:db8:1:2::7]", None), &none),
            "2001:db8:1:2::/64"
        );
        assert_eq!(client_key(&request("192.0.2.1", None), &none), "192.0.2.1");
    }

    #[test]
    fn only_a_direct_loopback_peer_is_local() {
        let local = |peer: &str| is_local(&request(peer, None));
        assert!(local("127.0.0.1"));
        assert!(local("127.0.0.2"), "all of 127/8 is loopback");
        assert!(local("[::1]"));
        assert!(local("[::ffff:127.0.0.1]"));
        assert!(!local("192.0.2.10"));
        assert!(!local("10.0.0.1"));
        assert!(!local("[2001:db8::1]"));
        assert!(!local("[fe80::1]"));
        assert!(!local("[::ffff:192.0.2.10]"));
        for header in ["Forwarded", "X-Forwarded-For", "X-Real-IP"] {
            let req = TestRequest::default()
                .peer_addr("127.0.0.1:4000".parse().unwrap())
                .insert_header((header, "for=203.0.113.9"))
                .to_http_request();
            assert!(!is_local(&req), "{header} from a local proxy");
        }
        assert!(!is_local(&TestRequest::default().to_http_request()), "no peer");
    }
}
