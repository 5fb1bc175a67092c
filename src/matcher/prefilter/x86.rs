//! The gram filter's loops for x86-64 CPUs with vector units, picked at run time.
//!
//! - [`run_avx2`] tests eight positions per step like the scalar loop, but hashes their grams in
//!   the lanes of one vector and fetches their table words with one gather.
//! - [`run_vbmi`] first asks a cheaper question of 64 positions at once, as Hyperscan's Teddy
//!   does: the filed grams are split into 32 buckets, and a position passes if, for some bucket,
//!   each of its four bytes is one that the bucket's grams have at that offset. Each test is a
//!   byte lookup (`vpermb`) in a 64-entry table per offset and group of eight buckets, so the
//!   bytes are first reduced to 64 classes: the six bits that folding keeps (bit 5 is what the
//!   fold sets, and bit 7 is dropped, so a non-ASCII byte may pass as an ASCII one). Only the
//!   positions that pass (about 4% of JSON logs or code, under 1% of base64) get the table
//!   test. A gram always passes its own bucket, so nothing is lost.
//!
//! The buckets are chosen when the filter is built: grams that share bytes go together, so
//! that a bucket accepts few combinations it was not built for. [`Buckets::new`] places each
//! gram where it adds least to the chance that a position of typical text passes, then moves
//! grams between buckets while that chance falls.

use std::arch::x86_64::*;

use super::{BITS, FOLD, bit, gram};

/// What the CPU offers the gram filter, best last.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(super) enum Level {
    /// Plain x86-64.
    Scalar,
    /// BMI2: shifts by a variable count without moving it to `cl` first.
    Bmi2,
    /// AVX2 (with BMI2): the gather loop.
    Avx2,
    /// AVX-512 with VBMI (with the above): the bucket stage in front of the gather loop.
    Vbmi,
}

impl Level {
    /// The best level this CPU runs.
    pub(super) fn detect() -> Level {
        let bmi2 = is_x86_feature_detected!("bmi1") && is_x86_feature_detected!("bmi2");
        let avx2 = bmi2 && is_x86_feature_detected!("avx2");
        let vbmi = avx2
            && is_x86_feature_detected!("avx512f")
            && is_x86_feature_detected!("avx512bw")
            && is_x86_feature_detected!("avx512vbmi");
        if vbmi {
            Level::Vbmi
        } else if avx2 {
            Level::Avx2
        } else if bmi2 {
            Level::Bmi2
        } else {
            Level::Scalar
        }
    }
}

/// Buckets of the VBMI stage.
const BUCKETS: usize = 32;

/// The class of a byte: the six bits that case folding keeps (bits 0–4 and 6); a byte and its
/// folded form have the same class.
#[inline(always)]
fn class(b: u8) -> u8 {
    (b & 0x1f) | ((b & 0x40) >> 1)
}

/// How often a class is assumed to occur in the input, to weigh bucket choices: letters are
/// common, digits and spaces less, punctuation rare.
fn weight(c: u8) -> f64 {
    match c {
        0x21..=0x3a => 0.03,                             // letters
        0x10..=0x19 => 0.01,                             // digits
        0x00 => 0.1,                                     // space
        0x02 | 0x0c..=0x0f | 0x1a | 0x1d | 0x3f => 0.01, // " , - . / : = _
        _ => 0.002,
    }
}

/// The VBMI stage's tables: `t[4 * offset + group][class]` has bit `b % 8` set if bucket
/// `8 * group + b % 8` holds a gram with a byte of that class at that offset (or one too
/// short to reach it).
#[derive(Clone)]
#[repr(C, align(64))]
pub(super) struct Buckets {
    t: [[u8; 64]; 4 * BUCKETS / 8],
}

impl std::fmt::Debug for Buckets {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Buckets").finish_non_exhaustive()
    }
}

/// A bucket being filled: how many of its grams have each class at each offset, and how many
/// are too short to reach it (then any byte passes there).
#[derive(Clone, Copy)]
struct Fill {
    count: [[u16; 64]; 4],
    short: [u16; 4],
    /// The weight of the classes present at each offset.
    sum: [f64; 4],
    grams: u16,
}

/// A gram as the buckets see it: the class of each byte it has.
type Classes = [Option<u8>; 4];

