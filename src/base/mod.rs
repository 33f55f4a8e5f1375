//! The ground floor: what every layer needs and that needs nothing of losscast's (errors live
//! beside it in `error.rs`). Numbers as people read them, in one place so that a message, a
//! table and a report page write the same number the same way; and the one limit on steps that
//! every step-indexed array is checked against before it is allocated; least squares that answers
//! `None` instead of panicking on a non-finite design matrix.

pub mod groups;
pub mod limits;
pub mod linalg;
pub mod numbers;
pub mod stats;
