//! `common`: the one library every hardgate tool builds on.
//!
//! Each module is small and does one thing the tools would otherwise repeat:
//! reading JSON Lines ([`jsonl`], [`lines`], [`input`]), writing records
//! ([`output`]) and showing them to people ([`printer`]), the summary record and its gates ([`summary`], [`gate`],
//! [`threshold`]), the `tool: error: ...` main wrapper ([`runner`], [`error`]),
//! safe file handling ([`atomic`], [`safe_path`], [`digest`]), JSON Pointers
//! with wildcards ([`pointer`]), SIGINT and SIGTERM ([`interrupt`]), commands
//! run in their own process group ([`process_group`]), progress bars
//! ([`progress`]) and time stamps ([`clock`]).

pub mod atomic;
pub mod cli;
pub mod clock;
pub mod digest;
pub mod error;
pub mod gate;
pub mod input;
pub mod interrupt;
pub mod jsonl;
pub mod lines;
pub mod output;
pub mod pointer;
pub mod printer;
pub mod process_group;
pub mod progress;
pub mod runner;
pub mod safe_path;
pub mod summary;
pub mod threshold;

#[cfg(feature = "testkit")]
pub mod demo;
#[cfg(feature = "testkit")]
pub mod testkit;

pub use error::{Error, Result};
pub use runner::Outcome;
