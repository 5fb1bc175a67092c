//! AWS shared credentials and config files (`~/.aws/credentials`, `~/.aws/config`).
//!
//! `object_store` takes credentials from `AWS_*` environment variables, web identity tokens, the
//! ECS/EKS container endpoints and instance metadata, but not from the profile files that the
//! AWS CLI writes. This module reads those files so that `ferret scan s3://…` works wherever
//! `aws s3 ls` does: the profile is `AWS_PROFILE` (else `default`), the files are
//! `AWS_SHARED_CREDENTIALS_FILE` and `AWS_CONFIG_FILE` (else under `~/.aws/`). Only static keys
//! (`aws_access_key_id`, `aws_secret_access_key`, `aws_session_token`) and `region` are read;
//! profiles that assume roles or use SSO fall through to the rest of the chain.
//!
//! Nothing here is ever printed: the values go straight into the store's builder.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// Static credentials (and the region) of one profile.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Profile {
    /// `aws_access_key_id`.
    pub access_key_id: Option<String>,
    /// `aws_secret_access_key`.
    pub secret_access_key: Option<String>,
    /// `aws_session_token`.
    pub session_token: Option<String>,
    /// `region`, from the credentials file or the config file.
    pub region: Option<String>,
}

impl std::fmt::Debug for Profile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print a key, even in a debug dump.
        f.debug_struct("Profile")
            .field("has_keys", &self.has_keys())
            .field("region", &self.region)
            .finish()
    }
}

impl Profile {
    /// Whether both keys are there.
    pub fn has_keys(&self) -> bool {
        self.access_key_id.is_some() && self.secret_access_key.is_some()
    }
}

/// The profile named by `AWS_PROFILE` (or `default`) from the files named by the environment
/// (or under `$HOME/.aws`). Missing or unreadable files give an empty profile.
pub fn from_env() -> Profile {
    let name = std::env::var("AWS_PROFILE")
        .ok()
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "default".to_string());
    let home = std::env::var_os("HOME").map(PathBuf::from);
    let file = |var: &str, default: &str| -> Option<PathBuf> {
        std::env::var_os(var)
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
            .or_else(|| home.as_ref().map(|h| h.join(".aws").join(default)))
    };
    load(
        &name,
        file("AWS_SHARED_CREDENTIALS_FILE", "credentials").as_deref(),
        file("AWS_CONFIG_FILE", "config").as_deref(),
    )
}

/// Profile `name` from a credentials file and a config file (either may be missing).
pub fn load(name: &str, credentials: Option<&Path>, config: Option<&Path>) -> Profile {
    let read = |p: Option<&Path>| p.and_then(|p| std::fs::read_to_string(p).ok());
    let creds = read(credentials)
        .map(|t| section(&parse_ini(&t), name))
        .unwrap_or_default();
    // In the config file, profiles other than `default` are written `[profile NAME]`.
    let conf = read(config)
        .map(|t| {
            let ini = parse_ini(&t);
            let mut s = section(&ini, &format!("profile {name}"));
            if s.is_empty() {
                s = section(&ini, name);
            }
            s
        })
        .unwrap_or_default();
    let get = |k: &str| creds.get(k).or_else(|| conf.get(k)).cloned();
    Profile {
        access_key_id: get("aws_access_key_id"),
        secret_access_key: get("aws_secret_access_key"),
        session_token: get("aws_session_token"),
        region: get("region"),
    }
}

fn section(ini: &HashMap<String, HashMap<String, String>>, name: &str) -> HashMap<String, String> {
    ini.get(name).cloned().unwrap_or_default()
}

/// A forgiving INI reader: `[section]`, `key = value`, `#` and `;` comments. Indented lines
/// (nested settings such as `s3 =` blocks) are ignored.
fn parse_ini(text: &str) -> HashMap<String, HashMap<String, String>> {
    let mut out: HashMap<String, HashMap<String, String>> = HashMap::new();
    let mut current: Option<String> = None;
    for raw in text.lines() {
        if raw.starts_with([' ', '\t']) {
            continue;
        }
        let line = raw.trim();
        if line.is_empty() || line.starts_with('#') || line.starts_with(';') {
            continue;
        }
        if let Some(name) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            let name = name.split_whitespace().collect::<Vec<_>>().join(" ");
            out.entry(name.clone()).or_default();
            current = Some(name);
            continue;
        }
        if let (Some(sec), Some((k, v))) = (&current, line.split_once('=')) {
            let v = v.trim();
            if !v.is_empty() {
                out.entry(sec.clone())
                    .or_default()
                    .insert(k.trim().to_ascii_lowercase(), v.to_string());
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_a_named_profile_and_its_region() {
        let dir = tempfile::tempdir().unwrap();
        let creds = dir.path().join("credentials");
        let config = dir.path().join("config");
        std::fs::write(
            &creds,
            "[default]\naws_access_key_id = AKIADEFAULTEXAMPLE00\naws_secret_access_key = d\n\n\
             # a comment\n[nightly]\naws_access_key_id=AKIANIGHTLYEXAMPLE0\n\
             aws_secret_access_key = s/e+c=ret\naws_session_token = tok\n",
        )
        .unwrap();
        std::fs::write(
            &config,
            "[default]\nregion = us-east-1\n[profile nightly]\nregion = eu-west-3\n\
             s3 =\n  max_concurrent_requests = 20\n",
        )
        .unwrap();
        let p = load("nightly", Some(&creds), Some(&config));
        assert_eq!(p.access_key_id.as_deref(), Some("AKIANIGHTLYEXAMPLE0"));
        assert_eq!(p.secret_access_key.as_deref(), Some("s/e+c=ret"));
        assert_eq!(p.session_token.as_deref(), Some("tok"));
        assert_eq!(p.region.as_deref(), Some("eu-west-3"));
        let d = load("default", Some(&creds), Some(&config));
        assert_eq!(d.region.as_deref(), Some("us-east-1"));
        assert!(d.has_keys());
        assert!(
            !format!("{d:?}").contains("AKIA"),
            "debug output hides keys"
        );
        let none = load("missing", Some(&creds), Some(&dir.path().join("nope")));
        assert_eq!(none, Profile::default());
    }
}
