//! The validated configuration: probes parsed and resolved, the stop signal
//! named, globs compiled. Every mistake is reported here, naming the flag,
//! before anything is started.

use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Duration;

use common::Error;
use globset::{Glob, GlobMatcher};
use nix::sys::signal::Signal;
use regex::Regex;

use crate::cli::Cli;
use crate::probe::{self, Probe};

/// How the service is started.
#[derive(Debug)]
pub enum Start {
    /// `-- CMD ARGS...`: executed directly; its pid is the main process.
    Exec(Vec<String>),
    /// `--start-cmd`: `sh -c CMD`, which may daemonize.
    Shell(String),
}

#[derive(Debug)]
pub struct Health {
    pub probe: Probe,
    pub interval: Duration,
    pub duration: Duration,
}

/// The crash drill of `--workload`.
#[derive(Debug)]
pub struct Crash {
    pub workload: String,
    pub kill_after: Duration,
    pub max_recovery_ms: f64,
}

/// The state audit of `--audit`.
#[derive(Debug)]
pub struct Audit {
    pub command: String,
    pub timeout: Duration,
}

#[derive(Debug)]
pub struct FileCheck {
    pub pattern: String,
    root: PathBuf,
    strip_dot: bool,
    max_depth: usize,
    matcher: GlobMatcher,
}

#[derive(Debug)]
pub struct Config {
    pub cycles: u64,
    pub start: Start,
    pub stop_cmd: Option<String>,
    pub pidfile: Option<PathBuf>,
    pub ready: Probe,
    pub ready_timeout: Duration,
    pub failure_threshold: u32,
    pub stop_signal: Signal,
    pub stop_timeout: Duration,
    pub settle: Duration,
    pub check_files: Vec<FileCheck>,
    pub health: Option<Health>,
    pub max_health_misses: u64,
    pub max_ready_ms: Option<f64>,
    pub service_log: Option<String>,
    pub log_regexes: Vec<Regex>,
    pub crash: Option<Crash>,
    pub audit: Option<Audit>,
    /// How leftovers outside the service's tree are judged.
    pub leftovers: crate::handoff::Policy,
    /// The commands the service hands to other programs.
    pub handed: crate::handoff::Handed,
    pub format: common::cli::Format,
}

/// `TERM`, `SIGTERM`, `term` or `15`.
pub fn parse_signal(text: &str) -> Result<Signal, String> {
    let t = text.trim();
    if let Ok(n) = t.parse::<i32>() {
        return Signal::try_from(n).map_err(|_| format!("'{text}' is not a signal number"));
    }
    let upper = t.to_ascii_uppercase();
    let name = if upper.starts_with("SIG") {
        upper
    } else {
        format!("SIG{upper}")
    };
    Signal::from_str(&name)
        .map_err(|_| format!("'{text}' is not a signal (examples: TERM, INT, QUIT, 15)"))
}

