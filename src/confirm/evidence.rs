//! How sure a finding is: the evidence a reviewer weighs, turned into a [`Confidence`] and the
//! reasons for it.
//!
//! Provider rules keep their own logic: a token in a provider's format is `high`, a
//! checksum-valid one whatever its place, and one that fails its validator `low`. Findings of
//! `generic` rules (a value given to something called a password, a URL's userinfo, a
//! command line's `-p`) are weighed on four kinds of evidence:
//!
//! - **the name** the value is given to, split into its parts (`dbPassword`, `DB_PASSWORD`,
//!   `db-password`, `spring.datasource.password`) and matched against a lexicon of
//!   secret-bearing names as whole parts: `password`, `secret`, `token`, `salt`, `api key`,
//!   `access key`, `client secret`, `secret_key_base` are secret names; `tokenizer`,
//!   `_token_start`, `secret_len`, `max_tokens`, `password_file` are not;
//! - **the value**: a literal, or an expression (`node.brace_token,`, `take_while;`, a call, a
//!   type name, the key's own name in capitals, a template); its length, character classes and
//!   entropy; whether it is made of words (`doesnotexist`, `rest-of-my-password`);
//! - **the syntax**: an unquoted value in a source file is an expression, not a literal;
//! - **the place**: tests, examples, fixtures and documentation hold test values; minified
//!   bundles and lockfiles hold generated text.
//!
//! The evidence adds up to a score: 2 is where a generic finding starts (`medium`), 3 and more is
//! `high`, 0 and less is `low`. Low findings are not reported unless asked (`--confidence low`).

use crate::blob::Origin;
use crate::finding::Validation;
pub use crate::finding::confidence::{Confidence, ReportPolicy, is_invalid};
use crate::matcher::{Candidate, placeholder};
use crate::rules::Rule;

mod names;

use names::{key_name, last_component, named_key};
pub use names::{secret_name, words};

/// Validators whose failure proves a token is not live: checksums, and a PEM body that does
/// not decode to a key.
const PROVING_VALIDATORS: &[&str] = &[
    "github-crc32",
    "npm-crc32",
    "grafana-crc32",
    "pgp-crc24",
    "age-bech32",
    "pem",
];

/// The confidence of a finding and the evidence for it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Assessment {
    /// The verdict.
    pub confidence: Confidence,
    /// What was weighed, most telling first (`"secret name: db_password"`, `"in a test
    /// folder"`).
    pub reasons: crate::finding::Reasons,
}

/// Rules whose match starts at the name the value is given to.
const NAMED_RULES: &[&str] = &[
    "generic.password-assignment",
    "generic.secret-assignment",
    "generic.env-assignment",
    "generic.unquoted-assignment",
    "generic.unquoted-password",
];

/// Rules whose match is a credential by its syntax: command lines, `define()`, `.pgpass`.
const SYNTAX_RULES: &[&str] = &[
    "generic.cli-login",
    "generic.cli-password",
    "generic.curl-user",
    "generic.php-define",
    "generic.pgpass",
    "generic.xml-pass-element",
];

/// Provider rules whose secret has no format of its own (a password, an admin secret set by
/// the user): their values are weighed like a generic rule's (`_EnvironmentVariable(`,
/// `internal_token` under `MLFLOW_TRACKING_PASSWORD` are code, not passwords).
const FREE_FORM_RULES: &[&str] = &[
    "netrc.credentials",
    "mlflow.tracking-credentials",
    "hasura.admin-secret",
];

