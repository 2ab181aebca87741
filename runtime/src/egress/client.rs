//! The shared async HTTP client for outbound calls (flow HTTP tasks, executions' callback
//! URLs): one connection pool, no thread per call in flight, and the egress policy applied
//! where connections are made. Host names go through [`PolicyDns`]; an address written in
//! the URL never reaches a resolver, so [`EgressPolicy::check_literal`] checks it before
//! the request and at every redirect.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use reqwest::redirect;

use super::EgressPolicy;

/// Redirects followed at most (as ureq did).
const MAX_REDIRECTS: usize = 10;

/// Idle connections kept per host.
const MAX_IDLE_PER_HOST: usize = 64;

impl EgressPolicy {
    /// Why the URL's host, when it is an address, may not be reached.
    pub fn check_literal(&self, url: &reqwest::Url) -> Result<(), String> {
        let host = url.host_str().unwrap_or_default();
        let Ok(ip) = host.trim_start_matches('[').trim_end_matches(']').parse::<IpAddr>() else { return Ok(()) };
        match self.refusal(&ip.to_string(), ip) {
            Some(why) => Err(why),
            None => Ok(()),
        }
    }

    /// An async client whose every connection passes this policy: no proxy from the
    /// environment, at most [`MAX_REDIRECTS`] redirects, each to an allowed http(s) URL.
    pub fn client(&self, connect_timeout: Duration) -> reqwest::Client {
        let policy = self.clone();
        let redirects = redirect::Policy::custom(move |attempt| {
            if attempt.previous().len() >= MAX_REDIRECTS {
                return attempt.error(format!("more than {MAX_REDIRECTS} redirects"));
            }
            if !matches!(attempt.url().scheme(), "http" | "https") {
                let why = format!("a redirect to {} (only http and https are followed)", attempt.url());
                return attempt.error(why);
            }
            match policy.check_literal(attempt.url()) {
                Ok(()) => attempt.follow(),
                Err(why) => attempt.error(why),
            }
        });
        reqwest::Client::builder()
            .no_proxy()
            // Thousands of calls to one host may be in flight at once; keeping them all
            // open afterwards would hold their buffers (and slow the pool's scans).
            .pool_max_idle_per_host(MAX_IDLE_PER_HOST)
            .connect_timeout(connect_timeout)
            .redirect(redirects)
            .dns_resolver(Arc::new(PolicyDns { policy: self.clone() }))
            .build()
            .unwrap_or_else(|_| reqwest::Client::new())
    }
}

/// Resolves with the system resolver, then keeps only the addresses the policy allows;
/// when none is left, the connection fails with the reason.
struct PolicyDns {
    policy: EgressPolicy,
}

impl Resolve for PolicyDns {
    fn resolve(&self, name: Name) -> Resolving {
        let policy = self.policy.clone();
        let host = name.as_str().to_string();
        Box::pin(async move {
            let resolved: Vec<SocketAddr> = tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            let mut refusal = None;
            let allowed: Vec<SocketAddr> = resolved
                .into_iter()
                .filter(|addr| match policy.refusal(&host, addr.ip()) {
                    None => true,
                    Some(why) => {
                        refusal = Some(why);
                        false
                    }
                })
                .collect();
            if allowed.is_empty() {
                let why = refusal.unwrap_or_else(|| format!("{host:?} resolves to no address"));
                return Err(why.into());
            }
            let addrs: Addrs = Box::new(allowed.into_iter());
            Ok(addrs)
        })
    }
}
