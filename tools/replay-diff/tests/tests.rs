//! replay-diff's integration tests: one binary (as ripgrep's tests/tests.rs),
//! each module a theme, their shared helpers in `util`. The real binary runs
//! on real files, FIFOs, commands and signals.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod util;

mod cli;
mod empty_evidence;
mod properties;
mod regressions;
mod run_leftovers;
mod signals;
mod trial2;