/// Weighs the evidence for a candidate of `rule` found in `hay` at `origin`.
pub fn assess(
    rule: &Rule,
    hay: &[u8],
    candidate: &Candidate,
    origin: &Origin,
    validation: Validation,
) -> Assessment {
    let (place, code) = path_facts(origin);
    let mut reasons = crate::finding::Reasons::new();
    let id = rule.id();
    let prefixless =
        rule.spec.generic || id.starts_with("database.") || FREE_FORM_RULES.contains(&id);
    if id == "http.basic-auth"
        && let Some(why) = basic_auth_placeholder(&hay[candidate.secret.clone()])
    {
        reasons.push(why.into());
        return Assessment {
            confidence: Confidence::Low,
            reasons,
        };
    }
    if !prefixless {
        let confidence = match validation {
            Validation::Passed => {
                reasons.push("checksum or structure valid".into());
                Confidence::High
            }
            Validation::Failed => {
                // A checksum that fails, or a PEM body that is not a key, proves the token is
                // not live; other structure checks (an AWS key id's account digits) may fail
                // on real-looking values, so those stay reported, marked.
                let v = rule.spec.validator.as_deref().unwrap_or_default();
                if PROVING_VALIDATORS.contains(&v) {
                    reasons.push(format!("{v} check failed: cannot be a live token").into());
                    Confidence::Low
                } else {
                    reasons.push(format!("{v} check failed").into());
                    Confidence::Medium
                }
            }
            Validation::None => {
                reasons.push("provider format".into());
                match place {
                    // A JSON Web Token names no provider and carries no checksum: one on a
                    // documentation page is the page's example.
                    Some((DOCUMENTATION, _)) if id == "jwt" => {
                        reasons.push(DOCUMENTATION.into());
                        Confidence::Low
                    }
                    Some((why, _)) => {
                        reasons.push(why.into());
                        Confidence::Medium
                    }
                    None => Confidence::High,
                }
            }
        };
        return Assessment {
            confidence,
            reasons,
        };
    }
    let secret = &hay[candidate.secret.clone()];
    let mut score: i32 = 2;
    let named = NAMED_RULES.contains(&id);
    let quoted = candidate
        .secret
        .start
        .checked_sub(1)
        .is_some_and(|i| matches!(hay[i], b'"' | b'\'' | b'`'));
    let name =
        named.then(|| named_key(key_name(hay, candidate.span.start, candidate.secret.start)));
    let name_words: &[String] = name.as_ref().map_or(&[], |n| &n.words);
    if let Some(n) = &name
        && let Some((delta, why)) = &n.verdict
    {
        score += delta;
        reasons.push(why.clone());
    }
    if let Some(why) = not_a_literal(secret, quoted, named && code, name_words) {
        score -= 3;
        reasons.push(why.into());
    }
    if id == "generic.url-credentials" || (id.starts_with("database.") && id.ends_with("-uri")) {
        score += url_evidence(hay, candidate, &mut reasons);
    }
    // Twice: `p%2540ss` is `p%40ss` in a URL that is itself escaped.
    let once = percent_decoded(secret);
    let value = percent_decoded(&once);
    let echo = names_a_secret(&value, name_words);
    let (value_score, why) = if echo {
        (-1, "the value repeats its name's word: a stand-in")
    } else {
        value_strength(&value)
    };
    score += value_score;
    reasons.push(why.into());
    if code && value_score < 0 && (words_only(&value) || echo) {
        // `passwd='geheim$parole'` in a docstring: people's words in code are examples.
        score -= 1;
        reasons.push("words in source code".into());
    }
    if let Some((why, penalty)) = place {
        // Tests hold test values: only a generated-looking one stays worth a look.
        score -= if value_score > 0 {
            penalty
        } else {
            penalty + 1
        };
        reasons.push(why.into());
    }
    let mut confidence = match score {
        i32::MIN..=0 => Confidence::Low,
        1 | 2 => Confidence::Medium,
        _ => Confidence::High,
    };
    match place {
        // A documentation page shows how a value is set, with a value to show it: the
        // output of the generator it tells you to run, the one its walkthrough uses. A
        // prefix-less value there is an example whatever it looks like (a provider's token
        // format keeps its own confidence above).
        Some((DOCUMENTATION, _)) => confidence = Confidence::Low,
        // A signature test fixes every input of the computation it checks, the clock and
        // the nonce included, and takes the credential from the walkthrough it reproduces
        // (OAuth 1's, a cloud's request-signing examples): a live credential in a test is
        // used with a real clock and a fresh nonce.
        Some(_) if pinned_signing_inputs(hay, candidate.secret.clone()) => {
            confidence = Confidence::Low;
            reasons.push("beside a fixed nonce or timestamp: a signature test vector".into());
        }
        _ => {}
    }
    Assessment {
        confidence,
        reasons,
    }
}

