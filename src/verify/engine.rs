//! The verification engine: one request per distinct secret, a few at a time, never faster
//! than a host allows, within a deadline.
//!
//! [`Engine::submit`] takes a [`Job`] (a secret, its rule and paired values) and returns at
//! once: it decides without the network what the job needs ([`plan`]: which verifier, which
//! host, or why nothing will be sent), answers from the cache when it can, and queues the rest
//! by host. Worker threads ([`VerifyOptions::concurrency`] of them: the concurrency cap) take
//! the next job of any host whose turn has come: each host gets at most
//! [`VerifyOptions::per_host_rate`] requests per second, and a 429 or 503 answer pushes that
//! host's next turn back (its `Retry-After`, else 1, 2, 4… seconds) before the job is tried
//! again, at most [`VerifyOptions::retries`] times. Past the run's deadline, what is still
//! queued is answered `unknown` (`timeout`) without being sent. Each verdict goes to the
//! callback given to [`Engine::new`], from whichever thread reached it.
//!
//! Callers deduplicate by fingerprint before submitting ([`super::VerifyingReporter`] does):
//! the engine sends what it is given.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::{Arc, Condvar, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use super::cache::Cache;
use super::ctx::Ctx;
use super::target::{self, DbTarget};
use super::{Attempt, Reason, Status, Verification, VerifyOptions, http};
use crate::rules::Rule;

/// One secret to verify.
#[derive(Debug, Clone)]
pub struct Job {
    /// The finding's fingerprint (the cache key).
    pub fingerprint: String,
    /// The rule that found it (its `[rule.verify]`).
    pub rule: Arc<Rule>,
    /// The secret.
    pub secret: String,
    /// Paired values found near it, by name.
    pub paired: Vec<(String, String)>,
}

/// What a verifier needs to run, decided without the network.
#[derive(Debug, Clone)]
pub enum Call {
    /// A request described by the rule.
    Http(Arc<Rule>, http::Request),
    /// AWS STS `GetCallerIdentity`, SigV4-signed.
    Aws {
        /// The access key id.
        key_id: String,
        /// The secret access key.
        secret: String,
        /// A session token, when one was found.
        session_token: Option<String>,
    },
    /// A Google service account's signed JWT exchanged for a token.
    Gcp {
        /// The service account's email.
        email: String,
        /// Its PEM private key.
        key: String,
        /// Where to exchange the JWT.
        token_uri: String,
    },
    /// Azure Storage: a SharedKey-signed `List Containers`.
    Azure {
        /// The storage account.
        account: String,
        /// The base64 account key.
        key: String,
    },
    /// A database URI (PostgreSQL, MySQL, Redis, MongoDB).
    Db(DbTarget),
    /// An SSH private key offered to the user's targets.
    Ssh {
        /// The PEM or OpenSSH private key.
        key: String,
        /// `user@host[:port]` targets.
        targets: Vec<String>,
    },
}

impl Call {
    /// The host that is asked (the rate-limit key).
    pub fn host(&self) -> String {
        match self {
            Call::Http(_, r) => r.host(),
            Call::Aws { .. } => super::aws::HOST.to_string(),
            Call::Gcp { token_uri, .. } => http::host_of(token_uri),
            Call::Azure { account, .. } => super::azure::host(account),
            Call::Db(t) => t.host_port(),
            Call::Ssh { targets, .. } => targets
                .first()
                .map(|t| t.rsplit_once('@').map_or(t.as_str(), |x| x.1).to_string())
                .unwrap_or_default(),
        }
    }

    /// What would be sent where, without the secret (`--verify-dry-run`).
    pub fn describe(&self) -> String {
        match self {
            Call::Http(rule, _) => rule
                .spec
                .verify
                .as_ref()
                .map(http::describe)
                .unwrap_or_default(),
            Call::Aws { key_id, .. } => format!(
                "POST https://{}/ Action=GetCallerIdentity, SigV4-signed with key id {key_id} (the secret key signs; it is not sent)",
                super::aws::HOST
            ),
            Call::Gcp {
                email, token_uri, ..
            } => format!(
                "POST {token_uri} a JWT for {email} signed with its private key (the key is not sent), exchanged for an access token"
            ),
            Call::Azure { account, .. } => format!(
                "GET https://{}/?comp=list&maxresults=1, SharedKey-signed (the key signs; it is not sent)",
                super::azure::host(account)
            ),
            Call::Db(t) => format!(
                "{} handshake to {} as user {:?}: authenticate, run nothing{}",
                t.scheme,
                t.host_port(),
                t.user,
                if t.wants_tls() { " (TLS)" } else { "" }
            ),
            Call::Ssh { targets, .. } => format!(
                "SSH public-key authentication to {} (the key signs the session; it is not sent), then disconnect",
                targets.join(", ")
            ),
        }
    }

