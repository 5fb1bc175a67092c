//! Deadlines for the sources that download (`oci://`, `mlflow+http://`, `s3://`, `gs://`,
//! `az://`): how long connecting may take, how long a connection may stay silent, and how a
//! signal stops requests in flight.
//!
//! Every HTTP client of these sources is built here from one [`NetLimits`]
//! (`--connect-timeout`, `--read-timeout`):
//!
//! - connecting (name resolution, TCP, TLS handshake) must finish within the connect timeout
//!   (default 10 s);
//! - the response headers must all arrive within the read timeout of the request being sent
//!   (default 30 s): a server that accepts and never answers, or drips its headers a byte at a
//!   time, holds a scan that long at most;
//! - a body must never stay silent longer than the read timeout (an idle timeout, restarted by
//!   every byte): a slow download that keeps moving goes on, a stalled one ends with a warning.
//!
//! A body that never ends is stopped by what its source declared: a registry blob by its
//! manifest `size` and digest, an object by its listed size.
//!
//! **Cancellation.** A blocked socket read does not look at the scan's stop flag, so
//! [`cancellable`] runs the source's work beside a watcher that shuts its agents down
//! ([`ureq::Agent::shutdown`]) as soon as the scan stops (SIGINT, SIGTERM, a report that
//! cannot be written): every read or write blocked on their connections returns an error at
//! once, and new requests fail. A connect in progress is not interrupted: it is bounded by the
//! connect timeout.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

/// The default `--connect-timeout`: 10 s.
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// The default `--read-timeout`: 30 s.
pub const DEFAULT_READ_TIMEOUT: Duration = Duration::from_secs(30);
/// How often the watcher of [`cancellable`] looks at the stop flag.
const WATCH_EVERY: Duration = Duration::from_millis(50);

/// Deadlines of network sources.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NetLimits {
    /// The longest a connection may take to open (resolve, TCP connect, TLS handshake).
    /// Default 10 s.
    pub connect_timeout: Duration,
    /// The longest a server may stay silent: waiting for a response's headers (all of them),
    /// and between any two reads of a body (an idle timeout). Default 30 s.
    pub read_timeout: Duration,
}

impl Default for NetLimits {
    fn default() -> NetLimits {
        NetLimits {
            connect_timeout: DEFAULT_CONNECT_TIMEOUT,
            read_timeout: DEFAULT_READ_TIMEOUT,
        }
    }
}

impl NetLimits {
    /// An HTTP agent with these deadlines: HTTP statuses are answers (not errors), the user
    /// agent is `ferret/VERSION`.
    pub fn agent(&self) -> ureq::Agent {
        ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_resolve(Some(self.connect_timeout))
            .timeout_connect(Some(self.connect_timeout))
            .timeout_send_request(Some(self.read_timeout))
            .timeout_send_body(Some(self.read_timeout))
            .timeout_recv_response(Some(self.read_timeout))
            .timeout_per_read(Some(self.read_timeout))
            .timeout_per_write(Some(self.read_timeout))
            .user_agent(concat!("ferret/", env!("CARGO_PKG_VERSION")))
            .build()
            .into()
    }
}

/// Sets its flag when dropped (also when the work panics), so that the watcher ends.
struct Done<'a>(&'a AtomicBool);

impl Drop for Done<'_> {
    fn drop(&mut self) {
        self.0.store(true, Ordering::Relaxed);
    }
}

/// Runs `work` while a watcher thread shuts `agents` down as soon as `stopped()` says so: a
/// request or body read blocked on one of their connections then fails at once instead of
/// waiting for its timeout. Returns what `work` returns.
pub fn cancellable<R>(
    agents: &[&ureq::Agent],
    stopped: &(dyn Fn() -> bool + Sync),
    work: impl FnOnce() -> R,
) -> R {
    if agents.is_empty() {
        return work();
    }
    let done = AtomicBool::new(false);
    std::thread::scope(|s| {
        s.spawn(|| {
            while !done.load(Ordering::Relaxed) {
                if stopped() {
                    for a in agents {
                        (*a).clone().shutdown();
                    }
                    return;
                }
                std::thread::sleep(WATCH_EVERY);
            }
        });
        let _done = Done(&done);
        work()
    })
}

/// A body that may not run past the size its source declared (an artifact's listed size):
/// the first byte past it is an error (the bytes before were handed on), and the body reads as
/// ended after that, so the error is reported once.
pub struct Declared<R> {
    inner: R,
    size: u64,
    read: u64,
    ended: bool,
    /// What the size was declared by, for the message (`its listing`).
    by: &'static str,
}

impl<R: std::io::Read> Declared<R> {
    /// `inner`, which `by` says is `size` bytes long.
    pub fn new(inner: R, size: u64, by: &'static str) -> Declared<R> {
        Declared {
            inner,
            size,
            read: 0,
            ended: false,
            by,
        }
    }
}