/// What [`assess`] weighs about where a blob is: its [`place`] and whether it [`is_code`].
/// Worked out once per origin on each thread (a blob's candidates share their origin, and a
/// dump of passwords has a few hundred thousand).
fn path_facts(origin: &Origin) -> (Option<(&'static str, i32)>, bool) {
    type Facts = (Option<(&'static str, i32)>, bool);
    thread_local! {
        static LAST: std::cell::RefCell<Option<(Origin, Facts)>> =
            const { std::cell::RefCell::new(None) };
    }
    LAST.with(|last| {
        let mut last = last.borrow_mut();
        if let Some((o, facts)) = last.as_ref()
            && o.is(origin)
        {
            return *facts;
        }
        let path = origin.name();
        let facts = (place(path), is_code(path));
        *last = Some((origin.clone(), facts));
        facts
    })
}

/// The reason [`place`] gives for documentation.
const DOCUMENTATION: &str = "in documentation";

/// How far from a secret [`pinned_signing_inputs`] looks, in bytes on each side.
const SIGNING_INPUTS_REACH: usize = 1024;

/// Whether a literal nonce or timestamp is set near `secret` in `hay` (`GetNonce = () =>
/// "kYjz…"`, `oauth_timestamp="1318622958"`, `nonce: 'a9f3c2'`): the fixed inputs of a
/// signature computed in a test.
pub fn pinned_signing_inputs(hay: &[u8], secret: std::ops::Range<usize>) -> bool {
    let start = secret.start.saturating_sub(SIGNING_INPUTS_REACH);
    let end = secret
        .end
        .saturating_add(SIGNING_INPUTS_REACH)
        .min(hay.len());
    let window = &hay[start..end];
    let lower = window.to_ascii_lowercase();
    for word in [&b"nonce"[..], b"timestamp"] {
        let mut from = 0;
        while let Some(i) = memchr::memmem::find(&lower[from..], word) {
            let after = from + i + word.len();
            from = after;
            // The rest of the name (`_value`, `Provider`), then what it is set to, on the
            // same line.
            let line_end =
                memchr::memchr(b'\n', &window[after..]).map_or(window.len(), |j| after + j);
            let rest = &window[after..line_end.min(after + 48)];
            if literal_after_assignment(rest) {
                return true;
            }
        }
    }
    false
}

/// Whether `rest` (what follows a name on its line) sets it to a literal: an assignment or
/// a `() =>` / `return` form, then a quoted run of at least six letters or digits, or nine
/// digits or more (a Unix time).
fn literal_after_assignment(rest: &[u8]) -> bool {
    let Some(op) = rest.iter().position(|&b| b == b'=' || b == b':') else {
        return false;
    };
    let value = &rest[op + 1..];
    let mut i = 0;
    // `=> `, `() => `, spaces, a quote: what may come between the operator and the value.
    while i < value.len() && b" \t=>()\"'`".contains(&value[i]) {
        i += 1;
    }
    let run = value[i..]
        .iter()
        .take_while(|b| b.is_ascii_alphanumeric())
        .count();
    let digits = value[i..].iter().take_while(|b| b.is_ascii_digit()).count();
    let quoted = i > 0 && matches!(value[i - 1], b'"' | b'\'' | b'`');
    (quoted && run >= 6) || digits >= 9
}

/// Whether a generic rule's value that [`placeholder::lookalike`] takes for a digest is a
/// secret all the same: hex under a secret's name (`SESSION_SECRET=<64 hex>`,
/// `secret_key_base: <128 hex>`: secrets are made with `openssl rand -hex`).
pub fn hex_under_secret_name(rule: &Rule, hay: &[u8], candidate: &Candidate) -> bool {
    let secret = &hay[candidate.secret.clone()];
    if !secret.iter().all(u8::is_ascii_hexdigit) {
        return false;
    }
    // Rules whose syntax says the value is a credential (`wandb login KEY`, `-pPASS`).
    if SYNTAX_RULES.contains(&rule.id()) {
        return true;
    }
    if !NAMED_RULES.contains(&rule.id()) {
        return false;
    }
    let name = key_name(hay, candidate.span.start, candidate.secret.start);
    let w = words(last_component(name));
    secret_name(&w)
        && !w
            .iter()
            .any(|p| matches!(p.as_str(), "hash" | "sha" | "digest" | "checksum"))
}

/// Why the value is not a literal secret, or `None`.
fn not_a_literal(
    secret: &[u8],
    quoted: bool,
    code: bool,
    name_words: &[String],
) -> Option<&'static str> {
    let last = secret.last().copied().unwrap_or(b' ');
    if !quoted && code {
        return Some("unquoted value in source code: an expression");
    }
    if secret.windows(2).any(|w| w == b"::" || w == b"->")
        || secret.contains(&b'(')
        || (!quoted && matches!(last, b',' | b';' | b')'))
    {
        return Some("code, not a value");
    }
    if has_template(secret) {
        return Some("a template");
    }
    if secret.iter().any(|&b| b < 0x20 || b == 0x7f) {
        return Some("control bytes: a binary string table, not a typed value");
    }
    // `string.$S2.delim`, `keyword.$0`: a dotted name with `$` holes (a syntax highlighter's
    // token types in a bundle), not a value.
    if secret.contains(&b'.')
        && secret.contains(&b'$')
        && secret.split(|&b| b == b'.').all(|seg| {
            is_word_ident(seg)
                || seg.len() >= 2
                    && seg[0] == b'$'
                    && seg[1..]
                        .iter()
                        .all(|b| b.is_ascii_alphanumeric() || *b == b'#')
        })
    {
        return Some("a dotted name with `$` holes");
    }
    let norm = secret
        .iter()
        .filter(|b| b.is_ascii_alphanumeric())
        .map(u8::to_ascii_lowercase);
    if !name_words.is_empty() && norm.eq(name_words.iter().flat_map(|w| w.bytes())) {
        return Some("the key's own name");
    }
    let ident = secret
        .first()
        .is_some_and(|b| b.is_ascii_alphabetic() || *b == b'_')
        && secret
            .iter()
            .all(|b| b.is_ascii_alphanumeric() || b"_.".contains(b));
    if ident {
        // `OPENAI_API_KEY`, `CLIENT_HANDSHAKE_TRAFFIC_SECRET`: a constant's or a variable's name.
        let upper_snake = secret.contains(&b'_')
            && secret
                .iter()
                .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || *b == b'_');
        if upper_snake {
            return Some("a constant's name");
        }
        // `self.password`, `config.db.secret`: an attribute.
        if secret.contains(&b'.') && secret.split(|&b| b == b'.').all(is_word_ident) {
            return Some("an attribute path");
        }
        // `sim_auth`, `ParseResults`: an identifier or a type name, not a generated value.
        if is_word_ident(secret) && secret.contains(&b'_') {
            return Some("an identifier");
        }
    }
    None
}

/// An identifier made of words: letters and `_`, digits only at the end.
fn is_word_ident(s: &[u8]) -> bool {
    let body = s
        .iter()
        .rposition(|b| !b.is_ascii_digit())
        .map_or(&s[..0], |i| &s[..=i]);
    !body.is_empty()
        && body[0].is_ascii_alphabetic()
        && body.iter().all(|b| b.is_ascii_alphabetic() || *b == b'_')
}

/// `{name}`, `{0}`, `{password!r}`, `%s`: a format string's hole.
fn has_template(s: &[u8]) -> bool {
    let brace = s.iter().enumerate().any(|(i, &b)| {
        b == b'{' && {
            let rest = &s[i + 1..];
            let n = rest
                .iter()
                .take_while(|b| b.is_ascii_alphanumeric() || b"_.!:".contains(b))
                .count();
            rest.get(n) == Some(&b'}')
        }
    });
    brace
        || s.windows(2).enumerate().any(|(i, w)| {
            w[0] == b'%'
                && matches!(w[1], b's' | b'd' | b'r' | b'v')
                && s.get(i + 2).is_none_or(|b| !b.is_ascii_alphanumeric())
        })
}

/// How much the value itself looks generated: letters, digits and symbols mixed, length,
/// entropy; words lower it.
fn value_strength(secret: &[u8]) -> (i32, &'static str) {
    let letters = secret.iter().filter(|b| b.is_ascii_alphabetic()).count();
    let digits = secret.iter().filter(|b| b.is_ascii_digit()).count();
    let other = secret.len() - letters - digits;
    let classes = [letters > 0, digits > 0, other > 0]
        .iter()
        .filter(|&&c| c)
        .count();
    let words = digits == 0 && words_only(secret);
    if secret.len() < 8 {
        return (if words { -2 } else { -1 }, "short value");
    }
    if words {
        return (-1, "made of words, not generated");
    }
    if secret.len() >= 16 && classes >= 2 && crate::matcher::entropy::shannon(secret) >= 3.5 {
        return (1, "long random-looking value");
    }
    (0, "value of a password's shape")
}

/// `pass%20pass` → `pass pass`: the value as the application sees it.
fn percent_decoded(s: &[u8]) -> std::borrow::Cow<'_, [u8]> {
    let hex = |b: u8| (b as char).to_digit(16);
    if !s.contains(&b'%') {
        return std::borrow::Cow::Borrowed(s);
    }
    let mut out = Vec::with_capacity(s.len());
    let mut i = 0;
    while i < s.len() {
        if s[i] == b'%'
            && let (Some(h), Some(l)) = (
                s.get(i + 1).and_then(|&b| hex(b)),
                s.get(i + 2).and_then(|&b| hex(b)),
            )
        {
            out.push((h * 16 + l) as u8);
            i += 3;
        } else {
            out.push(s[i]);
            i += 1;
        }
    }
    std::borrow::Cow::Owned(out)
}

