//! The client's IP address behind proxies: `PORTICO_TRUSTED_PROXIES` names
//! the proxies (addresses or CIDR ranges) whose `X-Forwarded-For` is
//! believed. The client is the right-most address of that header that is
//! not a trusted proxy — the address the outermost trusted proxy saw — so a
//! client cannot choose its own address by sending the header itself; a
//! request from any peer that is not trusted is taken at its TCP address,
//! whatever headers it sends.

use std::net::IpAddr;

use ipnet::IpNet;

/// A client network: an IPv4 address, or the /64 of an IPv6 one.
/// The unit that throttles and the event log count by: one host usually
/// holds a whole IPv6 /64.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Network(IpAddr);

impl Network {
    pub fn of(ip: IpAddr) -> Network {
        match ip {
            IpAddr::V4(_) => Network(ip),
            IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
                Some(v4) => Network(IpAddr::V4(v4)),
                None => {
                    let prefix = u128::from(v6) & !((1u128 << 64) - 1);
                    Network(IpAddr::V6(prefix.into()))
                }
            },
        }
    }
}

impl std::fmt::Display for Network {
    /// `192.0.2.1`, or `2001:db8:1:2::/64`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.0 {
            IpAddr::V4(v4) => write!(f, "{v4}"),
            IpAddr::V6(v6) => write!(f, "{v6}/64"),
        }
    }
}

/// The proxies whose `X-Forwarded-For` is believed; empty: none.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TrustedProxies(Vec<IpNet>);

impl TrustedProxies {
    /// Parses `10.0.0.1, 192.168.0.0/16, ::1`: addresses or CIDR ranges,
    /// comma-separated. An entry that is neither is an error naming it.
    pub fn parse(list: &str) -> Result<TrustedProxies, String> {
        let mut nets = Vec::new();
        for entry in list.split(',').map(str::trim).filter(|e| !e.is_empty()) {
            let net = match entry.parse::<IpNet>() {
                Ok(net) => net,
                Err(_) => match entry.parse::<IpAddr>() {
                    Ok(ip) => IpNet::from(ip),
                    Err(_) => {
                        return Err(format!(
                            "`{entry}` is neither an IP address nor a CIDR range"
                        ));
                    }
                },
            };
            nets.push(net.trunc());
        }
        Ok(TrustedProxies(nets))
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    fn trusts(&self, ip: IpAddr) -> bool {
        let ip = canonical(ip);
        self.0.iter().any(|net| net.contains(&ip))
    }

    /// The client of a request from `peer` carrying these `X-Forwarded-For`
    /// values (every header line, in order).
    pub fn client_ip<'a>(
        &self,
        peer: IpAddr,
        forwarded_for: impl IntoIterator<Item = &'a str>,
    ) -> IpAddr {
        if !self.trusts(peer) {
            return canonical(peer);
        }
        let hops: Vec<&str> = forwarded_for
            .into_iter()
            .flat_map(|line| line.split(','))
            .map(str::trim)
            .collect();
        // Right to left: every trusted proxy appended the address it saw.
        let mut nearest = canonical(peer);
        for hop in hops.iter().rev() {
            match parse_hop(hop) {
                Some(ip) if self.trusts(ip) => nearest = ip,
                Some(ip) => return ip,
                // Not an address: the chain is broken here; the last
                // trusted hop is the best that is known.
                None => return nearest,
            }
        }
        nearest
    }
}

/// `1.2.3.4`, `1.2.3.4:5678`, `2001:db8::1`, `[2001:db8::1]:443`.
fn parse_hop(hop: &str) -> Option<IpAddr> {
    if let Ok(ip) = hop.parse::<IpAddr>() {
        return Some(canonical(ip));
    }
    if let Ok(sock) = hop.parse::<std::net::SocketAddr>() {
        return Some(canonical(sock.ip()));
    }
    None
}

/// An IPv4 address written as IPv6 (`::ffff:1.2.3.4`) is that IPv4 address.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn without_trusted_proxies_the_peer_is_the_client_whatever_it_sends() {
        let none = TrustedProxies::default();
        assert_eq!(
            none.client_ip(ip("203.0.113.5"), ["1.1.1.1"]),
            ip("203.0.113.5")
        );
    }

    #[test]
    fn spoofed_headers_from_an_untrusted_peer_are_ignored() {
        let t = TrustedProxies::parse("10.0.0.0/8").unwrap();
        assert_eq!(
            t.client_ip(ip("203.0.113.5"), ["198.51.100.1, 10.0.0.2"]),
            ip("203.0.113.5")
        );
    }

    #[test]
    fn the_client_is_the_right_most_address_that_is_not_a_trusted_proxy() {
        let t = TrustedProxies::parse(" 10.0.0.0/8 , 192.168.1.7,::1 ").unwrap();
        // The client put a fake address first; our proxies appended theirs.
        assert_eq!(
            t.client_ip(ip("10.0.0.3"), ["6.6.6.6, 203.0.113.9, 192.168.1.7"]),
            ip("203.0.113.9")
        );
        // Several header lines are one list, in order.
        assert_eq!(
            t.client_ip(ip("::1"), ["6.6.6.6", "203.0.113.9:51234", "10.1.2.3"]),
            ip("203.0.113.9")
        );
        // Only trusted hops: the farthest of them.
        assert_eq!(t.client_ip(ip("10.0.0.3"), ["10.9.9.9"]), ip("10.9.9.9"));
        // No header: the proxy itself.
        assert_eq!(t.client_ip(ip("10.0.0.3"), []), ip("10.0.0.3"));
        // Garbage where an address should be: the last trusted hop.
        assert_eq!(
            t.client_ip(ip("10.0.0.3"), ["unknown, 10.0.0.9"]),
            ip("10.0.0.9")
        );
        // Garbage on the client's side of a line hides nothing after it.
        assert_eq!(
            t.client_ip(ip("10.0.0.3"), ["\u{fffd}\u{fffd}, 203.0.113.9"]),
            ip("203.0.113.9")
        );
        // IPv4-mapped IPv6 and bracketed IPv6 with a port.
        assert_eq!(
            t.client_ip(ip("::ffff:10.0.0.3"), ["[2001:db8::7]:443"]),
            ip("2001:db8::7")
        );
    }

    #[test]
    fn a_network_reads_as_an_address_or_a_64() {
        assert_eq!(Network::of(ip("192.0.2.1")).to_string(), "192.0.2.1");
        assert_eq!(
            Network::of(ip("2001:db8:1:2:aaaa::1")).to_string(),
            "2001:db8:1:2::/64"
        );
    }

    #[test]
    fn a_bad_entry_is_an_error_that_names_it() {
        assert!(TrustedProxies::parse("10.0.0.0/33").is_err());
        let err = TrustedProxies::parse("10.0.0.1, proxy.local").unwrap_err();
        assert!(err.contains("proxy.local"), "{err}");
        assert!(TrustedProxies::parse("").unwrap().is_empty());
    }
}
