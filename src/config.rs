//! `ferret.toml`: what a team decides once instead of on every command line.
//!
//! ferret looks for `ferret.toml` in the scanned root (the folder scanned, or the repository's
//! work tree for `ferret git`), or reads the file given with `--config`. Command-line flags win
//! over the file; lists (excludes, rule files) add up. Paths inside the file are relative to the
//! file's folder. Unknown keys are errors, so that a typo (`exlude = …`) does not silently turn
//! a setting off.
//!
//! ```toml
//! format = "sarif"                      # default report format
//! fail_on = "high"                      # default --fail-on
//! baseline = "ferret.baseline.json"     # default --baseline
//! exclude = ["vendor/**", "*.min.js"]   # globs, as --exclude
//!
//! [allowlist]
//! fingerprints = ["499fe3fcbd1ee6ceffd17b2cfb895d3d"]  # as reports print them
//! secrets = ["<sha256 of the secret>"]                 # printf %s "$SECRET" | sha256sum
//! regexes = ['^AKIA[0-9A-Z]{12}EXAMPLE$']              # matched against the secret
//!
//! [rules]
//! disable = ["generic.password-assignment"]        # rule ids
//! paths = ["ci/rules"]                  # rule files or folders, as --rules
//!
//! [[rule]]                              # custom rules, in the rule-file format
//! id = "acme.internal-token"
//! # …
//!
//! [budgets]
//! max_file_size = "10M"                 # as --max-file-size
//! ```

use std::path::{Path, PathBuf};

use serde::{Deserialize, Deserializer};

use crate::error::{Error, Result};
use crate::finding::allow::Allowlist;
use crate::report::Format;
use crate::rules::{RuleSet, RuleSpec, Severity};

/// The file name looked for in the scanned root.
pub const FILE_NAME: &str = "ferret.toml";

/// A parsed `ferret.toml`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Default report format (`text`, `json`, `jsonl`, `sarif`).
    #[serde(default, deserialize_with = "format")]
    pub format: Option<Format>,
    /// Default `--fail-on` severity.
    #[serde(default)]
    pub fail_on: Option<Severity>,
    /// Default `--baseline` file.
    #[serde(default)]
    pub baseline: Option<PathBuf>,
    /// Globs of paths not to scan, as `--exclude`.
    #[serde(default)]
    pub exclude: Vec<String>,
    /// Secrets the team has accepted.
    #[serde(default)]
    pub allowlist: AllowlistConfig,
    /// Rule selection.
    #[serde(default)]
    pub rules: RulesConfig,
    /// Custom rules written inline, in the rule-file format (`[[rule]]`).
    #[serde(default, rename = "rule")]
    pub custom_rules: Vec<RuleSpec>,
    /// Limits on what is scanned.
    #[serde(default)]
    pub budgets: Budgets,
    /// The folder relative paths are resolved against (the file's folder); not a key.
    #[serde(skip)]
    pub dir: PathBuf,
    /// The file this came from; not a key.
    #[serde(skip)]
    pub path: Option<PathBuf>,
}

/// `[allowlist]`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AllowlistConfig {
    /// Finding fingerprints (32 hex digits, as reports print them).
    #[serde(default)]
    pub fingerprints: Vec<String>,
    /// SHA-256 of secrets (64 hex digits), whatever rule finds them.
    #[serde(default)]
    pub secrets: Vec<String>,
    /// Regexes matched against the secret.
    #[serde(default)]
    pub regexes: Vec<String>,
}

/// `[rules]`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RulesConfig {
    /// Rule ids not to run.
    #[serde(default)]
    pub disable: Vec<String>,
    /// Rule files or folders to add, as `--rules`.
    #[serde(default)]
    pub paths: Vec<PathBuf>,
}

/// `[budgets]`: limits on what is scanned. Archive budgets (depth, total bytes, compression
/// ratio, entries) belong here too, next to the archive expansion that enforces them.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Budgets {
    /// Skip files (and git blobs) larger than this, as `--max-file-size` (`10M`, or bytes).
    #[serde(default, deserialize_with = "size")]
    pub max_file_size: Option<u64>,
}

fn format<'de, D: Deserializer<'de>>(d: D) -> std::result::Result<Option<Format>, D::Error> {
    let s = String::deserialize(d)?;
    s.parse().map(Some).map_err(serde::de::Error::custom)
}

#[derive(Deserialize)]
#[serde(untagged)]
enum SizeValue {
    Bytes(u64),
    Text(String),
}

fn size<'de, D: Deserializer<'de>>(d: D) -> std::result::Result<Option<u64>, D::Error> {
    match SizeValue::deserialize(d)? {
        SizeValue::Bytes(n) => Ok(Some(n)),
        SizeValue::Text(s) => parse_size(&s).map(Some).map_err(serde::de::Error::custom),
    }
}

