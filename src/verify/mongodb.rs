//! MongoDB URIs: SCRAM authentication over the wire protocol, and nothing else.
//!
//! ferret sends `saslStart` and `saslContinue` (OP_MSG, to the URI's `authSource`, else its
//! database, else `admin`) with SCRAM-SHA-256 — falling back to SCRAM-SHA-1 when the server does
//! not offer it — checks the server's own proof, and disconnects. No other command runs.
//! Error 18 (`AuthenticationFailed`) is invalid. `mongodb+srv://` needs a DNS SRV lookup, which
//! ferret does not make (`unknown`, `unsupported`); `tls=true` upgrades the connection to TLS
//! with certificate checks. The host must be allowed by `--verify-host`.
//!
//! No MongoDB server can be installed from the registries this project's CI reaches without a
//! download at run time, so the tests drive this verifier against a wire-protocol stand-in
//! (`tests/verify.rs`) that checks the SCRAM proof the way RFC 5802 says a server does.

use std::io::{Read, Write};

use md5::{Digest, Md5};

use super::ctx::{Ctx, io_failure, verdict};
use super::net::Stream;
use super::scram::{self, Hash};
use super::target::DbTarget;
use super::{Attempt, Status};

/// A BSON value, as far as these commands need.
#[derive(Debug, Clone, PartialEq)]
pub enum Bson {
    /// int32.
    I32(i32),
    /// int64.
    I64(i64),
    /// double.
    F64(f64),
    /// UTF-8 string.
    Str(String),
    /// Generic binary.
    Bin(Vec<u8>),
    /// Boolean.
    Bool(bool),
    /// Embedded document.
    Doc(Vec<(String, Bson)>),
}

/// Encodes a document.
pub fn encode(doc: &[(String, Bson)]) -> Vec<u8> {
    let mut body = Vec::new();
    for (k, v) in doc {
        let tag = match v {
            Bson::F64(_) => 0x01,
            Bson::Str(_) => 0x02,
            Bson::Doc(_) => 0x03,
            Bson::Bin(_) => 0x05,
            Bson::Bool(_) => 0x08,
            Bson::I32(_) => 0x10,
            Bson::I64(_) => 0x12,
        };
        body.push(tag);
        body.extend_from_slice(k.as_bytes());
        body.push(0);
        match v {
            Bson::F64(x) => body.extend_from_slice(&x.to_le_bytes()),
            Bson::Str(s) => {
                body.extend_from_slice(&((s.len() + 1) as i32).to_le_bytes());
                body.extend_from_slice(s.as_bytes());
                body.push(0);
            }
            Bson::Doc(d) => body.extend(encode(d)),
            Bson::Bin(b) => {
                body.extend_from_slice(&(b.len() as i32).to_le_bytes());
                body.push(0);
                body.extend_from_slice(b);
            }
            Bson::Bool(b) => body.push(u8::from(*b)),
            Bson::I32(x) => body.extend_from_slice(&x.to_le_bytes()),
            Bson::I64(x) => body.extend_from_slice(&x.to_le_bytes()),
        }
    }
    let mut out = ((body.len() + 5) as i32).to_le_bytes().to_vec();
    out.extend(body);
    out.push(0);
    out
}