/// Whether the value repeats the secret word of the name it is assigned to
/// (`x_auth_password="ClientPassword"`, `token='TH1SISMYT0KEN…'`, also spelled with digits for
/// letters): what people write in place of a secret. Only words of five letters or more: a
/// random 40-character base62 token holds one of them with probability ~10⁻⁵.
fn names_a_secret(secret: &[u8], name_words: &[String]) -> bool {
    const WORDS: &[&str] = &["password", "passwd", "secret", "token"];
    WORDS
        .iter()
        .filter(|w| name_words.iter().any(|n| n == *w))
        .any(|w| {
            secret
                .windows(w.len())
                .any(|x| x.iter().map(|&b| as_read(b)).eq(w.bytes()))
        })
}

/// A byte of a secret as a person reads it, lower case: `T0KEN`, `p4ssw0rd`, `S3CR3T` are the
/// words.
fn as_read(b: u8) -> u8 {
    match b {
        b'0' => b'o',
        b'1' => b'i',
        b'3' => b'e',
        b'4' | b'@' => b'a',
        b'5' | b'$' => b's',
        b'7' => b't',
        _ => b.to_ascii_lowercase(),
    }
}

/// Whether each run of letters is a word as people write them: lower case, upper case, or
/// capitalised (`rest-of-my-password`, `Incorrect`, `geheim$parole`), not `jufqUbAYLE`.
fn words_only(secret: &[u8]) -> bool {
    secret
        .split(|b| !b.is_ascii_alphabetic())
        .filter(|w| !w.is_empty())
        .all(|w| {
            let rest = &w[1..];
            rest.iter().all(u8::is_ascii_lowercase)
                || w.iter().all(u8::is_ascii_uppercase)
                || camel_words(w)
        })
}