impl Fill {
    const EMPTY: Fill = Fill {
        count: [[0; 64]; 4],
        short: [0; 4],
        sum: [0.0; 4],
        grams: 0,
    };

    /// The chance that a position passes this bucket, were bytes independent; with gram `g`
    /// added (`+1`), removed (`-1`, it must be in the bucket) or as it is (`0`).
    fn cost(&self, g: &Classes, change: i32) -> f64 {
        let grams = i32::from(self.grams) + change;
        if grams == 0 {
            return 0.0;
        }
        (0..4)
            .map(|j| {
                let (short, present) = match g[j] {
                    None => (i32::from(self.short[j]) + change, self.sum[j]),
                    Some(c) => {
                        let n = i32::from(self.count[j][c as usize]);
                        let w = weight(c);
                        let sum = match (n, change) {
                            (0, 1) => self.sum[j] + w,
                            (1, -1) => self.sum[j] - w,
                            _ => self.sum[j],
                        };
                        (i32::from(self.short[j]), sum)
                    }
                };
                if short > 0 { 1.0 } else { present }
            })
            .product()
    }

    fn add(&mut self, g: &Classes, change: i16) {
        self.grams = self.grams.wrapping_add_signed(change);
        for (j, c) in g.iter().enumerate() {
            match c {
                None => self.short[j] = self.short[j].wrapping_add_signed(change),
                Some(c) => {
                    let n = &mut self.count[j][*c as usize];
                    let was = *n;
                    *n = n.wrapping_add_signed(change);
                    if was == 0 || *n == 0 {
                        self.sum[j] += f64::from(change) * weight(*c);
                    }
                }
            }
        }
    }
}

impl Buckets {
    /// Tables for the folded grams `(gram, length)` (length 3 or 4).
    pub(super) fn new(grams: &[(u32, usize)]) -> Box<Buckets> {
        let mut grams: Vec<Classes> = grams
            .iter()
            .map(|&(g, n)| {
                let b = g.to_le_bytes();
                std::array::from_fn(|j| (j < n).then(|| class(b[j])))
            })
            .collect();
        // Short grams first: they open a bucket to any byte and should share it.
        grams.sort_unstable_by_key(|g| (g.iter().filter(|c| c.is_some()).count(), *g));
        grams.dedup();
        let mut fill = vec![Fill::EMPTY; BUCKETS];
        // Each bucket's cost as it is.
        let mut now = [0.0; BUCKETS];
        // The bucket where adding `g` costs least (other than `not`), and what it adds.
        let cheapest = |fill: &[Fill], now: &[f64; BUCKETS], g: &Classes, not: usize| {
            (0..BUCKETS)
                .filter(|&b| b != not)
                .map(|b| (fill[b].cost(g, 1) - now[b], b))
                .min_by(|a, b| a.0.total_cmp(&b.0))
                .unwrap_or((0.0, 0))
        };
        let mut place = Vec::with_capacity(grams.len());
        for g in &grams {
            let (_, b) = cheapest(&fill, &now, g, BUCKETS);
            fill[b].add(g, 1);
            now[b] = fill[b].cost(g, 0);
            place.push(b);
        }
        // Move grams while a move lowers the total (a few sweeps settle it).
        for _sweep in 0..4 {
            let mut moved = false;
            for (g, from) in grams.iter().zip(place.iter_mut()) {
                let left = fill[*from].cost(g, -1);
                let (adds, to) = cheapest(&fill, &now, g, *from);
                if adds < now[*from] - left - 1e-12 {
                    fill[*from].add(g, -1);
                    now[*from] = left;
                    fill[to].add(g, 1);
                    now[to] += adds;
                    *from = to;
                    moved = true;
                }
            }
            if !moved {
                break;
            }
        }
        let mut t = [[0u8; 64]; 4 * BUCKETS / 8];
        for (g, &b) in grams.iter().zip(&place) {
            for (j, c) in g.iter().enumerate() {
                let row = &mut t[4 * j + b / 8];
                match c {
                    Some(c) => row[*c as usize] |= 1 << (b % 8),
                    None => row.iter_mut().for_each(|x| *x |= 1 << (b % 8)),
                }
            }
        }
        Box::new(Buckets { t })
    }
}