/// Parses `123`, `64K`, `10M`, `2G` (powers of 1024; a trailing `B` or `iB` is accepted).
pub fn parse_size(s: &str) -> std::result::Result<u64, String> {
    let t = s.trim();
    let t = t
        .strip_suffix("iB")
        .or_else(|| t.strip_suffix('B'))
        .unwrap_or(t);
    let (num, mult) = match t.chars().last() {
        Some('K' | 'k') => (&t[..t.len() - 1], 1u64 << 10),
        Some('M' | 'm') => (&t[..t.len() - 1], 1 << 20),
        Some('G' | 'g') => (&t[..t.len() - 1], 1 << 30),
        Some('T' | 't') => (&t[..t.len() - 1], 1 << 40),
        _ => (t, 1),
    };
    let n: u64 = num
        .trim()
        .parse()
        .map_err(|_| format!("invalid size {s:?} (examples: 4096, 64K, 10M, 2G)"))?;
    n.checked_mul(mult)
        .ok_or_else(|| format!("size {s:?} is too large"))
}

impl Config {
    /// Parses a config text; `path` names it in errors and anchors its relative paths.
    pub fn parse(text: &str, path: &Path) -> Result<Config> {
        let mut c: Config = toml::from_str(text).map_err(|e| Error::Config {
            path: path.display().to_string(),
            message: e.to_string().trim_end().to_string(),
        })?;
        c.dir = path
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_else(|| PathBuf::from("."));
        c.path = Some(path.to_path_buf());
        Ok(c)
    }

    /// Reads a config file.
    pub fn read(path: &Path) -> Result<Config> {
        let text = std::fs::read_to_string(path).map_err(|e| Error::Config {
            path: path.display().to_string(),
            message: format!("cannot read: {e}"),
        })?;
        Config::parse(&text, path)
    }

    /// `root/ferret.toml` if it exists, else the empty config.
    pub fn discover(root: &Path) -> Result<Config> {
        let p = root.join(FILE_NAME);
        if p.is_file() {
            Config::read(&p)
        } else {
            Ok(Config {
                dir: root.to_path_buf(),
                ..Config::default()
            })
        }
    }

    /// A path from the file, resolved against the file's folder.
    pub fn resolve(&self, p: &Path) -> PathBuf {
        if p.is_absolute() {
            p.to_path_buf()
        } else {
            self.dir.join(p)
        }
    }

    fn name(&self) -> String {
        self.path
            .as_deref()
            .unwrap_or(Path::new(FILE_NAME))
            .display()
            .to_string()
    }

    /// Applies `[rules]` and `[[rule]]` to a rule set: adds custom rules and rule files, then
    /// removes disabled rules. Disabling a rule that does not exist is an error (a typo would
    /// otherwise leave the rule on).
    pub fn apply_rules(&self, set: &mut RuleSet) -> Result<()> {
        for p in &self.rules.paths {
            set.load_path(&self.resolve(p))?;
        }
        for spec in &self.custom_rules {
            set.add(crate::rules::Rule::new(spec.clone(), self.name()))?;
        }
        for id in &self.rules.disable {
            if set.get(id).is_none() {
                return Err(Error::Config {
                    path: self.name(),
                    message: format!("[rules] disable: no rule has the id {id:?}"),
                });
            }
        }
        set.retain(|r| !self.rules.disable.iter().any(|d| d == r.id()));
        Ok(())
    }

    /// The allowlist of `[allowlist]` (without a baseline).
    pub fn allowlist(&self) -> Result<Allowlist> {
        let named = |e: Error| match e {
            Error::Config { message, .. } => Error::Config {
                path: self.name(),
                message: format!("[allowlist] {message}"),
            },
            other => other,
        };
        let mut a = Allowlist::new();
        for f in &self.allowlist.fingerprints {
            a.add_fingerprint(f).map_err(named)?;
        }
        for s in &self.allowlist.secrets {
            a.add_secret_sha256(s).map_err(named)?;
        }
        for r in &self.allowlist.regexes {
            a.add_regex(r).map_err(named)?;
        }
        Ok(a)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_key_parses() {
        let text = r#"
format = "sarif"
fail_on = "high"
baseline = "b.json"
exclude = ["vendor/**"]
[allowlist]
fingerprints = ["0123456789abcdef0123456789abcdef"]
secrets = []
regexes = ["^x$"]
[rules]
disable = ["a"]
paths = ["r"]
[budgets]
max_file_size = "10M"
"#;
        let c = Config::parse(text, Path::new("/repo/ferret.toml")).unwrap();
        assert_eq!(c.format, Some(Format::Sarif));
        assert_eq!(c.fail_on, Some(Severity::High));
        assert_eq!(c.budgets.max_file_size, Some(10 << 20));
        assert_eq!(c.resolve(Path::new("b.json")), Path::new("/repo/b.json"));
        assert!(c.allowlist().is_ok());
    }

    #[test]
    fn unknown_keys_are_errors_that_name_the_key() {
        let e = Config::parse("exlude = []\n", Path::new("ferret.toml"))
            .unwrap_err()
            .to_string();
        assert!(e.contains("ferret.toml"), "{e}");
        assert!(e.contains("unknown field `exlude`"), "{e}");
        let e = Config::parse("[budgets]\nmax_depth = 3\n", Path::new("f.toml"))
            .unwrap_err()
            .to_string();
        assert!(e.contains("max_depth"), "{e}");
        let e = Config::parse("format = \"xml\"\n", Path::new("f.toml"))
            .unwrap_err()
            .to_string();
        assert!(e.contains("unknown format"), "{e}");
    }
}
