//! Azure Storage account keys: a SharedKey-signed `List Containers` of at most one container.
//!
//! Listing containers reads the account and changes nothing. The request is signed with the
//! account key (HMAC-SHA-256 of the canonical request, Azure's "Shared Key" scheme); the key
//! itself is never sent. The account name is the paired value `AccountName=` of the connection
//! string; the host is always `ACCOUNT.blob.core.windows.net` (an account name is 3–24 lowercase
//! letters and digits, so it cannot point anywhere else). Live on 200, invalid on 403
//! `AuthenticationFailed`.

use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

use base64::Engine as _;

use super::ctx::{Ctx, verdict};
use super::http::{self, Request};
use super::{Attempt, Reason, Status, Verification};

const VERSION: &str = "2021-08-06";

/// `ACCOUNT.blob.core.windows.net`.
pub fn host(account: &str) -> String {
    format!("{}.blob.core.windows.net", account.to_ascii_lowercase())
}

/// Whether an account name is well-formed (3–24 lowercase letters and digits).
pub fn valid_account(account: &str) -> bool {
    (3..=24).contains(&account.len())
        && account
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
}

/// An RFC 1123 date (`Sun, 11 Oct 2009 21:49:13 GMT`).
pub fn http_date(secs: u64) -> String {
    let days = secs / 86_400;
    let (y, m, d) = super::civil_from_days(days as i64);
    let weekday = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"][(days % 7) as usize];
    let month = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ][(m - 1) as usize];
    let rem = secs % 86_400;
    format!(
        "{weekday}, {d:02} {month} {y} {:02}:{:02}:{:02} GMT",
        rem / 3600,
        (rem % 3600) / 60,
        rem % 60
    )
}

/// The signature of the `List Containers` request at `date` (an RFC 1123 date).
pub fn signature(account: &str, key: &[u8], date: &str) -> String {
    let to_sign = format!(
        "GET\n\n\n\n\n\n\n\n\n\n\n\nx-ms-date:{date}\nx-ms-version:{VERSION}\n/{account}/\ncomp:list\nmaxresults:1"
    );
    let mut m = <Hmac<Sha256> as KeyInit>::new_from_slice(key).expect("HMAC takes any key length");
    m.update(to_sign.as_bytes());
    base64::engine::general_purpose::STANDARD.encode(m.finalize().into_bytes())
}

/// The signed request.
pub fn request(account: &str, key: &[u8], now: u64) -> Request {
    let date = http_date(now);
    let sig = signature(account, key, &date);
    Request {
        method: "GET".into(),
        url: format!("https://{}/?comp=list&maxresults=1", host(account)),
        headers: vec![
            ("x-ms-date".into(), date),
            ("x-ms-version".into(), VERSION.into()),
            ("authorization".into(), format!("SharedKey {account}:{sig}")),
        ],
        body: None,
    }
}

/// Verifies a storage account key.
pub fn verify(ctx: &Ctx, account: &str, key: &str) -> Attempt {
    if !valid_account(account) {
        return Attempt::Done(Verification::unknown(
            Reason::Unsupported,
            format!("{account:?} is not a storage account name"),
        ));
    }
    let Ok(key) = base64::engine::general_purpose::STANDARD.decode(key.trim()) else {
        return Attempt::Done(Verification::unknown(
            Reason::Unsupported,
            "the account key is not base64",
        ));
    };
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let r = request(account, &key, now);
    let h = host(account);
    let resp = match http::send(&ctx.agent, &r) {
        Ok(resp) => resp,
        Err(v) => return Attempt::Done(v),
    };
    let body = String::from_utf8_lossy(&resp.body);
    let code = super::aws::xml_field(&body, "Code")
        .or_else(|| resp.header("x-ms-error-code").map(str::to_string))
        .unwrap_or_default();
    match resp.status {
        200 => {
            let mut v = verdict(Status::Live, &h, "List Containers: 200");
            v.identity.insert("account".into(), account.to_string());
            Attempt::Done(v)
        }
        429 | 503 => Attempt::Retry(resp.retry_after()),
        403 if code == "AuthenticationFailed" || code.is_empty() => {
            Attempt::Done(verdict(Status::Invalid, &h, format!("HTTP 403 {code}")))
        }
        s => Attempt::Done(verdict(Status::Unknown, &h, format!("HTTP {s} {code}"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_and_accounts() {
        assert_eq!(http_date(1_255_297_753), "Sun, 11 Oct 2009 21:49:13 GMT");
        assert!(valid_account("acmeml01"));
        assert!(!valid_account("evil.example.com"));
        assert!(!valid_account("AB"));
    }
}
