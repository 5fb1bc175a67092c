//! SSH private keys: offered for public-key authentication to the hosts the user names.
//!
//! A private key names no host, so nothing is tried unless the user gives targets
//! (`--verify-ssh git@github.com`, `--verify-ssh deploy@10.0.0.5:2222`), each also allowed by
//! `--verify-host`. ferret speaks just enough SSH (RFC 4253/4252) for one authentication:
//! `curve25519-sha256` key exchange, the server's host-key signature checked against the key it
//! sent (`ssh-ed25519`, `ecdsa-sha2-nistp256`, `rsa-sha2-256/512`), `chacha20-poly1305@openssh.com`
//! for the encrypted transport, then a `publickey` request signed with the key. The private
//! key never leaves the process: it signs this session's identifier only. `USERAUTH_SUCCESS` is
//! live (the key logs in as that user there); `USERAUTH_FAILURE` is invalid for that target.
//! ferret then disconnects: no channel is opened, nothing runs. Host keys are not compared with
//! `known_hosts` (the user chose the target; nothing secret is sent). Unencrypted OpenSSH keys
//! (Ed25519, RSA, ECDSA P-256) and unencrypted PEM/PKCS#8 RSA and Ed25519 keys are supported;
//! an encrypted key is `unknown` (`unsupported`). All crypto is `ring`'s.

use std::io::{Read, Write};

use base64::Engine as _;
use ring::agreement;
use ring::rand::{SecureRandom, SystemRandom};
use ring::signature::{self, KeyPair};
use sha2::{Digest, Sha256};

use super::ctx::{Ctx, io_failure, verdict};
use super::net::Stream;
use super::{Attempt, Reason, Status, Verification};

const CLIENT_VERSION: &str = "SSH-2.0-ferret_verify";

/// A private key ferret can sign with.
pub enum Key {
    /// Ed25519.
    Ed25519(signature::Ed25519KeyPair),
    /// RSA (signed as `rsa-sha2-256`), with its public blob.
    Rsa(signature::RsaKeyPair, Vec<u8>),
    /// ECDSA P-256, with its public blob.
    EcdsaP256(signature::EcdsaKeyPair, Vec<u8>),
}

fn put_str(out: &mut Vec<u8>, s: &[u8]) {
    out.extend_from_slice(&(s.len() as u32).to_be_bytes());
    out.extend_from_slice(s);
}

fn put_mpint(out: &mut Vec<u8>, b: &[u8]) {
    let b = strip(b);
    if b.first().is_some_and(|x| x & 0x80 != 0) {
        let mut v = vec![0];
        v.extend_from_slice(b);
        put_str(out, &v);
    } else {
        put_str(out, b);
    }
}

fn strip(b: &[u8]) -> &[u8] {
    let i = b.iter().position(|x| *x != 0).unwrap_or(b.len());
    &b[i..]
}

/// A reader of SSH wire types.
struct Wire<'a>(&'a [u8]);

impl<'a> Wire<'a> {
    fn u32(&mut self) -> Option<u32> {
        let b = self.0.get(..4)?;
        self.0 = &self.0[4..];
        Some(u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    }
    fn bytes(&mut self) -> Option<&'a [u8]> {
        let n = self.u32()? as usize;
        let b = self.0.get(..n)?;
        self.0 = &self.0[n..];
        Some(b)
    }
}

/// `a mod m` for big-endian unsigned integers (`m` > 0).
fn big_mod(a: &[u8], m: &[u8]) -> Vec<u8> {
    let m = strip(m);
    let mut r: Vec<u8> = vec![0; m.len() + 1];
    let ge = |r: &[u8]| {
        let r = strip(r);
        r.len() > m.len() || (r.len() == m.len() && r >= m)
    };
    for byte in a {
        for bit in (0..8).rev() {
            // r = r * 2 + bit
            let mut carry = (byte >> bit) & 1;
            for x in r.iter_mut().rev() {
                let v = (*x as u16) << 1 | carry as u16;
                *x = v as u8;
                carry = (v >> 8) as u8;
            }
            if ge(&r) {
                // r -= m
                let mut borrow = 0i16;
                let off = r.len() - m.len();
                for i in (0..r.len()).rev() {
                    let sub = if i >= off { m[i - off] as i16 } else { 0 };
                    let mut v = r[i] as i16 - sub - borrow;
                    borrow = if v < 0 {
                        v += 256;
                        1
                    } else {
                        0
                    };
                    r[i] = v as u8;
                }
            }
        }
    }
    strip(&r).to_vec()
}

