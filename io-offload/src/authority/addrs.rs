//! Which network destinations an [`Authority`](crate::Authority) may connect to.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use ipnet::IpNet;

/// One `allow` entry of an [`HttpPolicy`](crate::HttpPolicy).
#[derive(Clone, Debug, PartialEq, Eq)]
enum Target {
    Any,
    Host(String),
    Net(IpNet),
}

#[derive(Clone, Debug, PartialEq, Eq)]
struct Rule {
    target: Target,
    port: Option<u16>,
    text: String,
}

/// Validated destination rules.
#[derive(Clone, Debug)]
pub(crate) struct NetRules {
    public: bool,
    rules: Vec<Rule>,
}

impl NetRules {
    /// Parses `allow` entries; the error names the bad entry.
    pub(crate) fn new(public: bool, allow: &[String]) -> Result<NetRules, String> {
        let rules = allow
            .iter()
            .map(|text| {
                parse_rule(text).ok_or_else(|| format!("invalid http allow entry {text:?}"))
            })
            .collect::<Result<_, _>>()?;
        Ok(NetRules { public, rules })
    }

    /// Any address at all.
    pub(crate) fn any() -> NetRules {
        NetRules {
            public: true,
            rules: vec![Rule {
                target: Target::Any,
                port: None,
                text: "*".into(),
            }],
        }
    }

    /// Whether `addr`, reached through the URL host `host`, may be connected to;
    /// `Err` names the rule that denies it.
    pub(crate) fn check(&self, host: &str, addr: SocketAddr) -> Result<(), String> {
        let ip = addr.ip().to_canonical();
        for rule in &self.rules {
            if rule.port.is_some_and(|p| p != addr.port()) {
                continue;
            }
            let hit = match &rule.target {
                Target::Any => true,
                Target::Host(name) => host_matches(name, host),
                Target::Net(net) => net.contains(&ip),
            };
            if hit {
                return Ok(());
            }
        }
        if self.public && is_public(ip) {
            return Ok(());
        }
        Err(if is_public(ip) {
            format!("address {ip} is not in the http allow list")
        } else {
            format!("address {ip} is not public (loopback, private, link-local or reserved) and not in the http allow list")
        })
    }
}

/// Whether `host` is a name that always means this machine (RFC 6761):
/// `localhost` or a name under it, in any case, with or without the final dot.
pub(crate) fn is_localhost_name(host: &str) -> bool {
    let name = host.strip_suffix('.').unwrap_or(host);
    name.eq_ignore_ascii_case("localhost")
        || name
            .len()
            .checked_sub(".localhost".len())
            .and_then(|cut| name.get(cut..))
            .is_some_and(|tail| tail.eq_ignore_ascii_case(".localhost"))
}

fn host_matches(rule: &str, host: &str) -> bool {
    let host = host.trim_start_matches('[').trim_end_matches(']');
    match rule.strip_prefix("*.") {
        Some(suffix) => host.len().checked_sub(suffix.len() + 1).is_some_and(|cut| {
            host.is_char_boundary(cut)
                && host[cut..].starts_with('.')
                && host[cut + 1..].eq_ignore_ascii_case(suffix)
        }),
        None => rule.eq_ignore_ascii_case(host),
    }
}

fn parse_port(text: &str) -> Option<u16> {
    text.parse().ok().filter(|&p| p != 0)
}

fn parse_rule(text: &str) -> Option<Rule> {
    let t = text.trim();
    let rule = |target, port| {
        Some(Rule {
            target,
            port,
            text: text.to_owned(),
        })
    };
    if t == "*" {
        return rule(Target::Any, None);
    }
    // `[v6]`, `[v6]:port`, `[v6/len]:port`.
    if let Some(rest) = t.strip_prefix('[') {
        let (inside, after) = rest.split_once(']')?;
        let port = match after {
            "" => None,
            p => Some(parse_port(p.strip_prefix(':')?)?),
        };
        return rule(Target::Net(parse_net(inside)?), port);
    }
    // A bare address (IPv6 literals have colons of their own).
    if let Ok(ip) = t.parse::<IpAddr>() {
        return rule(Target::Net(IpNet::from(ip)), None);
    }
    // `cidr` or `cidr:port` (IPv4; IPv6 CIDRs without port parse here too).
    if let Some((addr, len_port)) = t.split_once('/') {
        let (len, port) = match len_port.split_once(':') {
            Some((len, port)) => (len, Some(parse_port(port)?)),
            None => (len_port, None),
        };
        return rule(Target::Net(parse_net(&format!("{addr}/{len}"))?), port);
    }
    // `ip:port`, `host` or `host:port`.
    let (host, port) = match t.rsplit_once(':') {
        Some((host, port)) => (host, Some(parse_port(port)?)),
        None => (t, None),
    };
    if let Ok(ip) = host.parse::<IpAddr>() {
        return rule(Target::Net(IpNet::from(ip)), port);
    }
    let name = host.strip_prefix("*.").unwrap_or(host);
    let valid = !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.');
    valid.then_some(())?;
    rule(Target::Host(host.to_ascii_lowercase()), port)
}

fn parse_net(text: &str) -> Option<IpNet> {
    text.parse::<IpNet>()
        .ok()
        .or_else(|| text.parse::<IpAddr>().ok().map(IpNet::from))
        .map(|n| n.trunc())
}