impl<R: std::io::Read> std::io::Read for Declared<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if self.ended || buf.is_empty() {
            return Ok(0);
        }
        if self.read >= self.size {
            let mut probe = [0u8; 1];
            let n = self.inner.read(&mut probe);
            self.ended = true;
            return match n? {
                0 => Ok(0),
                _ => Err(std::io::Error::new(
                    std::io::ErrorKind::InvalidData,
                    format!(
                        "the download runs past the {} bytes {} declares: stopped there \
                         (the bytes before were scanned)",
                        self.size, self.by
                    ),
                )),
            };
        }
        let want = buf
            .len()
            .min(usize::try_from(self.size - self.read).unwrap_or(usize::MAX));
        match self.inner.read(&mut buf[..want]) {
            Ok(n) => {
                self.read += n as u64;
                if n == 0 {
                    self.ended = true;
                }
                Ok(n)
            }
            Err(e) => {
                self.ended = true;
                Err(e)
            }
        }
    }
}

/// Whether a server ever answered. Once a request to a server that never answered has timed
/// out, later requests to it are not sent: a silent host costs one read timeout, not one per
/// listing. A server that answered once keeps being asked (a slow artifact is not a dead
/// server).
#[derive(Debug, Default)]
pub struct Silence {
    answered: AtomicBool,
    silent: AtomicBool,
}

impl Silence {
    /// `Err` (naming `server`) when requests to it are no longer sent.
    pub fn check(&self, server: &str) -> Result<(), String> {
        if self.silent.load(Ordering::Relaxed) && !self.answered.load(Ordering::Relaxed) {
            return Err(format!(
                "not sent: {server} did not answer an earlier request (timeout)"
            ));
        }
        Ok(())
    }

    /// Notes how a request ended.
    pub fn note<T>(&self, result: &Result<T, ureq::Error>) {
        match result {
            Ok(_) => self.answered.store(true, Ordering::Relaxed),
            Err(ureq::Error::Timeout(_)) => self.silent.store(true, Ordering::Relaxed),
            Err(_) => {}
        }
    }
}

/// Parses a duration: a number with a unit, `ms`, `s`, `m` or `h` (`500ms`, `10s`, `2m`); a
/// bare number is seconds. Zero is refused (it would mean no deadline at all, or none left).
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    let t = s.trim();
    let split = t
        .find(|c: char| !c.is_ascii_digit() && c != '.')
        .unwrap_or(t.len());
    let (num, unit) = t.split_at(split);
    let value: f64 = num
        .parse()
        .map_err(|_| format!("{s:?} is not a duration (e.g. 500ms, 10s, 2m)"))?;
    let scale = match unit.trim() {
        "ms" => 0.001,
        "" | "s" | "sec" | "secs" => 1.0,
        "m" | "min" => 60.0,
        "h" => 3600.0,
        other => return Err(format!("unknown duration unit {other:?} (ms, s, m, h)")),
    };
    let secs = value * scale;
    if !secs.is_finite() || secs <= 0.0 || secs > 7.0 * 24.0 * 3600.0 {
        return Err(format!(
            "{s:?}: a duration must be more than zero and at most a week"
        ));
    }
    Ok(Duration::from_secs_f64(secs))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_parse() {
        assert_eq!(parse_duration("10s"), Ok(Duration::from_secs(10)));
        assert_eq!(parse_duration("30"), Ok(Duration::from_secs(30)));
        assert_eq!(parse_duration("500ms"), Ok(Duration::from_millis(500)));
        assert_eq!(parse_duration("2m"), Ok(Duration::from_secs(120)));
        assert_eq!(parse_duration("1.5s"), Ok(Duration::from_millis(1500)));
        assert!(parse_duration("0s").is_err());
        assert!(parse_duration("ten").is_err());
        assert!(parse_duration("5 fortnights").is_err());
        assert!(parse_duration("").is_err());
    }

    #[test]
    fn a_declared_size_stops_a_longer_body() {
        use std::io::Read;
        let body = std::io::Cursor::new(vec![7u8; 5000]);
        let mut r = Declared::new(body, 1000, "its listing");
        let mut out = Vec::new();
        let err = r.read_to_end(&mut out).unwrap_err();
        assert_eq!(out.len(), 1000, "the declared bytes are handed on");
        assert!(
            err.to_string().contains("runs past the 1000 bytes"),
            "{err}"
        );
        assert_eq!(r.read(&mut [0u8; 10]).unwrap(), 0, "then it reads as ended");
        let mut exact = Declared::new(std::io::Cursor::new(vec![1u8; 1000]), 1000, "x");
        out.clear();
        exact.read_to_end(&mut out).unwrap();
        assert_eq!(out.len(), 1000);
    }

    #[test]
    fn the_watcher_shuts_agents_down_when_stopped() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        // A server that accepts and never answers.
        let held = std::thread::spawn(move || listener.accept().map(|(s, _)| s));
        // Without the watcher, the request would end by its read timeout (a minute), as a
        // timeout; with it, it ends at once as an I/O error.
        let limits = NetLimits {
            connect_timeout: Duration::from_secs(5),
            read_timeout: Duration::from_secs(60),
        };
        let agent = limits.agent();
        let stop = AtomicBool::new(false);
        let result = cancellable(&[&agent], &|| stop.load(Ordering::Relaxed), || {
            std::thread::scope(|s| {
                s.spawn(|| {
                    std::thread::sleep(Duration::from_millis(300));
                    stop.store(true, Ordering::Relaxed);
                });
                agent.get(&format!("http://127.0.0.1:{port}/x")).call()
            })
        });
        match result {
            Err(ureq::Error::Timeout(t)) => panic!("the request waited for its timeout: {t}"),
            Err(_) => {}
            Ok(r) => panic!("a silent server answered: {}", r.status()),
        }
        drop(held);
    }
}
