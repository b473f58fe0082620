//! `cargo run -p xtask -- man`: writes `man/<tool>.1` (and one page per
//! subcommand, `man/<tool>-<sub>.1`) plus bash, zsh and fish completions under
//! `man/completions/`, all from the tools' own clap definitions. The date is
//! fixed so committed pages only change when a definition does; CI
//! regenerates them and fails on `git diff --exit-code man/`.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::Command;
use clap_complete::Shell;

/// Fixed so regenerated pages are byte-identical (reproducible).
const MAN_DATE: &str = "2026-11-23";

/// A tool's `cli::command`.
type ClapDefinition = fn() -> Command;

// `TOOLS`: (crate name, clap definition) of every tool this crate depends on.
include!(concat!(env!("OUT_DIR"), "/tools.rs"));

/// Every tool's clap definition; fails if a crate under tools/ is missing
/// from this crate's dependencies (its pages would silently not be made).
fn tools(root: &Path) -> std::io::Result<Vec<Command>> {
    for entry in fs::read_dir(root.join("tools"))? {
        let entry = entry?;
        let name = entry.file_name().to_string_lossy().into_owned();
        if entry.path().join("Cargo.toml").is_file() && !TOOLS.iter().any(|(n, _)| *n == name) {
            return Err(std::io::Error::other(format!(
                "tools/{name} is not a dependency of xtask: add it to xtask/Cargo.toml"
            )));
        }
    }
    Ok(TOOLS.iter().map(|(_, command)| command()).collect())
}

fn main() -> ExitCode {
    let task = std::env::args().nth(1).unwrap_or_default();
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    let result = match task.as_str() {
        "man" => generate(&root, &root.join("man")),
        _ => {
            eprintln!("usage: cargo run -p xtask -- man");
            return ExitCode::from(2);
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("xtask: error: {e}");
            ExitCode::from(2)
        }
    }
}

fn generate(root: &Path, dir: &Path) -> std::io::Result<()> {
    let completions = dir.join("completions");
    fs::create_dir_all(&completions)?;
    for mut cmd in tools(root)? {
        cmd.build();
        write_pages(dir, &cmd, cmd.get_name())?;
        let name = cmd.get_name().to_string();
        for shell in [Shell::Bash, Shell::Zsh, Shell::Fish] {
            let mut out = Vec::new();
            clap_complete::generate(shell, &mut cmd.clone(), &name, &mut out);
            let file = match shell {
                Shell::Bash => format!("{name}.bash"),
                Shell::Zsh => format!("_{name}"),
                _ => format!("{name}.fish"),
            };
            fs::write(completions.join(file), out)?;
        }
    }
    Ok(())
}

/// One page for the command, and one per (nested) subcommand.
fn write_pages(dir: &Path, cmd: &Command, page: &str) -> std::io::Result<()> {
    let mut out = Vec::new();
    clap_mangen::Man::new(cmd.clone().name(page.to_string()))
        .date(MAN_DATE)
        .source(format!("hardgate {}", env!("CARGO_PKG_VERSION")))
        .manual("hardgate manual")
        .render(&mut out)?;
    fs::write(dir.join(format!("{page}.1")), out)?;
    for sub in cmd.get_subcommands() {
        if sub.get_name() == "help" {
            continue;
        }
        write_pages(dir, sub, &format!("{page}-{}", sub.get_name()))?;
    }
    Ok(())
}
