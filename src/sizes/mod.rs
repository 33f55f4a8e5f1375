//! Tables of finished runs at several model sizes, and what can be read from them without a
//! law: a table built from a manifest of logs ([`from_runs`]), and the IsoFLOP analysis of a
//! sweep ([`isoflop`]). Size laws fit such tables (`fit::fit_table`).

pub mod from_runs;
pub mod isoflop;
