//! What every verifier is given and gives back: the shared context ([`Ctx`]: the HTTPS agent,
//! the host policy, the timeout) and the verdicts of a protocol exchange. The engine
//! ([`super::engine`]) builds the context and dispatches to the verifiers; the verifiers use
//! only this, so neither imports the other both ways.

use std::collections::BTreeMap;
use std::time::Duration;

use super::policy::{HostPolicy, Refusal, Trust};
use super::{Reason, Status, Verification};

/// What verifiers share: the HTTPS agent, the host policy, the timeout.
pub struct Ctx {
    /// The HTTPS agent (policy-checking resolver, web roots, no proxy, no redirects).
    pub agent: ureq::Agent,
    /// `--verify-host`.
    pub hosts: HostPolicy,
    /// Time allowed for one request.
    pub timeout: Duration,
}

impl Ctx {
    /// A TCP connection to a host the scanned content named, if the policy allows it.
    pub fn connect_named(&self, host: &str, port: u16) -> Result<super::net::Stream, Verification> {
        super::net::connect(host, port, Trust::UserNamed, &self.hosts, self.timeout)
            .map_err(|r| refused(r, &format!("{host}:{port}")))
    }
}

/// The verdict for a connection that was not made.
pub fn refused(r: Refusal, host: &str) -> Verification {
    match r {
        Refusal::NotAllowed(m) => Verification::unknown(Reason::Skipped, m),
        Refusal::Network(m) => {
            let mut v = Verification::unknown(Reason::Network, m);
            v.host = host.to_string();
            v.checked_at = super::now_rfc3339();
            v
        }
    }
}

/// The verdict for an I/O error during a protocol exchange.
pub fn io_failure(e: &std::io::Error, host: &str) -> Verification {
    let reason = if matches!(
        e.kind(),
        std::io::ErrorKind::TimedOut | std::io::ErrorKind::WouldBlock
    ) {
        Reason::Timeout
    } else {
        Reason::Network
    };
    let mut v = Verification::unknown(reason, format!("{host}: {e}"));
    v.host = host.to_string();
    v.checked_at = super::now_rfc3339();
    v
}

/// A verdict from a protocol exchange.
pub fn verdict(status: Status, host: &str, detail: impl Into<String>) -> Verification {
    Verification {
        status,
        reason: (status == Status::Unknown).then_some(Reason::Unexpected),
        detail: detail.into(),
        checked_at: super::now_rfc3339(),
        host: host.to_string(),
        identity: BTreeMap::new(),
    }
}
