//! Where tokend's own HTTP fetches (JWK Sets, discovery documents) may go,
//! judged after DNS resolution, so a name that resolves inward is caught as
//! surely as an address literal. Link-local and cloud metadata addresses are
//! never reached. Loopback and private addresses (services inside the
//! platform) are reached for URLs an administrator configured, unless
//! `--outbound-deny-private`; for URLs a registrant gave, only when the
//! operator lists them (`--outbound-allow`).

use std::{
    net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr},
    sync::Arc,
};

use reqwest::dns::{Addrs, Name, Resolve, Resolving};

use crate::domain::{Network, canonical};

/// Who put a URL into tokend's hands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Reach {
    /// An administrator (a client registered through `ClientAdmin` or the
    /// CLI, a trusted issuer): trusted to name services inside the platform.
    Operator,
    /// Software registering itself (RFC 7591): trusted with the public web only.
    Registrant,
}

/// The operator's exceptions and restrictions to what fetches may reach.
#[derive(Debug, Clone, Default)]
pub struct OutboundPolicy {
    /// Networks and host names fetches may reach though they are internal.
    allowed: Vec<Allowed>,
    /// Whether fetches an administrator configured are kept off internal addresses too.
    deny_private: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Allowed {
    Network(Network),
    Host(String),
}

/// What an address is, for the policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Class {
    /// Link-local, cloud metadata, unspecified, multicast, broadcast: never reached.
    Forbidden,
    /// Loopback, private, shared (CGNAT) and unique-local addresses.
    Internal,
    Public,
}

impl OutboundPolicy {
    /// The policy from `--outbound-allow` (CIDRs, addresses or host names)
    /// and `--outbound-deny-private`.
    pub fn parse(allow: &[String], deny_private: bool) -> Result<Self, String> {
        let allowed = allow.iter().map(|entry| parse_allowed(entry.trim())).collect::<Result<_, _>>()?;
        Ok(Self { allowed, deny_private })
    }

    /// Why a fetch for `reach` may not go to `address` of `host`; `None` when it may.
    fn refusal(&self, reach: Reach, host: &str, address: IpAddr) -> Option<&'static str> {
        let address = canonical(address);
        match classify(address) {
            Class::Public => None,
            Class::Forbidden => Some("a link-local or metadata address, which tokend never fetches from"),
            Class::Internal if self.allows(host, address) => None,
            Class::Internal if reach == Reach::Operator && !self.deny_private => None,
            Class::Internal => Some("an internal address that --outbound-allow does not list"),
        }
    }

    fn allows(&self, host: &str, address: IpAddr) -> bool {
        self.allowed.iter().any(|allowed| match allowed {
            Allowed::Host(name) => name.eq_ignore_ascii_case(host.trim_end_matches('.')),
            Allowed::Network(network) => network.contains(address),
        })
    }

    /// Refuses a URL whose host is an address literal the policy keeps
    /// `reach` away from (names are judged as they resolve, by [`Guarded`]).
    pub fn check_literal(&self, reach: Reach, url: &url::Url) -> Result<(), String> {
        let address = match url.host() {
            Some(url::Host::Ipv4(address)) => IpAddr::V4(address),
            Some(url::Host::Ipv6(address)) => IpAddr::V6(address),
            _ => return Ok(()),
        };
        match self.refusal(reach, &address.to_string(), address) {
            Some(why) => Err(format!("{url} names {why}")),
            None => Ok(()),
        }
    }
}

/// A resolver that hands reqwest only the addresses the policy lets `reach` fetch from.
pub struct Guarded {
    pub policy: Arc<OutboundPolicy>,
    pub reach: Reach,
}

impl Resolve for Guarded {
    fn resolve(&self, name: Name) -> Resolving {
        let (policy, reach) = (self.policy.clone(), self.reach);
        Box::pin(async move {
            let host = name.as_str().to_owned();
            let resolved: Vec<SocketAddr> = tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            let mut refusals = resolved.iter().filter_map(|at| policy.refusal(reach, &host, at.ip()));
            let permitted: Vec<SocketAddr> = resolved
                .iter()
                .copied()
                .filter(|at| policy.refusal(reach, &host, at.ip()).is_none())
                .collect();
            if permitted.is_empty() {
                let why = refusals.next().unwrap_or("no address");
                return Err(format!("{host} resolves only to {why}").into());
            }
            Ok(Box::new(permitted.into_iter()) as Addrs)
        })
    }
}

fn parse_allowed(entry: &str) -> Result<Allowed, String> {
    if let Ok(network) = Network::parse(entry) {
        return Ok(Allowed::Network(network));
    }
    let host_ok = !entry.is_empty()
        && !entry.contains('/')
        && entry.chars().any(|c| c.is_ascii_alphabetic())
        && entry.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-'));
    match host_ok {
        true => Ok(Allowed::Host(entry.trim_end_matches('.').to_ascii_lowercase())),
        false => Err(format!("--outbound-allow: {entry:?} is not a CIDR, an address or a host name")),
    }
}

