//! `replay-diff run --times N -- CMD`: run a command N times and diff every
//! run's stdout against the first run's.
//!
//! Each run's stdout goes to a temporary file (not memory), so long outputs
//! are fine; stderr passes through to ours. Exit statuses must match too: a
//! run whose status differs from the first run's fails the `exit_mismatches`
//! gate, whatever other gates were asked for, and a run that failed (a
//! non-zero exit not named by `--allow-exit`, or a signal) fails the
//! `run_failures` gate: a command that fails the same way every time is
//! deterministic, but its output is not the evidence a gate wants (the
//! trial's `sh -c 'exit 3'` passed with 0 records). Each run is a process group of
//! its own: when the command exits, whatever it left running in its group
//! is killed (and counted in the run record), so no run's background
//! process outlives it or overlaps the next run.

use std::fs::File;
use std::io::{self, Read};
use std::os::unix::process::ExitStatusExt;
use std::process::{Command, Stdio};
use std::time::Instant;

use common::gate::Gate;
use common::input::Input;
use common::process_group::{Ended, GroupChild, GroupExit};
use common::summary::SummaryBuilder;
use common::{clock, interrupt, Error, Outcome, Result};
use tempfile::{NamedTempFile, TempPath};

use crate::align::compare;
use crate::config::{Compare, Run};
use crate::report::{Reporter, RunRecord, Tally};
use crate::source::Opening;

struct Captured {
    /// Closed until compared (an open file per run would run out of file
    /// descriptors at a few hundred runs); removed when dropped.
    file: TempPath,
    record: RunRecord,
}

pub fn run(args: &Run, config: &Compare, reporter: &mut Reporter) -> Result<Outcome> {
    let mut summary = SummaryBuilder::new("replay-diff", env!("CARGO_PKG_VERSION"));
    let mut runs: Vec<Captured> = Vec::new();
    let mut interrupted = false;
    for n in 1..=args.times {
        if interrupt::requested() {
            interrupted = true;
            break;
        }
        let captured = run_once(&args.command, n)?;
        reporter.run_record(&captured.record)?;
        runs.push(captured);
    }
    let mut total = Tally::default();
    let mut exit_mismatches = 0u64;
    // The golden run's records, counted once (the tally sums them over
    // every comparison with the first run).
    let mut golden_records = 0u64;
    if let Some((first, later)) = runs.split_first() {
        for other in later {
            if interrupted {
                break;
            }
            if (other.record.exit_code, other.record.signal)
                != (first.record.exit_code, first.record.signal)
            {
                exit_mismatches += 1;
            }
            reporter.set_run(Some(other.record.run));
            let golden = Opening::Open(open_run(&first.file, first.record.run)?);
            let replay = Opening::Open(open_run(&other.file, other.record.run)?);
            let cmp = compare(golden, replay, config, reporter)?;
            golden_records = cmp.tally.records_golden;
            total.add(&cmp.tally);
            interrupted |= cmp.interrupted;
        }
        reporter.set_run(None);
    }
    for gate in config.gates(&total, golden_records) {
        summary.gate(gate);
    }
    // Its own gate, so that --min-determinism or --max-divergences N cannot
    // hide a run that exited differently.
    summary.gate(Gate::at_most(
        "exit_mismatches",
        0.0,
        exit_mismatches as f64,
    ));
    let run_failures = runs
        .iter()
        .filter(|r| failed(&r.record, &args.allow_exit))
        .count();
    summary.gate(Gate::at_most("run_failures", 0.0, run_failures as f64));
    summary.input(&args.command.join(" "), None);
    summary.figure("runs", runs.len());
    summary.figure("exit_mismatches", exit_mismatches);
    summary.figure("run_failures", run_failures);
    crate::add_figures(&mut summary, &total);
    let summary = summary.finish(interrupted);
    reporter.summary(&summary)?;
    Ok(summary.outcome())
}

/// A run failed when a signal ended it, or it exited non-zero with a code
/// `--allow-exit` does not name.
fn failed(run: &RunRecord, allowed: &[u8]) -> bool {
    match run.exit_code {
        Some(0) => false,
        Some(code) => !allowed.iter().any(|&a| i32::from(a) == code),
        None => true,
    }
}

