//! MySQL and MariaDB URIs: the connection handshake up to authentication, then `COM_QUIT`.
//!
//! ferret reads the server's greeting, answers its challenge with `mysql_native_password`
//! (SHA-1 scramble) or `caching_sha2_password` (SHA-256 scramble) — the password never crosses
//! the wire — follows an auth-switch request, and quits as soon as the server answers OK,
//! before any statement could run. Error 1045 (access denied) is invalid; 1044 and 1049 (no
//! such or no allowed database), which come after the password was accepted, are live.
//! `caching_sha2_password`'s full authentication sends the password itself, so ferret does it
//! only over TLS (`ssl=true`/`sslmode=require` upgrades the connection, certificate checked).
//! The host must be allowed by `--verify-host`.

use std::io::{Read, Write};

use sha1::Sha1;
use sha2::{Digest, Sha256};

use super::ctx::{Ctx, io_failure, verdict};
use super::net::Stream;
use super::target::DbTarget;
use super::{Attempt, Reason, Status, Verification};

const CLIENT_LONG_PASSWORD: u32 = 1;
const CLIENT_CONNECT_WITH_DB: u32 = 8;
const CLIENT_PROTOCOL_41: u32 = 512;
const CLIENT_SSL: u32 = 2048;
const CLIENT_TRANSACTIONS: u32 = 8192;
const CLIENT_SECURE_CONNECTION: u32 = 32768;
const CLIENT_PLUGIN_AUTH: u32 = 1 << 19;

fn read_packet(s: &mut Stream) -> std::io::Result<(u8, Vec<u8>)> {
    let mut head = [0u8; 4];
    s.read_exact(&mut head)?;
    let len = u32::from_le_bytes([head[0], head[1], head[2], 0]) as usize;
    let mut body = vec![0u8; len];
    s.read_exact(&mut body)?;
    Ok((head[3], body))
}

fn write_packet(s: &mut Stream, seq: u8, body: &[u8]) -> std::io::Result<()> {
    let len = body.len() as u32;
    let mut p = len.to_le_bytes()[..3].to_vec();
    p.push(seq);
    p.extend_from_slice(body);
    s.write_all(&p)?;
    s.flush()
}

fn xor(a: &[u8], b: &[u8]) -> Vec<u8> {
    a.iter().zip(b).map(|(x, y)| x ^ y).collect()
}

/// `mysql_native_password`: SHA1(pw) XOR SHA1(scramble + SHA1(SHA1(pw))).
pub fn native(password: &[u8], scramble: &[u8]) -> Vec<u8> {
    if password.is_empty() {
        return Vec::new();
    }
    let h1 = Sha1::digest(password);
    let h2 = Sha1::digest(h1);
    let mut h = Sha1::new();
    h.update(scramble);
    h.update(h2);
    xor(&h1, &h.finalize())
}

/// `caching_sha2_password`: SHA256(pw) XOR SHA256(SHA256(SHA256(pw)) + scramble).
pub fn caching_sha2(password: &[u8], scramble: &[u8]) -> Vec<u8> {
    if password.is_empty() {
        return Vec::new();
    }
    let h1 = Sha256::digest(password);
    let h2 = Sha256::digest(h1);
    let mut h = Sha256::new();
    h.update(h2);
    h.update(scramble);
    xor(&h1, &h.finalize())
}

fn scramble_for(plugin: &str, password: &[u8], scramble: &[u8]) -> Option<Vec<u8>> {
    match plugin {
        "mysql_native_password" => Some(native(password, scramble)),
        "caching_sha2_password" => Some(caching_sha2(password, scramble)),
        _ => None,
    }
}

