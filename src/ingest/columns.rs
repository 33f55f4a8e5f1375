//! Which source column is the step, the loss, the LR and the token count.
//!
//! Trainers spell them differently (`_step` in W&B, `iteration` in Megatron, `train/loss` in HF),
//! so we look for the common spellings in a fixed order of preference, case-insensitively. A name
//! the user gives always wins, and the choice is recorded so a fit can say what it read.

use crate::error::{Error, Result};
use serde::{Deserialize, Serialize};
use std::path::Path;

const STEP_NAMES: &[&str] = &["step", "_step", "iter", "iteration", "global_step"];
const LOSS_NAMES: &[&str] = &[
    "loss",
    "train/loss",
    "train_loss",
    "val_loss",
    "eval_loss",
    "eval/loss",
    "validation_loss",
];
const LR_NAMES: &[&str] = &["lr", "learning_rate", "train/learning_rate"];
const TOKEN_NAMES: &[&str] = &["tokens", "num_tokens", "train/tokens", "tokens_seen"];

/// Column names given by the user (`--step-col` etc.). `None` means auto-detect.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ColumnNames {
    pub step: Option<String>,
    pub loss: Option<String>,
    pub lr: Option<String>,
}

/// The source columns actually used.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ColumnChoice {
    pub step: String,
    pub loss: String,
    pub lr: Option<String>,
    pub tokens: Option<String>,
}

fn find(header: &[String], names: &[&str]) -> Option<String> {
    find_unique(header, names).ok().flatten()
}

/// The first of `names` (in order of preference) the header has, case-insensitively; an error
/// listing the candidates when two header cells match it (`Loss` and `loss`): picking one
/// silently once fitted the LR as the loss.
pub(crate) fn find_unique(
    header: &[String],
    names: &[&str],
) -> std::result::Result<Option<String>, Vec<String>> {
    for want in names {
        let hits: Vec<String> = header
            .iter()
            .filter(|h| h.trim().eq_ignore_ascii_case(want))
            .cloned()
            .collect();
        match hits.len() {
            0 => continue,
            1 => return Ok(hits.into_iter().next()),
            _ => return Err(hits),
        }
    }
    Ok(None)
}

pub(crate) fn find_lr(header: &[String]) -> Option<String> {
    find(header, LR_NAMES)
}

pub(crate) fn find_step(header: &[String]) -> Option<String> {
    find(header, STEP_NAMES)
}

impl ColumnNames {
    pub(crate) fn choose(&self, path: &Path, header: &[String]) -> Result<ColumnChoice> {
        let listing = || header.join(", ");
        let pick = |given: &Option<String>,
                    names: &[&str],
                    what: &str,
                    flag: &str|
         -> Result<Option<String>> {
            match given {
                Some(name) => {
                    if header.iter().any(|h| h == name) {
                        Ok(Some(name.clone()))
                    } else {
                        Err(Error::file(
                            path,
                            format!(
                                "missing {what} column '{name}' (from {flag}); columns are: {}",
                                listing()
                            ),
                        ))
                    }
                }
                None => find_unique(header, names).map_err(|hits| {
                    Error::file(
                        path,
                        format!(
                            "columns {} could each be the {what}; name one with {flag}",
                            hits.iter()
                                .map(|h| format!("'{h}'"))
                                .collect::<Vec<_>>()
                                .join(" and ")
                        ),
                    )
                }),
            }
        };
        let missing = |what: &str, names: &[&str], flag: &str| {
            Error::file(
                path,
                format!(
                    "missing {what} column: looked for {}; columns are: {}. Name it with {flag}",
                    names.join(", "),
                    listing()
                ),
            )
        };
        let step = pick(&self.step, STEP_NAMES, "step", "--step-col")?
            .ok_or_else(|| missing("step", STEP_NAMES, "--step-col"))?;
        let loss = pick(&self.loss, LOSS_NAMES, "loss", "--loss-col")?
            .ok_or_else(|| missing("loss", LOSS_NAMES, "--loss-col"))?;
        let lr = pick(&self.lr, LR_NAMES, "LR", "--lr-col")?;
        let tokens = find(header, TOKEN_NAMES);
        Ok(ColumnChoice {
            step,
            loss,
            lr,
            tokens,
        })
    }
}