    /// Makes one attempt.
    pub fn run(&self, ctx: &Ctx) -> Attempt {
        match self {
            Call::Http(rule, r) => match &rule.spec.verify {
                Some(spec) => http::run(&ctx.agent, spec, r),
                None => Attempt::Done(Verification::unknown(Reason::Unsupported, "")),
            },
            Call::Aws {
                key_id,
                secret,
                session_token,
            } => super::aws::verify(ctx, key_id, secret, session_token.as_deref()),
            Call::Gcp {
                email,
                key,
                token_uri,
            } => super::gcp::verify(ctx, email, key, token_uri),
            Call::Azure { account, key } => super::azure::verify(ctx, account, key),
            Call::Db(t) => match t.scheme.as_str() {
                "postgres" => super::postgres::verify(ctx, t),
                "mysql" => super::mysql::verify(ctx, t),
                "redis" | "rediss" => super::redis::verify(ctx, t),
                "mongodb" => super::mongodb::verify(ctx, t),
                other => Attempt::Done(Verification::unknown(
                    Reason::Unsupported,
                    format!("no verifier for {other} URIs"),
                )),
            },
            Call::Ssh { key, targets } => super::ssh::verify(ctx, key, targets),
        }
    }
}

/// Decides, without the network, what verifying `job` takes.
pub fn plan(job: &Job, opts: &VerifyOptions) -> Result<Call, Verification> {
    let rule = &job.rule;
    let Some(spec) = &rule.spec.verify else {
        return Err(Verification::unknown(
            Reason::Unsupported,
            format!("no verifier for {}", rule.id()),
        ));
    };
    let trusted = rule.source.starts_with("builtin:")
        || opts
            .trusted_rule_paths
            .iter()
            .any(|p| std::path::Path::new(&rule.source).starts_with(p));
    if !trusted {
        return Err(Verification::unknown(
            Reason::Skipped,
            format!(
                "the verifier of {} comes from {}, which was not named with --rules",
                rule.id(),
                rule.source
            ),
        ));
    }
    if job.secret.contains("****") {
        return Err(Verification::unknown(
            Reason::Skipped,
            "the secret is masked here (scan with --show-secrets to verify saved results)",
        ));
    }
    let missing = http::missing_pairs(spec, &job.paired);
    let pair = |name: &str| {
        job.paired
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.clone())
    };
    let Some(protocol) = spec.protocol.as_deref() else {
        if !missing.is_empty() {
            return Err(Verification::unknown(
                Reason::Skipped,
                format!("no {} found near the secret", missing.join(", ")),
            ));
        }
        return Ok(Call::Http(
            Arc::clone(rule),
            http::request(spec, &job.secret, &job.paired),
        ));
    };
    let need = |name: &str| {
        pair(name).ok_or_else(|| {
            Verification::unknown(Reason::Skipped, format!("no {name} found near the secret"))
        })
    };
    match protocol {
        "aws-sts" => Ok(Call::Aws {
            key_id: need("id")?,
            secret: job.secret.clone(),
            session_token: pair("session_token"),
        }),
        "gcp-jwt" => Ok(Call::Gcp {
            email: need("email")?,
            // The secret is the key; results saved before it was (the key id was) pair it.
            key: super::gcp::unescape_pem(&if job.secret.contains("-----BEGIN") {
                job.secret.clone()
            } else {
                need("key")?
            }),
            token_uri: super::gcp::TOKEN_URI.to_string(),
        }),
        "azure-storage" => Ok(Call::Azure {
            account: need("account")?,
            key: job.secret.clone(),
        }),
        "ssh" => {
            if opts.ssh_targets.is_empty() {
                return Err(Verification::unknown(
                    Reason::Skipped,
                    "an SSH key names no host: pass --verify-ssh USER@HOST (and --verify-host) to offer it",
                ));
            }
            Ok(Call::Ssh {
                key: job.secret.clone(),
                targets: opts.ssh_targets.clone(),
            })
        }
        "postgres" | "mysql" | "redis" | "mongodb" => {
            let uri = need("uri")?;
            let t =
                target::parse(&uri).map_err(|e| Verification::unknown(Reason::Unsupported, e))?;
            if opts.hosts.is_empty() {
                return Err(Verification::unknown(
                    Reason::Skipped,
                    format!(
                        "{} is named by the scanned content: pass --verify-host to allow it",
                        t.host_port()
                    ),
                ));
            }
            Ok(Call::Db(t))
        }
        other => Err(Verification::unknown(
            Reason::Unsupported,
            format!("unknown protocol {other}"),
        )),
    }
}

pub use crate::finding::verification::HostRequests as HostStats;

/// What the engine did.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct Stats {
    /// Requests by host.
    pub hosts: BTreeMap<String, HostStats>,
    /// Verdicts answered from the cache.
    pub cached: u64,
    /// Seconds from the first submission to the last verdict.
    pub elapsed_seconds: f64,
}

