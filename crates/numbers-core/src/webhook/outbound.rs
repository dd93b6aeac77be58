//! The one policy for every URL this server calls on a client's behalf — webhooks, Bandwidth
//! subscriptions, Sinch callback URLs, the native `callback_url` — from the moment it is written
//! to every connection made to it. A URL is parsed with the WHATWG rules of the `url` crate, the
//! parser the HTTP client itself uses, so the host checked is the host called (`127.1`,
//! `0x7f000001`, `%31%32%37.0.0.1` or `①②⑦.0.0.1` are all 127.0.0.1 here as they are there).
//! `AddressPolicy` then refuses this server itself always, and — unless the operator allows them
//! (`webhooks.allow_private`) — every address that is not public unicast: loopback, private,
//! shared (CGNAT), link-local (cloud metadata lives there), benchmarking, documentation, reserved,
//! multicast, this host's own addresses, and the IPv6 forms that embed any of those. It is
//! applied when a URL is written (a field error) and again to every address a connection is about
//! to use, after name resolution (`NameLookup`), so a name that resolves to 127.0.0.1 at send
//! time reaches nothing either.

use std::collections::HashMap;
use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, UdpSocket};
use std::sync::OnceLock;

use async_trait::async_trait;
use url::{Host, Url};

use crate::error::{Error, Result};

/// Longer URLs are refused (receivers and logs choke on them long before this).
pub const URL_MAX_CHARS: usize = 2048;

/// An absolute http(s) URL as the HTTP client will see it. No user info: credentials for the
/// receiver belong in the format's configuration, not in a URL that gets logged and echoed.
/// `as_str` is what the client wrote (echoed back unchanged); every decision is taken on the
/// parsed form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookUrl {
    raw: String,
    /// `Err`: why a URL read back from the database fails today's rules (`from_stored`); such
    /// a URL is refused by every check, so nothing is ever sent to it.
    parsed: std::result::Result<Url, String>,
}

impl WebhookUrl {
    pub fn parse(s: &str, field: &str) -> Result<Self> {
        let raw = s.trim();
        let bad = |why: &str| Error::invalid(field, why.to_string());
        if raw.chars().count() > URL_MAX_CHARS {
            return Err(bad(&format!("must be at most {URL_MAX_CHARS} characters")));
        }
        // WHATWG silently drops tabs and newlines and reads '\' as '/': a URL that needs either
        // to mean what it says is refused rather than reinterpreted.
        if raw.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(bad("must not contain spaces or control characters"));
        }
        if raw.contains('\\') {
            return Err(bad("must not contain backslashes"));
        }
        let scheme_len = if starts_with_ignore_case(raw, "https://") {
            8
        } else if starts_with_ignore_case(raw, "http://") {
            7
        } else {
            return Err(bad("must be an absolute http:// or https:// URL"));
        };
        let authority = raw[scheme_len..]
            .split(['/', '?', '#'])
            .next()
            .unwrap_or_default();
        if authority.is_empty() {
            return Err(bad("must name a host"));
        }
        if authority.contains('@') {
            return Err(bad("must not carry credentials (user:password@)"));
        }
        let parsed = Url::parse(raw)
            .map_err(|e| Error::invalid(field, format!("is not a valid URL: {e}")))?;
        if !matches!(parsed.scheme(), "http" | "https") {
            return Err(bad("must be an absolute http:// or https:// URL"));
        }
        match parsed.host() {
            None => return Err(bad("must name a host")),
            Some(Host::Domain(d)) if d.trim_end_matches('.').is_empty() => {
                return Err(bad("must name a host"));
            }
            Some(_) => {}
        }
        if parsed.port() == Some(0) {
            return Err(bad("has an invalid port"));
        }
        Ok(WebhookUrl {
            raw: raw.to_string(),
            parsed: Ok(parsed),
        })
    }

    /// A URL as stored, which may have been written under looser rules than `parse`'s: one that
    /// fails them still loads (so its subscription can be listed, fixed or deleted, and one bad
    /// row never stops the fan-out), but every policy check refuses it.
    pub fn from_stored(raw: &str) -> Self {
        WebhookUrl::parse(raw, "url").unwrap_or_else(|e| WebhookUrl {
            raw: raw.to_string(),
            parsed: Err(e.to_string()),
        })
    }

    /// The URL as the client wrote it (trimmed).
    pub fn as_str(&self) -> &str {
        &self.raw
    }

    /// The URL as the HTTP client sends it (WHATWG serialisation).
    pub fn normalized(&self) -> &str {
        self.parsed.as_ref().map_or(&self.raw, Url::as_str)
    }

    fn host_parts(&self) -> Option<Host<&str>> {
        self.parsed.as_ref().ok()?.host()
    }

    /// The host as the client will connect to it: a lowercase (punycode) name without trailing
    /// dots, a dotted IPv4 address, or a bracketed IPv6 address.
    pub fn host(&self) -> String {
        match self.host_parts() {
            Some(Host::Domain(d)) => d.trim_end_matches('.').to_string(),
            Some(Host::Ipv4(ip)) => ip.to_string(),
            Some(Host::Ipv6(ip)) => format!("[{ip}]"),
            None => String::new(),
        }
    }

    pub fn port(&self) -> u16 {
        self.parsed
            .as_ref()
            .ok()
            .and_then(Url::port_or_known_default)
            .unwrap_or(if self.is_https() { 443 } else { 80 })
    }

    pub fn is_https(&self) -> bool {
        self.parsed.as_ref().is_ok_and(|u| u.scheme() == "https")
    }

    /// `scheme://host:port`: the unit of "one request in flight per endpoint".
    pub fn origin(&self) -> String {
        if self.parsed.is_err() {
            return self.raw.clone();
        }
        let scheme = if self.is_https() { "https" } else { "http" };
        format!("{scheme}://{}:{}", self.host(), self.port())
    }

    /// The address when the host is an IP literal (in any spelling WHATWG accepts).
    pub fn ip_literal(&self) -> Option<IpAddr> {
        match self.host_parts()? {
            Host::Ipv4(ip) => Some(IpAddr::V4(ip)),
            Host::Ipv6(ip) => Some(IpAddr::V6(ip)),
            Host::Domain(_) => None,
        }
    }

    /// `localhost` and its subdomains (RFC 6761: always loopback, never asked of DNS).
    fn is_local_name(&self) -> bool {
        matches!(self.host_parts(), Some(Host::Domain(d)) if {
            let d = d.trim_end_matches('.');
            d == "localhost" || d.ends_with(".localhost")
        })
    }
}

