//! MongoDB URIs: SCRAM authentication over the wire protocol (placeholder, see below).

use super::engine::Ctx;
use super::target::DbTarget;
use super::{Attempt, Reason, Verification};

/// Verifies a MongoDB URI.
pub fn verify(_ctx: &Ctx, _t: &DbTarget) -> Attempt {
    Attempt::Done(Verification::unknown(Reason::Unsupported, "MongoDB verification is not built yet"))
}