/// Whether a run of letters is words run together in CamelCase (`IAmSensitive`,
/// `MySecretPass`): each capital starts a lower-case word of two letters or more, save the
/// one-letter words `I` and `A`. Generated values mix cases without that rhythm
/// (`jufqUbAYLE`: `Y`, `L`, `E` start no word).
fn camel_words(w: &[u8]) -> bool {
    let starts: Vec<usize> = (0..w.len())
        .filter(|&i| i == 0 || w[i].is_ascii_uppercase())
        .collect();
    starts.len() >= 2
        && starts.iter().enumerate().all(|(k, &i)| {
            let end = starts.get(k + 1).copied().unwrap_or(w.len());
            let word = &w[i..end];
            word[1..].iter().all(u8::is_ascii_lowercase)
                && (word.len() >= 2 || matches!(word[0], b'I' | b'A'))
        })
}

/// Why the `user:password` a Basic header encodes is a placeholder (`user:pass`,
/// `martin:secret`, an empty user with a common password), or `None`.
fn basic_auth_placeholder(b64: &[u8]) -> Option<&'static str> {
    use base64::Engine as _;
    let decoded = base64::engine::general_purpose::STANDARD.decode(b64).ok()?;
    let (user, pass) = decoded.split_at(decoded.iter().position(|&b| b == b':')?);
    // `echo user:pass | base64` encodes the newline too.
    let pass = pass[1..].trim_ascii_end();
    if pass.is_empty()
        || placeholder::reason(pass).is_some()
        || placeholder::reason(&pass.iter().map(|&b| as_read(b)).collect::<Vec<u8>>()).is_some()
        || pass.eq_ignore_ascii_case(user)
        || PLACEHOLDER_PAIRS
            .iter()
            .any(|(u, p)| user.eq_ignore_ascii_case(u.as_bytes()) && pass == p.as_bytes())
        || (pass.len() < 8 && pass.iter().all(u8::is_ascii_alphabetic))
    {
        return Some("Basic credentials are a placeholder pair");
    }
    None
}

