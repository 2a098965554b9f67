//! The addresses YooKassa sends notifications from.
//!
//! Notifications carry no signature; YooKassa's official SDKs authenticate them by their
//! source address (`SecurityHelper().is_ip_trusted(ip)` in yookassa-sdk-python, the same
//! list in yookassa-sdk-php). [`IpAllowlist::published`] is that list; [`IpAllowlist::parse`]
//! reads one from configuration.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::str::FromStr;

/// One range: a network address (host bits cleared) and its prefix length.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Cidr {
    V4 { network: u32, prefix: u8 },
    V6 { network: u128, prefix: u8 },
}

impl Cidr {
    fn v4(address: Ipv4Addr, prefix: u8) -> Self {
        Cidr::V4 {
            network: u32::from(address) & mask_v4(prefix),
            prefix,
        }
    }

    fn v6(address: Ipv6Addr, prefix: u8) -> Self {
        // An IPv4-mapped range (::ffff:a.b.c.d/96+) is the IPv4 range it maps.
        if prefix >= 96
            && let Some(v4) = address.to_ipv4_mapped()
        {
            return Cidr::v4(v4, prefix - 96);
        }
        Cidr::V6 {
            network: u128::from(address) & mask_v6(prefix),
            prefix,
        }
    }

    fn contains(&self, ip: IpAddr) -> bool {
        match (*self, ip) {
            (Cidr::V4 { network, prefix }, IpAddr::V4(ip)) => {
                u32::from(ip) & mask_v4(prefix) == network
            }
            (Cidr::V6 { network, prefix }, IpAddr::V6(ip)) => {
                u128::from(ip) & mask_v6(prefix) == network
            }
            _ => false,
        }
    }
}

impl fmt::Display for Cidr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Cidr::V4 { network, prefix } => write!(f, "{}/{prefix}", Ipv4Addr::from(network)),
            Cidr::V6 { network, prefix } => write!(f, "{}/{prefix}", Ipv6Addr::from(network)),
        }
    }
}

/// The top `prefix` bits set (`prefix` ≤ 32).
fn mask_v4(prefix: u8) -> u32 {
    match prefix {
        0 => 0,
        p if p >= 32 => u32::MAX,
        p => u32::MAX << (32 - u32::from(p)),
    }
}

/// The top `prefix` bits set (`prefix` ≤ 128).
fn mask_v6(prefix: u8) -> u128 {
    match prefix {
        0 => 0,
        p if p >= 128 => u128::MAX,
        p => u128::MAX << (128 - u32::from(p)),
    }
}

/// A set of IPv4 and IPv6 ranges (CIDRs) that notifications are accepted from.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct IpAllowlist {
    ranges: Vec<Cidr>,
}

impl IpAllowlist {
    /// YooKassa's published notification addresses, as its SDKs list them: six IPv4
    /// ranges and addresses, and four IPv6 /64s.
    pub fn published() -> Self {
        let v4 = [
            (Ipv4Addr::new(185, 71, 76, 0), 27),
            (Ipv4Addr::new(185, 71, 77, 0), 27),
            (Ipv4Addr::new(77, 75, 153, 0), 25),
            (Ipv4Addr::new(77, 75, 154, 128), 25),
            (Ipv4Addr::new(77, 75, 156, 11), 32),
            (Ipv4Addr::new(77, 75, 156, 35), 32),
        ];
        let v6 = [
            Ipv6Addr::new(0x2a02, 0x5180, 0, 0x1509, 0, 0, 0, 0),
            Ipv6Addr::new(0x2a02, 0x5180, 0, 0x2655, 0, 0, 0, 0),
            Ipv6Addr::new(0x2a02, 0x5180, 0, 0x1533, 0, 0, 0, 0),
            Ipv6Addr::new(0x2a02, 0x5180, 0, 0x2669, 0, 0, 0, 0),
        ];
        let ranges = v4
            .into_iter()
            .map(|(address, prefix)| Cidr::v4(address, prefix))
            .chain(v6.into_iter().map(|address| Cidr::v6(address, 64)))
            .collect();
        Self { ranges }
    }

