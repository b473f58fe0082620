//! cycle-check's integration tests: one binary (as ripgrep's tests/tests.rs),
//! each module a theme, their shared helpers in `util`. The real binary
//! cycles real processes: the demo service, shell services, nginx and redis
//! where installed, each with its own deadline.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod util;

mod crash;
mod cycles;
mod handoff;
mod real_services;
mod signals;