/// Verifies a MySQL or MariaDB URI.
pub fn verify(ctx: &Ctx, t: &DbTarget) -> Attempt {
    let host = t.host_port();
    let mut s = match ctx.connect_named(&t.host, t.port) {
        Ok(s) => s,
        Err(v) => return Attempt::Done(v),
    };
    let io = |e: std::io::Error| Attempt::Done(io_failure(&e, &host));
    let (_, greeting) = match read_packet(&mut s) {
        Ok(p) => p,
        Err(e) => return io(e),
    };
    if greeting.first() == Some(&0xff) {
        let msg = String::from_utf8_lossy(greeting.get(3..).unwrap_or_default()).into_owned();
        if msg.contains("Too many connections") {
            return Attempt::Retry(None);
        }
        return Attempt::Done(verdict(Status::Unknown, &host, format!("refused: {msg}")));
    }
    let Some(parsed) = parse_greeting(&greeting) else {
        return Attempt::Done(verdict(
            Status::Unknown,
            &host,
            "not a MySQL server greeting",
        ));
    };
    let (server_caps, mut scramble, mut plugin) = parsed;
    let mut caps = CLIENT_LONG_PASSWORD
        | CLIENT_PROTOCOL_41
        | CLIENT_TRANSACTIONS
        | CLIENT_SECURE_CONNECTION
        | CLIENT_PLUGIN_AUTH;
    if !t.database.is_empty() {
        caps |= CLIENT_CONNECT_WITH_DB;
    }
    let mut seq = 1u8;
    if t.wants_tls() {
        if server_caps & CLIENT_SSL == 0 {
            return Attempt::Done(verdict(
                Status::Unknown,
                &host,
                "the URI asks for TLS and the server does not offer it: not sent",
            ));
        }
        caps |= CLIENT_SSL;
        let mut req = caps.to_le_bytes().to_vec();
        req.extend_from_slice(&(16u32 << 20).to_le_bytes());
        req.push(45);
        req.extend_from_slice(&[0u8; 23]);
        if let Err(e) = write_packet(&mut s, seq, &req) {
            return io(e);
        }
        seq += 1;
        s = match s.into_tls(&t.host) {
            Ok(s) => s,
            Err(e) => return io(e),
        };
    }
    let tls = matches!(s, Stream::Tls(_));
    let pw = t.password.as_bytes();
    if scramble_for(&plugin, pw, &scramble).is_none() {
        plugin = "mysql_native_password".into();
    }
    let auth = scramble_for(&plugin, pw, &scramble).unwrap_or_default();
    let mut resp = caps.to_le_bytes().to_vec();
    resp.extend_from_slice(&(16u32 << 20).to_le_bytes());
    resp.push(45);
    resp.extend_from_slice(&[0u8; 23]);
    resp.extend_from_slice(t.user.as_bytes());
    resp.push(0);
    resp.push(auth.len() as u8);
    resp.extend_from_slice(&auth);
    if !t.database.is_empty() {
        resp.extend_from_slice(t.database.as_bytes());
        resp.push(0);
    }
    resp.extend_from_slice(plugin.as_bytes());
    resp.push(0);
    if let Err(e) = write_packet(&mut s, seq, &resp) {
        return io(e);
    }
    let live = |detail: &str| {
        let mut v = verdict(Status::Live, &host, detail);
        v.identity.insert("user".into(), t.user.clone());
        v
    };
    for _ in 0..8 {
        let (pseq, body) = match read_packet(&mut s) {
            Ok(p) => p,
            Err(e) => return io(e),
        };
        seq = pseq.wrapping_add(1);
        match body.first() {
            Some(0x00) => {
                let _ = write_packet(&mut s, 0, &[0x01]);
                return Attempt::Done(live("authenticated (OK); ran nothing"));
            }
            Some(0xff) => {
                let code = body
                    .get(1..3)
                    .map(|b| u16::from_le_bytes([b[0], b[1]]))
                    .unwrap_or(0);
                let msg_start = if body.get(3) == Some(&b'#') { 9 } else { 3 };
                let msg =
                    String::from_utf8_lossy(body.get(msg_start..).unwrap_or_default()).into_owned();
                let v = match code {
                    1045 | 1698 => verdict(Status::Invalid, &host, format!("error {code}: {msg}")),
                    1044 | 1049 => live(&format!("authenticated; error {code}: {msg}")),
                    1040 | 1203 => return Attempt::Retry(None),
                    _ => verdict(Status::Unknown, &host, format!("error {code}: {msg}")),
                };
                return Attempt::Done(v);
            }
            Some(0xfe) => {
                // Auth switch: plugin name, then a new scramble.
                let rest = &body[1..];
                let end = rest.iter().position(|b| *b == 0).unwrap_or(rest.len());
                plugin = String::from_utf8_lossy(&rest[..end]).into_owned();
                scramble = rest
                    .get(end + 1..)
                    .unwrap_or_default()
                    .strip_suffix(&[0])
                    .map_or_else(
                        || rest.get(end + 1..).unwrap_or_default().to_vec(),
                        <[u8]>::to_vec,
                    );
                let Some(answer) = scramble_for(&plugin, pw, &scramble) else {
                    return Attempt::Done(Verification::unknown(
                        Reason::Unsupported,
                        format!("{host} asks for authentication plugin {plugin}"),
                    ));
                };
                if let Err(e) = write_packet(&mut s, seq, &answer) {
                    return io(e);
                }
            }
            Some(0x01) => match body.get(1) {
                Some(3) => continue,
                Some(4) if tls => {
                    let mut p = pw.to_vec();
                    p.push(0);
                    if let Err(e) = write_packet(&mut s, seq, &p) {
                        return io(e);
                    }
                }
                Some(4) => {
                    return Attempt::Done(Verification::unknown(
                        Reason::Skipped,
                        format!(
                            "{host} asks for caching_sha2 full authentication, which sends the password: only over TLS (add ssl=true)"
                        ),
                    ));
                }
                _ => {
                    return Attempt::Done(verdict(Status::Unknown, &host, "unexpected auth data"));
                }
            },
            _ => return Attempt::Done(verdict(Status::Unknown, &host, "unexpected packet")),
        }
    }
    Attempt::Done(verdict(Status::Unknown, &host, "too many packets"))
}

/// The greeting's capabilities, scramble (20 bytes) and plugin name.
fn parse_greeting(g: &[u8]) -> Option<(u32, Vec<u8>, String)> {
    if *g.first()? != 10 {
        return None;
    }
    let mut i = 1 + g[1..].iter().position(|b| *b == 0)? + 1;
    i += 4; // connection id
    let part1 = g.get(i..i + 8)?.to_vec();
    i += 9;
    let caps_lo = u16::from_le_bytes([*g.get(i)?, *g.get(i + 1)?]) as u32;
    i += 2;
    if i >= g.len() {
        return Some((caps_lo, part1, "mysql_native_password".into()));
    }
    i += 3; // charset, status
    let caps_hi = u16::from_le_bytes([*g.get(i)?, *g.get(i + 1)?]) as u32;
    let caps = caps_lo | (caps_hi << 16);
    i += 2;
    let auth_len = *g.get(i)? as usize;
    i += 11;
    let len2 = auth_len.saturating_sub(8).max(13);
    let part2 = g.get(i..(i + len2).min(g.len()))?;
    let mut scramble = part1;
    scramble.extend_from_slice(part2.strip_suffix(&[0]).unwrap_or(part2));
    i += len2;
    let plugin = g
        .get(i..)
        .map(|r| {
            let end = r.iter().position(|b| *b == 0).unwrap_or(r.len());
            String::from_utf8_lossy(&r[..end]).into_owned()
        })
        .filter(|p| !p.is_empty())
        .unwrap_or_else(|| "mysql_native_password".into());
    Some((caps, scramble, plugin))
}
