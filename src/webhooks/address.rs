//! Which addresses webhooks may reach (the SSRF guard).
//!
//! A webhook URL is chosen by a user but fetched by the server, from inside its network. Unless
//! an operator allow-lists a host (`WEBHOOK_ALLOWED_HOSTS`), requests go only to public
//! addresses: never loopback, private, link-local, carrier-grade NAT, multicast, unspecified,
//! reserved, IPv6 unique-local or IPv4-embedding IPv6 addresses.
//!
//! The check is made on the address actually connected to: a literal IP in the URL is checked
//! before sending (the HTTP client connects to it without resolving), and a host name is
//! checked inside the client's DNS resolver ([`super::sender`]), on every connection. So a
//! name that resolved to a public address at registration and to an internal one later (DNS
//! rebinding) is still refused. Registration only refuses what is certain then: literal IPs, and
//! the names `localhost` and `*.localhost`, which always mean this host (RFC 6761 §6.3).
//!
//! Refusals of names never say what the name resolved to: an error a user reads (at
//! registration, in the delivery history) must not map the internal network for them. The
//! addresses go to the server's log only.

use std::collections::BTreeSet;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use url::{Host, Url};

/// The kind of address webhooks may not reach, if `ip` is one.
pub fn forbidden_kind(ip: IpAddr) -> Option<&'static str> {
    match ip {
        IpAddr::V4(v4) => forbidden_v4(v4),
        IpAddr::V6(v6) => forbidden_v6(v6),
    }
}

fn forbidden_v4(ip: Ipv4Addr) -> Option<&'static str> {
    let [a, b, c, _] = ip.octets();
    Some(match (a, b, c) {
        _ if ip.is_unspecified() => "an unspecified",
        (0, _, _) => "a \"this network\"",
        (127, _, _) => "a loopback",
        (10, _, _) | (192, 168, _) => "a private",
        (172, 16..=31, _) => "a private",
        (169, 254, _) => "a link-local",
        (100, 64..=127, _) => "a carrier-grade NAT",
        (192, 0, 0) | (198, 18..=19, _) => "a reserved",
        (224..=239, _, _) => "a multicast",
        (240..=255, _, _) => "a reserved",
        _ => return None,
    })
}

fn forbidden_v6(ip: Ipv6Addr) -> Option<&'static str> {
    let segments = ip.segments();
    if ip.is_unspecified() {
        return Some("an unspecified");
    }
    if ip.is_loopback() {
        return Some("a loopback");
    }
    Some(match segments[0] {
        0xfc00..=0xfdff => "a unique local (IPv6 ULA)",
        0xfe80..=0xfebf => "a link-local",
        0xfec0..=0xfeff => "a site-local",
        0xff00..=0xffff => "a multicast",
        // ::ffff:a.b.c.d (mapped), ::a.b.c.d (compatible), 64:ff9b::/96 (NAT64) and 2002::/16
        // (6to4) reach IPv4 hosts through IPv6; refused rather than unwrapped.
        0 if segments[1..5] == [0; 4] => "an IPv4-mapped or IPv4-compatible IPv6",
        0x64 if segments[1] == 0xff9b => "a NAT64",
        0x2002 => "a 6to4",
        _ => return None,
    })
}

/// The operator's allow-list (`WEBHOOK_ALLOWED_HOSTS`), applied over the default refusal.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AddressPolicy {
    /// Host names (lower-case) whose every address may be reached.
    hosts: BTreeSet<String>,
    /// Addresses that may be reached whatever name leads to them.
    ips: BTreeSet<IpAddr>,
}