/// Decodes the top-level fields of a document (nested documents and unknown types are
/// skipped where their size is known).
pub fn decode(b: &[u8]) -> Option<Vec<(String, Bson)>> {
    let len = i32::from_le_bytes(b.get(..4)?.try_into().ok()?) as usize;
    let b = b.get(4..len.checked_sub(1)?)?;
    let mut i = 0;
    let mut out = Vec::new();
    while i < b.len() {
        let tag = b[i];
        i += 1;
        let end = i + b[i..].iter().position(|x| *x == 0)?;
        let key = String::from_utf8_lossy(&b[i..end]).into_owned();
        i = end + 1;
        let i32_at = |i: usize| -> Option<i32> {
            Some(i32::from_le_bytes(b.get(i..i + 4)?.try_into().ok()?))
        };
        let (value, size) = match tag {
            0x01 => (
                Some(Bson::F64(f64::from_le_bytes(
                    b.get(i..i + 8)?.try_into().ok()?,
                ))),
                8,
            ),
            0x02 => {
                let n = i32_at(i)? as usize;
                let s = b.get(i + 4..i + 4 + n.checked_sub(1)?)?;
                (
                    Some(Bson::Str(String::from_utf8_lossy(s).into_owned())),
                    4 + n,
                )
            }
            0x03 | 0x04 => {
                let n = i32_at(i)? as usize;
                let d = decode(b.get(i..i + n)?).map(Bson::Doc);
                (d, n)
            }
            0x05 => {
                let n = i32_at(i)? as usize;
                (Some(Bson::Bin(b.get(i + 5..i + 5 + n)?.to_vec())), 5 + n)
            }
            0x07 => (None, 12),
            0x08 => (Some(Bson::Bool(*b.get(i)? != 0)), 1),
            0x09 | 0x11 => (None, 8),
            0x0A => (None, 0),
            0x10 => (Some(Bson::I32(i32_at(i)?)), 4),
            0x12 => (
                Some(Bson::I64(i64::from_le_bytes(
                    b.get(i..i + 8)?.try_into().ok()?,
                ))),
                8,
            ),
            0x13 => (None, 16),
            _ => return Some(out),
        };
        if let Some(v) = value {
            out.push((key, v));
        }
        i += size;
    }
    Some(out)
}

fn field<'a>(doc: &'a [(String, Bson)], k: &str) -> Option<&'a Bson> {
    doc.iter().find(|(n, _)| n == k).map(|(_, v)| v)
}

fn number(v: Option<&Bson>) -> Option<f64> {
    match v? {
        Bson::F64(x) => Some(*x),
        Bson::I32(x) => Some(f64::from(*x)),
        Bson::I64(x) => Some(*x as f64),
        Bson::Bool(b) => Some(f64::from(u8::from(*b))),
        _ => None,
    }
}

fn command(
    s: &mut Stream,
    id: i32,
    doc: &[(String, Bson)],
) -> std::io::Result<Vec<(String, Bson)>> {
    let body = encode(doc);
    let mut msg = Vec::with_capacity(body.len() + 21);
    msg.extend_from_slice(&((body.len() + 21) as i32).to_le_bytes());
    msg.extend_from_slice(&id.to_le_bytes());
    msg.extend_from_slice(&0i32.to_le_bytes());
    msg.extend_from_slice(&2013i32.to_le_bytes());
    msg.extend_from_slice(&0u32.to_le_bytes());
    msg.push(0);
    msg.extend(body);
    s.write_all(&msg)?;
    s.flush()?;
    let mut head = [0u8; 16];
    s.read_exact(&mut head)?;
    let len = i32::from_le_bytes([head[0], head[1], head[2], head[3]]) as usize;
    if !(21..=16 << 20).contains(&len) {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            "not a MongoDB reply",
        ));
    }
    let mut rest = vec![0u8; len - 16];
    s.read_exact(&mut rest)?;
    // flagBits, then section kind 0 and its document.
    rest.get(5..)
        .and_then(decode)
        .ok_or_else(|| std::io::Error::new(std::io::ErrorKind::InvalidData, "bad BSON reply"))
}

fn s(k: &str, v: Bson) -> (String, Bson) {
    (k.to_string(), v)
}

/// Verifies a MongoDB URI.
pub fn verify(ctx: &Ctx, t: &DbTarget) -> Attempt {
    let host = t.host_port();
    let mut st = match ctx.connect_named(&t.host, t.port) {
        Ok(s) => s,
        Err(v) => return Attempt::Done(v),
    };
    if t.wants_tls() {
        st = match st.into_tls(&t.host) {
            Ok(s) => s,
            Err(e) => return Attempt::Done(io_failure(&e, &host)),
        };
    }
    let db = t
        .params
        .get("authsource")
        .cloned()
        .filter(|d| !d.is_empty())
        .unwrap_or_else(|| {
            if t.database.is_empty() {
                "admin".into()
            } else {
                t.database.clone()
            }
        });
    let mut result = exchange(&mut st, t, &db, Hash::Sha256);
    if let Ok(Err(msg)) = &result
        && msg.contains("mechanism")
    {
        result = exchange(&mut st, t, &db, Hash::Sha1);
    }
    match result {
        Err(e) => Attempt::Done(io_failure(&e, &host)),
        Ok(Ok(())) => {
            let mut v = verdict(
                Status::Live,
                &host,
                "SCRAM authentication succeeded; ran nothing",
            );
            v.identity.insert("user".into(), t.user.clone());
            v.identity.insert("auth_db".into(), db);
            Attempt::Done(v)
        }
        Ok(Err(msg)) if msg.starts_with("18:") => {
            Attempt::Done(verdict(Status::Invalid, &host, msg))
        }
        Ok(Err(msg)) => Attempt::Done(verdict(Status::Unknown, &host, msg)),
    }
}