    /// Comma-separated CIDRs (`185.71.76.0/27`, `2a02:5180::/32`) or single addresses
    /// (`77.75.156.11`, `::1`); whitespace around entries and empty entries are ignored.
    /// Host bits below the prefix are ignored (`10.0.0.7/8` is `10.0.0.0/8`). The error
    /// names the entry it could not read.
    pub fn parse(list: &str) -> Result<Self, String> {
        let mut ranges = Vec::new();
        for entry in list.split(',').map(str::trim).filter(|e| !e.is_empty()) {
            let cidr = parse_entry(entry).ok_or_else(|| {
                format!(
                    "{entry:?} is not an IP address or a CIDR range \
                     (like 185.71.76.0/27 or 2a02:5180::/32)"
                )
            })?;
            if !ranges.contains(&cidr) {
                ranges.push(cidr);
            }
        }
        Ok(Self { ranges })
    }

    /// Whether `ip` is in one of the ranges. An IPv4-mapped IPv6 address
    /// (`::ffff:a.b.c.d`, as a dual-stack socket reports IPv4 peers) counts as the IPv4
    /// address.
    pub fn contains(&self, ip: IpAddr) -> bool {
        let ip = match ip {
            IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
            IpAddr::V4(_) => ip,
        };
        self.ranges.iter().any(|range| range.contains(ip))
    }

    /// Whether the list has no ranges (and so accepts nothing).
    pub fn is_empty(&self) -> bool {
        self.ranges.is_empty()
    }

    /// How many ranges the list has.
    pub fn len(&self) -> usize {
        self.ranges.len()
    }
}

impl fmt::Display for IpAllowlist {
    /// The ranges, comma-separated, in the form [`IpAllowlist::parse`] reads.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (index, range) in self.ranges.iter().enumerate() {
            if index > 0 {
                f.write_str(",")?;
            }
            write!(f, "{range}")?;
        }
        Ok(())
    }
}

impl FromStr for IpAllowlist {
    type Err = String;

    fn from_str(list: &str) -> Result<Self, Self::Err> {
        Self::parse(list)
    }
}