fn minus_one(b: &[u8]) -> Vec<u8> {
    let mut v = strip(b).to_vec();
    for x in v.iter_mut().rev() {
        if *x > 0 {
            *x -= 1;
            break;
        }
        *x = 0xff;
    }
    v
}

/// (n, e) of a PKCS#1 `RSAPublicKey` DER.
fn rsa_public_parts(der: &[u8]) -> Option<(Vec<u8>, Vec<u8>)> {
    fn tlv(b: &[u8]) -> Option<(u8, &[u8], &[u8])> {
        let tag = *b.first()?;
        let l0 = *b.get(1)? as usize;
        let (len, hdr) = if l0 < 0x80 {
            (l0, 2)
        } else {
            let n = l0 & 0x7f;
            let mut len = 0usize;
            for i in 0..n {
                len = len << 8 | *b.get(2 + i)? as usize;
            }
            (len, 2 + n)
        };
        Some((tag, b.get(hdr..hdr + len)?, b.get(hdr + len..)?))
    }
    let (_, seq, _) = tlv(der)?;
    let (_, n, rest) = tlv(seq)?;
    let (_, e, _) = tlv(rest)?;
    Some((strip(n).to_vec(), strip(e).to_vec()))
}

fn rsa_blob(n: &[u8], e: &[u8]) -> Vec<u8> {
    let mut blob = Vec::new();
    put_str(&mut blob, b"ssh-rsa");
    put_mpint(&mut blob, e);
    put_mpint(&mut blob, n);
    blob
}

fn pem_body(pem: &str) -> Option<(String, Vec<u8>)> {
    let start = pem.find("-----BEGIN ")?;
    let label_end = pem[start + 11..].find("-----")? + start + 11;
    let label = pem[start + 11..label_end].to_string();
    let body_start = label_end + 5;
    let end = pem[body_start..].find("-----END")? + body_start;
    let b64: String = pem[body_start..end]
        .replace("\\n", "\n")
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect();
    let der = base64::engine::general_purpose::STANDARD.decode(b64).ok()?;
    Some((label, der))
}