/// One SCRAM conversation: `Ok(Ok(()))` authenticated, `Ok(Err(code: message))` refused.
fn exchange(
    st: &mut Stream,
    t: &DbTarget,
    db: &str,
    hash: Hash,
) -> std::io::Result<Result<(), String>> {
    let password = match hash {
        Hash::Sha256 => t.password.clone(),
        Hash::Sha1 => {
            let d = Md5::digest(format!("{}:mongo:{}", t.user, t.password));
            d.iter().map(|x| format!("{x:02x}")).collect()
        }
    };
    let mechanism = if hash == Hash::Sha256 {
        "SCRAM-SHA-256"
    } else {
        "SCRAM-SHA-1"
    };
    let mut c = scram::Client::new(hash, &t.user, password.as_bytes(), scram::nonce());
    let fail = |doc: &[(String, Bson)]| {
        let code = number(field(doc, "code")).unwrap_or(0.0) as i64;
        let msg = match field(doc, "errmsg") {
            Some(Bson::Str(m)) => m.clone(),
            _ => "refused".into(),
        };
        Err(format!("{code}: {msg}"))
    };
    let r = command(
        st,
        1,
        &[
            s("saslStart", Bson::I32(1)),
            s("mechanism", Bson::Str(mechanism.into())),
            s("payload", Bson::Bin(c.first().into_bytes())),
            s("autoAuthorize", Bson::I32(1)),
            s(
                "options",
                Bson::Doc(vec![s("skipEmptyExchange", Bson::Bool(true))]),
            ),
            s("$db", Bson::Str(db.into())),
        ],
    )?;
    if number(field(&r, "ok")) != Some(1.0) {
        return Ok(fail(&r));
    }
    let conversation = field(&r, "conversationId").cloned().unwrap_or(Bson::I32(1));
    let Some(Bson::Bin(server_first)) = field(&r, "payload") else {
        return Ok(Err("no SCRAM payload".into()));
    };
    let fin = match c.finish(&String::from_utf8_lossy(server_first)) {
        Ok(f) => f,
        Err(e) => return Ok(Err(e)),
    };
    let mut r = command(
        st,
        2,
        &[
            s("saslContinue", Bson::I32(1)),
            s("conversationId", conversation.clone()),
            s("payload", Bson::Bin(fin.into_bytes())),
            s("$db", Bson::Str(db.into())),
        ],
    )?;
    if number(field(&r, "ok")) != Some(1.0) {
        return Ok(fail(&r));
    }
    let Some(Bson::Bin(server_final)) = field(&r, "payload") else {
        return Ok(Err("no SCRAM server proof".into()));
    };
    if !c.check_server(&String::from_utf8_lossy(server_final)) {
        return Ok(Err("the server's SCRAM proof is wrong".into()));
    }
    let mut id = 3;
    while number(field(&r, "done")) != Some(1.0) && id < 6 {
        r = command(
            st,
            id,
            &[
                s("saslContinue", Bson::I32(1)),
                s("conversationId", conversation.clone()),
                s("payload", Bson::Bin(Vec::new())),
                s("$db", Bson::Str(db.into())),
            ],
        )?;
        if number(field(&r, "ok")) != Some(1.0) {
            return Ok(fail(&r));
        }
        id += 1;
    }
    Ok(Ok(()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bson_round_trips() {
        let doc = vec![
            s("a", Bson::I32(1)),
            s("b", Bson::Str("x".into())),
            s("c", Bson::Bin(vec![1, 2])),
            s("d", Bson::Doc(vec![s("e", Bson::Bool(true))])),
            s("f", Bson::F64(1.0)),
            s("g", Bson::I64(7)),
        ];
        assert_eq!(decode(&encode(&doc)).unwrap(), doc);
        assert!(decode(&[1, 0, 0]).is_none());
    }
}