impl std::fmt::Display for WebhookUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.raw)
    }
}

fn starts_with_ignore_case(s: &str, prefix: &str) -> bool {
    s.get(..prefix.len())
        .is_some_and(|head| head.eq_ignore_ascii_case(prefix))
}

/// Why an address is not one a callback may reach: what kind of address it is, and the IPv4
/// address it stands for when it is an IPv6 form embedding one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NonPublic {
    pub kind: &'static str,
    pub embedded: Option<Ipv4Addr>,
}

impl std::fmt::Display for NonPublic {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.embedded {
            Some(v4) => write!(f, "{} (it embeds {v4})", self.kind),
            None => f.write_str(self.kind),
        }
    }
}

/// The IPv4 special-purpose blocks that are not globally reachable unicast (IANA registry),
/// plus multicast and the reserved 240/4: (network, prefix length, kind).
#[rustfmt::skip]
const V4_BLOCKS: &[([u8; 4], u8, &str)] = &[
    ([0, 0, 0, 0], 8, "the unspecified / 'this network' block 0.0.0.0/8"),
    ([10, 0, 0, 0], 8, "a private address (RFC 1918)"),
    ([100, 64, 0, 0], 10, "shared address space (carrier-grade NAT, 100.64.0.0/10)"),
    ([127, 0, 0, 0], 8, "a loopback address"),
    ([169, 254, 0, 0], 16, "a link-local address (cloud metadata services live there)"),
    ([172, 16, 0, 0], 12, "a private address (RFC 1918)"),
    ([192, 0, 0, 0], 24, "the IETF protocol assignments block 192.0.0.0/24"),
    ([192, 0, 2, 0], 24, "a documentation address (TEST-NET-1)"),
    ([192, 88, 99, 0], 24, "the 6to4 relay anycast block 192.88.99.0/24"),
    ([192, 168, 0, 0], 16, "a private address (RFC 1918)"),
    ([198, 18, 0, 0], 15, "a benchmarking address (198.18.0.0/15)"),
    ([198, 51, 100, 0], 24, "a documentation address (TEST-NET-2)"),
    ([203, 0, 113, 0], 24, "a documentation address (TEST-NET-3)"),
    ([224, 0, 0, 0], 4, "a multicast address"),
    ([240, 0, 0, 0], 4, "a reserved address (240.0.0.0/4, with the broadcast address)"),
];

