//! Where a secret may be sent: the host policy of `--verify-host`.
//!
//! A rule's HTTP verifier declares its host; that host is trusted as a name, but the addresses
//! it resolves to must be public (a provider's API never lives on 127.0.0.1 or 10.0.0.0/8; if
//! the resolver says so, something is wrong). Credentials that carry their own host (a database
//! URI, an SSH target) are verified only when the user names the host: a name pattern
//! (`db.example.com`, `*.example.com`) allows public addresses of matching names; an address
//! pattern (`10.0.0.5`, `10.0.0.0/8`, `::1`) allows exactly those addresses, whatever the name.
//! So private, loopback and link-local addresses are reached only when an address pattern
//! names them. Every address a name resolves to must be allowed, and the connection goes to
//! the address that was checked.

use std::net::{IpAddr, SocketAddr, ToSocketAddrs};
#[cfg(debug_assertions)]
use std::sync::OnceLock;

/// One `--verify-host` pattern.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HostPattern {
    /// A host name, exact or `*.suffix` (ASCII case-insensitive); `*` alone is any name.
    Name(String),
    /// An address or a network (`10.0.0.0/8`).
    Net {
        /// The network address.
        addr: IpAddr,
        /// Prefix length in bits.
        prefix: u8,
    },
}

impl std::str::FromStr for HostPattern {
    type Err = String;

    fn from_str(s: &str) -> Result<HostPattern, String> {
        let s = s.trim();
        if s.is_empty() {
            return Err("empty host pattern".into());
        }
        let (addr, prefix) = match s.split_once('/') {
            Some((a, p)) => (a, Some(p)),
            None => (s, None),
        };
        let bare = addr.trim_start_matches('[').trim_end_matches(']');
        if let Ok(ip) = bare.parse::<IpAddr>() {
            let max = if ip.is_ipv4() { 32 } else { 128 };
            let prefix = match prefix {
                Some(p) => p
                    .parse::<u8>()
                    .ok()
                    .filter(|p| *p <= max)
                    .ok_or_else(|| format!("bad prefix length in {s:?}"))?,
                None => max,
            };
            return Ok(HostPattern::Net { addr: ip, prefix });
        }
        if prefix.is_some() {
            return Err(format!("{s:?}: a /prefix needs an IP address"));
        }
        let name = s.to_ascii_lowercase();
        let body = name.strip_prefix("*.").unwrap_or(&name);
        let ok = name == "*"
            || (!body.is_empty()
                && body
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.' || b == b'_'));
        if !ok {
            return Err(format!(
                "{s:?} is not a host name, `*.domain`, an IP address or a network"
            ));
        }
        Ok(HostPattern::Name(name))
    }
}

impl std::fmt::Display for HostPattern {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            HostPattern::Name(n) => f.write_str(n),
            HostPattern::Net { addr, prefix } => write!(f, "{addr}/{prefix}"),
        }
    }
}

impl HostPattern {
    /// Whether a name pattern matches `host`.
    fn matches_name(&self, host: &str) -> bool {
        let HostPattern::Name(p) = self else {
            return false;
        };
        let host = host.trim_end_matches('.').to_ascii_lowercase();
        if p == "*" {
            return true;
        }
        match p.strip_prefix("*.") {
            Some(suffix) => host.len() > suffix.len() + 1 && host.ends_with(&format!(".{suffix}")),
            None => *p == host,
        }
    }

    /// Whether an address pattern covers `ip`.
    fn covers(&self, ip: IpAddr) -> bool {
        let HostPattern::Net { addr, prefix } = self else {
            return false;
        };
        let ip = canonical(ip);
        match (canonical(*addr), ip) {
            (IpAddr::V4(a), IpAddr::V4(b)) => {
                let mask = if *prefix == 0 {
                    0
                } else {
                    u32::MAX << (32 - u32::from(*prefix))
                };
                u32::from(a) & mask == u32::from(b) & mask
            }
            (IpAddr::V6(a), IpAddr::V6(b)) => {
                let mask = if *prefix == 0 {
                    0
                } else {
                    u128::MAX << (128 - u32::from(*prefix))
                };
                u128::from(a) & mask == u128::from(b) & mask
            }
            _ => false,
        }
    }
}