struct Queued {
    fingerprint: String,
    call: Call,
    secrets: Vec<String>,
    tries: u32,
}

#[derive(Default)]
struct HostQueue {
    jobs: VecDeque<Queued>,
    next_at: Option<Instant>,
    backoff: u32,
    first: Option<Instant>,
    last: Option<Instant>,
    requests: u64,
}

#[derive(Default)]
struct State {
    hosts: HashMap<String, HostQueue>,
    queued: usize,
    running: usize,
    closed: bool,
    cached: u64,
    first_submit: Option<Instant>,
    last_done: Option<Instant>,
}

type Callback = dyn Fn(&str, Verification) + Send + Sync;

struct Shared {
    state: Mutex<State>,
    cv: Condvar,
    opts: VerifyOptions,
    ctx: Ctx,
    started: Instant,
    on_done: Box<Callback>,
    cache: Mutex<Cache>,
}

/// Verifies jobs on worker threads; see the module docs.
pub struct Engine {
    shared: Arc<Shared>,
    workers: Vec<JoinHandle<()>>,
}

impl Engine {
    /// An engine with `opts`; `on_done(fingerprint, verdict)` receives every verdict.
    pub fn new(
        opts: VerifyOptions,
        on_done: impl Fn(&str, Verification) + Send + Sync + 'static,
    ) -> Engine {
        let cache = opts
            .cache
            .as_deref()
            .map(|p| Cache::read(p, opts.cache_ttl))
            .unwrap_or_default();
        let ctx = Ctx {
            agent: super::net::agent(opts.timeout),
            hosts: opts.hosts.clone(),
            timeout: opts.timeout,
        };
        let shared = Arc::new(Shared {
            state: Mutex::new(State::default()),
            cv: Condvar::new(),
            ctx,
            started: Instant::now(),
            on_done: Box::new(on_done),
            cache: Mutex::new(cache),
            opts,
        });
        let workers = if shared.opts.dry_run {
            Vec::new()
        } else {
            (0..shared.opts.concurrency.max(1))
                .map(|i| {
                    let s = Arc::clone(&shared);
                    std::thread::Builder::new()
                        .name(format!("ferret-verify-{i}"))
                        .spawn(move || work(&s))
                })
                .filter_map(Result::ok)
                .collect()
        };
        Engine { shared, workers }
    }

    /// Queues a job, or answers it at once (no verifier, not allowed, cached, dry run).
    pub fn submit(&self, job: Job) {
        let s = &self.shared;
        {
            let mut st = lock(&s.state);
            st.first_submit.get_or_insert_with(Instant::now);
        }
        let call = match plan(&job, &s.opts) {
            Ok(c) => c,
            Err(v) => {
                (s.on_done)(&job.fingerprint, v);
                return;
            }
        };
        if s.opts.dry_run {
            let v = Verification::unknown(
                Reason::Skipped,
                format!("dry run: would send {}", call.describe()),
            );
            (s.on_done)(&job.fingerprint, v);
            return;
        }
        if let Some(v) = lock(&s.cache).get(&job.fingerprint) {
            lock(&s.state).cached += 1;
            (s.on_done)(&job.fingerprint, v);
            return;
        }
        // Paired values that are secret too (a private key, a URI with its password, a session
        // token) must not come back in an identity; identifiers (an email, a key id) may.
        let mut secrets = vec![job.secret.clone()];
        secrets.extend(
            job.paired
                .iter()
                .filter(|(n, _)| matches!(n.as_str(), "key" | "uri" | "session_token"))
                .map(|(_, v)| v.clone()),
        );
        let host = call.host();
        let mut st = lock(&s.state);
        st.hosts.entry(host).or_default().jobs.push_back(Queued {
            fingerprint: job.fingerprint,
            call,
            secrets,
            tries: 0,
        });
        st.queued += 1;
        drop(st);
        s.cv.notify_one();
    }