impl AddressPolicy {
    /// Parses a comma-separated list of host names and IP addresses (`[::1]` or `::1`).
    pub fn parse(list: &str) -> Result<AddressPolicy, String> {
        let mut policy = AddressPolicy::default();
        for entry in list.split(',').map(str::trim).filter(|e| !e.is_empty()) {
            let bare = entry.trim_start_matches('[').trim_end_matches(']');
            if let Ok(ip) = bare.parse::<IpAddr>() {
                policy.ips.insert(ip);
            } else if entry
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '-' || c == '_')
            {
                policy.hosts.insert(entry.trim_end_matches('.').to_ascii_lowercase());
            } else {
                return Err(format!(
                    "{entry:?} is neither a host name nor an IP address (no scheme, port or path)"
                ));
            }
        }
        Ok(policy)
    }

    /// Why `ip` may not be reached, or `None` when it may.
    pub fn refusal(&self, ip: IpAddr) -> Option<String> {
        if self.ips.contains(&ip) {
            return None;
        }
        forbidden_kind(ip).map(|kind| format!("{ip} is {kind} address"))
    }

    /// The check of a URL whose host is a literal IP address or a name of this host (other names
    /// are checked when resolved).
    pub fn check_url(&self, url: &Url) -> Result<(), String> {
        let ip = match url.host() {
            Some(Host::Ipv4(ip)) => IpAddr::V4(ip),
            Some(Host::Ipv6(ip)) => IpAddr::V6(ip),
            Some(Host::Domain(name)) => return self.check_name(name),
            None => return Ok(()),
        };
        match self.refusal(ip) {
            None => Ok(()),
            Some(why) => Err(format!(
                "refused: {why}; webhooks may only reach public addresses unless WEBHOOK_ALLOWED_HOSTS lists it"
            )),
        }
    }

    /// `localhost` and `*.localhost` are loopback like 127.0.0.1: refused unless the name, or a
    /// loopback address (what the name leads to), is allow-listed.
    fn check_name(&self, name: &str) -> Result<(), String> {
        let name = name.trim_end_matches('.').to_ascii_lowercase();
        let loopback_name = name == "localhost" || name.ends_with(".localhost");
        if !loopback_name || self.hosts.contains(&name) || self.ips.iter().any(IpAddr::is_loopback) {
            return Ok(());
        }
        Err(format!(
            "refused: {name} is a loopback host name; webhooks may only reach public addresses unless \
             WEBHOOK_ALLOWED_HOSTS lists it"
        ))
    }

    /// The addresses `host` resolved to that may be reached; an error when none may.
    pub fn resolved(&self, host: &str, addresses: Vec<SocketAddr>) -> Result<Vec<SocketAddr>, String> {
        if self.hosts.contains(&host.trim_end_matches('.').to_ascii_lowercase()) {
            return Ok(addresses);
        }
        let mut refusals = Vec::new();
        let allowed: Vec<SocketAddr> = addresses
            .into_iter()
            .filter(|address| match self.refusal(address.ip()) {
                None => true,
                Some(why) => {
                    refusals.push(why);
                    false
                }
            })
            .collect();
        if allowed.is_empty() {
            // The addresses stay in the log: the error reaches the webhook's owner.
            tracing::info!(host, refused = %refusals.join(", "), "webhook host name refused");
            return Err(format!(
                "refused: {host} does not resolve to an address webhooks may reach (public, or listed in \
                 WEBHOOK_ALLOWED_HOSTS)"
            ));
        }
        Ok(allowed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    #[test]
    fn internal_ranges_are_refused_and_public_ones_reached() {
        for internal in [
            "127.0.0.1",
            "10.1.2.3",
            "172.20.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "224.0.0.1",
            "255.255.255.255",
            "::1",
            "::",
            "fd00::1",
            "fe80::1",
            "ff02::1",
            "::ffff:127.0.0.1",
            "::ffff:8.8.8.8",
            "64:ff9b::a00:1",
        ] {
            assert!(forbidden_kind(ip(internal)).is_some(), "{internal} must be refused");
        }
        for public in ["8.8.8.8", "172.32.0.1", "100.128.0.1", "2606:4700::1111"] {
            assert_eq!(forbidden_kind(ip(public)), None, "{public} is public");
        }
    }

    #[test]
    fn the_allow_list_admits_named_hosts_and_listed_addresses() {
        let policy = AddressPolicy::parse(" 127.0.0.1, Hooks.Internal ,[::1]").unwrap();
        assert_eq!(policy.refusal(ip("127.0.0.1")), None);
        assert_eq!(policy.refusal(ip("::1")), None);
        assert!(policy.refusal(ip("10.0.0.1")).unwrap().contains("private"));
        let resolved = vec![SocketAddr::new(ip("10.0.0.7"), 0)];
        assert_eq!(policy.resolved("hooks.internal", resolved.clone()).unwrap(), resolved);
        let refused = policy.resolved("other.internal", resolved).unwrap_err();
        assert!(
            refused.contains("other.internal does not resolve to an address"),
            "{refused}"
        );
        assert!(
            !refused.contains("10.0.0.7"),
            "what a name resolves to is not told: {refused}"
        );
        assert!(AddressPolicy::parse("http://x").is_err());
    }

    #[test]
    fn only_literal_addresses_are_judged_from_the_url() {
        let policy = AddressPolicy::default();
        let refused = policy
            .check_url(&Url::parse("http://2130706433:8080/x").unwrap())
            .unwrap_err();
        assert!(refused.contains("127.0.0.1 is a loopback address"), "{refused}");
        assert!(policy.check_url(&Url::parse("http://[::1]/").unwrap()).is_err());
        assert!(policy.check_url(&Url::parse("https://example.com/").unwrap()).is_ok());
        for name in [
            "http://localhost/",
            "http://LocalHost.:8080/",
            "http://hooks.localhost/",
        ] {
            let refused = policy.check_url(&Url::parse(name).unwrap()).unwrap_err();
            assert!(refused.contains("is a loopback host name"), "{name}: {refused}");
        }
        let named = AddressPolicy::parse("localhost").unwrap();
        assert!(named.check_url(&Url::parse("http://localhost:9/").unwrap()).is_ok());
        assert!(named.check_url(&Url::parse("http://x.localhost:9/").unwrap()).is_err());
        let loopback = AddressPolicy::parse("127.0.0.1").unwrap();
        assert!(
            loopback
                .check_url(&Url::parse("http://x.localhost:9/").unwrap())
                .is_ok()
        );
        assert!(
            policy
                .check_url(&Url::parse("http://notlocalhost.example/").unwrap())
                .is_ok()
        );
        let mixed = vec![
            SocketAddr::new(ip("127.0.0.1"), 80),
            SocketAddr::new(ip("93.184.216.34"), 80),
        ];
        assert_eq!(
            policy.resolved("example.com", mixed).unwrap().len(),
            1,
            "only the public one"
        );
    }
}
