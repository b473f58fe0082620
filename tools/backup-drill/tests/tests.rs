//! backup-drill's integration tests: one binary (as ripgrep's tests/tests.rs),
//! each module a theme, their shared helpers in `util`. The real binary runs
//! against real trees, SQLite databases, processes and signals.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod util;

mod attributes;
mod damage;
mod false_passes;
mod fixture;
mod full_disk;
mod hooks;
mod names;
mod records;
mod repo_links;
mod roundtrip;
mod signals;
mod sqlite;
