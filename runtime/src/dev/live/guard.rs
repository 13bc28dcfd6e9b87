//! Who may open the live channel: a page served by this very server (its `Origin` names the
//! `Host` it asked), on a loopback host unless the app allows others.
//!
//! Both headers are parsed, not compared as text: `Host` is `host [":" port]` (RFC 9110
//! 7.2), with no user information, path or spaces, so `127.0.0.1:3999@evil.example` is not a
//! loopback address but a malformed header; `Origin` is `scheme "://" host [":" port]`.

use std::collections::HashSet;
use std::net::{Ipv4Addr, Ipv6Addr};

use axum::http::{HeaderMap, header};
use parking_lot::Mutex;

/// Why a request for the live channel was refused (answered `403 Forbidden`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Refusal {
    /// No `Origin` header: browsers send one with every WebSocket handshake.
    #[error("no Origin header (the live channel is for pages of this server)")]
    NoOrigin,
    /// No `Host` header, or more than one.
    #[error("no single Host header")]
    NoHost,
    /// A `Host` header that is not `host[:port]`.
    #[error("malformed Host header {0:?}")]
    BadHost(String),
    /// An `Origin` header that is not `http(s)://host[:port]`.
    #[error("malformed Origin header {0:?}")]
    BadOrigin(String),
    /// A page of another site.
    #[error("origin {origin} is not this server ({host})")]
    CrossOrigin {
        /// The `Origin` header.
        origin: String,
        /// The `Host` header.
        host: String,
    },
    /// A host name that is neither loopback nor allowed (a page elsewhere whose name resolves
    /// to this machine sends its own name as `Host`: DNS rebinding).
    #[error(
        "host {0} is not a loopback address; allow it with LiveReload::allow_hosts (dev containers, remote editors)"
    )]
    HostNotAllowed(String),
}

impl Refusal {
    /// What to log this refusal under, so that it is logged once per origin or host.
    pub(crate) fn log_key(&self) -> String {
        match self {
            Refusal::NoOrigin => "no origin".into(),
            Refusal::NoHost => "no host".into(),
            Refusal::BadHost(v) | Refusal::HostNotAllowed(v) => format!("host {v}"),
            Refusal::BadOrigin(v) | Refusal::CrossOrigin { origin: v, .. } => format!("origin {v}"),
        }
    }
}

/// A parsed host: a name (lowercase, without a trailing dot) or an address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Host {
    Name(String),
    V4(Ipv4Addr),
    V6(Ipv6Addr),
}

impl Host {
    /// `localhost`, a name under `.localhost` (RFC 6761), 127.0.0.0/8 or `::1` (also as an
    /// IPv4-mapped address).
    pub(crate) fn is_loopback(&self) -> bool {
        match self {
            Host::Name(name) => name == "localhost" || name.ends_with(".localhost"),
            Host::V4(ip) => ip.is_loopback(),
            Host::V6(ip) => {
                ip.is_loopback() || ip.to_ipv4_mapped().is_some_and(|v4| v4.is_loopback())
            }
        }
    }
}

/// `host [":" port]` as a `Host` header or an origin's authority carries it; `None` when it is
/// anything else (user information, a path, a query, spaces, an empty name, a bad port).
pub(crate) fn parse_authority(text: &str) -> Option<(Host, Option<u16>)> {
    let (host, port) = if let Some(rest) = text.strip_prefix('[') {
        let (inside, after) = rest.split_once(']')?;
        let port = match after {
            "" => None,
            _ => Some(after.strip_prefix(':')?),
        };
        (Host::V6(inside.parse().ok()?), port)
    } else {
        let (name, port) = match text.rsplit_once(':') {
            Some((name, port)) => (name, Some(port)),
            None => (text, None),
        };
        (parse_name(name)?, port)
    };
    let port = match port {
        None => None,
        Some(digits) => {
            if digits.is_empty() || digits.len() > 5 || !digits.bytes().all(|b| b.is_ascii_digit())
            {
                return None;
            }
            Some(digits.parse().ok()?)
        }
    };
    Some((host, port))
}

/// A registered name or a dotted IPv4 address (RFC 3986 `reg-name`, without percent-encoding,
/// which no browser sends in a host).
fn parse_name(name: &str) -> Option<Host> {
    let valid = |b: u8| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~');
    if name.is_empty() || !name.bytes().all(valid) {
        return None;
    }
    if let Ok(ip) = name.parse::<Ipv4Addr>() {
        return Some(Host::V4(ip));
    }
    let name = name.strip_suffix('.').unwrap_or(name).to_ascii_lowercase();
    (!name.is_empty()).then_some(Host::Name(name))
}

