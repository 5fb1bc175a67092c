//! PostgreSQL URIs: the startup handshake up to authentication, then `Terminate`.
//!
//! ferret sends a startup message (user, database, `application_name=ferret-verify`), answers
//! the server's authentication request — SCRAM-SHA-256 (the password never crosses the wire,
//! and the server's own proof is checked), MD5, or a clear password only inside TLS — and
//! disconnects as soon as the server says `AuthenticationOk`, before any query could run.
//! `28P01`/`28000` errors are invalid; a missing database (`3D000`), which PostgreSQL checks after
//! authentication, is live. With `sslmode=require` (or `verify-*`) the connection is upgraded to
//! TLS with certificate checks first. The host must be allowed by `--verify-host`.

use std::io::{Read, Write};

use md5::{Digest, Md5};

use super::ctx::{Ctx, io_failure, verdict};
use super::net::Stream;
use super::scram::{self, Hash};
use super::target::DbTarget;
use super::{Attempt, Reason, Status, Verification};

fn read_message(s: &mut Stream) -> std::io::Result<(u8, Vec<u8>)> {
    let mut head = [0u8; 5];
    s.read_exact(&mut head)?;
    let len = u32::from_be_bytes([head[1], head[2], head[3], head[4]]) as usize;
    if !(4..=1 << 20).contains(&len) {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            "not a PostgreSQL server (bad message length)",
        ));
    }
    let mut body = vec![0u8; len - 4];
    s.read_exact(&mut body)?;
    Ok((head[0], body))
}

fn message(kind: u8, body: &[u8]) -> Vec<u8> {
    let mut m = vec![kind];
    m.extend_from_slice(&((body.len() + 4) as u32).to_be_bytes());
    m.extend_from_slice(body);
    m
}