/// Reads a private key (see the module docs for the formats).
pub fn parse_key(pem: &str) -> Result<Key, String> {
    let (label, der) = pem_body(pem).ok_or("not a PEM or OpenSSH private key")?;
    if pem.contains("ENCRYPTED") || pem.contains("Proc-Type: 4,ENCRYPTED") {
        return Err("the key is encrypted".into());
    }
    let rng = SystemRandom::new();
    match label.as_str() {
        "OPENSSH PRIVATE KEY" => {
            let rest = der
                .strip_prefix(b"openssh-key-v1\0")
                .ok_or("not an openssh-key-v1 key")?;
            let mut w = Wire(rest);
            let cipher = w.bytes().ok_or("truncated key")?;
            if cipher != b"none" {
                return Err("the key is encrypted".into());
            }
            w.bytes();
            w.bytes();
            if w.u32() != Some(1) {
                return Err("not one key".into());
            }
            let public = w.bytes().ok_or("truncated key")?.to_vec();
            let mut p = Wire(w.bytes().ok_or("truncated key")?);
            p.u32();
            p.u32();
            let kind = p.bytes().ok_or("truncated key")?;
            let bad = |_| "the key does not parse".to_string();
            match kind {
                b"ssh-ed25519" => {
                    let pubk = p.bytes().ok_or("truncated key")?;
                    let sk = p.bytes().ok_or("truncated key")?;
                    let k = signature::Ed25519KeyPair::from_seed_and_public_key(
                        sk.get(..32).ok_or("short key")?,
                        pubk,
                    )
                    .map_err(bad)?;
                    Ok(Key::Ed25519(k))
                }
                b"ssh-rsa" => {
                    let n = p.bytes().ok_or("truncated key")?;
                    let e = p.bytes().ok_or("truncated key")?;
                    let d = p.bytes().ok_or("truncated key")?;
                    let iqmp = p.bytes().ok_or("truncated key")?;
                    let pp = p.bytes().ok_or("truncated key")?;
                    let q = p.bytes().ok_or("truncated key")?;
                    let dp = big_mod(d, &minus_one(pp));
                    let dq = big_mod(d, &minus_one(q));
                    let comps = ring::rsa::KeyPairComponents {
                        public_key: signature::RsaPublicKeyComponents {
                            n: strip(n),
                            e: strip(e),
                        },
                        d: strip(d),
                        p: strip(pp),
                        q: strip(q),
                        dP: &dp[..],
                        dQ: &dq[..],
                        qInv: strip(iqmp),
                    };
                    let k = signature::RsaKeyPair::from_components(&comps).map_err(bad)?;
                    Ok(Key::Rsa(k, public))
                }
                b"ecdsa-sha2-nistp256" => {
                    p.bytes();
                    let q = p.bytes().ok_or("truncated key")?;
                    let d = p.bytes().ok_or("truncated key")?;
                    let d = strip(d);
                    let mut scalar = vec![0u8; 32usize.saturating_sub(d.len())];
                    scalar.extend_from_slice(d);
                    let k = signature::EcdsaKeyPair::from_private_key_and_public_key(
                        &signature::ECDSA_P256_SHA256_FIXED_SIGNING,
                        &scalar,
                        q,
                        &rng,
                    )
                    .map_err(bad)?;
                    Ok(Key::EcdsaP256(k, public))
                }
                other => Err(format!(
                    "{} keys are not supported",
                    String::from_utf8_lossy(other)
                )),
            }
        }
        "RSA PRIVATE KEY" | "PRIVATE KEY" => {
            if let Ok(k) = signature::Ed25519KeyPair::from_pkcs8_maybe_unchecked(&der) {
                return Ok(Key::Ed25519(k));
            }
            let k = signature::RsaKeyPair::from_der(&der)
                .or_else(|_| signature::RsaKeyPair::from_pkcs8(&der))
                .map_err(|e| format!("the key is not one ferret can use: {e}"))?;
            let (n, e) = rsa_public_parts(k.public().as_ref()).ok_or("bad RSA public key")?;
            let blob = rsa_blob(&n, &e);
            Ok(Key::Rsa(k, blob))
        }
        other => Err(format!("{other} keys are not supported")),
    }
}

impl Key {
    fn algorithm(&self) -> &'static str {
        match self {
            Key::Ed25519(_) => "ssh-ed25519",
            Key::Rsa(..) => "rsa-sha2-256",
            Key::EcdsaP256(..) => "ecdsa-sha2-nistp256",
        }
    }

    fn public_blob(&self) -> Vec<u8> {
        match self {
            Key::Ed25519(k) => {
                let mut b = Vec::new();
                put_str(&mut b, b"ssh-ed25519");
                put_str(&mut b, k.public_key().as_ref());
                b
            }
            Key::Rsa(_, b) | Key::EcdsaP256(_, b) => b.clone(),
        }
    }

    fn sign(&self, data: &[u8]) -> Option<Vec<u8>> {
        let rng = SystemRandom::new();
        let mut blob = Vec::new();
        put_str(&mut blob, self.algorithm().as_bytes());
        match self {
            Key::Ed25519(k) => put_str(&mut blob, k.sign(data).as_ref()),
            Key::Rsa(k, _) => {
                let mut sig = vec![0u8; k.public().modulus_len()];
                k.sign(&signature::RSA_PKCS1_SHA256, &rng, data, &mut sig)
                    .ok()?;
                put_str(&mut blob, &sig);
            }
            Key::EcdsaP256(k, _) => {
                let sig = k.sign(&rng, data).ok()?;
                let (r, s) = sig.as_ref().split_at(32);
                let mut inner = Vec::new();
                put_mpint(&mut inner, r);
                put_mpint(&mut inner, s);
                put_str(&mut blob, &inner);
            }
        }
        Some(blob)
    }
}

