//! sbom-diff's integration tests: one binary (as ripgrep's tests/tests.rs),
//! each module a theme, their shared helpers in `util`. The real binary runs
//! against real lockfiles and SBOMs in testdata/sbom-diff.
//! `interrupt_parse.rs` is a test binary of its own: it raises the
//! process-wide interrupt flag.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod util;

mod distro_versions;
mod malformed;
mod nested_components;
mod real_pairs;
mod rules;
mod signals;
mod sources;
mod trial2;
mod trial_findings;