/// An IPv4-mapped IPv6 address as IPv4.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    }
}

/// Whether an address is one that only a deliberate choice may reach: loopback, private,
/// link-local (cloud metadata), unspecified, shared, documentation, multicast or reserved.
pub fn is_internal(ip: IpAddr) -> bool {
    match canonical(ip) {
        IpAddr::V4(v4) => {
            let o = v4.octets();
            v4.is_loopback()
                || v4.is_private()
                || v4.is_link_local()
                || v4.is_unspecified()
                || v4.is_broadcast()
                || v4.is_multicast()
                || v4.is_documentation()
                || o[0] == 0
                || (o[0] == 100 && (o[1] & 0xc0) == 64)
                || o[0] >= 240
        }
        IpAddr::V6(v6) => {
            let s = v6.segments();
            v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                || (s[0] & 0xfe00) == 0xfc00
                || (s[0] & 0xffc0) == 0xfe80
                || (s[0] == 0x2001 && s[1] == 0x0db8)
        }
    }
}

/// The hosts that credentials carrying their own host may be sent to.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HostPolicy {
    /// The `--verify-host` patterns.
    pub patterns: Vec<HostPattern>,
}

impl HostPolicy {
    /// A policy from patterns.
    pub fn new(patterns: Vec<HostPattern>) -> HostPolicy {
        HostPolicy { patterns }
    }

    /// Whether an address reached under the name `host` is allowed for a credential that
    /// names its own host.
    pub fn allows(&self, host: &str, ip: IpAddr) -> bool {
        if self.patterns.iter().any(|p| p.covers(ip)) {
            return true;
        }
        !is_internal(ip) && self.patterns.iter().any(|p| p.matches_name(host))
    }

    /// Whether the user named any host at all.
    pub fn is_empty(&self) -> bool {
        self.patterns.is_empty()
    }
}

/// Who decided that a host may receive the secret.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Trust {
    /// The rule declares the host (a provider's API): public addresses only.
    Declared,
    /// The scanned content names the host: only what `--verify-host` allows.
    UserNamed,
}

/// Resolves `host:port` and checks every address; returns the addresses to connect to, or why
/// not. A name that resolves to nothing allowed is refused whole (so a round-robin name cannot
/// slip one internal address past the check).
pub fn resolve(
    host: &str,
    port: u16,
    trust: Trust,
    policy: &HostPolicy,
) -> Result<Vec<SocketAddr>, Refusal> {
    if trust == Trust::Declared
        && let Some(addrs) = test_override(host, port)
    {
        return Ok(addrs);
    }
    if trust == Trust::UserNamed && policy.is_empty() {
        return Err(Refusal::NotAllowed(format!(
            "{host} is named by the scanned content: pass --verify-host to allow it"
        )));
    }
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    let addrs: Vec<SocketAddr> = match bare.parse::<IpAddr>() {
        Ok(ip) => vec![SocketAddr::new(ip, port)],
        Err(_) => (bare, port)
            .to_socket_addrs()
            .map_err(|e| Refusal::Network(format!("cannot resolve {host}: {e}")))?
            .collect(),
    };
    if addrs.is_empty() {
        return Err(Refusal::Network(format!("{host} resolves to no address")));
    }
    for a in &addrs {
        let ok = match trust {
            Trust::Declared => !is_internal(a.ip()),
            Trust::UserNamed => policy.allows(bare, a.ip()),
        };
        if !ok {
            return Err(Refusal::NotAllowed(match trust {
                Trust::Declared => format!(
                    "{host} resolves to {}, an internal address: not sent",
                    a.ip()
                ),
                Trust::UserNamed => format!(
                    "{host} ({}) is not allowed by --verify-host (internal addresses need an address pattern)",
                    a.ip()
                ),
            }));
        }
    }
    Ok(addrs)
}