/// Checks the server's signature of the exchange hash with the host key it sent.
fn host_signature_ok(host_key: &[u8], sig: &[u8], h: &[u8]) -> bool {
    let mut k = Wire(host_key);
    let mut s = Wire(sig);
    let (Some(kind), Some(alg), Some(sig)) = (k.bytes(), s.bytes(), s.bytes()) else {
        return false;
    };
    match (kind, alg) {
        (b"ssh-ed25519", b"ssh-ed25519") => k.bytes().is_some_and(|pk| {
            signature::UnparsedPublicKey::new(&signature::ED25519, pk)
                .verify(h, sig)
                .is_ok()
        }),
        (b"ssh-rsa", b"rsa-sha2-256" | b"rsa-sha2-512") => {
            let (Some(e), Some(n)) = (k.bytes(), k.bytes()) else {
                return false;
            };
            let params = if alg == b"rsa-sha2-256" {
                &signature::RSA_PKCS1_2048_8192_SHA256
            } else {
                &signature::RSA_PKCS1_2048_8192_SHA512
            };
            signature::RsaPublicKeyComponents {
                n: strip(n),
                e: strip(e),
            }
            .verify(params, h, sig)
            .is_ok()
        }
        (b"ecdsa-sha2-nistp256", b"ecdsa-sha2-nistp256") => {
            k.bytes();
            let Some(q) = k.bytes() else { return false };
            let mut w = Wire(sig);
            let (Some(r), Some(s)) = (w.bytes(), w.bytes()) else {
                return false;
            };
            let pad = |x: &[u8]| {
                let x = strip(x);
                let mut v = vec![0u8; 32usize.saturating_sub(x.len())];
                v.extend_from_slice(x);
                v
            };
            let mut fixed = pad(r);
            fixed.extend(pad(s));
            signature::UnparsedPublicKey::new(&signature::ECDSA_P256_SHA256_FIXED, q)
                .verify(h, &fixed)
                .is_ok()
        }
        _ => false,
    }
}

/// The transport: plain packets until NEWKEYS, then chacha20-poly1305@openssh.com.
struct Transport {
    s: Stream,
    send_seq: u32,
    recv_seq: u32,
    seal: Option<ring::aead::chacha20_poly1305_openssh::SealingKey>,
    open: Option<ring::aead::chacha20_poly1305_openssh::OpeningKey>,
}

impl Transport {
    fn send(&mut self, payload: &[u8]) -> std::io::Result<()> {
        let aead = self.seal.is_some();
        let unpadded = 1 + payload.len() + if aead { 0 } else { 4 };
        let mut pad = 8 - unpadded % 8;
        if pad < 4 {
            pad += 8;
        }
        let mut p = Vec::with_capacity(unpadded + pad + 20);
        p.extend_from_slice(&((1 + payload.len() + pad) as u32).to_be_bytes());
        p.push(pad as u8);
        p.extend_from_slice(payload);
        let mut padding = vec![0u8; pad];
        let _ = SystemRandom::new().fill(&mut padding);
        p.extend_from_slice(&padding);
        if let Some(k) = &self.seal {
            let mut tag = [0u8; 16];
            k.seal_in_place(self.send_seq, &mut p, &mut tag);
            p.extend_from_slice(&tag);
        }
        self.send_seq = self.send_seq.wrapping_add(1);
        self.s.write_all(&p)?;
        self.s.flush()
    }