/// Evidence from a URL's userinfo and host: example hosts and placeholder pairs lower it.
fn url_evidence(hay: &[u8], candidate: &Candidate, reasons: &mut crate::finding::Reasons) -> i32 {
    let secret = &hay[candidate.secret.clone()];
    let user_start = hay[..candidate.secret.start.saturating_sub(1)]
        .iter()
        .rposition(|&b| b == b'/')
        .map_or(candidate.span.start, |i| i + 1);
    let user = &hay[user_start..candidate.secret.start.saturating_sub(1)];
    let host_start = (candidate.secret.end + 1).min(hay.len());
    let host_end = hay[host_start..]
        .iter()
        .position(|&b| !(b.is_ascii_alphanumeric() || b"-._[]".contains(&b)))
        .map_or(hay.len(), |i| host_start + i);
    let host = String::from_utf8_lossy(&hay[host_start..host_end]).to_ascii_lowercase();
    let mut score = 0;
    if example_host(&host) {
        // Documentation names (RFC 2606) weigh more than a developer's own machine (a local
        // database's password is still a password).
        let documented =
            !host.contains("localhost") && host.contains('.') && !host.starts_with("127.");
        score -= if documented { 3 } else { 1 };
        reasons.push(format!("example host {host}").into());
    }
    // A documentation pair, also with something added to its password (`scott:tiger^5HHH`).
    let pair = |u: &str, p: &str| {
        user.eq_ignore_ascii_case(u.as_bytes())
            && (secret == p.as_bytes()
                || p.len() >= 5
                    && secret.len() > p.len()
                    && secret[..p.len()].eq_ignore_ascii_case(p.as_bytes())
                    && !secret[p.len()].is_ascii_alphabetic())
    };
    if secret.eq_ignore_ascii_case(user)
        || PLACEHOLDER_PAIRS.iter().any(|(u, p)| pair(u, p))
        || placeholder::reason(user).is_some() && words_only(secret) && secret.len() <= 12
    {
        score -= 3;
        reasons.push("placeholder user and password".into());
    }
    score
}

/// `user:password` pairs of documentation.
const PLACEHOLDER_PAIRS: &[(&str, &str)] = &[
    ("user", "pass"),
    ("user", "password"),
    ("username", "password"),
    ("foo", "bar"),
    ("admin", "admin"),
    ("aladdin", "opensesame"),
    ("aladdin", "open sesame"),
    ("john", "pass"),
    ("user", "secret"),
    // Oracle's demo schema, in SQLAlchemy's and many tutorials' URLs.
    ("scott", "tiger"),
];

/// Hosts of examples and tests: RFC 2606 / 6761 names, `localhost`, loopback, single labels.
pub fn example_host(host: &str) -> bool {
    let host = host.trim_end_matches('.');
    let host = host.split(':').next().unwrap_or(host);
    if host.is_empty() || !host.contains('.') {
        return true;
    }
    if host.starts_with("127.") || host == "[::1]" || host == "0.0.0.0" {
        return true;
    }
    const NAMES: &[&str] = &["example.com", "example.org", "example.net", "localhost"];
    const SUFFIXES: &[&str] = &[
        ".example",
        ".test",
        ".invalid",
        ".localhost",
        ".example.com",
        ".example.org",
        ".example.net",
    ];
    NAMES.contains(&host) || SUFFIXES.iter().any(|s| host.ends_with(s))
}

/// Extensions of source code: an unquoted value there is an expression.
const CODE_EXTENSIONS: &[&str] = &[
    "rs", "py", "pyi", "pyx", "pyc", "js", "mjs", "cjs", "jsx", "ts", "tsx", "go", "java", "kt",
    "kts", "scala", "c", "h", "cc", "cpp", "cxx", "hpp", "hh", "cs", "rb", "php", "swift", "m",
    "mm", "pl", "pm", "lua", "jl", "dart", "ex", "exs", "erl", "hs", "ml", "fs", "vb", "groovy",
    "zig", "nim", "v", "d", "r",
];

/// Whether `path` is a source file.
pub fn is_code(path: &str) -> bool {
    let name = path.rsplit(['/', '\\']).next().unwrap_or(path);
    match name.rsplit_once('.') {
        Some((stem, ext)) if !stem.is_empty() => {
            CODE_EXTENSIONS.contains(&ext.to_ascii_lowercase().as_str())
        }
        _ => false,
    }
}