/// `a.b.c.d`, `a.b.c.d/n`, `v6` or `v6/n`; `None` when it is none of these.
fn parse_entry(entry: &str) -> Option<Cidr> {
    let (address, prefix) = match entry.split_once('/') {
        Some((address, prefix)) => (address.trim(), Some(prefix.trim())),
        None => (entry, None),
    };
    let address: IpAddr = address.parse().ok()?;
    let max = match address {
        IpAddr::V4(_) => 32,
        IpAddr::V6(_) => 128,
    };
    let prefix = match prefix {
        None => max,
        Some(text) => {
            // Digits only: no sign, no netmask notation.
            if text.is_empty() || text.len() > 3 || !text.bytes().all(|b| b.is_ascii_digit()) {
                return None;
            }
            let prefix: u8 = text.parse().ok()?;
            if prefix > max {
                return None;
            }
            prefix
        }
    };
    Some(match address {
        IpAddr::V4(v4) => Cidr::v4(v4, prefix),
        IpAddr::V6(v6) => Cidr::v6(v6, prefix),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `ip_allowlist.json` from the reference folder (yookassa-sdk-python
    /// `security_helper.py` and `test/unit/test_security_helper.py`).
    const IP_ALLOWLIST: &str = r#"{
      "ipv4": ["185.71.76.0/27", "185.71.77.0/27", "77.75.153.0/25", "77.75.154.128/25", "77.75.156.11", "77.75.156.35"],
      "ipv6_sdk_2022": ["2a02:5180:0:1509::/64", "2a02:5180:0:2655::/64", "2a02:5180:0:1533::/64", "2a02:5180:0:2669::/64"],
      "vectors": [
        {"ip": "77.75.156.35", "trusted": true},
        {"ip": "77.75.153.75", "trusted": true},
        {"ip": "2a02:5180:0:2669::2a:dc6a", "trusted": true},
        {"ip": "77.75.156.36", "trusted": false},
        {"ip": "192.168.1.1", "trusted": false},
        {"ip": "2a02:4180:0:2969::2a:006a", "trusted": false}
      ]
    }"#;

    fn reference() -> serde_json::Value {
        serde_json::from_str(IP_ALLOWLIST).expect("json")
    }

    fn ip(text: &str) -> IpAddr {
        text.parse().expect("an address")
    }

    fn strings(value: &serde_json::Value) -> Vec<String> {
        value
            .as_array()
            .expect("an array")
            .iter()
            .map(|v| v.as_str().expect("a string").to_owned())
            .collect()
    }

    /// The inline copy is the reference folder's file, where the folder is present.
    #[test]
    fn the_copy_matches_the_reference_folder() {
        let folder = std::env::var_os("YOOKASSA_REFERENCE_DIR")
            .map(std::path::PathBuf::from)
            .unwrap_or_else(|| std::path::PathBuf::from("/work/shared/reference/yookassa"));
        let Ok(text) = std::fs::read_to_string(folder.join("ip_allowlist.json")) else {
            eprintln!("{} is absent; comparing nothing", folder.display());
            return;
        };
        let file: serde_json::Value = serde_json::from_str(&text).expect("json");
        let copy = reference();
        for key in ["ipv4", "ipv6_sdk_2022", "vectors"] {
            assert_eq!(file[key], copy[key], "{key}");
        }
    }

    #[test]
    fn every_sdk_vector_holds_for_the_published_list() {
        let reference = reference();
        let vectors = reference["vectors"].as_array().expect("vectors");
        assert_eq!(vectors.len(), 6);
        let published = IpAllowlist::published();
        for vector in vectors {
            let address = vector["ip"].as_str().expect("ip");
            let trusted = vector["trusted"].as_bool().expect("trusted");
            assert_eq!(published.contains(ip(address)), trusted, "{address}");
        }
    }

    #[test]
    fn the_published_list_is_the_sdk_list() {
        let reference = reference();
        let mut entries = strings(&reference["ipv4"]);
        entries.extend(strings(&reference["ipv6_sdk_2022"]));
        let parsed = IpAllowlist::parse(&entries.join(",")).expect("parses");
        assert_eq!(parsed, IpAllowlist::published());
        assert_eq!(parsed.len(), 10);
    }

    /// The vectors also hold under the wider 2a02:5180::/32 that newer pages cite.
    #[test]
    fn every_sdk_vector_holds_for_the_wider_ipv6_range() {
        let reference = reference();
        let mut entries = strings(&reference["ipv4"]);
        entries.push("2a02:5180::/32".to_owned());
        let wider = IpAllowlist::parse(&entries.join(", ")).expect("parses");
        for vector in reference["vectors"].as_array().expect("vectors") {
            let address = vector["ip"].as_str().expect("ip");
            let trusted = vector["trusted"].as_bool().expect("trusted");
            assert_eq!(wider.contains(ip(address)), trusted, "{address}");
        }
    }

    #[test]
    fn range_edges_are_inside_and_neighbours_outside() {
        let published = IpAllowlist::published();
        for inside in [
            "185.71.76.0",
            "185.71.76.31",
            "185.71.77.17",
            "77.75.153.0",
            "77.75.153.127",
            "77.75.154.128",
            "77.75.154.255",
            "77.75.156.11",
            "2a02:5180:0:1509::",
            "2a02:5180:0:1533:ffff:ffff:ffff:ffff",
            "2a02:5180:0:2655::1",
        ] {
            assert!(published.contains(ip(inside)), "{inside}");
        }
        for outside in [
            "185.71.76.32",
            "185.71.75.255",
            "77.75.153.128",
            "77.75.154.127",
            "77.75.156.12",
            "77.75.156.10",
            "2a02:5180:0:1508:ffff:ffff:ffff:ffff",
            "2a02:5180:0:2656::",
            "::",
            "0.0.0.0",
            "127.0.0.1",
            "::1",
        ] {
            assert!(!published.contains(ip(outside)), "{outside}");
        }
    }

    #[test]
    fn ipv4_mapped_ipv6_addresses_count_as_their_ipv4_address() {
        let published = IpAllowlist::published();
        assert!(published.contains(ip("::ffff:77.75.156.35")));
        assert!(published.contains(ip("::ffff:185.71.76.5")));
        assert!(!published.contains(ip("::ffff:77.75.156.36")));
        assert!(!published.contains(ip("::ffff:192.168.1.1")));
        // An IPv4-mapped range in a list is the IPv4 range.
        let list = IpAllowlist::parse("::ffff:10.0.0.0/104").expect("parses");
        assert!(list.contains(ip("10.1.2.3")));
        assert!(list.contains(ip("::ffff:10.1.2.3")));
        assert!(!list.contains(ip("11.0.0.1")));
    }

    #[test]
    fn parsing_reads_cidrs_and_single_addresses() {
        let list = IpAllowlist::parse(" 127.0.0.0/8 , ::1,10.0.0.7/8,, 2001:db8::/126 ,0.0.0.0/0")
            .expect("parses");
        assert_eq!(
            list.to_string(),
            "127.0.0.0/8,::1/128,10.0.0.0/8,2001:db8::/126,0.0.0.0/0"
        );
        assert!(list.contains(ip("127.9.9.9")));
        assert!(list.contains(ip("::1")));
        assert!(list.contains(ip("10.255.0.1")));
        assert!(list.contains(ip("2001:db8::3")));
        assert!(!list.contains(ip("2001:db8::4")));
        // 0.0.0.0/0 is every IPv4 address, and no IPv6 one.
        assert!(list.contains(ip("8.8.8.8")));
        assert!(!list.contains(ip("2001:db9::1")));
        assert_eq!(list, list.to_string().parse().expect("reads back"));

        let everything_v6 = IpAllowlist::parse("::/0").expect("parses");
        assert!(everything_v6.contains(ip("2a02:4180::1")));
        assert!(!everything_v6.contains(ip("1.2.3.4")));

        let empty = IpAllowlist::parse("").expect("parses");
        assert!(empty.is_empty());
        assert!(!empty.contains(ip("127.0.0.1")));
        assert_eq!(IpAllowlist::parse(" , ").expect("parses").len(), 0);
        assert_eq!(
            IpAllowlist::parse("1.2.3.4,1.2.3.4/32")
                .expect("parses")
                .len(),
            1
        );
    }

    #[test]
    fn parsing_names_the_bad_entry() {
        for (list, bad) in [
            ("127.0.0.0/8,not-an-ip", "not-an-ip"),
            ("10.0.0.0/33", "10.0.0.0/33"),
            ("::1/129", "::1/129"),
            ("10.0.0.0/", "10.0.0.0/"),
            ("10.0.0.0/-1", "10.0.0.0/-1"),
            ("10.0.0.0/+8", "10.0.0.0/+8"),
            ("10.0.0.0/255.0.0.0", "10.0.0.0/255.0.0.0"),
            ("10.0.0.0/8/8", "10.0.0.0/8/8"),
            ("1.2.3", "1.2.3"),
            ("1.2.3.4 5.6.7.8", "1.2.3.4 5.6.7.8"),
            ("/8", "/8"),
        ] {
            let error = IpAllowlist::parse(list).expect_err(list);
            assert!(error.contains(&format!("{bad:?}")), "{list}: {error}");
        }
    }

    #[test]
    fn masks_cover_every_prefix_length() {
        assert_eq!(mask_v4(0), 0);
        assert_eq!(mask_v4(1), 0x8000_0000);
        assert_eq!(mask_v4(24), 0xffff_ff00);
        assert_eq!(mask_v4(32), u32::MAX);
        assert_eq!(mask_v6(0), 0);
        assert_eq!(mask_v6(64), u128::MAX << 64);
        assert_eq!(mask_v6(127), u128::MAX - 1);
        assert_eq!(mask_v6(128), u128::MAX);
        for prefix in 0..=32u8 {
            assert_eq!(mask_v4(prefix).count_ones(), u32::from(prefix));
        }
        for prefix in 0..=128u8 {
            assert_eq!(mask_v6(prefix).count_ones(), u32::from(prefix));
        }
    }
}
