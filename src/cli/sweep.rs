//! Flags for sweeps over large stores: object store endpoint, incremental state, sharding.
//!
//! They live in their own group (`--help` shows them under "Sweeps") and are turned into
//! [`ferret::scan::SweepOptions`] here. Credentials are deliberately not flags: they would end up
//! in shell history and in `ps`; the provider's environment and profile chain supplies them.

use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context as _;
use clap::Args;
use ferret::Matcher;
use ferret::expand::Budget;
use ferret::scan::SweepOptions;
use ferret::source::object::ObjectOptions;
use ferret::source::shard::Shard;
use ferret::state::{State, StateOptions};

/// `ferret scan` flags for sweeps.
#[derive(Debug, Args, Clone, Default)]
#[command(next_help_heading = "Sweeps")]
pub struct SweepArgs {
    /// Remember what each file or object held in FILE (created with mode 0600) and, next time,
    /// rescan only what changed; unchanged items' findings are reported again from FILE.
    /// Secrets are stored masked unless --show-secrets.
    #[arg(long, value_name = "FILE")]
    pub state: Option<PathBuf>,
    /// With --state: report only findings that were not there in the last run.
    #[arg(long, requires = "state")]
    pub only_new: bool,
    /// Scan only part K of N (0 <= K < N), chosen by a hash of each object key or relative
    /// path: N workers with the same arguments cover everything exactly once.
    #[arg(long, value_name = "K/N")]
    pub shard: Option<Shard>,
    /// Endpoint of an S3-compatible store (MinIO, SeaweedFS, Ceph, R2), overriding
    /// AWS_ENDPOINT_URL. Plain http:// is allowed for loopback addresses.
    #[arg(long, value_name = "URL")]
    pub s3_endpoint: Option<String>,
    /// Commit the state every N items instead of every second (for tests of resuming).
    #[arg(long, value_name = "N", hide = true)]
    pub state_commit_every: Option<usize>,
}

impl SweepArgs {
    /// The sweep options, opening the state file if one is named.
    pub fn options(
        &self,
        matcher: &Matcher,
        budget: &Budget,
        show_secrets: bool,
    ) -> anyhow::Result<SweepOptions> {
        let state = match &self.state {
            Some(path) => {
                let opts = StateOptions {
                    only_new: self.only_new,
                    show_secrets,
                    commit_every: self.state_commit_every,
                };
                let state = State::open(path, matcher, budget, opts)
                    .with_context(|| format!("cannot use state file {}", path.display()))?;
                Some(Arc::new(state))
            }
            None => None,
        };
        Ok(SweepOptions {
            shard: self.shard,
            state,
            objects: ObjectOptions {
                s3_endpoint: self.s3_endpoint.clone(),
                ..ObjectOptions::default()
            },
        })
    }
}
