//! Credentials that carry their own host: connection URIs (`postgres://user:pass@host/db`).
//!
//! The URI is the paired value `uri` of the database rules (the URI around the password, found
//! when the secret was). Parsing is strict: a URI that does not parse is `unknown`
//! (`unsupported`) rather than guessed at.

use std::collections::BTreeMap;

/// A parsed connection URI.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DbTarget {
    /// `postgres`, `mysql`, `redis`, `rediss`, `mongodb` (lowercase, without `+driver`).
    pub scheme: String,
    /// The user (percent-decoded; may be empty).
    pub user: String,
    /// The password (percent-decoded).
    pub password: String,
    /// The host name or address (without brackets).
    pub host: String,
    /// The port (the scheme's default when absent).
    pub port: u16,
    /// The database (path), if any.
    pub database: String,
    /// Query parameters.
    pub params: BTreeMap<String, String>,
}

impl DbTarget {
    /// `host:port`, as reports name the host asked.
    pub fn host_port(&self) -> String {
        if self.host.contains(':') {
            format!("[{}]:{}", self.host, self.port)
        } else {
            format!("{}:{}", self.host, self.port)
        }
    }

    /// Whether the URI asks for TLS (`sslmode=require|verify-*`, `ssl=true`, `tls=true`,
    /// `rediss://`).
    pub fn wants_tls(&self) -> bool {
        let p = |k: &str| self.params.get(k).map(|v| v.to_ascii_lowercase());
        self.scheme == "rediss"
            || p("sslmode").is_some_and(|v| v == "require" || v.starts_with("verify"))
            || p("ssl").is_some_and(|v| v == "true" || v == "1")
            || p("tls").is_some_and(|v| v == "true" || v == "1")
    }
}

fn default_port(scheme: &str) -> Option<u16> {
    Some(match scheme {
        "postgres" | "postgresql" | "postgis" => 5432,
        "mysql" | "mariadb" => 3306,
        "redis" | "rediss" => 6379,
        "mongodb" => 27017,
        _ => return None,
    })
}

/// Percent-decodes a URI component.
pub fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%'
            && i + 2 < b.len()
            && let Some(hex) = s.get(i + 1..i + 3)
            && let Ok(v) = u8::from_str_radix(hex, 16)
        {
            out.push(v);
            i += 3;
            continue;
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Parses `scheme[+driver]://user:password@host[:port][,host2…][/database][?k=v&…]`.
pub fn parse(uri: &str) -> Result<DbTarget, String> {
    let (scheme, rest) = uri
        .split_once("://")
        .ok_or_else(|| "not a URI".to_string())?;
    let scheme = scheme.to_ascii_lowercase();
    if scheme == "mongodb+srv" {
        return Err("mongodb+srv needs a DNS SRV lookup, which ferret does not make".into());
    }
    let scheme = scheme.split('+').next().unwrap_or_default().to_string();
    let port_default = default_port(&scheme).ok_or_else(|| format!("unknown scheme {scheme}"))?;
    let scheme = match scheme.as_str() {
        "postgresql" | "postgis" => "postgres".to_string(),
        "mariadb" => "mysql".to_string(),
        _ => scheme,
    };
    let rest = rest.trim_end_matches(['"', '\'', ',', ';', ')', '>']);
    let (authority, tail) = match rest.find(['/', '?']) {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, ""),
    };
    let (userinfo, hosts) = authority
        .rsplit_once('@')
        .ok_or_else(|| "no user:password@ in the URI".to_string())?;
    let (user, password) = userinfo.split_once(':').unwrap_or((userinfo, ""));
    let first = hosts.split(',').next().unwrap_or_default();
    let (host, port) = if let Some(h) = first.strip_prefix('[') {
        let (h, after) = h.split_once(']').ok_or("bad IPv6 host")?;
        (h.to_string(), after.strip_prefix(':'))
    } else {
        match first.rsplit_once(':') {
            Some((h, p)) => (h.to_string(), Some(p)),
            None => (first.to_string(), None),
        }
    };
    let port = match port {
        Some(p) if !p.is_empty() => p.parse::<u16>().map_err(|_| format!("bad port {p:?}"))?,
        _ => port_default,
    };
    if host.is_empty() {
        return Err("no host in the URI".into());
    }
    let (path, query) = tail.split_once('?').unwrap_or((tail, ""));
    let params = query
        .split('&')
        .filter_map(|kv| {
            let (k, v) = kv.split_once('=')?;
            Some((k.to_ascii_lowercase(), percent_decode(v)))
        })
        .collect();
    Ok(DbTarget {
        scheme,
        user: percent_decode(user),
        password: percent_decode(password),
        host,
        port,
        database: percent_decode(path.trim_start_matches('/')),
        params,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uris() {
        let t = parse("postgresql+psycopg2://app:p%40ss@db.internal:6543/train?sslmode=require")
            .unwrap();
        assert_eq!(t.scheme, "postgres");
        assert_eq!((t.user.as_str(), t.password.as_str()), ("app", "p@ss"));
        assert_eq!(t.host_port(), "db.internal:6543");
        assert_eq!(t.database, "train");
        assert!(t.wants_tls());
        let t = parse("redis://:hunter22@[::1]").unwrap();
        assert_eq!((t.host.as_str(), t.port), ("::1", 6379));
        assert_eq!(t.user, "");
        let t = parse("mongodb://u:p@h1:27018,h2:27019/admin").unwrap();
        assert_eq!((t.host.as_str(), t.port), ("h1", 27018));
        assert!(parse("mongodb+srv://u:p@cluster.example.net").is_err());
        assert!(parse("ftp://u:p@h").is_err());
        assert_eq!(percent_decode("a%2"), "a%2");
    }
}