    fn recv(&mut self) -> std::io::Result<Vec<u8>> {
        let bad = |m: &str| std::io::Error::new(std::io::ErrorKind::InvalidData, m.to_string());
        let mut len4 = [0u8; 4];
        self.s.read_exact(&mut len4)?;
        let seq = self.recv_seq;
        self.recv_seq = self.recv_seq.wrapping_add(1);
        let payload = if let Some(k) = &self.open {
            let plain = k.decrypt_packet_length(seq, len4);
            let len = u32::from_be_bytes(plain) as usize;
            if !(5..=256 * 1024).contains(&len) {
                return Err(bad("bad packet length"));
            }
            let mut buf = vec![0u8; 4 + len];
            buf[..4].copy_from_slice(&len4);
            self.s.read_exact(&mut buf[4..])?;
            let mut tag = [0u8; 16];
            self.s.read_exact(&mut tag)?;
            let plain = k
                .open_in_place(seq, &mut buf, &tag)
                .map_err(|_| bad("packet authentication failed"))?;
            plain.to_vec()
        } else {
            let len = u32::from_be_bytes(len4) as usize;
            if !(5..=256 * 1024).contains(&len) {
                return Err(bad("bad packet length"));
            }
            let mut buf = vec![0u8; len];
            self.s.read_exact(&mut buf)?;
            buf
        };
        let pad = *payload.first().ok_or_else(|| bad("empty packet"))? as usize;
        let end = payload
            .len()
            .checked_sub(pad)
            .filter(|e| *e >= 1)
            .ok_or_else(|| bad("bad padding"))?;
        Ok(payload[1..end].to_vec())
    }

    /// The next message that is not IGNORE, DEBUG, EXT_INFO or a banner.
    fn next(&mut self) -> std::io::Result<Vec<u8>> {
        loop {
            let m = self.recv()?;
            match m.first() {
                Some(2 | 4 | 7 | 53) => continue,
                _ => return Ok(m),
            }
        }
    }
}

fn name_list(list: &[&str]) -> Vec<u8> {
    let mut v = Vec::new();
    put_str(&mut v, list.join(",").as_bytes());
    v
}