/// Why a connection was not made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// The policy does not allow the host.
    NotAllowed(String),
    /// The name could not be resolved.
    Network(String),
}

// The test-only redirect of declared hosts (see `super::net`'s documentation): part of the
// policy, because it decides which addresses a declared host resolves to.

/// Whether the test redirect is compiled in and set (debug builds only).
pub fn test_redirect_active() -> bool {
    !test_redirects().is_empty()
}

#[cfg(debug_assertions)]
fn test_redirects() -> &'static [(String, SocketAddr)] {
    static R: OnceLock<Vec<(String, SocketAddr)>> = OnceLock::new();
    R.get_or_init(|| {
        let Ok(v) = std::env::var("FERRET_TEST_VERIFY_REDIRECT") else {
            return Vec::new();
        };
        let list: Vec<(String, SocketAddr)> = v
            .split(',')
            .filter_map(|pair| {
                let (host, addr) = pair.split_once('=')?;
                Some((host.trim().to_ascii_lowercase(), addr.trim().parse().ok()?))
            })
            .collect();
        if !list.is_empty() {
            eprintln!(
                "ferret: warning: debug build: provider hosts are redirected by \
                 FERRET_TEST_VERIFY_REDIRECT (a test setting)"
            );
        }
        list
    })
}

#[cfg(not(debug_assertions))]
fn test_redirects() -> &'static [(String, SocketAddr)] {
    &[]
}

/// Where the test redirect sends `host` (debug builds only).
pub fn test_override(host: &str, _port: u16) -> Option<Vec<SocketAddr>> {
    let host = host.to_ascii_lowercase();
    test_redirects()
        .iter()
        .find(|(h, _)| *h == host)
        .or_else(|| test_redirects().iter().find(|(h, _)| h == "*"))
        .map(|(_, a)| vec![*a])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> HostPattern {
        s.parse().unwrap()
    }

    #[test]
    fn patterns() {
        assert_eq!(
            p("10.0.0.0/8"),
            HostPattern::Net {
                addr: "10.0.0.0".parse().unwrap(),
                prefix: 8
            }
        );
        assert!(p("10.0.0.0/8").covers("10.2.3.4".parse().unwrap()));
        assert!(!p("10.0.0.0/8").covers("11.0.0.1".parse().unwrap()));
        assert!(p("127.0.0.1").covers("::ffff:127.0.0.1".parse().unwrap()));
        assert!(p("*.example.com").matches_name("db.Example.com"));
        assert!(!p("*.example.com").matches_name("example.com"));
        assert!(!p("*.example.com").matches_name("evil-example.com"));
        assert!("a b".parse::<HostPattern>().is_err());
        assert!("db/8".parse::<HostPattern>().is_err());
    }

    #[test]
    fn internal_addresses_need_an_address_pattern() {
        let policy = HostPolicy::new(vec![p("*")]);
        assert!(!policy.allows("db", "127.0.0.1".parse().unwrap()));
        assert!(!policy.allows("db", "169.254.169.254".parse().unwrap()));
        assert!(!policy.allows("db", "10.1.1.1".parse().unwrap()));
        assert!(policy.allows("db", "8.8.8.8".parse().unwrap()));
        let policy = HostPolicy::new(vec![p("127.0.0.1")]);
        assert!(policy.allows("localhost", "127.0.0.1".parse().unwrap()));
        assert!(!policy.allows("localhost", "127.0.0.2".parse().unwrap()));
    }

    #[test]
    fn content_named_hosts_are_refused_without_patterns() {
        let e = resolve("127.0.0.1", 5432, Trust::UserNamed, &HostPolicy::default());
        assert!(matches!(e, Err(Refusal::NotAllowed(_))));
        let e = resolve("127.0.0.1", 443, Trust::Declared, &HostPolicy::default());
        assert!(matches!(e, Err(Refusal::NotAllowed(_))));
    }
}