/// The scalar table test of every position of `starts` that passes the buckets, 64 at a time
/// while 67 bytes can be loaded; returns the first position not tested.
#[target_feature(enable = "avx512f,avx512bw,avx512vbmi,bmi1,bmi2")]
pub(super) fn run_vbmi(
    buckets: &Buckets,
    table: &[u64; 1 << BITS],
    hay: &[u8],
    starts: std::ops::Range<usize>,
    emit: &mut impl FnMut(usize, u32),
) -> usize {
    // SAFETY: each row is 64 bytes; the loads need no alignment.
    #[allow(unsafe_code)]
    let t: [__m512i; 16] =
        std::array::from_fn(|r| unsafe { _mm512_loadu_si512(buckets.t[r].as_ptr().cast()) });
    let bit5 = _mm512_set1_epi8(0x20);
    let mut i = starts.start;
    while i + 64 <= starts.end {
        let Some(block) = hay.get(i..i + 67) else {
            break;
        };
        // SAFETY: `block` has 67 bytes, so 64 can be loaded from each of its first four; the
        // loads need no alignment.
        #[allow(unsafe_code)]
        let z: [__m512i; 4] =
            std::array::from_fn(|j| unsafe { _mm512_loadu_si512(block.as_ptr().add(j).cast()) });
        // The class index: bit 5 replaced by bit 6 (`vpermb` reads the low six bits).
        let c = z.map(|z| _mm512_ternarylogic_epi32::<0xCA>(bit5, _mm512_srli_epi16::<1>(z), z));
        let mut any = _mm512_setzero_si512();
        for g in 0..4 {
            let a = _mm512_permutexvar_epi8(c[0], t[g]);
            let b = _mm512_permutexvar_epi8(c[1], t[4 + g]);
            let d = _mm512_permutexvar_epi8(c[2], t[8 + g]);
            let e = _mm512_permutexvar_epi8(c[3], t[12 + g]);
            // any |= a & b & d & e
            let abd = _mm512_ternarylogic_epi32::<0x80>(a, b, d);
            any = _mm512_ternarylogic_epi32::<0xF8>(any, abd, e);
        }
        let mut mask = _mm512_test_epi8_mask(any, any);
        while mask != 0 {
            let k = mask.trailing_zeros() as usize;
            mask &= mask - 1;
            let Some(&x) = block.get(k..).and_then(|b| b.first_chunk::<4>()) else {
                break;
            };
            let x = u32::from_le_bytes(x) | FOLD;
            if bit(table, x) != 0 {
                emit(i + k, x);
            }
        }
        i += 64;
    }
    i
}