fn run_once(command: &[String], n: u32) -> Result<Captured> {
    let Some((program, rest)) = command.split_first() else {
        return Err(Error::usage("no command given after --"));
    };
    let file = NamedTempFile::new().map_err(|e| Error::io("temporary file", e))?;
    let stdout: File = file
        .reopen()
        .map_err(|e| Error::io(file.path().display(), e))?;
    let started = Instant::now();
    let mut child = GroupChild::spawn(
        Command::new(program)
            .args(rest)
            .stdin(Stdio::null())
            .stdout(stdout),
    )
    .map_err(|e| {
        Error::io(program, e).context(format!("run {n}")).with_hint(
            "check the command after -- exists and is executable (it is not run through a shell)",
        )
    })?;
    let exit = wait_or_interrupt(&mut child).map_err(|e| Error::io(program, e))?;
    let status = exit.status;
    let duration_ms = clock::ms(started.elapsed());
    let file = file.into_temp_path();
    let (sha256, records) = describe(&file)?;
    Ok(Captured {
        file,
        record: RunRecord {
            kind: "run",
            run: n,
            exit_code: status.code(),
            signal: status.signal(),
            records,
            sha256,
            duration_ms,
            leftover_processes: exit.leftovers,
        },
    })
}

/// Waits for the command (then kills what it left in its group); on
/// SIGINT/SIGTERM the whole group is killed at once (SIGKILL) rather than
/// waited for: a terminal's Ctrl-C no longer reaches the command itself,
/// which runs in its own group, and the summary must be written within
/// `interrupt::GRACE`.
fn wait_or_interrupt(child: &mut GroupChild) -> io::Result<GroupExit> {
    Ok(match child.wait_until(None)? {
        Ended::Exited(e) | Ended::Interrupted(e) | Ended::TimedOut(e) => e,
    })
}

/// sha256 and non-blank line count of a run's stdout, read as a stream (a
/// run's output may be larger than memory). Stops at SIGINT/SIGTERM: then
/// the digest is empty (the run is abandoned, its summary interrupted).
fn describe(path: &std::path::Path) -> Result<(String, u64)> {
    let file = File::open(path).map_err(|e| Error::io(path.display(), e))?;
    let mut counter = CountLines {
        inner: file,
        lines: 0,
        in_text: false,
    };
    let (sha256, _) =
        common::digest::sha256_reader(&mut counter).map_err(|e| Error::io(path.display(), e))?;
    if interrupt::requested() {
        return Ok((String::new(), counter.finish()));
    }
    Ok((sha256, counter.finish()))
}

/// Counts the non-blank lines of what is read through it.
struct CountLines<R> {
    inner: R,
    lines: u64,
    /// The current line has a non-whitespace byte.
    in_text: bool,
}

impl<R> CountLines<R> {
    /// The count, including a last line without `\n`.
    fn finish(&self) -> u64 {
        self.lines + u64::from(self.in_text)
    }
}

impl<R: Read> Read for CountLines<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if interrupt::requested() {
            return Ok(0); // a GB-long output must not delay the interrupted summary
        }
        let n = self.inner.read(buf)?;
        for &b in &buf[..n] {
            if b == b'\n' {
                self.lines += u64::from(self.in_text);
                self.in_text = false;
            } else if !b.is_ascii_whitespace() {
                self.in_text = true;
            }
        }
        Ok(n)
    }
}

fn open_run(file: &TempPath, n: u32) -> Result<Input> {
    let name = format!("run {n} stdout");
    let handle = File::open(file).map_err(|e| Error::io(&name, e))?;
    Input::from_reader(&name, None, Box::new(handle))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn non_blank_lines_are_counted_across_reads() {
        let text = b"{\"a\":1}\n\n  \r\n[2]\r\n3";
        for chunk in [1, 2, 5, 64] {
            let mut c = CountLines {
                inner: &text[..],
                lines: 0,
                in_text: false,
            };
            let mut buf = vec![0; chunk];
            while c.read(&mut buf).unwrap() > 0 {}
            assert_eq!(c.finish(), 3, "chunk {chunk}");
        }
    }
}
