//! The step limit. Every step-indexed array (a schedule's LR, S1 and S2) holds one value per
//! step, so a step count is checked here before it sizes an allocation: a log, a schedule spec,
//! a forecast and a plan all refuse the same steps with the same message.

use crate::error::{Error, Result};

/// The longest run losscast represents. Laws sum the LR over every step, so a run of T steps
/// holds several arrays of T values (8 bytes each); a stray step of 1e12 in a log or a spec must
/// be refused before anything that size is allocated, not abort the process.
pub const MAX_STEPS: u64 = 20_000_000;

/// Refuse a step beyond [`MAX_STEPS`] before it sizes an allocation. `what` says where the step
/// came from, for the message.
pub fn check_step(step: u64, what: &str) -> Result<()> {
    if step > MAX_STEPS {
        return Err(Error::input(format!(
            "{what}: step {step} is beyond losscast's limit of {MAX_STEPS} steps per run (the LR \
             of every step is held in memory, 8 bytes each); is that really an optimizer step?"
        )));
    }
    Ok(())
}
