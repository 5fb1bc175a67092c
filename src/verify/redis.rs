//! Redis URIs: `AUTH` and nothing else.
//!
//! `AUTH [user] password` checks the credential and changes nothing; ferret then sends `QUIT`.
//! `+OK` is live; `-WRONGPASS` (or `-ERR invalid password`) is invalid; a server without a
//! password (`-ERR … without any password configured`) says nothing about this one (unknown).
//! Redis sends the password as the application would: in clear over `redis://`, over TLS with
//! certificate checks for `rediss://`. The host must be allowed by `--verify-host`.

use std::io::{BufRead, BufReader, Read, Write};

use super::ctx::{Ctx, io_failure, verdict};
use super::target::DbTarget;
use super::{Attempt, Status};

fn command(parts: &[&str]) -> Vec<u8> {
    let mut out = format!("*{}\r\n", parts.len()).into_bytes();
    for p in parts {
        out.extend_from_slice(format!("${}\r\n", p.len()).as_bytes());
        out.extend_from_slice(p.as_bytes());
        out.extend_from_slice(b"\r\n");
    }
    out
}

/// Verifies a Redis URI.
pub fn verify(ctx: &Ctx, t: &DbTarget) -> Attempt {
    let host = t.host_port();
    let stream = match ctx.connect_named(&t.host, t.port) {
        Ok(s) => s,
        Err(v) => return Attempt::Done(v),
    };
    let stream = if t.wants_tls() {
        match stream.into_tls(&t.host) {
            Ok(s) => s,
            Err(e) => return Attempt::Done(io_failure(&e, &host)),
        }
    } else {
        stream
    };
    let mut r = BufReader::new(stream);
    let auth = if t.user.is_empty() {
        command(&["AUTH", &t.password])
    } else {
        command(&["AUTH", &t.user, &t.password])
    };
    if let Err(e) = r.get_mut().write_all(&auth) {
        return Attempt::Done(io_failure(&e, &host));
    }
    let mut line = String::new();
    if let Err(e) = r.by_ref().take(4096).read_line(&mut line) {
        return Attempt::Done(io_failure(&e, &host));
    }
    let _ = r.get_mut().write_all(&command(&["QUIT"]));
    let line = line.trim_end();
    let upper = line.to_ascii_uppercase();
    let v = if line == "+OK" {
        let mut v = verdict(Status::Live, &host, "AUTH: +OK");
        if !t.user.is_empty() {
            v.identity.insert("user".into(), t.user.clone());
        }
        v
    } else if upper.starts_with("-WRONGPASS") || upper.contains("INVALID PASSWORD") {
        verdict(Status::Invalid, &host, "AUTH refused")
    } else if upper.starts_with("-LOADING") || upper.starts_with("-BUSY") {
        return Attempt::Retry(None);
    } else {
        let shown: String = line.chars().take(120).collect();
        verdict(Status::Unknown, &host, format!("AUTH answered {shown:?}"))
    };
    Attempt::Done(v)
}