/// One target: `Ok(true)` accepted, `Ok(false)` refused, `Err` a verdict (not allowed, network,
/// protocol).
fn try_target(ctx: &Ctx, key: &Key, target: &str) -> Result<bool, Verification> {
    let (user, hostport) = target.rsplit_once('@').unwrap_or(("", target));
    let (host, port) = match hostport.rsplit_once(':') {
        Some((h, p)) if !h.contains(':') || h.starts_with('[') => (
            h.trim_start_matches('[').trim_end_matches(']').to_string(),
            p.parse::<u16>().unwrap_or(22),
        ),
        _ => (hostport.to_string(), 22),
    };
    let shown = format!("{host}:{port}");
    let io = |e: std::io::Error| io_failure(&e, &shown);
    let proto = |m: &str| verdict(Status::Unknown, &shown, m.to_string());
    let mut s = ctx.connect_named(&host, port)?;
    s.write_all(format!("{CLIENT_VERSION}\r\n").as_bytes())
        .map_err(io)?;
    // The server's version line (lines before it are allowed by RFC 4253).
    let mut server_version = String::new();
    for _ in 0..32 {
        let mut line = Vec::new();
        let mut b = [0u8; 1];
        while line.len() < 255 {
            s.read_exact(&mut b).map_err(io)?;
            if b[0] == b'\n' {
                break;
            }
            line.push(b[0]);
        }
        let text = String::from_utf8_lossy(&line)
            .trim_end_matches('\r')
            .to_string();
        if text.starts_with("SSH-") {
            server_version = text;
            break;
        }
    }
    if !server_version.starts_with("SSH-2.0") && !server_version.starts_with("SSH-1.99") {
        return Err(proto("not an SSH-2 server"));
    }
    let mut t = Transport {
        s,
        send_seq: 0,
        recv_seq: 0,
        seal: None,
        open: None,
    };
    let rng = SystemRandom::new();
    let mut kexinit = vec![20u8];
    let mut cookie = [0u8; 16];
    let _ = rng.fill(&mut cookie);
    kexinit.extend_from_slice(&cookie);
    for list in [
        &["curve25519-sha256", "curve25519-sha256@libssh.org"][..],
        &[
            "ssh-ed25519",
            "ecdsa-sha2-nistp256",
            "rsa-sha2-512",
            "rsa-sha2-256",
        ],
        &["chacha20-poly1305@openssh.com"],
        &["chacha20-poly1305@openssh.com"],
        &["hmac-sha2-256"],
        &["hmac-sha2-256"],
        &["none"],
        &["none"],
        &[],
        &[],
    ] {
        kexinit.extend(name_list(list));
    }
    kexinit.push(0);
    kexinit.extend_from_slice(&[0, 0, 0, 0]);
    t.send(&kexinit).map_err(io)?;
    let server_kexinit = t.next().map_err(io)?;
    if server_kexinit.first() != Some(&20) {
        return Err(proto("no KEXINIT from the server"));
    }
    {
        let mut w = Wire(server_kexinit.get(17..).unwrap_or_default());
        let lists: Vec<String> = (0..4)
            .map(|_| String::from_utf8_lossy(w.bytes().unwrap_or_default()).into_owned())
            .collect();
        if !lists[0]
            .split(',')
            .any(|k| k.starts_with("curve25519-sha256"))
        {
            return Err(Verification::unknown(
                Reason::Unsupported,
                format!("{shown} offers no curve25519 key exchange"),
            ));
        }
        if !lists[2]
            .split(',')
            .any(|c| c == "chacha20-poly1305@openssh.com")
        {
            return Err(Verification::unknown(
                Reason::Unsupported,
                format!("{shown} offers no chacha20-poly1305 cipher"),
            ));
        }
    }
    let eph = agreement::EphemeralPrivateKey::generate(&agreement::X25519, &rng)
        .map_err(|_| proto("key generation failed"))?;
    let q_c = eph
        .compute_public_key()
        .map_err(|_| proto("key generation failed"))?
        .as_ref()
        .to_vec();
    let mut init = vec![30u8];
    put_str(&mut init, &q_c);
    t.send(&init).map_err(io)?;
    let reply = t.next().map_err(io)?;
    if reply.first() != Some(&31) {
        return Err(proto("no KEX_ECDH_REPLY"));
    }
    let mut w = Wire(&reply[1..]);
    let (Some(k_s), Some(q_s), Some(sig)) = (w.bytes(), w.bytes(), w.bytes()) else {
        return Err(proto("malformed KEX_ECDH_REPLY"));
    };
    let peer = agreement::UnparsedPublicKey::new(&agreement::X25519, q_s.to_vec());
    let shared = agreement::agree_ephemeral(eph, &peer, |k| k.to_vec())
        .map_err(|_| proto("key agreement failed"))?;
    let mut k_mpint = Vec::new();
    put_mpint(&mut k_mpint, &shared);
    let mut hash = Vec::new();
    put_str(&mut hash, CLIENT_VERSION.as_bytes());
    put_str(&mut hash, server_version.as_bytes());
    put_str(&mut hash, &kexinit);
    put_str(&mut hash, &server_kexinit);
    put_str(&mut hash, k_s);
    put_str(&mut hash, &q_c);
    put_str(&mut hash, q_s);
    hash.extend_from_slice(&k_mpint);
    let h = Sha256::digest(&hash).to_vec();
    if !host_signature_ok(k_s, sig, &h) {
        return Err(proto("the server's host-key signature does not check out"));
    }
    t.send(&[21]).map_err(io)?;
    if t.next().map_err(io)?.first() != Some(&21) {
        return Err(proto("no NEWKEYS"));
    }
    let derive = |letter: u8| {
        let mut k1 = Sha256::new();
        k1.update(&k_mpint);
        k1.update(&h);
        k1.update([letter]);
        k1.update(&h);
        let k1 = k1.finalize().to_vec();
        let mut k2 = Sha256::new();
        k2.update(&k_mpint);
        k2.update(&h);
        k2.update(&k1);
        let mut key = [0u8; 64];
        key[..32].copy_from_slice(&k1);
        key[32..].copy_from_slice(&k2.finalize());
        key
    };
    t.seal = Some(ring::aead::chacha20_poly1305_openssh::SealingKey::new(
        &derive(b'C'),
    ));
    t.open = Some(ring::aead::chacha20_poly1305_openssh::OpeningKey::new(
        &derive(b'D'),
    ));
    let mut req = vec![5u8];
    put_str(&mut req, b"ssh-userauth");
    t.send(&req).map_err(io)?;
    if t.next().map_err(io)?.first() != Some(&6) {
        return Err(proto("ssh-userauth refused"));
    }
    let alg = key.algorithm();
    let blob = key.public_blob();
    let mut signed = Vec::new();
    put_str(&mut signed, &h);
    let mut body = vec![50u8];
    put_str(&mut body, user.as_bytes());
    put_str(&mut body, b"ssh-connection");
    put_str(&mut body, b"publickey");
    body.push(1);
    put_str(&mut body, alg.as_bytes());
    put_str(&mut body, &blob);
    signed.extend_from_slice(&body);
    let sig = key.sign(&signed).ok_or_else(|| proto("signing failed"))?;
    put_str(&mut body, &sig);
    t.send(&body).map_err(io)?;
    let answer = t.next().map_err(io)?;
    let mut bye = vec![1u8];
    bye.extend_from_slice(&11u32.to_be_bytes());
    put_str(&mut bye, b"verification done");
    put_str(&mut bye, b"");
    let _ = t.send(&bye);
    match answer.first() {
        Some(52) => Ok(true),
        Some(51) => Ok(false),
        _ => Err(proto("unexpected answer to public-key authentication")),
    }
}