/// IPv6 blocks inside global unicast 2000::/3 that are not reachable unicast destinations:
/// (network, prefix length, kind). Everything outside 2000::/3 is refused too (`v6_kind`).
#[rustfmt::skip]
const V6_GLOBAL_EXCEPTIONS: &[([u16; 8], u8, &str)] = &[
    ([0x2001, 0, 0, 0, 0, 0, 0, 0], 32, "a Teredo address (2001::/32)"),
    ([0x2001, 2, 0, 0, 0, 0, 0, 0], 48, "a benchmarking address (2001:2::/48)"),
    ([0x2001, 0x10, 0, 0, 0, 0, 0, 0], 28, "an ORCHID address (2001:10::/28)"),
    ([0x2001, 0x20, 0, 0, 0, 0, 0, 0], 28, "an ORCHIDv2 address (2001:20::/28)"),
    ([0x2001, 0xdb8, 0, 0, 0, 0, 0, 0], 32, "a documentation address (2001:db8::/32)"),
    ([0x2002, 0, 0, 0, 0, 0, 0, 0], 16, "a 6to4 address (2002::/16)"),
    ([0x3fff, 0, 0, 0, 0, 0, 0, 0], 20, "a documentation address (3fff::/20)"),
];

fn in_v4(ip: Ipv4Addr, net: [u8; 4], len: u8) -> bool {
    let mask = u32::MAX.checked_shl(32 - u32::from(len)).unwrap_or(0);
    u32::from(ip) & mask == u32::from(Ipv4Addr::from(net)) & mask
}

fn in_v6(ip: Ipv6Addr, net: [u16; 8], len: u8) -> bool {
    let mask = u128::MAX.checked_shl(128 - u32::from(len)).unwrap_or(0);
    u128::from(ip) & mask == u128::from(Ipv6Addr::from(net)) & mask
}

/// The IPv4 address an IPv6 address stands for, in the forms a connection can actually reach
/// it through: IPv4-mapped (`::ffff:a.b.c.d`, the socket API's own form), IPv4-translated
/// (`::ffff:0:a.b.c.d`) and the NAT64 well-known prefix (`64:ff9b::a.b.c.d`, what DNS64
/// synthesises for IPv4-only names — so public ones stay reachable on NAT64 networks).
fn embedded_v4(ip: Ipv6Addr) -> Option<Ipv4Addr> {
    let [a, b, c, d, e, f, _, _] = ip.segments();
    let low = Ipv4Addr::from((u128::from(ip) & 0xffff_ffff) as u32);
    match (a, b, c, d, e, f) {
        (0, 0, 0, 0, 0, 0xffff) | (0, 0, 0, 0, 0xffff, 0) | (0x64, 0xff9b, 0, 0, 0, 0) => Some(low),
        _ => None,
    }
}

fn v4_kind(ip: Ipv4Addr) -> Option<&'static str> {
    V4_BLOCKS
        .iter()
        .find(|(net, len, _)| in_v4(ip, *net, *len))
        .map(|(_, _, kind)| *kind)
}

fn v6_kind(ip: Ipv6Addr) -> Option<&'static str> {
    let first = ip.segments()[0];
    if ip.is_unspecified() {
        return Some("the unspecified address ::");
    }
    if ip.is_loopback() {
        return Some("a loopback address");
    }
    if in_v6(ip, [0; 8], 96) {
        return Some("an IPv4-compatible address (::a.b.c.d, deprecated)");
    }
    if first & 0xe000 != 0x2000 {
        return Some(match first {
            _ if first & 0xfe00 == 0xfc00 => "a unique local (private) address (fc00::/7)",
            _ if first & 0xffc0 == 0xfe80 => "a link-local address (fe80::/10)",
            _ if first & 0xffc0 == 0xfec0 => "a site-local address (fec0::/10, deprecated)",
            _ if first & 0xff00 == 0xff00 => "a multicast address",
            _ if in_v6(ip, [0x64, 0xff9b, 1, 0, 0, 0, 0, 0], 48) => {
                "a local-use NAT64 address (64:ff9b:1::/48)"
            }
            _ if in_v6(ip, [0x100, 0, 0, 0, 0, 0, 0, 0], 64) => "a discard-only address (100::/64)",
            _ => "outside global unicast (2000::/3)",
        });
    }
    V6_GLOBAL_EXCEPTIONS
        .iter()
        .find(|(net, len, _)| in_v6(ip, *net, *len))
        .map(|(_, _, kind)| *kind)
}

