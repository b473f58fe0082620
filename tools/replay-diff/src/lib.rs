//! replay-diff: compare a replayed JSON Lines run with the golden one.

pub mod cli;
pub mod mask;