/// Verifies an SSH private key against the user's targets.
pub fn verify(ctx: &Ctx, key_pem: &str, targets: &[String]) -> Attempt {
    let key = match parse_key(key_pem) {
        Ok(k) => k,
        Err(e) => return Attempt::Done(Verification::unknown(Reason::Unsupported, e)),
    };
    let mut refused = Vec::new();
    let mut last_err = None;
    for target in targets {
        match try_target(ctx, &key, target) {
            Ok(true) => {
                let host = target.rsplit_once('@').map_or(target.as_str(), |x| x.1);
                let mut v = verdict(Status::Live, host, "public-key authentication accepted");
                v.identity.insert("login".into(), target.clone());
                return Attempt::Done(v);
            }
            Ok(false) => refused.push(target.clone()),
            Err(v) => last_err = Some(v),
        }
    }
    if !refused.is_empty() && last_err.is_none() {
        let host = refused[0]
            .rsplit_once('@')
            .map_or(refused[0].as_str(), |x| x.1);
        return Attempt::Done(verdict(
            Status::Invalid,
            host,
            format!("not accepted by {}", refused.join(", ")),
        ));
    }
    Attempt::Done(last_err.unwrap_or_else(|| Verification::unknown(Reason::Skipped, "no target")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn big_numbers() {
        assert_eq!(big_mod(&[0x01, 0x00], &[0x07]), vec![4]); // 256 mod 7
        assert_eq!(big_mod(&[0x05], &[0x07]), vec![5]);
        assert_eq!(big_mod(&[0xff, 0xff, 0xff], &[0x01, 0x00]), vec![0xff]);
        assert_eq!(minus_one(&[0x01, 0x00]), vec![0x00, 0xff]);
        let mut b = Vec::new();
        put_mpint(&mut b, &[0x80]);
        assert_eq!(b, [0, 0, 0, 2, 0, 0x80]);
    }
}