/// Why `ip` is not a public unicast address, or `None` when it is one.
pub fn non_public(ip: IpAddr) -> Option<NonPublic> {
    match ip {
        IpAddr::V4(v4) => v4_kind(v4).map(|kind| NonPublic {
            kind,
            embedded: None,
        }),
        IpAddr::V6(v6) => match embedded_v4(v6) {
            Some(v4) => v4_kind(v4).map(|kind| NonPublic {
                kind,
                embedded: Some(v4),
            }),
            None => v6_kind(v6).map(|kind| NonPublic {
                kind,
                embedded: None,
            }),
        },
    }
}

/// Whether `ip` is one of this host's own addresses (so a connection to it stays on this host,
/// past any firewall between hosts). Binding a socket succeeds exactly for local addresses —
/// unless the kernel lets sockets bind any address (`ip_nonlocal_bind`), which the first call
/// per family detects with two documentation addresses no host has both of; then this answers
/// false and the range rules alone apply.
fn is_on_this_host(ip: IpAddr) -> bool {
    static V4_PROBE_WORKS: OnceLock<bool> = OnceLock::new();
    static V6_PROBE_WORKS: OnceLock<bool> = OnceLock::new();
    let binds = |ip: IpAddr| UdpSocket::bind(SocketAddr::new(ip, 0)).is_ok();
    let works = |a: IpAddr, b: IpAddr| {
        let nonlocal_bind = binds(a) && binds(b);
        if nonlocal_bind {
            tracing::warn!(
                "this host lets sockets bind any address (ip_nonlocal_bind); outbound URLs are \
                 checked by address range only, not against this host's own public addresses"
            );
        }
        !nonlocal_bind
    };
    let probe_works = match ip {
        IpAddr::V4(_) => *V4_PROBE_WORKS.get_or_init(|| {
            works(
                Ipv4Addr::new(198, 51, 100, 1).into(),
                Ipv4Addr::new(203, 0, 113, 1).into(),
            )
        }),
        IpAddr::V6(_) => *V6_PROBE_WORKS.get_or_init(|| {
            works(
                Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 1).into(),
                Ipv6Addr::new(0x3fff, 0, 0, 0, 0, 0, 0, 1).into(),
            )
        }),
    };
    probe_works && !ip.is_multicast() && binds(ip)
}

/// How the names in outbound URLs become addresses. The system resolver in production; tests
/// plug in their own to prove that the address check applies to what a name resolves to.
#[async_trait]
pub trait NameLookup: Send + Sync {
    async fn lookup(&self, host: &str) -> io::Result<Vec<IpAddr>>;
}

/// The operating system's resolver (getaddrinfo, through tokio).
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemLookup;

#[async_trait]
impl NameLookup for SystemLookup {
    async fn lookup(&self, host: &str) -> io::Result<Vec<IpAddr>> {
        Ok(tokio::net::lookup_host((host, 0))
            .await?
            .map(|a| a.ip())
            .collect())
    }
}

/// A fixed table of names (hosts-file style); any other name does not exist. For closed
/// networks and for tests that must control what a name resolves to.
#[derive(Debug, Clone, Default)]
pub struct StaticLookup(HashMap<String, Vec<IpAddr>>);

impl StaticLookup {
    pub fn new<'a>(entries: impl IntoIterator<Item = (&'a str, IpAddr)>) -> Self {
        let mut table: HashMap<String, Vec<IpAddr>> = HashMap::new();
        for (name, ip) in entries {
            table.entry(name.to_ascii_lowercase()).or_default().push(ip);
        }
        StaticLookup(table)
    }
}

#[async_trait]
impl NameLookup for StaticLookup {
    async fn lookup(&self, host: &str) -> io::Result<Vec<IpAddr>> {
        self.0
            .get(&host.to_ascii_lowercase())
            .cloned()
            .ok_or_else(|| io::Error::new(io::ErrorKind::NotFound, format!("no such name: {host}")))
    }
}

/// Where outbound requests may go. `self_addresses` are this server's own listeners (known at
/// launch).
#[derive(Debug, Clone, Default)]
pub struct AddressPolicy {
    pub allow_private: bool,
    pub self_addresses: Vec<SocketAddr>,
}

const NOT_ALLOWED: &str = "the operator has not allowed loopback or private targets \
     (webhooks.allow_private / NUMBERSD_WEBHOOKS_ALLOW_PRIVATE)";

