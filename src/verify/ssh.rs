//! SSH private keys offered to the user's targets (placeholder, see below).

use super::engine::Ctx;
use super::{Attempt, Reason, Verification};

/// Verifies an SSH private key.
pub fn verify(_ctx: &Ctx, _key: &str, _targets: &[String]) -> Attempt {
    Attempt::Done(Verification::unknown(Reason::Unsupported, "SSH verification is not built yet"))
}
