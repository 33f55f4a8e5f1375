//! The fitted law a reading command uses (`predict`, `eval`, `plot`, `optimal`): one or more fit
//! files, or a law with parameters typed on the command line. A fit file also brings its record,
//! so that every reader can say when the fit is not to be trusted.

use crate::error::{Error, Result};
use crate::fit::bootstrap::Bootstrap;
use crate::fit::FitRecord;
use crate::law::{self, Law, LawOptions};
use clap::Args;
use std::path::PathBuf;

/// A fitted law, from a fit file or from parameters given on the command line.
#[derive(Args)]
pub(super) struct ModelArgs {
    /// Fit file written by `losscast fit`.
    #[arg(long, conflicts_with = "law")]
    pub fit: Vec<PathBuf>,
    /// A law by name, with its parameters in --params (instead of --fit).
    #[arg(long)]
    pub law: Option<String>,
    /// With --law: the law's parameters, e.g. "L0=2.6,A=0.43,alpha=0.55,C=0.41". With the fit
    /// of a joint size × schedule law, a bare number: the model size N (e.g. --params 4e8).
    #[arg(long)]
    pub params: Option<String>,
    /// With --law/--params: count warmup at peak LR.
    #[arg(long, conflicts_with = "fit")]
    pub warmup_as_peak: bool,
    /// With --law/--params: momentum decay λ.
    #[arg(long, conflicts_with = "fit")]
    pub lambda: Option<f64>,
    /// With --law power --params: its variable (n, d or c).
    #[arg(long, conflicts_with = "fit")]
    pub variable: Option<String>,
}

/// A size law for `optimal`: a chinchilla fit file, or its parameters typed.
#[derive(Args)]
pub(super) struct SizeModelArgs {
    /// Fit file of a chinchilla law, written by `losscast fit --law chinchilla`.
    #[arg(long, conflicts_with = "law")]
    pub fit: Option<PathBuf>,
    /// The law by name (chinchilla), with its parameters in --params (instead of --fit).
    #[arg(long)]
    pub law: Option<String>,
    /// With --law: the parameters, e.g. "E=1.82,A=482,B=2085,alpha=0.348,beta=0.366".
    #[arg(long)]
    pub params: Option<String>,
}

impl SizeModelArgs {
    pub fn to_model_args(&self) -> ModelArgs {
        ModelArgs {
            fit: self.fit.iter().cloned().collect(),
            law: self.law.clone(),
            params: self.params.clone(),
            warmup_as_peak: false,
            lambda: None,
            variable: None,
        }
    }
}

/// A law with its parameter values, and the fit file it came from if it did.
pub(super) struct Fitted {
    pub law: Box<dyn Law>,
    pub params: Vec<f64>,
    pub source: Option<(PathBuf, FitRecord)>,
}

impl Fitted {
    pub fn boot(&self) -> Option<&Bootstrap> {
        self.source.as_ref()?.1.bootstrap.as_ref()
    }

    pub fn record(&self) -> Option<&FitRecord> {
        self.source.as_ref().map(|(_, r)| r)
    }

    /// `false` when the fit file says its fit is not trustworthy; `None` for typed parameters.
    pub fn trustworthy(&self) -> Option<bool> {
        self.record().map(|r| r.trustworthy)
    }

    /// The plausibility gate its forecasts pass: the fit's, or the no-data rule for typed
    /// parameters.
    pub fn gate(&self) -> crate::fit::plausible::Gate {
        self.record()
            .map_or_else(crate::fit::plausible::Gate::without_data, |r| r.gate())
    }

    /// The one-line warning every reader prints when the fit file says it is not trustworthy.
    pub fn trust_warning(&self) -> Option<String> {
        let (path, rec) = self.source.as_ref()?;
        rec.trust_warning(path)
    }
}

impl ModelArgs {
    /// Exactly one model.
    pub fn load(&self) -> Result<Fitted> {
        let mut all = self.load_all()?;
        if all.len() > 1 {
            return Err(Error::input("this command takes one --fit"));
        }
        Ok(all.remove(0))
    }

    /// The model size `--params N` gives (a bare number), for joint laws.
    pub fn model_size(&self) -> Result<Option<f64>> {
        let Some(text) = self.params.as_deref() else {
            return Ok(None);
        };
        if text.contains('=') {
            return Ok(None);
        }
        match text.trim().parse::<f64>() {
            Ok(n) if n.is_finite() && n > 0.0 => Ok(Some(n)),
            _ => Err(Error::input(format!(
                "--params '{text}': expected a model size N > 0, or NAME=VALUE,... with --law"
            ))),
        }
    }

    /// The law's parameter values `--params` gives, if it gives them.
    fn law_values(&self) -> Result<Option<&str>> {
        Ok(match self.model_size()? {
            Some(_) => None,
            None => self.params.as_deref(),
        })
    }

    /// One or more models (`plot` overlays several fit files).
    pub fn load_all(&self) -> Result<Vec<Fitted>> {
        if !self.fit.is_empty() && self.law_values()?.is_some() {
            return Err(Error::input(
                "--params NAME=VALUE,... goes with --law, not --fit (with --fit, --params N is a \
                 model size)",
            ));
        }
        if !self.fit.is_empty() {
            return self
                .fit
                .iter()
                .map(|path| {
                    let rec = super::embedded::read_fit(path)?;
                    let law = rec
                        .build_law()
                        .map_err(|e| Error::file(path, e.to_string()))?;
                    let params = rec
                        .param_vector(law.as_ref())
                        .map_err(|e| Error::file(path, e.to_string()))?;
                    Ok(Fitted {
                        law,
                        params,
                        source: Some((path.clone(), rec)),
                    })
                })
                .collect();
        }
        match (&self.law, self.law_values()?) {
            (Some(name), Some(text)) => {
                let law = law::build(
                    name,
                    LawOptions {
                        lambda: self.lambda.unwrap_or(LawOptions::default().lambda),
                        warmup_as_peak: self.warmup_as_peak,
                        lr_ref: None,
                        variable: self.variable.clone(),
                        collapse: None,
                    },
                )?;
                // A law that learns part of itself from fit runs has nothing to learn here.
                if let Some(Err(e)) = law.learn(&[], &|_, _| None) {
                    return Err(Error::input(format!(
                        "law {name} cannot be given by --params alone: it learns its shape from \
                         the runs it is fitted to ({e}); fit it, then use --fit"
                    )));
                }
                let params = law::parse_params(law.as_ref(), text)?;
                Ok(vec![Fitted {
                    law,
                    params,
                    source: None,
                }])
            }
            (Some(_), None) if self.params.is_some() => Err(Error::input(
                "--params N (a bare number) is the model size of a joint fit read with --fit; \
                 with --law, --params gives the law's parameters: NAME=VALUE,...",
            )),
            (Some(_), None) => Err(Error::input(
                "--law needs --params \"...\" (or, in eval, --rollout n to fit it)",
            )),
            _ => Err(Error::input(
                "give --fit F.json, or --law NAME --params \"...\"",
            )),
        }
    }
}

/// Print reader warnings on stderr, one line each, so they reach a user who pipes stdout.
pub(super) fn print_warnings(warnings: &[String]) {
    for w in warnings {
        errln!("losscast: warning: {w}");
    }
}

/// What reading each run's log warned about, named by run.
pub(super) fn print_run_warnings(runs: &[crate::runs::Run]) {
    for r in runs {
        for w in &r.warnings {
            errln!("losscast: warning: run '{}': {w}", r.name);
        }
    }
}