impl AddressPolicy {
    fn is_self(&self, ip: IpAddr, port: u16) -> bool {
        let ip = ip.to_canonical();
        self.self_addresses.iter().any(|own| {
            let own_ip = own.ip().to_canonical();
            own.port() == port
                && (ip == own_ip
                    || ip.is_loopback()
                    || ip.is_unspecified()
                    || (own_ip.is_unspecified() && is_on_this_host(ip)))
        })
    }

    /// Why a connection to `ip` (on whatever port) is refused, or `None` when it is allowed.
    /// This is the check applied to every resolved address.
    pub fn refusal_of_ip(&self, ip: IpAddr) -> Option<String> {
        if self.allow_private {
            return None;
        }
        if let Some(why) = non_public(ip) {
            return Some(format!("{ip} is {why}; {NOT_ALLOWED}"));
        }
        if is_on_this_host(ip.to_canonical()) {
            return Some(format!("{ip} is an address of this host; {NOT_ALLOWED}"));
        }
        None
    }

    /// Why a connection to `addr` is refused, or `None` when it is allowed: the address rules,
    /// and never this server's own listeners.
    pub fn refusal(&self, addr: SocketAddr) -> Option<String> {
        if self.is_self(addr.ip(), addr.port()) {
            return Some(format!("{addr} is this server itself"));
        }
        self.refusal_of_ip(addr.ip())
    }

    /// Whether a resolved address may be connected to.
    pub fn allows(&self, addr: SocketAddr) -> bool {
        self.refusal(addr).is_none()
    }