impl Config {
    pub fn from_cli(cli: Cli) -> common::Result<Config> {
        if cli.cycles == 0 {
            return Err(Error::usage("--cycles 0: at least one cycle is needed"));
        }
        let expect_body = cli
            .expect_body
            .as_deref()
            .map(|re| {
                Regex::new(re).map_err(|e| Error::usage(format!("--expect-body: bad regex: {e}")))
            })
            .transpose()?;
        let mut log_regexes = Vec::new();
        let ready = probe::parse(
            "--ready",
            &cli.ready,
            cli.probe_timeout,
            expect_body.as_ref(),
            &mut log_regexes,
        )?;
        let health = match &cli.health {
            Some(text) => {
                if cli.health_interval.is_zero() {
                    return Err(Error::usage("--health-interval must be above zero"));
                }
                let probe = probe::parse(
                    "--health",
                    text,
                    cli.probe_timeout,
                    expect_body.as_ref(),
                    &mut log_regexes,
                )?;
                Some(Health {
                    probe,
                    interval: cli.health_interval,
                    duration: cli.health_duration,
                })
            }
            None => None,
        };
        if expect_body.is_some()
            && !cli.ready.starts_with("http://")
            && !cli
                .health
                .as_deref()
                .is_some_and(|h| h.starts_with("http://"))
        {
            return Err(Error::usage(
                "--expect-body needs an http:// probe (--ready or --health)",
            ));
        }
        if cli.probe_timeout.is_zero() {
            return Err(Error::usage("--probe-timeout must be above zero"));
        }
        let start = match (cli.start_cmd, cli.command.is_empty()) {
            (Some(cmd), true) => Start::Shell(cmd),
            (None, false) => Start::Exec(cli.command),
            (Some(_), false) => {
                return Err(Error::usage(
                    "give either --start-cmd or a command after --, not both",
                ))
            }
            (None, true) => {
                return Err(Error::usage(
                    "no service to start: give a command after -- or --start-cmd",
                ))
            }
        };
        let stop_signal = parse_signal(&cli.stop_signal)
            .map_err(|e| Error::usage(format!("--stop-signal: {e}")))?;
        if matches!(stop_signal, Signal::SIGKILL | Signal::SIGSTOP) {
            return Err(Error::usage(format!(
                "--stop-signal {}: cannot be caught, so there is no graceful stop to measure",
                stop_signal.as_str()
            ))
            .with_hint(
                "use TERM (the default), INT or QUIT; SIGKILL is sent after --stop-timeout anyway",
            ));
        }
        let nonempty = |flag: &str, cmd: Option<String>| match cmd {
            Some(c) if c.trim().is_empty() => {
                Err(Error::usage(format!("{flag}: the command is empty")))
            }
            other => Ok(other),
        };
        let crash = nonempty("--workload", cli.workload)?.map(|workload| Crash {
            workload,
            kill_after: cli.kill_after,
            max_recovery_ms: cli.max_recovery,
        });
        let audit = nonempty("--audit", cli.audit)?.map(|command| Audit {
            command,
            timeout: cli.audit_timeout,
        });
        if audit.as_ref().is_some_and(|a| a.timeout.is_zero()) {
            return Err(Error::usage("--audit-timeout must be above zero"));
        }
        let allow = cli
            .allow_leftover
            .iter()
            .map(|a| {
                crate::handoff::Allow::parse(a)
                    .map_err(|e| Error::usage(format!("--allow-leftover {a}: {e}")))
            })
            .collect::<common::Result<_>>()?;
        let leftovers = crate::handoff::Policy {
            allow,
            strict: cli.fail_on_new_listeners,
        };
        let handed = {
            let (argv, start_cmd) = match &start {
                Start::Exec(argv) => (Some(argv.as_slice()), None),
                Start::Shell(cmd) => (None, Some(cmd.as_str())),
            };
            let scripts: Vec<&str> = start_cmd
                .into_iter()
                .chain(cli.stop_cmd.as_deref())
                .collect();
            crate::handoff::Handed::of_service(argv, &scripts)
        };
        let check_files = cli
            .check_files
            .iter()
            .map(|p| FileCheck::new(p))
            .collect::<common::Result<_>>()?;
        Ok(Config {
            cycles: cli.cycles,
            start,
            stop_cmd: cli.stop_cmd,
            pidfile: cli.pidfile.map(PathBuf::from),
            ready,
            ready_timeout: cli.ready_timeout,
            failure_threshold: cli.failure_threshold,
            stop_signal,
            stop_timeout: cli.stop_timeout,
            settle: cli.settle,
            check_files,
            health,
            max_health_misses: cli.max_health_misses,
            max_ready_ms: cli.max_ready,
            service_log: cli.service_log,
            log_regexes,
            crash,
            audit,
            leftovers,
            handed,
            format: cli.format.format,
        })
    }
}

fn has_glob_meta(component: &str) -> bool {
    component.contains(['*', '?', '[', '{'])
}

