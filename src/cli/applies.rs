//! Options that do not apply are refused, not ignored.
//!
//! `--bootstrap 1000` on a loss-curve law, or `--min-step` next to a manifest, used to run and
//! silently do nothing: the user believed they had an interval or a filter. clap knows which
//! flags were typed (as opposed to defaulted); each command refuses those that do not apply to
//! what it is doing, and says where they do apply.

use crate::error::{Error, Result};
use crate::law::{Law, LawKind};
use clap::parser::ValueSource;
use clap::ArgMatches;

/// Flags of a single log file that a manifest sets per run instead.
pub(super) const FILE_ONLY: &[&str] = &[
    "step_col", "loss_col", "lr_col", "lr_shift", "select", "min_step", "max_step",
];

/// Flags about a loss curve and its LR, which a size law fitted to a table has no use for.
pub(super) const CURVE_ONLY: &[&str] = &[
    "schedule",
    "step_col",
    "lr_col",
    "lr_shift",
    "select",
    "min_step",
    "max_step",
    "warmup_as_peak",
    "lambda",
    "max_points",
];

/// Flags about a table of finished runs, which a loss-curve law has no use for.
pub(super) const TABLE_ONLY: &[&str] = &[
    "n_col",
    "d_col",
    "c_col",
    "drop_top_loss",
    "min_n",
    "max_n",
    "rows_where",
];

/// The bootstrap of a size-law fit.
pub(super) const BOOTSTRAP: &[&str] = &["bootstrap", "seed", "level"];

/// The flags the user typed for one subcommand.
#[derive(Clone, Copy)]
pub(super) struct Given<'a>(pub Option<&'a ArgMatches>);

impl Given<'_> {
    /// Whether `id` (a field name) was typed on the command line.
    pub fn has(&self, id: &str) -> bool {
        self.0.is_some_and(|m| {
            m.ids().any(|i| i.as_str() == id)
                && m.value_source(id) == Some(ValueSource::CommandLine)
        })
    }

    /// Exit 2 if any of `ids` was typed: it does not apply here; `applies` says where it does.
    pub fn refuse(&self, ids: &[&str], applies: &str) -> Result<()> {
        match ids.iter().find(|id| self.has(id)) {
            Some(id) => Err(Error::input(format!(
                "{} does not apply here: {applies}",
                flag(id)
            ))),
            None => Ok(()),
        }
    }
}

/// The flag as the user typed it.
fn flag(id: &str) -> String {
    match id {
        "rows_where" => "--where".into(),
        "loss_col" => "--loss".into(),
        "lr_col" => "--lr".into(),
        other => format!("--{}", other.replace('_', "-")),
    }
}

/// With `--manifest`, the per-file flags are set on each run in the manifest instead.
pub(super) fn refuse_file_flags_with_manifest(manifest: bool, given: Given) -> Result<()> {
    if manifest {
        given.refuse(
            FILE_ONLY,
            "it reads a single log FILE; with --manifest, set it on each run in the manifest \
             (min_step, max_step, loss, lr, lr_shift, select, step_col)",
        )?;
    }
    Ok(())
}

/// Refuse flags that do not apply to a law of this kind.
pub(super) fn refuse_flags_for_kind(law: &dyn Law, given: Given) -> Result<()> {
    let name = law.name();
    match law.kind() {
        LawKind::Schedule => {
            given.refuse(
                TABLE_ONLY,
                &format!(
                    "it selects points of a table of finished runs, for size laws (chinchilla, \
                     overtrain, chinchilla-nd, kaplan, power); {name} is fitted to loss curves"
                ),
            )?;
            given.refuse(
                BOOTSTRAP,
                &format!(
                    "the case bootstrap is for size laws fitted to a table (chinchilla, \
                     overtrain, chinchilla-nd, kaplan, power), not {name}"
                ),
            )?;
        }
        LawKind::Table => given.refuse(
            CURVE_ONLY,
            &format!(
                "it is about a loss curve and its LR schedule; {name} is fitted to a table of \
                 finished runs (model size, tokens, loss)"
            ),
        )?,
    }
    if name != "power" {
        given.refuse(&["variable"], "it picks the variable of --law power")?;
    }
    if !given.has("bootstrap") {
        given.refuse(
            &["seed", "level"],
            "it sets up --bootstrap K, which was not given",
        )?;
    }
    Ok(())
}