    /// Checks a URL as written: an IP literal completely, a name as far as it can be without
    /// resolving it (`localhost`). What a name resolves to is checked again on every connection.
    pub fn check_url(&self, url: &WebhookUrl, field: &str) -> Result<()> {
        if let Err(why) = &url.parsed {
            return Err(Error::invalid(
                field,
                format!("was stored under older rules and is no longer accepted: {why}"),
            ));
        }
        let port = url.port();
        if let Some(ip) = url.ip_literal() {
            if self.is_self(ip, port) {
                return Err(Error::invalid(
                    field,
                    "must not point at this server itself",
                ));
            }
            if let Some(why) = self.refusal_of_ip(ip) {
                return Err(Error::invalid(field, format!("points at {why}")));
            }
            return Ok(());
        }
        if url.is_local_name() {
            if self.self_addresses.iter().any(|own| own.port() == port) {
                return Err(Error::invalid(
                    field,
                    "must not point at this server itself",
                ));
            }
            if !self.allow_private {
                return Err(Error::invalid(
                    field,
                    format!("points at {}, a loopback name; {NOT_ALLOWED}", url.host()),
                ));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strict() -> AddressPolicy {
        AddressPolicy {
            allow_private: false,
            self_addresses: vec!["127.0.0.1:8080".parse().unwrap()],
        }
    }

    fn open() -> AddressPolicy {
        AddressPolicy {
            allow_private: true,
            ..strict()
        }
    }

    #[test]
    fn urls_parse_into_parts() {
        let u = WebhookUrl::parse("https://Hooks.Example.com/a?b=1", "url").unwrap();
        assert_eq!(
            (u.host().as_str(), u.port(), u.is_https()),
            ("hooks.example.com", 443, true)
        );
        assert_eq!(u.as_str(), "https://Hooks.Example.com/a?b=1");
        assert_eq!(u.origin(), "https://hooks.example.com:443");
        let u = WebhookUrl::parse("  http://127.0.0.1:8081/x ", "url").unwrap();
        assert_eq!(u.as_str(), "http://127.0.0.1:8081/x");
        assert_eq!(u.ip_literal(), Some("127.0.0.1".parse().unwrap()));
        let u = WebhookUrl::parse("http://[::1]:9000", "url").unwrap();
        assert_eq!(u.origin(), "http://[::1]:9000");
        let u = WebhookUrl::parse("HTTP://example.com./", "url").unwrap();
        assert_eq!(u.origin(), "http://example.com:80");
    }

    #[test]
    fn urls_stored_under_older_rules_load_but_are_refused() {
        for raw in [
            "http://256.0.0.1/hook",
            "http://user:pw@example.com/",
            "http://a\\b/",
        ] {
            let url = WebhookUrl::from_stored(raw);
            assert_eq!(url.as_str(), raw);
            let err = open().check_url(&url, "url").unwrap_err().to_string();
            assert!(err.contains("older rules"), "{raw}: {err}");
        }
        let good = WebhookUrl::from_stored("https://hooks.example.com/x");
        assert!(strict().check_url(&good, "url").is_ok());
    }

    #[test]
    fn malformed_urls_are_refused_with_the_field() {
        for url in [
            "ftp://example.com/",
            "example.com/hook",
            "//example.com/",
            "http://",
            "http://:80/",
            "http:///x",
            "http://example.com:0/",
            "http://example.com:65536/",
            "http://user:pw@example.com/",
            "http://example.com@127.0.0.1/",
            "http://@example.com/",
            "http://:pw@example.com/",
            "http://exa mple.com/",
            "http://example.com/a b",
            "http://127.0.0.1\t/",
            "http://12\n7.0.0.1/",
            "http://127.0.0.1\r\n/",
            "http://example.com\u{0}/",
            "http:\\\\127.0.0.1\\",
            "http://127.0.0.1\\@example.com/",
            "http:127.0.0.1",
            "http:/127.0.0.1",
            "http://[::1/",
            "http://[fe80::1%25eth0]/",
            "http://256.0.0.1/",
            "http://0x100000000/",
            "http://.../",
        ] {
            match WebhookUrl::parse(url, "callbackUrl") {
                Err(Error::Validation(errors)) => {
                    assert_eq!(errors[0].field, "callbackUrl", "{url:?}")
                }
                other => panic!("{url:?} parsed: {other:?}"),
            }
        }
        let long = format!("https://example.com/{}", "a".repeat(URL_MAX_CHARS));
        assert!(WebhookUrl::parse(&long, "url").is_err());
    }

    /// Every spelling of a refused address the issue found, and more. Each must be refused by
    /// the strict policy; each parses (so the refusal is the policy's, with its reason).
    const REFUSED: &[(&str, &str)] = &[
        // IPv4 loopback, in every spelling WHATWG reads as 127.0.0.1.
        ("http://127.0.0.1:9/", "127.0.0.1"),
        ("http://127.1:9/", "127.0.0.1"),
        ("http://127.0.1/", "127.0.0.1"),
        ("http://2130706433:9/", "127.0.0.1"),
        ("http://0x7f000001:9/", "127.0.0.1"),
        ("http://0X7F.1/", "127.0.0.1"),
        ("http://017700000001:9/", "127.0.0.1"),
        ("http://0177.0.0.1/", "127.0.0.1"),
        ("http://127.000.000.001:9/", "127.0.0.1"),
        ("http://%31%32%37.0.0.1:9/", "127.0.0.1"),
        ("http://%31%32%37%2e%30%2e%30%2e%31/", "127.0.0.1"),
        ("http://①②⑦.0.0.1/", "127.0.0.1"),
        ("http://１２７.０.０.１/", "127.0.0.1"),
        ("http://127。0。0。1/", "127.0.0.1"),
        ("http://127.0.0.1./", "127.0.0.1"),
        ("http://127.255.255.254/", "127.255.255.254"),
        ("HTTP://127.0.0.1/", "127.0.0.1"),
        ("https://127.0.0.1:443/", "127.0.0.1"),
        ("http://127.0.0.1#@example.com/", "127.0.0.1"),
        ("http://127.0.0.1?@example.com/", "127.0.0.1"),
        ("http://127.0.0.1/@example.com/", "127.0.0.1"),
        // Unspecified: connecting to 0.0.0.0 reaches this host.
        ("http://0:9/", "0.0.0.0"),
        ("http://0.0.0.0/", "0.0.0.0"),
        ("http://0x0/", "0.0.0.0"),
        ("http://[::]/", "::"),
        // Private, shared, link-local, metadata.
        ("http://10.1.2.3/", "10.1.2.3"),
        ("http://012.1.2.3/", "10.1.2.3"),
        ("http://172.16.0.1/", "172.16.0.1"),
        ("http://172.31.255.255/", "172.31.255.255"),
        ("http://192.168.0.1/", "192.168.0.1"),
        ("http://3232235521/", "192.168.0.1"),
        ("http://100.64.0.1/", "100.64.0.1"),
        ("http://100.127.255.255/", "100.127.255.255"),
        ("http://169.254.169.254/latest/meta-data", "169.254.169.254"),
        ("http://0xa9fea9fe/", "169.254.169.254"),
        ("http://169.254.43518/", "169.254.169.254"),
        // Benchmarking, documentation, protocol assignments, reserved, multicast, broadcast.
        ("http://198.18.0.1/", "198.18.0.1"),
        ("http://198.19.255.255/", "198.19.255.255"),
        ("http://192.0.2.10/", "192.0.2.10"),
        ("http://198.51.100.7/", "198.51.100.7"),
        ("http://203.0.113.9/", "203.0.113.9"),
        ("http://192.0.0.170/", "192.0.0.170"),
        ("http://192.88.99.1/", "192.88.99.1"),
        ("http://224.0.0.1/", "224.0.0.1"),
        ("http://239.255.255.250/", "239.255.255.250"),
        ("http://240.0.0.1/", "240.0.0.1"),
        ("http://255.255.255.255/", "255.255.255.255"),
        ("http://4294967295/", "255.255.255.255"),
        // IPv6 loopback and its spellings; the IPv4 embeddings of refused IPv4 addresses.
        ("http://[::1]/", "::1"),
        ("http://[0:0:0:0:0:0:0:1]/", "::1"),
        ("http://[0000::0001]:9/", "::1"),
        ("http://[::ffff:127.0.0.1]/", "::ffff:127.0.0.1"),
        ("http://[::ffff:7f00:1]/", "::ffff:127.0.0.1"),
        ("http://[::FFFF:169.254.169.254]/", "::ffff:169.254.169.254"),
        ("http://[::ffff:10.0.0.1]/", "::ffff:10.0.0.1"),
        ("http://[::127.0.0.1]/", "::127.0.0.1"),
        ("http://[::8.8.8.8]/", "::8.8.8.8"),
        ("http://[::ffff:0:127.0.0.1]/", "::ffff:0:7f00:1"),
        ("http://[64:ff9b::7f00:1]/", "64:ff9b::7f00:1"),
        ("http://[64:ff9b::127.0.0.1]/", "64:ff9b::7f00:1"),
        ("http://[64:ff9b::a9fe:a9fe]/", "64:ff9b::a9fe:a9fe"),
        ("http://[64:ff9b:1::8.8.8.8]/", "64:ff9b:1::808:808"),
        // IPv6 private, link-local, multicast, documentation, transition mechanisms.
        ("http://[fd00::1]/", "fd00::1"),
        ("http://[fc00::1]/", "fc00::1"),
        ("http://[fe80::1]/", "fe80::1"),
        ("http://[FEBF::1]/", "febf::1"),
        ("http://[fec0::1]/", "fec0::1"),
        ("http://[ff02::1]/", "ff02::1"),
        ("http://[100::1]/", "100::1"),
        ("http://[2001:db8::1]/", "2001:db8::1"),
        ("http://[3fff::1]/", "3fff::1"),
        ("http://[2001::1]/", "2001::1"),
        (
            "http://[2001:0:4136:e378:8000:63bf:3fff:fdd2]/",
            "2001:0:4136:e378:8000:63bf:3fff:fdd2",
        ),
        ("http://[2001:2::1]/", "2001:2::1"),
        ("http://[2002:7f00:1::]/", "2002:7f00:1::"),
        ("http://[2002:c0a8:101::1]/", "2002:c0a8:101::1"),
        ("http://[5f00::1]/", "5f00::1"),
    ];

    #[test]
    fn every_spelling_of_a_refused_address_is_refused() {
        for (url, ip) in REFUSED {
            let u = WebhookUrl::parse(url, "url").unwrap_or_else(|e| panic!("{url}: {e}"));
            let parsed: IpAddr = ip.parse().unwrap();
            assert_eq!(u.ip_literal(), Some(parsed), "{url} is {ip}");
            match strict().check_url(&u, "url") {
                Err(Error::Validation(errors)) => {
                    assert_eq!(errors[0].field, "url");
                    assert!(
                        errors[0].reason.contains("points at")
                            || errors[0].reason.contains("this server"),
                        "{url}: {}",
                        errors[0].reason
                    );
                }
                other => panic!("{url} was not refused: {other:?}"),
            }
            assert!(non_public(parsed).is_some(), "{ip} is not public");
            assert!(!strict().allows(SocketAddr::new(parsed, 9)), "{ip}");
            assert!(strict().refusal_of_ip(parsed).is_some(), "{ip}");
        }
    }

    #[test]
    fn loopback_names_are_refused_in_every_spelling() {
        for url in [
            "http://localhost/",
            "http://LOCALHOST:9000/",
            "http://localhost./",
            "http://localhost../",
            "http://api.localhost/",
            "http://a.b.LocalHost./x",
            "http://%6c%6f%63%61%6c%68%6f%73%74/",
            "http://ⓛⓞⓒⓐⓛⓗⓞⓢⓣ/",
            "http://ｌｏｃａｌｈｏｓｔ/",
        ] {
            let u = WebhookUrl::parse(url, "url").unwrap_or_else(|e| panic!("{url}: {e}"));
            assert!(strict().check_url(&u, "url").is_err(), "{url}");
            assert!(open().check_url(&u, "url").is_ok(), "{url}");
        }
    }

    #[test]
    fn public_addresses_and_names_pass() {
        for url in [
            "https://8.8.8.8/hook",
            "http://1.1.1.1:8080/",
            "http://134744072/",
            "http://[2606:4700:4700::1111]/",
            "http://[::ffff:8.8.8.8]/",
            "http://[64:ff9b::808:808]/",
            "https://hooks.example.com/x",
            "https://127.0.0.1.nip.io/",
            "https://localhost.example.com/",
            "http://bücher.example/",
            "http://100.63.255.255/",
            "http://100.128.0.1/",
            "http://172.32.0.1/",
            "http://198.20.0.1/",
            "http://223.255.255.255/",
        ] {
            let u = WebhookUrl::parse(url, "url").unwrap_or_else(|e| panic!("{url}: {e}"));
            assert!(strict().check_url(&u, "url").is_ok(), "{url}");
        }
    }

    #[test]
    fn private_targets_need_permission_and_self_is_always_refused() {
        for url in [
            "http://10.1.2.3/",
            "http://169.254.169.254/latest",
            "http://localhost:9000/",
            "http://[fd00::1]/",
            "http://[::ffff:127.0.0.1]:1/",
        ] {
            let u = WebhookUrl::parse(url, "url").unwrap();
            assert!(strict().check_url(&u, "url").is_err(), "{url}");
            assert!(open().check_url(&u, "url").is_ok(), "{url}");
        }
        for url in [
            "http://127.0.0.1:8080/",
            "http://127.1:8080/",
            "http://localhost:8080/x",
            "http://localhost.:8080/x",
            "http://0.0.0.0:8080/",
            "http://0:8080/",
            "http://[::ffff:127.0.0.1]:8080/",
            "http://[::1]:8080/",
        ] {
            let u = WebhookUrl::parse(url, "url").unwrap();
            let err = open().check_url(&u, "url").unwrap_err().to_string();
            assert!(err.contains("this server"), "{url}: {err}");
        }
        let own: SocketAddr = "127.0.0.1:8080".parse().unwrap();
        assert!(!open().allows(own));
        assert!(open().allows("127.0.0.1:9999".parse().unwrap()));
        assert!(!strict().allows("127.0.0.1:9999".parse().unwrap()));
        assert!(strict().allows("8.8.8.8:443".parse().unwrap()));
        // A server listening on every address is itself at any address of this host.
        let everywhere = AddressPolicy {
            allow_private: true,
            self_addresses: vec!["0.0.0.0:8080".parse().unwrap()],
        };
        assert!(!everywhere.allows("127.0.0.1:8080".parse().unwrap()));
        assert!(everywhere.allows("127.0.0.1:8081".parse().unwrap()));
    }

    #[test]
    fn addresses_of_this_host_are_refused_by_the_strict_policy() {
        // 127.0.0.1 is always this host's; the probe must say so or the check is blind.
        assert!(is_on_this_host("127.0.0.1".parse().unwrap()));
        assert!(!is_on_this_host("8.8.8.8".parse().unwrap()));
    }

    #[test]
    fn block_arithmetic_is_exact_at_the_edges() {
        let v4 = |s: &str| non_public(s.parse().unwrap()).is_some();
        assert!(v4("100.64.0.0") && v4("100.127.255.255"));
        assert!(!v4("100.63.255.255") && !v4("100.128.0.0"));
        assert!(v4("198.18.0.0") && v4("198.19.255.255"));
        assert!(!v4("198.17.255.255") && !v4("198.20.0.0"));
        assert!(v4("172.16.0.0") && v4("172.31.255.255") && !v4("172.32.0.0"));
        assert!(!v4("1.0.0.0") && !v4("223.255.255.255"));
        let v6 = |s: &str| non_public(s.parse().unwrap()).is_some();
        assert!(v6("2001:0:ffff::1") && !v6("2001:1::1"));
        assert!(v6("2001:db8:ffff::1") && !v6("2001:db9::1"));
        assert!(v6("1fff::1") && v6("4000::1") && !v6("2a00::1"));
    }
}