/// `http://host[:port]` or `https://host[:port]`: the scheme's default port and the authority.
fn parse_origin(text: &str) -> Option<(u16, Host, Option<u16>)> {
    let (scheme, authority) = text.split_once("://")?;
    let default_port = if scheme.eq_ignore_ascii_case("http") {
        80
    } else if scheme.eq_ignore_ascii_case("https") {
        443
    } else {
        return None;
    };
    let (host, port) = parse_authority(authority)?;
    Some((default_port, host, port))
}

/// Hosts let in besides the loopback ones.
#[derive(Debug, Clone, Default)]
pub(crate) struct AllowedHosts {
    /// Exact names or addresses (`dev.example`, `192.168.1.20`, `[fd00::1]`), lowercase.
    exact: Vec<Host>,
    /// Name suffixes (`.app.github.dev`): any name that ends with one.
    suffixes: Vec<String>,
    /// `*`: every host.
    any: bool,
}

impl AllowedHosts {
    pub(crate) fn add(&mut self, pattern: &str) {
        let pattern = pattern.trim();
        if pattern == "*" {
            self.any = true;
        } else if let Some(suffix) = pattern.strip_prefix("*.").or(pattern.strip_prefix('.')) {
            self.suffixes
                .push(format!(".{}", suffix.to_ascii_lowercase()));
        } else if let Some((host, _)) = parse_authority(pattern) {
            self.exact.push(host);
        } else {
            eprintln!("shipwright: ignoring allowed host {pattern:?}: not a host name or address");
        }
    }

    fn allows(&self, host: &Host) -> bool {
        self.any
            || host.is_loopback()
            || self.exact.contains(host)
            || matches!(host, Host::Name(name) if self.suffixes.iter().any(|s| name.ends_with(s.as_str())))
    }
}

/// Lets a request in when its `Origin` is the server it asks (`Host`), and that host is
/// loopback or allowed.
pub(crate) fn check(headers: &HeaderMap, allowed: &AllowedHosts) -> Result<(), Refusal> {
    let single = |name| {
        let mut values = headers.get_all(name).iter();
        match (values.next(), values.next()) {
            (Some(value), None) => Some(value.to_str().unwrap_or("\u{fffd}")),
            _ => None,
        }
    };
    let host_text = single(header::HOST).ok_or(Refusal::NoHost)?;
    let (host, host_port) =
        parse_authority(host_text).ok_or_else(|| Refusal::BadHost(clip(host_text)))?;
    let origin_text = single(header::ORIGIN).ok_or(Refusal::NoOrigin)?;
    let (default_port, origin_host, origin_port) =
        parse_origin(origin_text).ok_or_else(|| Refusal::BadOrigin(clip(origin_text)))?;
    if origin_host != host
        || origin_port.unwrap_or(default_port) != host_port.unwrap_or(default_port)
    {
        return Err(Refusal::CrossOrigin {
            origin: clip(origin_text),
            host: clip(host_text),
        });
    }
    if !allowed.allows(&host) {
        return Err(Refusal::HostNotAllowed(clip(host_text)));
    }
    Ok(())
}

/// A header value for a message: at most 100 characters of it.
fn clip(text: &str) -> String {
    match text.char_indices().nth(100) {
        Some((at, _)) => format!("{}…", &text[..at]),
        None => text.to_string(),
    }
}

/// How many distinct origins and hosts are remembered as logged; past that, refusals are
/// not logged at all (one line says so).
const LOGGED_KEYS: usize = 64;

/// Logs each refusal once per origin or host, and remembers a bounded number of them.
#[derive(Debug, Default)]
pub(crate) struct RefusalLog {
    seen: Mutex<HashSet<String>>,
}

impl RefusalLog {
    /// Whether this refusal is logged now (the first of its origin or host); logs it if so.
    pub(crate) fn log(&self, refusal: &Refusal) -> bool {
        let mut seen = self.seen.lock();
        if seen.len() > LOGGED_KEYS {
            return false;
        }
        if seen.len() == LOGGED_KEYS {
            seen.insert(String::new());
            eprintln!(
                "shipwright: refused live connections from {LOGGED_KEYS} origins or hosts; no more are logged"
            );
            return false;
        }
        if !seen.insert(refusal.log_key()) {
            return false;
        }
        eprintln!("shipwright: refused a live connection: {refusal} (logged once)");
        true
    }
}
