//! Where outbound calls may go: flow HTTP tasks, URL bindings of bins and executions'
//! callback URLs are user-supplied URLs the server itself connects to, so a tenant could
//! otherwise reach the server's loopback services, its private network or a cloud
//! metadata address. Only `http(s)` URLs are accepted, and every address a host name
//! resolves to is checked at connect time (so a name that resolves to a private address
//! later is refused too): loopback, private, link-local, shared and unspecified addresses
//! are refused unless an allow-list entry (a network such as `127.0.0.1/32` or
//! `10.0.0.0/8`, or an exact host name) admits them.

mod client;

use std::io;
use std::net::IpAddr;

use ipnet::IpNet;
use ureq::config::Config;
use ureq::http::Uri;
use ureq::unversioned::resolver::{DefaultResolver, ResolvedSocketAddrs, Resolver};
use ureq::unversioned::transport::{DefaultConnector, NextTimeout};

/// Which addresses outbound calls may reach beyond the public internet.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EgressPolicy {
    /// Allowed networks (any address in them, special or not).
    networks: Vec<IpNet>,
    /// Allowed host names (whatever they resolve to), lower case.
    hosts: Vec<String>,
    /// Everything is allowed (local runs on an author's own machine).
    open: bool,
}

/// A URL the policy refuses before any connection.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct UrlError(pub String);

impl EgressPolicy {
    /// Public addresses only, plus what `entries` allow: networks (`10.0.0.0/8`, a bare
    /// address meaning just it) or host names.
    pub fn with_allowed(entries: &[String]) -> Result<Self, String> {
        let mut policy = Self::default();
        for entry in entries.iter().flat_map(|e| e.split(',')).map(str::trim).filter(|e| !e.is_empty()) {
            if let Ok(net) = entry.parse::<IpNet>() {
                policy.networks.push(net);
            } else if let Ok(ip) = entry.parse::<IpAddr>() {
                policy.networks.push(IpNet::from(ip));
            } else if entry.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.') {
                policy.hosts.push(entry.to_ascii_lowercase());
            } else {
                return Err(format!("{entry:?} is neither a network (10.0.0.0/8), an address nor a host name"));
            }
        }
        Ok(policy)
    }

    /// Every address allowed: for `cloudexec flow run` on the author's machine.
    pub fn open() -> Self {
        Self { open: true, ..Self::default() }
    }

    /// Why `ip` (for `host`) may not be reached, or `None` when it may.
    pub fn refusal(&self, host: &str, ip: IpAddr) -> Option<String> {
        if self.open || self.hosts.iter().any(|h| h.eq_ignore_ascii_case(host)) {
            return None;
        }
        if self.networks.iter().any(|net| net.contains(&ip)) {
            return None;
        }
        special(ip).map(|kind| {
            format!(
                "the egress policy refuses {ip} ({kind} address of {host:?}); a server flag --egress-allow admits it"
            )
        })
    }

    /// A blocking HTTP agent with `config` whose every connection passes this policy.
    pub fn agent(&self, config: Config) -> ureq::Agent {
        ureq::Agent::with_parts(config, DefaultConnector::new(), PolicyResolver { policy: self.clone() })
    }
}

/// Refuses a URL that is not `http(s)://host...`, naming `what` it is for.
pub fn check_url(what: &str, url: &str) -> Result<(), UrlError> {
    let uri: Uri = url.trim().parse().map_err(|e| UrlError(format!("{what} {url:?} is not a URL: {e}")))?;
    match uri.scheme_str() {
        Some("http" | "https") => {}
        _ => return Err(UrlError(format!("{what} {url:?} must be an http:// or https:// URL"))),
    }
    if uri.host().is_none_or(str::is_empty) {
        return Err(UrlError(format!("{what} {url:?} has no host")));
    }
    Ok(())
}

/// The kind of a non-public address, or `None` for a public one.
fn special(ip: IpAddr) -> Option<&'static str> {
    let ip = match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(IpAddr::V6(v6), IpAddr::V4),
        v4 => v4,
    };
    match ip {
        IpAddr::V4(v4) => {
            let [a, b, ..] = v4.octets();
            if v4.is_loopback() {
                Some("loopback")
            } else if v4.is_private() {
                Some("private")
            } else if v4.is_link_local() {
                Some("link-local")
            } else if v4.is_unspecified() || v4.is_broadcast() || v4.is_multicast() || a == 0 {
                Some("unroutable")
            } else if a == 100 && (64..128).contains(&b) {
                Some("shared (carrier-grade NAT)")
            } else {
                None
            }
        }
        IpAddr::V6(v6) => {
            let first = v6.segments()[0];
            if v6.is_loopback() {
                Some("loopback")
            } else if v6.is_unspecified() || v6.is_multicast() {
                Some("unroutable")
            } else if first & 0xfe00 == 0xfc00 {
                Some("private (unique local)")
            } else if first & 0xffc0 == 0xfe80 {
                Some("link-local")
            } else {
                None
            }
        }
    }
}

/// Resolves as ureq does, then drops the addresses the policy refuses; when none is
/// left, the connection fails with the reason.
#[derive(Debug)]
struct PolicyResolver {
    policy: EgressPolicy,
}

impl Resolver for PolicyResolver {
    fn resolve(&self, uri: &Uri, config: &Config, timeout: NextTimeout) -> Result<ResolvedSocketAddrs, ureq::Error> {
        let resolved = DefaultResolver::default().resolve(uri, config, timeout)?;
        let host = uri.host().unwrap_or_default();
        let mut allowed = self.empty();
        let mut refusal = None;
        for addr in resolved.iter().copied() {
            match self.policy.refusal(host, addr.ip()) {
                None => allowed.push(addr),
                Some(why) => refusal = Some(why),
            }
        }
        match (allowed.is_empty(), refusal) {
            (true, Some(why)) => Err(ureq::Error::Io(io::Error::new(io::ErrorKind::PermissionDenied, why))),
            (true, None) => Err(ureq::Error::HostNotFound),
            (false, _) => Ok(allowed),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(text: &str) -> IpAddr {
        text.parse().expect("an address")
    }

    #[test]
    fn special_addresses_are_refused_unless_allowed() {
        let strict = EgressPolicy::default();
        for refused in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "0.0.0.0",
            "::1",
            "fd00::1",
            "fe80::1",
            "::ffff:127.0.0.1",
            "100.64.0.1",
        ] {
            assert!(strict.refusal("h", ip(refused)).is_some(), "{refused}");
        }
        for public in ["93.184.216.34", "2606:4700::1111", "8.8.8.8"] {
            assert_eq!(strict.refusal("h", ip(public)), None, "{public}");
        }
        let loopback = EgressPolicy::with_allowed(&["127.0.0.0/8".into(), "internal.example".into()]).expect("parses");
        assert_eq!(loopback.refusal("h", ip("127.0.0.1")), None);
        assert!(loopback.refusal("h", ip("10.0.0.1")).is_some());
        assert_eq!(loopback.refusal("Internal.Example", ip("10.0.0.1")), None);
        assert!(EgressPolicy::with_allowed(&["not a host!".into()]).is_err());
    }

    #[test]
    fn only_http_urls_with_a_host_pass() {
        assert_eq!(check_url("callback_url", "https://example.com/x?y=1"), Ok(()));
        for bad in ["file:///etc/passwd", "ftp://example.com/", "http://", "/relative", "gopher://x"] {
            assert!(check_url("callback_url", bad).is_err(), "{bad}");
        }
    }
}
