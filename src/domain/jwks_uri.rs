//! Where a client or a trusted issuer publishes its keys: an HTTPS URL, or
//! plain HTTP to this machine (tests, local development).

use std::{fmt, net::IpAddr};

use url::{Host, Url};

use super::{InvalidValue, quoted};

/// The longest URL tokend fetches keys from.
const MAX_URL_LEN: usize = 2048;

/// A URL keys may be fetched from.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct JwksUri(Url);

impl JwksUri {
    /// `field` names the setting in the error.
    pub fn parse(field: &str, raw: &str) -> Result<Self, InvalidValue> {
        let refuse = |why: &str| InvalidValue(format!("{field} {} {why}", quoted(raw)));
        if raw.len() > MAX_URL_LEN {
            return Err(refuse(&format!("is longer than {MAX_URL_LEN} characters")));
        }
        let url = Url::parse(raw).map_err(|_| refuse("is not an absolute URL"))?;
        if !url.username().is_empty() || url.password().is_some() || url.fragment().is_some() {
            return Err(refuse("must not carry credentials or a fragment"));
        }
        match url.scheme() {
            "https" if url.host().is_some() => Ok(Self(url)),
            "http" if url.host().is_some_and(|host| is_loopback(&host)) => Ok(Self(url)),
            "http" => Err(refuse("must use https (plain http only to this machine)")),
            _ => Err(refuse("must be an https URL")),
        }
    }

    pub fn as_str(&self) -> &str {
        self.0.as_str()
    }

    pub fn url(&self) -> &Url {
        &self.0
    }

    /// Whether `next` (a redirect's target) is on the same host and port.
    pub fn same_origin(&self, next: &Url) -> bool {
        self.0.scheme() == next.scheme()
            && self.0.host() == next.host()
            && self.0.port_or_known_default() == next.port_or_known_default()
    }
}

fn is_loopback(host: &Host<&str>) -> bool {
    match host {
        Host::Domain(name) => name.eq_ignore_ascii_case("localhost"),
        Host::Ipv4(ip) => IpAddr::V4(*ip).is_loopback(),
        Host::Ipv6(ip) => IpAddr::V6(*ip).is_loopback(),
    }
}

impl fmt::Display for JwksUri {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn https_anywhere_and_http_only_to_this_machine() {
        assert!(JwksUri::parse("jwks_uri", "https://keys.example/jwks.json").is_ok());
        assert!(JwksUri::parse("jwks_uri", "http://127.0.0.1:8080/jwks").is_ok());
        assert!(JwksUri::parse("jwks_uri", "http://[::1]/jwks").is_ok());
        assert!(JwksUri::parse("jwks_uri", "http://localhost/jwks").is_ok());
        let err = JwksUri::parse("jwks_uri", "http://keys.example/jwks").unwrap_err();
        assert!(err.0.contains("https"), "{err}");
        assert!(JwksUri::parse("jwks_uri", "ftp://keys.example/jwks").is_err());
        assert!(JwksUri::parse("jwks_uri", "https://user:pw@keys.example/").is_err());
        assert!(JwksUri::parse("jwks_uri", "/jwks").is_err());
    }

    #[test]
    fn redirects_stay_on_the_same_host_and_port() {
        let uri = JwksUri::parse("jwks_uri", "https://keys.example/a").unwrap();
        assert!(uri.same_origin(&Url::parse("https://keys.example/b").unwrap()));
        assert!(!uri.same_origin(&Url::parse("https://evil.example/a").unwrap()));
        assert!(!uri.same_origin(&Url::parse("https://keys.example:8443/a").unwrap()));
        assert!(!uri.same_origin(&Url::parse("http://keys.example/a").unwrap()));
    }
}
