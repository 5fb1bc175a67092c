//! Shannon entropy of a candidate secret, the floor that keeps `password = "password123"` quiet.

/// Shannon entropy of `bytes` in bits per byte (0 for an empty slice, at most 8).
pub fn shannon(bytes: &[u8]) -> f64 {
    if bytes.is_empty() {
        return 0.0;
    }
    // H = log2(n) - (1/n) Σ c·log2(c) over the byte counts c: the c·log2(c) of small counts
    // (all of them in a short secret) are looked up, not computed (this runs once or twice per
    // candidate, and a dump of passwords has a few hundred thousand).
    static C_LOG_C: std::sync::LazyLock<[f64; TABLE]> = std::sync::LazyLock::new(|| {
        std::array::from_fn(|c| {
            if c < 2 {
                0.0
            } else {
                c as f64 * (c as f64).log2()
            }
        })
    });
    let table = &*C_LOG_C;
    let mut counts = [0u32; 256];
    for &b in bytes {
        counts[usize::from(b)] += 1;
    }
    let c_log_c = |c: u32| match table.get(c as usize) {
        Some(&v) => v,
        None => f64::from(c) * f64::from(c).log2(),
    };
    // A short input's distinct bytes are found by walking it (each count taken once, then
    // cleared), a long one's by walking the counts.
    let sum: f64 = if bytes.len() < 256 {
        let mut sum = 0.0;
        for &b in bytes {
            let c = std::mem::take(&mut counts[usize::from(b)]);
            if c > 1 {
                sum += c_log_c(c);
            }
        }
        sum
    } else {
        counts.iter().filter(|&&c| c > 1).map(|&c| c_log_c(c)).sum()
    };
    let n = bytes.len() as f64;
    (n.log2() - sum / n).max(0.0)
}

/// Counts whose `c·log2(c)` [`shannon`] looks up.
const TABLE: usize = 256;

#[cfg(test)]
mod tests {
    use super::shannon;

    #[test]
    fn entropy_of_known_strings() {
        assert_eq!(shannon(b""), 0.0);
        assert_eq!(shannon(b"aaaaaaaa"), 0.0);
        assert!((shannon(b"abab") - 1.0).abs() < 1e-9);
        assert!((shannon(b"abcdefgh") - 3.0).abs() < 1e-9);
        let all: Vec<u8> = (0..=255).collect();
        assert!((shannon(&all) - 8.0).abs() < 1e-9);
    }

    /// The looked-up form equals the textbook sum over probabilities, for short and long
    /// inputs (counts past the table included).
    #[test]
    fn equals_the_sum_over_probabilities() {
        let textbook = |bytes: &[u8]| -> f64 {
            let mut counts = [0u32; 256];
            for &b in bytes {
                counts[b as usize] += 1;
            }
            let len = bytes.len() as f64;
            counts
                .iter()
                .filter(|&&c| c > 0)
                .map(|&c| {
                    let p = f64::from(c) / len;
                    -p * p.log2()
                })
                .sum()
        };
        let mut x = 0x9e37_79b9_u32;
        let mut next = || {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            x
        };
        for len in [1usize, 2, 7, 14, 40, 300, 5000] {
            for alphabet in [2u32, 16, 62, 256] {
                let bytes: Vec<u8> = (0..len).map(|_| (next() % alphabet) as u8).collect();
                let (fast, slow) = (shannon(&bytes), textbook(&bytes));
                assert!(
                    (fast - slow).abs() < 1e-9,
                    "{len} {alphabet}: {fast} {slow}"
                );
            }
        }
    }
}
