//! pii-scrub's integration tests: one binary (as ripgrep's tests/tests.rs),
//! each module a theme, their shared helpers in `util`. The real binary runs
//! on real files, trees, FIFOs, signals and the distribution's nginx.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod util;

mod cli;
mod corpus;
mod false_passes;
mod hostile_lines;
mod inputs;
mod leaks;
mod nginx_bodies;
mod real_logs;
mod signals;
mod structured_smoke;
