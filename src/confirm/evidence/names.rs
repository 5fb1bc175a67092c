//! The name a value is given to (`DB_PASSWORD`, `clientSecret`, `spring.datasource.password`):
//! its parts, and whether they name a secret, for [`super::assess`].

/// The name the value is given to: the name bytes around the start of the match, up to the
/// secret.
pub(super) fn key_name(hay: &[u8], span_start: usize, secret_start: usize) -> &[u8] {
    let name_byte = |b: u8| b.is_ascii_alphanumeric() || b"_-.".contains(&b);
    let mut start = span_start;
    while start > 0 && span_start - start < 64 && name_byte(hay[start - 1]) {
        start -= 1;
    }
    let mut end = span_start;
    while end < secret_start && name_byte(hay[end]) {
        end += 1;
    }
    &hay[start..end]
}

/// The last dotted part of a name (`self.config.password` → `password`).
pub(super) fn last_component(name: &[u8]) -> &[u8] {
    let name = name
        .strip_suffix(b".")
        .unwrap_or(name)
        .strip_prefix(b"-")
        .unwrap_or(name);
    match name.iter().rposition(|&b| b == b'.') {
        Some(i) => &name[i + 1..],
        None => name,
    }
}

/// The parts of a name, lowercase: split at `_`, `-` and case changes (`APIKey` → `api`,
/// `key`; `dbPassword` → `db`, `password`).
pub fn words(name: &[u8]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut cur = String::new();
    for (i, &b) in name.iter().enumerate() {
        if !b.is_ascii_alphanumeric() {
            if !cur.is_empty() {
                out.push(std::mem::take(&mut cur));
            }
            continue;
        }
        let prev = i.checked_sub(1).map(|j| name[j]);
        let next = name.get(i + 1).copied();
        let boundary = b.is_ascii_uppercase()
            && prev.is_some_and(|p| {
                p.is_ascii_lowercase()
                    || (p.is_ascii_uppercase() && next.is_some_and(|n| n.is_ascii_lowercase()))
            });
        if boundary && !cur.is_empty() {
            out.push(std::mem::take(&mut cur));
        }
        cur.push(b.to_ascii_lowercase() as char);
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out
}

/// Words that name a secret by themselves.
const SECRET_WORDS: &[&str] = &[
    "password",
    "passwd",
    "pwd",
    "pass",
    "passphrase",
    "passcode",
    "passwort",
    "contrasena",
    "senha",
    "motdepasse",
    "mdp",
    "wachtwoord",
    "secret",
    "token",
    "apikey",
    "secretkey",
    "accesskey",
    "privatekey",
    "authkey",
    "credential",
    "credentials",
    "creds",
    "salt",
    "pepper",
];

/// Words that make `key` a secret's name when they come before it (`api key`, `signing key`).
const KEY_QUALIFIERS: &[&str] = &[
    "api",
    "access",
    "secret",
    "private",
    "auth",
    "signing",
    "sign",
    "encryption",
    "encrypt",
    "crypt",
    "master",
    "client",
    "app",
    "account",
    "service",
    "shared",
    "session",
    "license",
    "consumer",
    "hmac",
    "jwt",
    "storage",
    "subscription",
    "logged",
    "in",
    "nonce",
    "secure",
    "admin",
    "root",
    "write",
    "read",
    "ingest",
    "deploy",
];

/// Words after a secret's name that still name the secret (`password_value`, `token_b64`).
const TRAILING: &[&str] = &[
    "value",
    "str",
    "string",
    "b64",
    "base64",
    "hex",
    "plain",
    "plaintext",
    "raw",
    "default",
    "prod",
    "dev",
];

/// Words that make a name a token's that is no credential: anti-forgery tokens are made per
/// form or session and checked against the session (`csrf_token`, `authenticity_token`,
/// `data-xwiki-form-token`, `__RequestVerificationToken`'s `antiforgery` cookie).
const NOT_CREDENTIAL_WORDS: &[&str] = &["csrf", "xsrf", "authenticity", "antiforgery"];

/// Words before `token` that make it a cursor into a listing (`next_page_token`, AWS's
/// `NextToken`, `continuation_token`): an encoded position, not a credential.
const CURSOR_WORDS: &[&str] = &[
    "page",
    "next",
    "continuation",
    "pagination",
    "cursor",
    "sync",
];

/// Whether the parts of a name name a secret (see the module docs).
pub fn secret_name(parts: &[String]) -> bool {
    if parts
        .iter()
        .any(|p| NOT_CREDENTIAL_WORDS.contains(&p.as_str()))
        || parts
            .windows(2)
            .any(|w| w[1] == "token" && (w[0] == "form" || CURSOR_WORDS.contains(&w[0].as_str())))
    {
        return false;
    }
    let mut parts = parts;
    while let [rest @ .., last] = parts {
        if rest.is_empty() || !TRAILING.contains(&last.as_str()) {
            break;
        }
        parts = rest;
    }
    match parts {
        [] => false,
        [.., a, b, c] if a == "secret" && b == "key" && c == "base" => true,
        [.., q, k] if k == "key" => KEY_QUALIFIERS.contains(&q.as_str()),
        [.., last] => SECRET_WORDS.contains(&last.as_str()),
    }
}

/// What [`super::assess`] makes of the name a value is given to: its parts, and whether they
/// name a secret (with the score it adds and the reason shown), none when it has no parts.
#[derive(Debug)]
pub(super) struct NamedKey {
    pub(super) words: Vec<String>,
    pub(super) verdict: Option<(i32, crate::finding::Reason)>,
}

/// Distinct names whose reasons are kept for the life of the process (see [`named_key`]).
const NAMES_KEPT: usize = 4096;

/// [`NamedKey`] of `name`, worked out again only when the name differs from the last one on
/// this thread (a dump of passwords gives every value the same name). The reason's text is
/// kept once per distinct text for the life of the process, for the first [`NAMES_KEPT`]
/// texts, and shared by every finding that gives it; past them, each finding owns a copy.
pub(super) fn named_key(name: &[u8]) -> std::rc::Rc<NamedKey> {
    static KEPT: std::sync::LazyLock<std::sync::Mutex<std::collections::HashSet<&'static str>>> =
        std::sync::LazyLock::new(Default::default);
    thread_local! {
        static LAST: std::cell::RefCell<Option<(Vec<u8>, std::rc::Rc<NamedKey>)>> =
            const { std::cell::RefCell::new(None) };
    }
    LAST.with(|last| {
        let mut last = last.borrow_mut();
        if let Some((n, key)) = last.as_ref()
            && n == name
        {
            return std::rc::Rc::clone(key);
        }
        let words = words(last_component(name));
        let shown = String::from_utf8_lossy(name);
        let verdict = if words.is_empty() {
            None
        } else if secret_name(&words) {
            Some((0, format!("secret name: {shown}")))
        } else {
            Some((-3, format!("`{shown}` is not a secret's name")))
        };
        let verdict = verdict.map(|(delta, text)| {
            let mut kept = KEPT
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            let reason: crate::finding::Reason = match kept.get(text.as_str()) {
                Some(&same) => same.into(),
                None if kept.len() < NAMES_KEPT => {
                    let text: &'static str = Box::leak(text.into_boxed_str());
                    kept.insert(text);
                    text.into()
                }
                None => text.into(),
            };
            (delta, reason)
        });
        let key = std::rc::Rc::new(NamedKey { words, verdict });
        *last = Some((name.to_vec(), std::rc::Rc::clone(&key)));
        key
    })
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;

    /// The parts of `s`.
    pub(in crate::confirm::evidence) fn w(s: &str) -> Vec<String> {
        words(s.as_bytes())
    }

    #[test]
    fn names_split_into_parts() {
        assert_eq!(w("dbPassword"), ["db", "password"]);
        assert_eq!(w("APIKey"), ["api", "key"]);
        assert_eq!(w("DB_PASSWORD"), ["db", "password"]);
        assert_eq!(w("client-secret"), ["client", "secret"]);
        assert_eq!(
            w("ClientHandshakeTrafficSecret"),
            ["client", "handshake", "traffic", "secret"]
        );
    }

    #[test]
    fn secret_names_are_whole_parts() {
        for yes in [
            "password",
            "DB_PASSWORD",
            "dbPassword",
            "api_key",
            "apiKey",
            "AWS_SECRET_ACCESS_KEY",
            "client_secret",
            "secret_key_base",
            "SESSION_SECRET",
            "JWT_SIGNING_KEY",
            "auth_token",
            "NONCE_SALT",
            "LOGGED_IN_KEY",
            "password_value",
            "oauth_token",
        ] {
            assert!(secret_name(&w(yes)), "{yes}");
        }
        for no in [
            "tokenizer",
            "_token_start",
            "secret_len",
            "max_tokens",
            "password_file",
            "PASSWORD_MIN_LENGTH",
            "token_url",
            "secret_name",
            "primary_key",
            "sort_key",
            "passwordless",
            "csrf_token",
            "authenticity_token",
            "data-xwiki-form-token",
            "XSRF-TOKEN",
        ] {
            assert!(!secret_name(&w(no)), "{no}");
        }
    }

    #[test]
    fn a_names_reason_is_worked_out_once_and_shared() {
        let a = named_key(b"db_password");
        let b = named_key(b"db_password");
        assert!(std::rc::Rc::ptr_eq(&a, &b), "the last name is remembered");
        assert_eq!(a.words, ["db", "password"]);
        let (delta, why) = a.verdict.clone().unwrap();
        assert_eq!((delta, why.as_ref()), (0, "secret name: db_password"));
        let other = named_key(b"password_file");
        let (delta, why) = other.verdict.clone().unwrap();
        assert_eq!(
            (delta, why.as_ref()),
            (-3, "`password_file` is not a secret's name")
        );
        // Back to the first name: worked out again, its text the one already kept.
        let again = named_key(b"db_password");
        assert!(!std::rc::Rc::ptr_eq(&a, &again));
        match (&a.verdict, &again.verdict) {
            (
                Some((_, std::borrow::Cow::Borrowed(x))),
                Some((_, std::borrow::Cow::Borrowed(y))),
            ) => {
                assert!(std::ptr::eq(*x, *y), "one kept text per distinct reason")
            }
            other => panic!("reasons not kept: {other:?}"),
        }
        assert!(named_key(b"-").verdict.is_none(), "a name without parts");
    }
}