fn classify(address: IpAddr) -> Class {
    match address {
        IpAddr::V4(v4) => classify_v4(v4),
        IpAddr::V6(v6) => classify_v6(v6),
    }
}

fn classify_v4(address: Ipv4Addr) -> Class {
    let [a, b, ..] = address.octets();
    // 100.100.100.200 is Alibaba Cloud's metadata service, outside link-local.
    let metadata = address == Ipv4Addr::new(100, 100, 100, 200);
    if address.is_link_local()
        || address.is_unspecified()
        || address.is_multicast()
        || address.is_broadcast()
        || a == 0
        || metadata
    {
        return Class::Forbidden;
    }
    let shared = a == 100 && (64..128).contains(&b);
    match address.is_loopback() || address.is_private() || shared {
        true => Class::Internal,
        false => Class::Public,
    }
}

fn classify_v6(address: Ipv6Addr) -> Class {
    let first = address.segments()[0];
    // fd00:ec2::254 is AWS's metadata service over IPv6.
    let metadata = address == Ipv6Addr::new(0xfd00, 0x0ec2, 0, 0, 0, 0, 0, 0x0254);
    let link_local = first & 0xffc0 == 0xfe80;
    if link_local || address.is_unspecified() || address.is_multicast() || metadata {
        return Class::Forbidden;
    }
    let unique_local = first & 0xfe00 == 0xfc00;
    match address.is_loopback() || unique_local {
        true => Class::Internal,
        false => Class::Public,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy(allow: &[&str], deny_private: bool) -> OutboundPolicy {
        OutboundPolicy::parse(&allow.iter().map(|a| a.to_string()).collect::<Vec<_>>(), deny_private).unwrap()
    }

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    #[test]
    fn metadata_and_link_local_addresses_are_never_reached() {
        let open = policy(&["169.254.0.0/16"], false);
        for address in [
            "169.254.169.254",
            "100.100.100.200",
            "fe80::1",
            "fd00:ec2::254",
            "0.0.0.0",
            "::ffff:169.254.169.254",
        ] {
            for reach in [Reach::Operator, Reach::Registrant] {
                assert!(open.refusal(reach, "h", ip(address)).is_some(), "{address} {reach:?}");
            }
        }
    }

    #[test]
    fn internal_addresses_are_an_operators_unless_denied_and_a_registrants_only_when_listed() {
        let default = policy(&[], false);
        for address in [
            "127.0.0.1",
            "10.1.2.3",
            "192.168.0.9",
            "172.20.0.1",
            "100.64.0.1",
            "::1",
            "fd12::1",
            "::ffff:127.0.0.1",
        ] {
            assert!(default.refusal(Reach::Operator, "h", ip(address)).is_none(), "{address}");
            assert!(default.refusal(Reach::Registrant, "h", ip(address)).is_some(), "{address}");
            assert!(policy(&[], true).refusal(Reach::Operator, "h", ip(address)).is_some(), "{address}");
        }
        let listed = policy(&["10.0.0.0/8", "jwks.internal"], true);
        assert!(listed.refusal(Reach::Registrant, "x", ip("10.9.9.9")).is_none());
        assert!(listed.refusal(Reach::Registrant, "JWKS.internal.", ip("192.168.1.1")).is_none());
        assert!(listed.refusal(Reach::Operator, "x", ip("192.168.1.1")).is_some());
        assert!(default.refusal(Reach::Registrant, "x", ip("93.184.216.34")).is_none(), "the public web");
    }

    #[test]
    fn an_address_literal_in_a_url_is_judged_before_any_fetch() {
        let url = |text: &str| url::Url::parse(text).unwrap();
        let default = policy(&[], false);
        assert!(default.check_literal(Reach::Operator, &url("http://169.254.169.254/latest")).is_err());
        assert!(default.check_literal(Reach::Registrant, &url("http://[::1]:8080/jwks")).is_err());
        assert!(default.check_literal(Reach::Operator, &url("http://127.0.0.1:8080/jwks")).is_ok());
        assert!(
            default.check_literal(Reach::Registrant, &url("https://keys.example/jwks")).is_ok(),
            "names resolve later"
        );
    }

    #[test]
    fn allow_entries_are_cidrs_addresses_or_host_names() {
        assert!(OutboundPolicy::parse(&["10.0.0.0/33".into()], false).is_err());
        assert!(OutboundPolicy::parse(&["not a host".into()], false).is_err());
        assert!(
            OutboundPolicy::parse(&["fd00::/8".into(), "127.0.0.1".into(), "keys.corp".into()], false)
                .is_ok()
        );
    }
}