/// The eight-position loop with the grams hashed in vector lanes and the table words gathered;
/// 32 positions a step while 40 bytes can be loaded. Returns the first position not tested.
#[target_feature(enable = "avx2,bmi1,bmi2")]
pub(super) fn run_avx2(
    table: &[u64; 1 << BITS],
    hay: &[u8],
    starts: std::ops::Range<usize>,
    emit: &mut impl FnMut(usize, u32),
) -> usize {
    // Lane k holds the four bytes at k (of the sixteen loaded, copied to both halves).
    let windows = _mm256_setr_epi8(
        0, 1, 2, 3, 1, 2, 3, 4, 2, 3, 4, 5, 3, 4, 5, 6, //
        4, 5, 6, 7, 5, 6, 7, 8, 6, 7, 8, 9, 7, 8, 9, 10,
    );
    let fold = _mm256_set1_epi32(FOLD as i32);
    let low3 = _mm256_set1_epi32(0xFF_FFFF);
    let mul = _mm256_set1_epi32(0x9E37_79B1_u32 as i32);
    let one = _mm256_set1_epi32(1);
    let low5 = _mm256_set1_epi32(31);
    // The table as 2^(BITS + 1) 32-bit words: bit `b` of word `h` is bit `b % 32` of word
    // `2h + b / 32` (little-endian).
    let words = table.as_ptr().cast::<i32>();
    // The candidates among the eight positions whose bytes `v` starts with.
    let test = |v: __m128i| -> u32 {
        let x = _mm256_or_si256(
            _mm256_shuffle_epi8(_mm256_broadcastsi128_si256(v), windows),
            fold,
        );
        let h = _mm256_srli_epi32::<{ 32 - BITS as i32 }>(_mm256_mullo_epi32(
            _mm256_and_si256(x, low3),
            mul,
        ));
        let half = _mm256_and_si256(_mm256_srli_epi32::<29>(x), one);
        let index = _mm256_or_si256(_mm256_slli_epi32::<1>(h), half);
        // SAFETY: `h < 2^BITS`, so `index < 2^(BITS + 1)`, the table's length in 32-bit words.
        #[allow(unsafe_code)]
        let got = unsafe { _mm256_i32gather_epi32::<4>(words, index) };
        // Move bit `b % 32` to the top of its lane: shift left by `31 - b % 32`.
        let shift = _mm256_andnot_si256(_mm256_srli_epi32::<24>(x), low5);
        _mm256_movemask_ps(_mm256_castsi256_ps(_mm256_sllv_epi32(got, shift))) as u32
    };
    let mut i = starts.start;
    while i + 32 <= starts.end {
        let Some(block) = hay.get(i..i + 40) else {
            break;
        };
        // SAFETY: `block` has 40 bytes, so sixteen can be loaded from each of 0, 8, 16 and 24;
        // the loads need no alignment.
        #[allow(unsafe_code)]
        let v: [__m128i; 4] =
            std::array::from_fn(|j| unsafe { _mm_loadu_si128(block.as_ptr().add(8 * j).cast()) });
        let mut mask = test(v[0]) | test(v[1]) << 8 | test(v[2]) << 16 | test(v[3]) << 24;
        while mask != 0 {
            let k = mask.trailing_zeros() as usize;
            mask &= mask - 1;
            emit(i + k, gram(&block[k..], 4));
        }
        i += 32;
    }
    i
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The VBMI stage's question for one position, asked without vectors.
    fn passes(b: &Buckets, four: [u8; 4]) -> bool {
        (0..4).any(|g| (0..4).fold(0xFF, |m, j| m & b.t[4 * j + g][class(four[j]) as usize]) != 0)
    }

    fn grams(words: &[&str]) -> Vec<(u32, usize)> {
        words
            .iter()
            .map(|w| {
                let n = w.len().min(4);
                (gram(w.as_bytes(), n), n)
            })
            .collect()
    }

    #[test]
    fn every_gram_passes_and_little_else_does() {
        let rules = crate::RuleSet::builtin().unwrap();
        let words: Vec<String> = rules
            .iter()
            .flat_map(|r| r.spec.keywords.clone())
            .filter(|k| k.len() >= 3)
            .collect();
        let words: Vec<&str> = words.iter().map(String::as_str).collect();
        let b = Buckets::new(&grams(&words));
        for w in &words {
            let mut four = [b'#'; 4];
            for (d, s) in four.iter_mut().zip(w.bytes()) {
                *d = s;
            }
            assert!(passes(&b, four), "{w}");
            assert!(passes(&b, four.map(|c| c.to_ascii_uppercase())), "{w}");
        }
        // Random letters and digits: the built-in keywords' grams are a few hundred of the
        // 64^4 class quadruples, so only a few percent of positions may pass.
        let mut x = 0x2545_F491_4F6C_DD1Du64;
        let alnum = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
        let text: Vec<u8> = (0..100_000)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                alnum[(x % alnum.len() as u64) as usize]
            })
            .collect();
        let passed = text
            .windows(4)
            .filter(|w| passes(&b, [w[0], w[1], w[2], w[3]]))
            .count();
        assert!(
            passed < text.len() / 20,
            "{passed} of {} passed",
            text.len()
        );
    }

    #[test]
    fn three_byte_grams_open_their_bucket_to_any_fourth_byte() {
        let b = Buckets::new(&grams(&["sk-", "hf_", "ghp_"]));
        for last in [b'x', b'\n', 0, 0xFF, b'-'] {
            assert!(passes(&b, [b's', b'K', b'-', last]));
            assert!(passes(&b, [b'H', b'f', b'_', last]));
        }
        assert!(passes(&b, *b"GHP_"));
        assert!(!passes(&b, *b"ghq_"));
        assert!(!passes(&b, *b"zzzz"));
    }
}
