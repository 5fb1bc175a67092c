//! The library's error type.
//!
//! Errors are typed so that callers can tell a broken rule file from an unreadable input. Messages
//! are lowercase, name the path or rule they concern, and never contain secret bytes: an error
//! message is printed, logged and pasted into tickets, so it must not become the next leak.

use std::path::PathBuf;

/// Everything that can go wrong in the library.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A rule file could not be read.
    #[error("cannot read rules from {path}: {source}")]
    RulesIo {
        /// The file or folder named by the user.
        path: PathBuf,
        /// What the operating system said.
        source: std::io::Error,
    },
    /// A rule file is not valid TOML or does not fit the rule schema.
    #[error("invalid rule file {origin}: {message}")]
    RulesParse {
        /// The file (or `builtin:NAME` for an embedded one).
        origin: String,
        /// What is wrong, from the TOML parser.
        message: String,
    },
    /// A rule is well-formed TOML but breaks a rule invariant (a missing keyword, a bad regex).
    #[error("rule {rule}: {message}")]
    Rule {
        /// The rule id.
        rule: String,
        /// What is wrong with it.
        message: String,
    },
    /// Two rules share one id.
    #[error("rule id {0} is defined twice")]
    DuplicateRule(String),
    /// An `--exclude` or config glob does not parse.
    #[error("invalid glob {glob:?}: {message}")]
    Glob {
        /// The glob as given.
        glob: String,
        /// The parser's message.
        message: String,
    },
    /// Reading an input failed.
    #[error("{path}: {source}")]
    Io {
        /// The input that failed.
        path: String,
        /// What the operating system said.
        source: std::io::Error,
    },
    /// An object store URL is malformed or its store cannot be set up.
    #[error("{url}: {message}")]
    Object {
        /// The URL as given.
        url: String,
        /// What is wrong.
        message: String,
    },
    /// The state file of an incremental sweep cannot be opened, read or written.
    #[error("state file {path}: {message}")]
    State {
        /// The state file.
        path: PathBuf,
        /// What went wrong.
        message: String,
    },
    /// `--shard` is malformed or cannot apply.
    #[error("invalid shard {0}")]
    Shard(String),
    /// Writing a report failed.
    #[error("cannot write report: {0}")]
    Report(#[source] std::io::Error),
    /// A configuration file (`ferret.toml`) or a configuration value is invalid.
    #[error("{path}: {message}")]
    Config {
        /// The file (or the setting) concerned.
        path: String,
        /// What is wrong.
        message: String,
    },
    /// A baseline file cannot be read or written, or is not a ferret baseline.
    #[error("baseline {path}: {message}")]
    Baseline {
        /// The baseline file.
        path: String,
        /// What is wrong.
        message: String,
    },
    /// A git repository cannot be opened or read.
    #[error("git: {0}")]
    Git(String),
    /// A scan result given to `ferret report` cannot be read.
    #[error("cannot read results {input}: {message}")]
    Results {
        /// The result file (or `<stdin>`).
        input: String,
        /// What is wrong with it.
        message: String,
    },
    /// The thread pool could not be built.
    #[error("cannot start worker threads: {0}")]
    Threads(String),
}

/// The library's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;