/// Where a path is, if that lowers confidence: tests, examples, fixtures, documentation (by 1),
/// minified bundles and lockfiles (by 2).
pub fn place(path: &str) -> Option<(&'static str, i32)> {
    if path.is_empty() {
        return None;
    }
    let lower = path.to_ascii_lowercase();
    let name = lower.rsplit(['/', '\\']).next().unwrap_or(&lower);
    const LOCKFILES: &[&str] = &[
        "package-lock.json",
        "npm-shrinkwrap.json",
        "yarn.lock",
        "pnpm-lock.yaml",
        "cargo.lock",
        "poetry.lock",
        "pipfile.lock",
        "gemfile.lock",
        "composer.lock",
        "go.sum",
        "uv.lock",
    ];
    if LOCKFILES.contains(&name) {
        return Some(("in a lockfile", 2));
    }
    if name.ends_with(".min.js")
        || name.ends_with(".min.css")
        || name.ends_with(".bundle.js")
        || name.ends_with(".chunk.js")
        || name.ends_with(".js.map")
    {
        return Some(("in a minified bundle", 2));
    }
    const TEST_DIRS: &[&str] = &[
        "test",
        "tests",
        "testing",
        "testdata",
        "test_data",
        "test-data",
        "__tests__",
        "spec",
        "specs",
        "fixture",
        "fixtures",
        "example",
        "examples",
        "sample",
        "samples",
        "mock",
        "mocks",
        "__mocks__",
        "testsuite",
        "unittests",
        "certdata",
    ];
    let dirs: Vec<&str> = lower.split(['/', '\\']).collect();
    let in_dirs = |set: &[&str]| {
        dirs.iter()
            .take(dirs.len().saturating_sub(1))
            .any(|d| set.contains(d))
    };
    let stem = name.split('.').next().unwrap_or(name);
    // .NET and Java name test projects and classes in CamelCase: `RestSharp.Tests/`,
    // `App.IntegrationTests/`, `OAuth1SignatureTests.cs`, `ParserTest.java`, `ClientSpec.scala`.
    let camel_test = path.split(['/', '\\']).any(|part| {
        let base = match part.rsplit_once('.') {
            Some((b, ext)) if CODE_EXTENSIONS.contains(&ext.to_ascii_lowercase().as_str()) => b,
            _ => part,
        };
        ["Tests", "Test", "Spec", "Specs"].iter().any(|suffix| {
            base.strip_suffix(suffix).is_some_and(|head| {
                head.ends_with(|c: char| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '.')
            })
        })
    });
    // A documentation tree (`docs/`, `/usr/share/doc/`) is documentation, its `examples/` and
    // `spec/` folders included; a page may be compressed (`oauth.md.gz`).
    const DOC_DIRS: &[&str] = &["doc", "docs", "documentation", "man"];
    let page = name.strip_suffix(".gz").unwrap_or(name);
    let doc_ext = [".md", ".rst", ".adoc", ".txt"]
        .iter()
        .any(|e| page.ends_with(e));
    if in_dirs(DOC_DIRS) || (doc_ext && stem.starts_with("readme")) {
        return Some((DOCUMENTATION, 1));
    }
    if in_dirs(TEST_DIRS)
        || camel_test
        || stem.starts_with("test_")
        || stem.ends_with("_test")
        || stem.ends_with("_tests")
        || stem.ends_with("-test")
        || name.contains(".test.")
        || name.contains(".spec.")
        || stem == "conftest"
        || stem == "tests"
    {
        return Some(("in tests or examples", 1));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::names::tests::w;
    use super::*;

    #[test]
    fn expressions_are_not_literals() {
        let name = w("brace_token");
        assert!(not_a_literal(b"node.brace_token,", false, false, &name).is_some());
        assert!(not_a_literal(b"take_while;", false, false, &name).is_some());
        assert!(not_a_literal(b"Tok", false, true, &name).is_some());
        assert!(not_a_literal(b"get_secret()", true, false, &name).is_some());
        assert!(not_a_literal(b"OPENAI_API_KEY_PROD", false, false, &name).is_some());
        assert!(not_a_literal(b"BRACE_TOKEN", true, false, &name).is_some());
        assert!(not_a_literal(b"self.config.password", false, false, &name).is_some());
        assert!(not_a_literal(b"{password}", true, false, &name).is_some());
        assert!(not_a_literal(b"user:%s", true, false, &name).is_some());
        assert!(not_a_literal(b"sim_auth", false, false, &name).is_some());
        // Generated values are literals.
        assert!(not_a_literal(b"8zSl3Np1b0i9buEvz63OMEUz1ftOkyd3", false, false, &name).is_none());
        assert!(not_a_literal(b"FU9uLdvT34IPW4#TzS", false, false, &name).is_none());
        assert!(not_a_literal(b"Zp8kQ2vN7xLr4TbW9mHc", true, true, &name).is_none());
    }

    #[test]
    fn camel_case_words_are_words() {
        assert!(words_only(b"IAmSensitive"));
        assert!(words_only(b"MySecretPass"));
        assert!(words_only(b"correctHorseBattery"));
        assert!(!words_only(b"jufqUbAYLE"));
        assert!(!words_only(b"aB3dEfGhIjK"));
        assert!(!words_only(b"xYzQwErTy"));
    }

    #[test]
    fn words_are_weak_values() {
        assert_eq!(value_strength(b"doesnotexist").0, -1);
        assert_eq!(value_strength(b"rest-of-my-password").0, -1);
        assert_eq!(value_strength(b"geheim$parole").0, -1);
        assert_eq!(value_strength(b"Incorrect").0, -1);
        assert_eq!(value_strength(b"jufqUbAYLE*eAY").0, 0);
        assert_eq!(
            value_strength(b"lacxtqjkKvOupRqOrU1CuczAUZ5uzhdW6VvHDwcp").0,
            1
        );
    }

    #[test]
    fn values_that_repeat_their_names_word() {
        assert!(names_a_secret(b"ClientPassword", &w("x_auth_password")));
        assert!(names_a_secret(
            b"TH1SISMYT0KENFR0MTHEPORTAL2024",
            &w("token")
        ));
        assert!(names_a_secret(b"my-s3cret-v2", &w("clientSecret")));
        // Another word, or no name: the value stands as it is.
        assert!(!names_a_secret(b"Not-the-Password-99", &w("token")));
        assert!(!names_a_secret(b"Not-the-Password-99", &[]));
        assert!(!names_a_secret(
            b"lacxtqjkKvOupRqOrU1CuczAUZ5uzhdW6VvHDwcp",
            &w("api_token")
        ));
    }

    #[test]
    fn places() {
        assert!(place("src/url/tests/unit.rs").is_some());
        assert!(place("pkg/foo_test.go").is_some());
        assert!(place("Lib/test/test_smtplib.py").is_some());
        assert!(place("app/static/app.min.js").is_some());
        assert!(place("Cargo.lock").is_some());
        assert!(place("docs/setup.md").is_some());
        assert!(place("deploy/prod.env").is_none());
        assert!(place("src/config.py").is_none());
        assert!(place("test").is_none());
        // .NET and Java test projects and classes.
        assert!(place("RestSharp.Tests/OAuthTests.cs").is_some());
        assert!(place("App.IntegrationTests/Client.cs").is_some());
        assert!(place("src/main/OAuth1SignatureTests.cs").is_some());
        assert!(place("src/ParserTest.java").is_some());
        assert!(place("src/Latest.java").is_none());
        assert!(place("src/Contest/Main.cs").is_none());
    }

    #[test]
    fn signing_inputs() {
        let pinned = |text: &str| {
            let at = text.find("SECRET").unwrap();
            pinned_signing_inputs(text.as_bytes(), at..at + 6)
        };
        for text in [
            "ConsumerSecret = \"SECRET\",\n GetNonce = () => \"kYjzVBB8Y0ZFab\",\n",
            "oauth_timestamp=\"1318622958\"&consumer_secret=SECRET",
            "let secret = \"SECRET\";\nlet timestamp = 1318622958;\n",
            "nonce: 'a9f3c2e1', secret: 'SECRET'",
        ] {
            assert!(pinned(text), "{text}");
        }
        for text in [
            "ConsumerSecret = \"SECRET\",\n GetNonce = () => OAuthTools.GetNonce(),\n",
            "timestamp = time.time()\nsecret = 'SECRET'",
            "let nonce = random_nonce();\nsecret = \"SECRET\"",
            "secret = 'SECRET'  # rotated with the timestamp of the deploy",
            "timestamp = 42\nsecret = 'SECRET'",
        ] {
            assert!(!pinned(text), "{text}");
        }
    }

    #[test]
    fn example_hosts() {
        for h in [
            "example.com",
            "db.example.org",
            "localhost",
            "servo",
            "x.test",
            "127.0.0.1",
        ] {
            assert!(example_host(h), "{h}");
        }
        for h in ["db.acme-ml.net", "github.com", "10.0.3.4"] {
            assert!(!example_host(h), "{h}");
        }
    }

    #[test]
    fn policy() {
        let p = ReportPolicy::default();
        assert!(p.admits(Confidence::Medium, Validation::None));
        assert!(!p.admits(Confidence::Low, Validation::None));
        assert!(!p.admits(Confidence::Low, Validation::Failed));
        assert!(p.admits(Confidence::Medium, Validation::Failed));
        let all = ReportPolicy {
            min_confidence: Confidence::Low,
            show_invalid: true,
        };
        assert!(all.admits(Confidence::Low, Validation::Failed));
    }
}
