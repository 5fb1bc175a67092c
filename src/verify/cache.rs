//! The verdict cache: `--verify-cache FILE` remembers verdicts by fingerprint across runs, so
//! a responder who re-checks a saved scan every hour asks each service once per secret per
//! day, not once per run.
//!
//! The file is JSON, `{"version": 1, "verdicts": {FINGERPRINT: {…verification…}}}`, written
//! with mode 0600 (through a temporary file renamed into place). It holds fingerprints and
//! verdicts, never a secret. Only `live` and `invalid` verdicts are kept (an `unknown` one is
//! worth asking again), each for the cache's time to live, counted from its `checked_at`.
//! A file that cannot be read is ignored (verification then asks again); one that cannot be
//! written is reported by the caller.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::Verification;

#[derive(Debug, Default, Serialize, Deserialize)]
struct File {
    version: u32,
    verdicts: BTreeMap<String, Verification>,
}

/// Verdicts by fingerprint.
#[derive(Debug, Default)]
pub struct Cache {
    verdicts: BTreeMap<String, Verification>,
    ttl: Duration,
}

/// Seconds since the epoch of an RFC 3339 UTC time written by [`super::rfc3339`].
fn epoch_of(t: &str) -> Option<u64> {
    let b = t.as_bytes();
    if b.len() < 20 {
        return None;
    }
    let n = |r: std::ops::Range<usize>| t.get(r)?.parse::<u64>().ok();
    let (y, m, d) = (n(0..4)?, n(5..7)?, n(8..10)?);
    let (hh, mm, ss) = (n(11..13)?, n(14..16)?, n(17..19)?);
    // Days from civil (inverse of civil_from_days).
    let (y, m) = if m <= 2 { (y - 1, m + 9) } else { (y, m - 3) };
    let era = y / 400;
    let yoe = y - era * 400;
    let doy = (153 * m + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = (era * 146_097 + doe).checked_sub(719_468)?;
    Some(days * 86_400 + hh * 3600 + mm * 60 + ss)
}

fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

impl Cache {
    /// Reads a cache file (an absent or unreadable one is an empty cache).
    pub fn read(path: &Path, ttl: Duration) -> Cache {
        let verdicts = std::fs::read(path)
            .ok()
            .and_then(|b| serde_json::from_slice::<File>(&b).ok())
            .map(|f| f.verdicts)
            .unwrap_or_default();
        Cache { verdicts, ttl }
    }

    /// A fresh verdict for `fingerprint`, marked as cached.
    pub fn get(&self, fingerprint: &str) -> Option<Verification> {
        let v = self.verdicts.get(fingerprint)?;
        let at = epoch_of(&v.checked_at)?;
        if now().saturating_sub(at) > self.ttl.as_secs() {
            return None;
        }
        let mut v = v.clone();
        if !v.detail.starts_with("cached") {
            v.detail = format!("cached: {}", v.detail);
        }
        Some(v)
    }

    /// Remembers a verdict.
    pub fn put(&mut self, fingerprint: &str, v: &Verification) {
        self.verdicts.insert(fingerprint.to_string(), v.clone());
    }

    /// Writes the cache (mode 0600), dropping verdicts older than the time to live.
    pub fn write(&self, path: &Path) -> std::io::Result<()> {
        let now = now();
        let verdicts = self
            .verdicts
            .iter()
            .filter(|(_, v)| {
                epoch_of(&v.checked_at).is_some_and(|t| now.saturating_sub(t) <= self.ttl.as_secs())
            })
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        let text = serde_json::to_vec_pretty(&File {
            version: 1,
            verdicts,
        })
        .map_err(std::io::Error::other)?;
        let tmp = path.with_extension("tmp");
        {
            use std::io::Write as _;
            let mut f = crate::outfile::create(&tmp, crate::outfile::Options::default())?;
            f.write_all(&text)?;
            f.sync_all()?;
        }
        std::fs::rename(&tmp, path)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_round_trip() {
        for t in [0u64, 951_782_400, 1_714_564_803, 4_102_444_800] {
            assert_eq!(epoch_of(&super::super::rfc3339(t)), Some(t));
        }
    }

    #[test]
    fn fresh_verdicts_come_back_and_stale_ones_do_not() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c.json");
        let mut c = Cache::read(&path, Duration::from_secs(3600));
        let mut v = Verification::unknown(super::super::Reason::Skipped, "HTTP 200");
        v.status = super::super::Status::Live;
        v.reason = None;
        v.checked_at = super::super::now_rfc3339();
        c.put("fp1", &v);
        let mut old = v.clone();
        old.checked_at = super::super::rfc3339(1000);
        c.put("fp2", &old);
        c.write(&path).unwrap();
        let c = Cache::read(&path, Duration::from_secs(3600));
        assert_eq!(c.get("fp1").unwrap().detail, "cached: HTTP 200");
        assert!(c.get("fp2").is_none());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }
}