    /// Waits for every queued job (or the deadline), writes the cache, and says what was done.
    pub fn finish(mut self) -> Stats {
        {
            let mut st = lock(&self.shared.state);
            st.closed = true;
        }
        self.shared.cv.notify_all();
        for w in self.workers.drain(..) {
            let _ = w.join();
        }
        let s = &self.shared;
        // Without workers (a dry run) nothing is queued; anything left is past the deadline.
        expire(s, &mut lock(&s.state));
        if let Some(path) = &s.opts.cache {
            let _ = lock(&s.cache).write(path);
        }
        let st = lock(&s.state);
        let hosts = st
            .hosts
            .iter()
            .filter(|(_, q)| q.requests > 0)
            .map(|(h, q)| {
                let seconds = match (q.first, q.last) {
                    (Some(a), Some(b)) => b.duration_since(a).as_secs_f64(),
                    _ => 0.0,
                };
                (
                    h.clone(),
                    HostStats {
                        requests: q.requests,
                        seconds,
                    },
                )
            })
            .collect();
        let elapsed_seconds = match (st.first_submit, st.last_done) {
            (Some(a), Some(b)) if b > a => b.duration_since(a).as_secs_f64(),
            _ => 0.0,
        };
        Stats {
            hosts,
            cached: st.cached,
            elapsed_seconds,
        }
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Answers every queued job `unknown` (`timeout`): the deadline has passed.
fn expire(s: &Shared, st: &mut State) {
    let mut expired = Vec::new();
    for q in st.hosts.values_mut() {
        expired.extend(q.jobs.drain(..));
    }
    st.queued = 0;
    for j in expired {
        (s.on_done)(
            &j.fingerprint,
            Verification::unknown(
                Reason::Timeout,
                "not verified before the verification deadline",
            ),
        );
    }
}

fn work(s: &Shared) {
    let deadline = s.started + s.opts.deadline;
    let interval = Duration::from_secs_f64(1.0 / s.opts.per_host_rate.max(0.001));
    loop {
        let mut st = lock(&s.state);
        let (host, job) = loop {
            let now = Instant::now();
            if now >= deadline {
                expire(s, &mut st);
            }
            if st.queued == 0 {
                if st.closed {
                    return;
                }
                st =
                    s.cv.wait_timeout(st, Duration::from_millis(200))
                        .map(|x| x.0)
                        .unwrap_or_else(|e| e.into_inner().0);
                continue;
            }
            // The ready host whose turn came first.
            let mut best: Option<(&String, Instant)> = None;
            let mut soonest: Option<Instant> = None;
            for (h, q) in &st.hosts {
                if q.jobs.is_empty() {
                    continue;
                }
                let at = q.next_at.unwrap_or(now);
                if at <= now {
                    if best.is_none_or(|(_, b)| at < b) {
                        best = Some((h, at));
                    }
                } else if soonest.is_none_or(|x| at < x) {
                    soonest = Some(at);
                }
            }
            if let Some((h, _)) = best {
                let h = h.clone();
                let q = st.hosts.entry(h.clone()).or_default();
                let Some(job) = q.jobs.pop_front() else {
                    continue;
                };
                q.next_at = Some(q.next_at.unwrap_or(now).max(now) + interval);
                q.requests += 1;
                q.first.get_or_insert(now);
                st.queued -= 1;
                st.running += 1;
                break (h, job);
            }
            let wait = soonest
                .map(|t| t.saturating_duration_since(now))
                .unwrap_or(Duration::from_millis(200))
                .min(deadline.saturating_duration_since(now))
                .max(Duration::from_millis(1));
            st =
                s.cv.wait_timeout(st, wait)
                    .map(|x| x.0)
                    .unwrap_or_else(|e| e.into_inner().0);
        };
        drop(st);
        let attempt = job.call.run(&s.ctx);
        let mut st = lock(&s.state);
        st.running -= 1;
        let now = Instant::now();
        if let Some(q) = st.hosts.get_mut(&host) {
            q.last = Some(now);
        }
        match attempt {
            Attempt::Done(v) => {
                // A request refused before any connection (the host policy) was not sent.
                let sent = !(v.reason == Some(Reason::Skipped) && v.host.is_empty());
                if let Some(q) = st.hosts.get_mut(&host) {
                    q.backoff = 0;
                    if !sent {
                        q.requests -= 1;
                    }
                }
                st.last_done = Some(now);
                drop(st);
                let refs: Vec<&str> = job.secrets.iter().map(String::as_str).collect();
                let v = super::scrub(v, &refs);
                if matches!(v.status, Status::Live | Status::Invalid) {
                    lock(&s.cache).put(&job.fingerprint, &v);
                }
                (s.on_done)(&job.fingerprint, v);
            }
            Attempt::Retry(after) => {
                let tries = job.tries + 1;
                if tries > s.opts.retries {
                    st.last_done = Some(now);
                    drop(st);
                    let mut v = Verification::unknown(
                        Reason::RateLimited,
                        format!("{host} still asked to slow down after {} tries", tries),
                    );
                    v.host = host.clone();
                    v.checked_at = super::now_rfc3339();
                    (s.on_done)(&job.fingerprint, v);
                } else {
                    let q = st.hosts.entry(host).or_default();
                    q.backoff += 1;
                    let wait = after.unwrap_or(Duration::from_secs(1 << (q.backoff - 1).min(5)));
                    q.next_at = Some(now + wait);
                    q.jobs.push_front(Queued { tries, ..job });
                    st.queued += 1;
                    drop(st);
                    s.cv.notify_all();
                }
            }
        }
    }
}