/// True for globally routable unicast addresses: everything but loopback,
/// unspecified, private (RFC 1918, ULA), link-local, shared (CGNAT),
/// multicast, broadcast, documentation, benchmarking and reserved ranges, and
/// IPv6 forms that embed an IPv4 address (mapped, compatible, NAT64, 6to4),
/// which are judged by the address they embed.
pub(crate) fn is_public(ip: IpAddr) -> bool {
    match ip.to_canonical() {
        IpAddr::V4(v4) => is_public_v4(v4),
        IpAddr::V6(v6) => is_public_v6(v6),
    }
}

fn is_public_v4(ip: Ipv4Addr) -> bool {
    let [a, b, c, _] = ip.octets();
    !(a == 0                                   // "this network", 0.0.0.0
        || a == 10                             // private
        || a == 127                            // loopback
        || (a == 100 && (64..128).contains(&b)) // shared address space (CGNAT)
        || (a == 169 && b == 254)              // link-local
        || (a == 172 && (16..32).contains(&b)) // private
        || (a == 192 && b == 0 && c == 0)      // IETF protocol assignments
        || (a == 192 && b == 0 && c == 2)      // documentation
        || (a == 192 && b == 168)              // private
        || (a == 198 && (18..20).contains(&b)) // benchmarking
        || (a == 198 && b == 51 && c == 100)   // documentation
        || (a == 203 && b == 0 && c == 113)    // documentation
        || a >= 224) // multicast, reserved, broadcast
}

fn is_public_v6(ip: Ipv6Addr) -> bool {
    let s = ip.segments();
    let embedded_v4 = |hi: u16, lo: u16| {
        let [a, b] = hi.to_be_bytes();
        let [c, d] = lo.to_be_bytes();
        Ipv4Addr::new(a, b, c, d)
    };
    if ip.is_unspecified() || ip.is_loopback() {
        return false;
    }
    match s[0] {
        // IPv4-compatible (deprecated) ::a.b.c.d.
        0 if s[1..6].iter().all(|&x| x == 0) => false,
        // NAT64 64:ff9b::/96 embeds an IPv4 address.
        0x64 if s[1] == 0xff9b => is_public_v4(embedded_v4(s[6], s[7])),
        // 6to4 2002::/16 embeds an IPv4 address.
        0x2002 => is_public_v4(embedded_v4(s[1], s[2])),
        // Teredo and documentation.
        0x2001 if s[1] == 0 || s[1] == 0xdb8 => false,
        x if x & 0xfe00 == 0xfc00 => false, // unique local
        x if x & 0xffc0 == 0xfe80 => false, // link-local
        x if x & 0xffc0 == 0xfec0 => false, // site-local (deprecated)
        x if x & 0xff00 == 0xff00 => false, // multicast
        _ => true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn denied(ip: &str) -> bool {
        !is_public(ip.parse().unwrap_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED)))
    }

    #[test]
    fn private_and_special_addresses_are_not_public() {
        for ip in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "0.0.0.0",
            "100.64.0.1",
            "224.0.0.1",
            "255.255.255.255",
            "::1",
            "::",
            "fe80::1",
            "fd00::1",
            "ff02::1",
            "::ffff:127.0.0.1",
            "::ffff:10.0.0.1",
            "64:ff9b::7f00:1",
            "2002:7f00:1::",
            "::127.0.0.1",
        ] {
            assert!(denied(ip), "{ip} should not be public");
        }
        for ip in ["1.1.1.1", "8.8.8.8", "2606:4700::1111", "::ffff:1.1.1.1"] {
            assert!(!denied(ip), "{ip} should be public");
        }
    }

    #[test]
    fn localhost_names_are_recognised() {
        for name in [
            "localhost",
            "LOCALHOST",
            "localhost.",
            "a.localhost",
            "x.y.Localhost.",
        ] {
            assert!(is_localhost_name(name), "{name}");
        }
        for name in [
            "localhost.example",
            "notlocalhost",
            "localhos",
            "",
            ".",
            "xlocalhost",
        ] {
            assert!(!is_localhost_name(name), "{name}");
        }
    }

    #[test]
    fn rules_parse_and_match() {
        let rules = NetRules::new(
            false,
            &[
                "10.0.0.0/8:8080".into(),
                "[::1]:9000".into(),
                "Minio.Internal".into(),
                "*.svc.local:80".into(),
            ],
        )
        .unwrap_or_else(|e| panic!("{e}"));
        let at = |s: &str| s.parse::<SocketAddr>().unwrap_or_else(|e| panic!("{e}"));
        assert!(rules.check("x", at("10.2.3.4:8080")).is_ok());
        assert!(rules.check("x", at("10.2.3.4:80")).is_err());
        assert!(rules.check("x", at("[::1]:9000")).is_ok());
        assert!(rules.check("minio.internal", at("127.0.0.1:1")).is_ok());
        assert!(rules.check("a.svc.local", at("127.0.0.1:80")).is_ok());
        assert!(rules.check("svc.local", at("127.0.0.1:80")).is_err());
        assert!(rules.check("x", at("8.8.8.8:80")).is_err());
        assert!(NetRules::new(true, &["10.0.0.0/99".into()]).is_err());
        assert!(NetRules::new(true, &["host:0".into()]).is_err());
    }
}