/// The fields of an ErrorResponse: (code, message).
fn error_fields(body: &[u8]) -> (String, String) {
    let mut code = String::new();
    let mut msg = String::new();
    for f in body.split(|b| *b == 0) {
        match f.first() {
            Some(b'C') => code = String::from_utf8_lossy(&f[1..]).into_owned(),
            Some(b'M') => msg = String::from_utf8_lossy(&f[1..]).into_owned(),
            _ => {}
        }
    }
    (code, msg)
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// Verifies a PostgreSQL URI.
pub fn verify(ctx: &Ctx, t: &DbTarget) -> Attempt {
    let host = t.host_port();
    let mut s = match ctx.connect_named(&t.host, t.port) {
        Ok(s) => s,
        Err(v) => return Attempt::Done(v),
    };
    let io = |e: std::io::Error| Attempt::Done(io_failure(&e, &host));
    if t.wants_tls() {
        let mut req = 8u32.to_be_bytes().to_vec();
        req.extend_from_slice(&80_877_103u32.to_be_bytes());
        if let Err(e) = s.write_all(&req) {
            return io(e);
        }
        let mut answer = [0u8; 1];
        if let Err(e) = s.read_exact(&mut answer) {
            return io(e);
        }
        if answer[0] != b'S' {
            return Attempt::Done(verdict(
                Status::Unknown,
                &host,
                "the URI asks for TLS and the server does not offer it: not sent",
            ));
        }
        s = match s.into_tls(&t.host) {
            Ok(s) => s,
            Err(e) => return io(e),
        };
    }
    let tls = matches!(s, Stream::Tls(_));
    let database = if t.database.is_empty() {
        &t.user
    } else {
        &t.database
    };
    let mut body = 196_608u32.to_be_bytes().to_vec();
    for (k, v) in [
        ("user", t.user.as_str()),
        ("database", database.as_str()),
        ("application_name", "ferret-verify"),
    ] {
        body.extend_from_slice(k.as_bytes());
        body.push(0);
        body.extend_from_slice(v.as_bytes());
        body.push(0);
    }
    body.push(0);
    let mut startup = ((body.len() + 4) as u32).to_be_bytes().to_vec();
    startup.extend_from_slice(&body);
    if let Err(e) = s.write_all(&startup) {
        return io(e);
    }
    let mut scram: Option<scram::Client> = None;
    let live = |detail: &str| {
        let mut v = verdict(Status::Live, &host, detail);
        v.identity.insert("user".into(), t.user.clone());
        v
    };
    for _ in 0..16 {
        let (kind, body) = match read_message(&mut s) {
            Ok(m) => m,
            Err(e) => return io(e),
        };
        match kind {
            b'R' => {
                let code = body
                    .get(..4)
                    .map(|b| u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
                    .unwrap_or(u32::MAX);
                let reply = match code {
                    0 => {
                        let _ = s.write_all(&message(b'X', &[]));
                        return Attempt::Done(live(
                            "authenticated (AuthenticationOk); ran nothing",
                        ));
                    }
                    3 if tls => {
                        let mut p = t.password.as_bytes().to_vec();
                        p.push(0);
                        message(b'p', &p)
                    }
                    3 => {
                        return Attempt::Done(Verification::unknown(
                            Reason::Skipped,
                            format!(
                                "{host} asks for the password in clear over plain TCP: not sent"
                            ),
                        ));
                    }
                    5 => {
                        let salt = body.get(4..8).unwrap_or_default();
                        let inner = hex(&Md5::digest(format!("{}{}", t.password, t.user)));
                        let mut h = Md5::new();
                        h.update(inner.as_bytes());
                        h.update(salt);
                        let mut p = format!("md5{}", hex(&h.finalize())).into_bytes();
                        p.push(0);
                        message(b'p', &p)
                    }
                    10 => {
                        let mechs = String::from_utf8_lossy(&body[4..]);
                        if !mechs.split('\0').any(|m| m == "SCRAM-SHA-256") {
                            return Attempt::Done(Verification::unknown(
                                Reason::Unsupported,
                                format!("{host} offers no SASL mechanism ferret speaks"),
                            ));
                        }
                        let c = scram::Client::new(
                            Hash::Sha256,
                            "",
                            t.password.as_bytes(),
                            scram::nonce(),
                        );
                        let first = c.first();
                        scram = Some(c);
                        let mut p = b"SCRAM-SHA-256\0".to_vec();
                        p.extend_from_slice(&(first.len() as u32).to_be_bytes());
                        p.extend_from_slice(first.as_bytes());
                        message(b'p', &p)
                    }
                    11 => {
                        let Some(c) = scram.as_mut() else {
                            return Attempt::Done(verdict(
                                Status::Unknown,
                                &host,
                                "SASL out of order",
                            ));
                        };
                        match c.finish(&String::from_utf8_lossy(&body[4..])) {
                            Ok(fin) => message(b'p', fin.as_bytes()),
                            Err(e) => return Attempt::Done(verdict(Status::Unknown, &host, e)),
                        }
                    }
                    12 => {
                        let ok = scram
                            .as_ref()
                            .is_some_and(|c| c.check_server(&String::from_utf8_lossy(&body[4..])));
                        if !ok {
                            return Attempt::Done(verdict(
                                Status::Unknown,
                                &host,
                                "the server's SCRAM proof is wrong: it does not know the password",
                            ));
                        }
                        continue;
                    }
                    other => {
                        return Attempt::Done(Verification::unknown(
                            Reason::Unsupported,
                            format!("{host} asks for authentication method {other}"),
                        ));
                    }
                };
                if let Err(e) = s.write_all(&reply) {
                    return io(e);
                }
            }
            b'E' => {
                let (code, msg) = error_fields(&body);
                let v = match code.as_str() {
                    "28P01" | "28000" => verdict(Status::Invalid, &host, format!("{code}: {msg}")),
                    "3D000" => live("authenticated; the database does not exist (3D000)"),
                    "53300" | "57P03" => return Attempt::Retry(None),
                    _ => verdict(Status::Unknown, &host, format!("{code}: {msg}")),
                };
                return Attempt::Done(v);
            }
            b'N' => continue,
            _ => {
                return Attempt::Done(verdict(
                    Status::Unknown,
                    &host,
                    format!("unexpected message {:?}", kind as char),
                ));
            }
        }
    }
    Attempt::Done(verdict(Status::Unknown, &host, "too many messages"))
}
