//! Matcher throughput in MB/s on inputs generated in-process: text with no keyword hits, text
//! dense with secrets, JSON-lines logs, and base64-heavy JSON (notebook image outputs); and the
//! keyword prefilter alone on three of them.
//!
//! Run with `cargo bench --bench engine`; criterion prints MB/s (throughput in bytes).
//!
//! `FERRET_BENCH_RULES=DIR` measures the rule files of `DIR` instead of the built-in rules, so
//! that two rule sets (say, `git archive main rules` unpacked somewhere, and the working tree's)
//! are compared with one build.

#![allow(missing_docs)]

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use ferret::blob::{Data, Origin};
use ferret::matcher::prefilter::Prefilter;
use ferret::{Matcher, RuleSet, engine};

const SIZE: usize = 8 << 20;

/// A deterministic generator so every run measures the same bytes.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[(self.next() % items.len() as u64) as usize]
    }

    fn string(&mut self, alphabet: &[u8], n: usize) -> String {
        (0..n)
            .map(|_| alphabet[(self.next() % alphabet.len() as u64) as usize] as char)
            .collect()
    }
}

const WORDS: &[&str] = &[
    "the",
    "model",
    "loss",
    "step",
    "epoch",
    "gradient",
    "batch",
    "eval",
    "checkpoint",
    "shard",
    "learning",
    "rate",
    "warmup",
    "cosine",
    "scheduler",
    "dataset",
    "worker",
    "rank",
    "node",
];
const ALNUM: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

fn no_hits() -> Vec<u8> {
    let mut r = Rng(1);
    let mut s = String::with_capacity(SIZE);
    while s.len() < SIZE {
        for _ in 0..12 {
            s.push_str(r.pick(WORDS));
            s.push(' ');
        }
        s.push_str(&format!("{}\n", r.next() % 100_000));
    }
    s.into_bytes()
}

fn dense() -> Vec<u8> {
    let mut r = Rng(2);
    let mut s = String::with_capacity(SIZE);
    while s.len() < SIZE {
        let line = match r.next() % 4 {
            0 => format!("GITHUB_TOKEN=ghp_{}\n", r.string(ALNUM, 36)),
            1 => format!(
                "AWS_ACCESS_KEY_ID=AKIA{}\n",
                r.string(b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", 16)
            ),
            2 => format!("password = \"{}\"\n", r.string(ALNUM, 16)),
            _ => format!(
                "hf_token: hf_{}\n",
                r.string(b"abcdefghijklmnopqrstuvwxyzABCDEFGH", 34)
            ),
        };
        s.push_str(&line);
        for _ in 0..6 {
            s.push_str(r.pick(WORDS));
            s.push(' ');
        }
        s.push('\n');
    }
    s.into_bytes()
}

fn json_logs() -> Vec<u8> {
    let mut r = Rng(3);
    let mut s = String::with_capacity(SIZE);
    while s.len() < SIZE {
        s.push_str(&format!(
            "{{\"ts\":\"2025-01-01T00:00:{:02}.000Z\",\"level\":\"info\",\"msg\":\"request done\",\"trace_id\":\"{}\",\"tokens\":{},\"headers\":{{\"authorization\":\"Bearer sk-...{}\"}}}}\n",
            r.next() % 60,
            r.string(b"0123456789abcdef", 32),
            r.next() % 4096,
            r.string(ALNUM, 4),
        ));
    }
    s.into_bytes()
}

fn base64_json() -> Vec<u8> {
    let mut r = Rng(4);
    let b64 = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut s = String::with_capacity(SIZE);
    while s.len() < SIZE {
        s.push_str(&format!(
            "   \"image/png\": \"iVBORw0KGgo{}\"\n",
            r.string(b64, 60_000)
        ));
    }
    s.into_bytes()
}

/// The rules measured: the built-ins, or the files of `$FERRET_BENCH_RULES`.
fn rules() -> RuleSet {
    match std::env::var_os("FERRET_BENCH_RULES") {
        Some(dir) => {
            let mut set = RuleSet::new();
            set.load_path(std::path::Path::new(&dir))
                .expect("FERRET_BENCH_RULES");
            eprintln!("{} rules from {}", set.len(), dir.to_string_lossy());
            set
        }
        None => RuleSet::builtin().expect("rules"),
    }
}

fn bench(c: &mut Criterion) {
    let matcher = Matcher::new(&rules()).expect("matcher");
    let mut group = c.benchmark_group("matcher");
    group.sample_size(10);
    for (name, bytes) in [
        ("no_hits", no_hits()),
        ("dense_hits", dense()),
        ("json_logs", json_logs()),
        ("base64_json", base64_json()),
    ] {
        group.throughput(Throughput::Bytes(bytes.len() as u64));
        group.bench_function(name, |b| {
            let mut scratch = matcher.scratch();
            let mut out = Vec::new();
            b.iter(|| {
                out.clear();
                matcher.scan(&bytes, &mut scratch, &mut out);
                out.len()
            })
        });
        let data = Data::Owned(bytes.clone());
        group.bench_function(format!("{name}_engine_chunked"), |b| {
            let mut scratch = matcher.scratch();
            let mut buf = Vec::new();
            b.iter(|| {
                engine::scan_data(
                    &matcher,
                    &data,
                    &Origin::file("bench"),
                    1 << 20,
                    &mut scratch,
                    &mut buf,
                )
                .findings
                .len()
            })
        });
    }
    group.finish();

    // The keyword prefilter alone (the stage that reads every byte), with the loop this CPU
    // runs (see `ferret::matcher::prefilter`).
    let mut keywords: Vec<Vec<String>> = rules().iter().map(|r| r.spec.keywords.clone()).collect();
    keywords.extend(
        ferret::matcher::triggers::trigger_rules()
            .into_iter()
            .map(|(r, _, _)| r.spec.keywords.clone()),
    );
    let prefilter = Prefilter::new(keywords.iter().map(Vec::as_slice)).expect("prefilter");
    let mut group = c.benchmark_group("prefilter");
    group.sample_size(10);
    for (name, bytes) in [
        ("no_hits", no_hits()),
        ("json_logs", json_logs()),
        ("base64_json", base64_json()),
    ] {
        group.throughput(Throughput::Bytes(bytes.len() as u64));
        group.bench_function(name, |b| {
            b.iter(|| {
                let mut hits = 0usize;
                prefilter.for_each_hit(&bytes, 0..bytes.len(), |_| hits += 1);
                hits
            })
        });
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