impl FileCheck {
    pub fn new(pattern: &str) -> common::Result<FileCheck> {
        let bad = |msg: String| Error::usage(format!("--check-files {pattern}: {msg}"));
        if pattern.is_empty() {
            return Err(bad("empty pattern".to_string()));
        }
        let matcher = Glob::new(pattern)
            .map_err(|e| bad(e.kind().to_string()))?
            .compile_matcher();
        // Walk from the longest literal directory prefix, only as deep as the
        // pattern can reach (unbounded with `**`).
        let components: Vec<&str> = pattern.split('/').collect();
        let literal = components.iter().take_while(|c| !has_glob_meta(c)).count();
        let literal = literal.min(components.len() - 1);
        let prefix = components[..literal].join("/");
        let (root, strip_dot) = if pattern.starts_with('/') && prefix.is_empty() {
            (PathBuf::from("/"), false)
        } else if prefix.is_empty() {
            (PathBuf::from("."), true)
        } else {
            (PathBuf::from(prefix), false)
        };
        let max_depth = if pattern.contains("**") {
            usize::MAX
        } else {
            components.len() - literal
        };
        Ok(FileCheck {
            pattern: pattern.to_string(),
            root,
            strip_dot,
            max_depth,
            matcher,
        })
    }

    /// Paths that match now, sorted. Unreadable directories are skipped.
    pub fn matches(&self) -> Vec<String> {
        let mut out = Vec::new();
        let walk = walkdir::WalkDir::new(&self.root)
            .min_depth(1)
            .max_depth(self.max_depth)
            .follow_links(false);
        for entry in walk.into_iter().filter_map(|e| e.ok()) {
            let path = entry.path();
            let shown: &Path = if self.strip_dot {
                path.strip_prefix(".").unwrap_or(path)
            } else {
                path
            };
            if self.matcher.is_match(shown) {
                out.push(shown.to_string_lossy().into_owned());
            }
        }
        out.sort();
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signals() {
        assert_eq!(parse_signal("TERM"), Ok(Signal::SIGTERM));
        assert_eq!(parse_signal("sigint"), Ok(Signal::SIGINT));
        assert_eq!(parse_signal("3"), Ok(Signal::SIGQUIT));
        assert!(parse_signal("NOPE").is_err());
        assert!(parse_signal("99").is_err());
    }

    #[test]
    fn file_checks_walk_only_where_the_glob_reaches() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        std::fs::create_dir_all(d.join("run/sub")).unwrap();
        for f in ["run/a.lock", "run/b.pid", "run/sub/c.lock", "top.lock"] {
            std::fs::write(d.join(f), "").unwrap();
        }
        let root = d.to_str().unwrap();
        let m = FileCheck::new(&format!("{root}/run/*.lock"))
            .unwrap()
            .matches();
        assert_eq!(m, vec![format!("{root}/run/a.lock")]);
        let m = FileCheck::new(&format!("{root}/run/**/*.lock"))
            .unwrap()
            .matches();
        assert_eq!(
            m,
            vec![
                format!("{root}/run/a.lock"),
                format!("{root}/run/sub/c.lock")
            ]
        );
        let m = FileCheck::new(&format!("{root}/top.lock"))
            .unwrap()
            .matches();
        assert_eq!(m, vec![format!("{root}/top.lock")]);
        assert!(FileCheck::new(&format!("{root}/missing/*.lock"))
            .unwrap()
            .matches()
            .is_empty());
        // A symlink (here to the root, a loop) is listed but never followed.
        std::os::unix::fs::symlink("/", d.join("run/sub/loop")).unwrap();
        let m = FileCheck::new(&format!("{root}/run/**")).unwrap().matches();
        assert_eq!(m.len(), 5, "{m:?}");
        assert!(m.contains(&format!("{root}/run/sub/loop")));
        assert!(FileCheck::new("a[").is_err());
        assert!(FileCheck::new("").is_err());
    }
}
