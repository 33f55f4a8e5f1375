//! Forecasts from a fitted law: a schedule's loss curve ([`predict`]), how far it may be off
//! ([`interval`]), and where it leaves what the fit saw ([`extrapolate`]). Readers of a fit
//! record; nothing here fits.

pub mod extrapolate;
pub mod interval;
pub mod predict;
