//! Sharding: `--shard K/N` scans the K-th of N disjoint parts of the inputs.
//!
//! Each item is assigned by a hash of its key: the object key relative to the URL's prefix, or
//! the path relative to the folder named on the command line (the file name for a file named
//! directly). The hash is 64-bit FNV-1a, fixed here for good: N workers run with the same
//! arguments and shards `0/N` … `N-1/N` cover every item exactly once, whatever machine,
//! mount point or thread count each runs with. Warnings (an unreadable file, a skipped one) go
//! to the shard that owns the item, so merged reports count each once. A listing error that
//! names no item is reported by every shard: each of them could not see everything.

use std::fmt;
use std::str::FromStr;

/// The part `index` of `count` (`0 <= index < count`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shard {
    /// Which part, from 0.
    pub index: u64,
    /// How many parts.
    pub count: u64,
}

impl Shard {
    /// Whether the item with this key belongs to this shard.
    pub fn owns(&self, key: &str) -> bool {
        fnv1a(key.as_bytes()) % self.count == self.index
    }
}

impl FromStr for Shard {
    type Err = String;

    fn from_str(s: &str) -> Result<Shard, String> {
        let (k, n) = s
            .split_once('/')
            .ok_or_else(|| format!("{s:?}: expected K/N, e.g. 0/4"))?;
        let index: u64 = k
            .trim()
            .parse()
            .map_err(|_| format!("{s:?}: K is not a number"))?;
        let count: u64 = n
            .trim()
            .parse()
            .map_err(|_| format!("{s:?}: N is not a number"))?;
        if count == 0 || index >= count {
            return Err(format!("{s:?}: K must be in 0..N and N at least 1"));
        }
        Ok(Shard { index, count })
    }
}

impl fmt::Display for Shard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

/// 64-bit FNV-1a.
fn fnv1a(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in bytes {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_rejects() {
        assert_eq!("2/5".parse(), Ok(Shard { index: 2, count: 5 }));
        assert!("5/5".parse::<Shard>().is_err());
        assert!("0/0".parse::<Shard>().is_err());
        assert!("1".parse::<Shard>().is_err());
        assert!("a/2".parse::<Shard>().is_err());
        assert_eq!(Shard { index: 0, count: 3 }.to_string(), "0/3");
    }

    #[test]
    fn shards_partition_every_key_and_spread_them() {
        // The FNV-1a test vector pins the hash: changing it would reshuffle every sweep.
        assert_eq!(fnv1a(b"a"), 0xaf63_dc4c_8601_ec8c);
        let keys: Vec<String> = (0..10_000).map(|i| format!("runs/{i}/model.pt")).collect();
        for n in [1u64, 2, 3, 7] {
            let mut counts = vec![0usize; n as usize];
            for k in &keys {
                let owners: Vec<u64> = (0..n)
                    .filter(|&i| Shard { index: i, count: n }.owns(k))
                    .collect();
                assert_eq!(owners.len(), 1, "{k} has exactly one shard of {n}");
                counts[owners[0] as usize] += 1;
            }
            let expected = keys.len() / n as usize;
            assert!(
                counts
                    .iter()
                    .all(|&c| c.abs_diff(expected) < expected / 10 + 10),
                "{counts:?}"
            );
        }
    }
}
