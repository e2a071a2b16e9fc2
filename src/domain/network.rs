//! An IP network as an operator writes it (`10.0.0.0/8`, `fd00::/8`, or one
//! address), for the settings that trust or allow addresses: trusted
//! proxies, and where tokend's own fetches may go.

use std::net::IpAddr;

use super::InvalidValue;

/// A network: an address and how many leading bits of it count.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Network {
    address: IpAddr,
    prefix: u8,
}

impl Network {
    /// A CIDR (`192.0.2.0/24`) or a single address.
    pub fn parse(text: &str) -> Result<Self, InvalidValue> {
        let bad = || InvalidValue(format!("{text:?} is not a network (CIDR) or an address"));
        let (address, prefix) = match text.trim().split_once('/') {
            Some((address, prefix)) => (address, Some(prefix)),
            None => (text.trim(), None),
        };
        let address = canonical(address.parse().map_err(|_| bad())?);
        let bits = if address.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            Some(prefix) => prefix.parse().ok().filter(|prefix| *prefix <= bits).ok_or_else(bad)?,
            None => bits,
        };
        Ok(Self { address, prefix })
    }

    /// Whether `address` is in the network (an IPv4 address written as
    /// IPv6 counts as that IPv4 address).
    pub fn contains(&self, address: IpAddr) -> bool {
        let mask = |width: u32| match self.prefix {
            0 => 0,
            prefix => u128::MAX << (width - u32::from(prefix)),
        };
        match (canonical(address), self.address) {
            (IpAddr::V4(address), IpAddr::V4(network)) => {
                let mask = mask(32) as u32;
                u32::from(address) & mask == u32::from(network) & mask
            }
            (IpAddr::V6(address), IpAddr::V6(network)) => {
                let mask = mask(128);
                u128::from(address) & mask == u128::from(network) & mask
            }
            _ => false,
        }
    }
}

/// An IPv4 address written as IPv6 (`::ffff:a.b.c.d`) is that IPv4 address.
pub fn canonical(address: IpAddr) -> IpAddr {
    match address {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(address, IpAddr::V4),
        v4 => v4,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    #[test]
    fn networks_hold_their_addresses_and_no_others() {
        let private = Network::parse("10.0.0.0/8").unwrap();
        assert!(private.contains(ip("10.200.1.2")) && private.contains(ip("::ffff:10.0.0.1")));
        assert!(!private.contains(ip("11.0.0.1")) && !private.contains(ip("fd00::1")));
        let one = Network::parse("127.0.0.1").unwrap();
        assert!(one.contains(ip("127.0.0.1")) && !one.contains(ip("127.0.0.2")));
        assert!(Network::parse("::/0").unwrap().contains(ip("2001:db8::1")));
        assert!(Network::parse("fd00::/8").unwrap().contains(ip("fd12::1")));
    }

    #[test]
    fn anything_else_is_refused() {
        for text in ["10.0.0.0/33", "fd00::/129", "10.0.0/8", "host.example", "", "10.0.0.0/x"] {
            assert!(Network::parse(text).is_err(), "{text}");
        }
    }
}
