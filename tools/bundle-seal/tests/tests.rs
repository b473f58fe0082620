//! bundle-seal's integration tests: one binary (as ripgrep's tests/tests.rs),
//! each module a theme, their shared helpers in `util`. The real binary runs
//! against real bundles, keys, archives, minisign and signals.
//! `timeline_memory.rs` is a test binary of its own: it reads the peak RSS
//! of its children, which must be that test's alone.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod util;

mod archives;
mod chain;
mod interrupt;
mod minisign_interop;
mod pack;
mod release;
mod seal_verify;
mod signals;
mod text_evidence;
mod timeline;
