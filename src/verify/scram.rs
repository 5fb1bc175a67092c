//! SCRAM-SHA-256 and SCRAM-SHA-1 (RFC 5802, RFC 7677), as PostgreSQL and MongoDB use them:
//! the password never crosses the wire, and the server proves it knows it too.

use base64::Engine as _;
use hmac::{Hmac, KeyInit, Mac};
use sha1::Sha1;
use sha2::{Digest, Sha256};

/// The hash of a SCRAM mechanism.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Hash {
    /// SCRAM-SHA-1.
    Sha1,
    /// SCRAM-SHA-256.
    Sha256,
}

fn hmac(h: Hash, key: &[u8], data: &[u8]) -> Vec<u8> {
    match h {
        Hash::Sha256 => {
            let mut m = <Hmac<Sha256> as KeyInit>::new_from_slice(key).expect("any key length");
            m.update(data);
            m.finalize().into_bytes().to_vec()
        }
        Hash::Sha1 => {
            let mut m = <Hmac<Sha1> as KeyInit>::new_from_slice(key).expect("any key length");
            m.update(data);
            m.finalize().into_bytes().to_vec()
        }
    }
}

fn digest(h: Hash, data: &[u8]) -> Vec<u8> {
    match h {
        Hash::Sha256 => Sha256::digest(data).to_vec(),
        Hash::Sha1 => Sha1::digest(data).to_vec(),
    }
}

/// PBKDF2 with HMAC of `h`, one block (the length of the hash), as SCRAM's `Hi`.
pub fn hi(h: Hash, password: &[u8], salt: &[u8], iterations: u32) -> Vec<u8> {
    let mut s = salt.to_vec();
    s.extend_from_slice(&1u32.to_be_bytes());
    let mut u = hmac(h, password, &s);
    let mut out = u.clone();
    for _ in 1..iterations {
        u = hmac(h, password, &u);
        for (o, x) in out.iter_mut().zip(&u) {
            *o ^= x;
        }
    }
    out
}

/// A client nonce: 24 random bytes, base64.
pub fn nonce() -> String {
    let mut b = [0u8; 24];
    let _ = ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut b);
    base64::engine::general_purpose::STANDARD.encode(b)
}

/// One SCRAM exchange, client side.
#[derive(Debug, Clone)]
pub struct Client {
    hash: Hash,
    password: Vec<u8>,
    nonce: String,
    client_first_bare: String,
    server_signature: Vec<u8>,
}

impl Client {
    /// Starts an exchange for `user` (empty for PostgreSQL, which takes the startup user).
    pub fn new(hash: Hash, user: &str, password: &[u8], nonce: String) -> Client {
        let user = user.replace('=', "=3D").replace(',', "=2C");
        Client {
            hash,
            password: password.to_vec(),
            client_first_bare: format!("n={user},r={nonce}"),
            nonce,
            server_signature: Vec::new(),
        }
    }

    /// The client-first message.
    pub fn first(&self) -> String {
        format!("n,,{}", self.client_first_bare)
    }

    /// The client-final message for the server-first message, or why it cannot be made.
    pub fn finish(&mut self, server_first: &str) -> Result<String, String> {
        let mut r = None;
        let mut s = None;
        let mut i = None;
        for part in server_first.split(',') {
            match part.split_at_checked(2) {
                Some(("r=", v)) => r = Some(v),
                Some(("s=", v)) => s = Some(v),
                Some(("i=", v)) => i = v.parse::<u32>().ok(),
                _ => {}
            }
        }
        let (Some(r), Some(s), Some(i)) = (r, s, i) else {
            return Err("malformed SCRAM server-first message".into());
        };
        if !r.starts_with(&self.nonce) || i == 0 || i > 10_000_000 {
            return Err("SCRAM server-first message does not fit this exchange".into());
        }
        let salt = base64::engine::general_purpose::STANDARD
            .decode(s)
            .map_err(|_| "SCRAM salt is not base64".to_string())?;
        let salted = hi(self.hash, &self.password, &salt, i);
        let client_key = hmac(self.hash, &salted, b"Client Key");
        let stored = digest(self.hash, &client_key);
        let without_proof = format!("c=biws,r={r}");
        let auth = format!("{},{server_first},{without_proof}", self.client_first_bare);
        let client_sig = hmac(self.hash, &stored, auth.as_bytes());
        let proof: Vec<u8> = client_key
            .iter()
            .zip(&client_sig)
            .map(|(a, b)| a ^ b)
            .collect();
        let server_key = hmac(self.hash, &salted, b"Server Key");
        self.server_signature = hmac(self.hash, &server_key, auth.as_bytes());
        Ok(format!(
            "{without_proof},p={}",
            base64::engine::general_purpose::STANDARD.encode(proof)
        ))
    }

    /// Whether the server-final message proves the server knows the password.
    pub fn check_server(&self, server_final: &str) -> bool {
        server_final
            .split(',')
            .find_map(|p| p.strip_prefix("v="))
            .and_then(|v| base64::engine::general_purpose::STANDARD.decode(v).ok())
            .is_some_and(|v| !self.server_signature.is_empty() && v == self.server_signature)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 7677, section 3: user "user", password "pencil".
    #[test]
    fn rfc7677_example() {
        let mut c = Client::new(
            Hash::Sha256,
            "user",
            b"pencil",
            "rOprNGfwEbeRWgbNEkqO".into(),
        );
        assert_eq!(c.first(), "n,,n=user,r=rOprNGfwEbeRWgbNEkqO");
        let fin = c
            .finish("r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096")
            .unwrap();
        assert_eq!(
            fin,
            "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ="
        );
        assert!(c.check_server("v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4="));
        assert!(!c.check_server("v=AAAA"));
    }

    /// RFC 5802, section 5: SCRAM-SHA-1, user "user", password "pencil".
    #[test]
    fn rfc5802_example() {
        let mut c = Client::new(
            Hash::Sha1,
            "user",
            b"pencil",
            "fyko+d2lbbFgONRv9qkxdawL".into(),
        );
        let fin = c
            .finish("r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,s=QSXCR+Q6sek8bf92,i=4096")
            .unwrap();
        assert_eq!(
            fin,
            "c=biws,r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,p=v0X8v3Bz2T0CJGbJQyF0X+HI4Ts="
        );
        assert!(c.check_server("v=rmF9pqV8S7suAoZWja4dJRkFsKQ="));
    }
}
