//! Command-line definition (clap derive). Validation into a typed
//! [`crate::config::Config`] happens in `config.rs`; nothing here can fail
//! beyond clap's own parsing.

use std::time::Duration;

use clap::{CommandFactory, Parser};
use common::cli::{FormatArg, QuietArg};

const EXAMPLES: &str = "\
Examples:
  # The start/stop gate: 10 clean cycles of a server, ready when /v1/health answers.
  cycle-check --cycles 10 --ready http://127.0.0.1:8080/v1/health -- ./server --port 8080

  # Then hold it up for 30 minutes and probe every 5 s: 360 of 360 must pass.
  cycle-check --cycles 10 --ready tcp://127.0.0.1:8080 \\
      --health http://127.0.0.1:8080/v1/health --health-interval 5s --health-duration 30m \\
      -- ./server --port 8080

  # A service started and stopped by scripts, with a pidfile; lock files must go.
  cycle-check --start-cmd 'systemctl start app' --stop-cmd 'systemctl stop app' \\
      --pidfile /run/app.pid --ready exec:'app-ctl ping' --check-files '/run/app/*.lock'

  # At a terminal: one line per cycle, details of whatever was left behind.
  cycle-check --format text --cycles 3 --ready tcp://127.0.0.1:8080 -- ./server

  # Ready when the service says so on its output; slow starts allowed up to 150 s.
  cycle-check --ready 'log:^listening on' --ready-timeout 150s --max-ready 60s -- ./server

  # Crash drill: kill -9 the service 5 s into a load run, restart it, audit
  # its state; 0 findings and ready again within 2 minutes, 10 times.
  cycle-check --cycles 10 --ready http://127.0.0.1:8080/v1/health \\
      --workload 'soak-load run --targets t.jsonl --rate 50/s --duration 1h' \\
      --kill-after 5s --max-recovery 2m --audit './server --audit --db app.db' \\
      -- ./server --port 8080 --db app.db

Probes (--ready, --health):
  http://HOST:PORT/PATH  a GET answered 200-399 (and matching --expect-body)
  tcp://HOST:PORT        a TCP connection is accepted
  exec:COMMAND           `sh -c COMMAND` exits 0 (its process group is killed
                         when it ends: its background children do not live on)
  log:REGEX              a line of the service's stdout/stderr matches (for
                         --health: a new matching line since the last probe)
  Each attempt is bounded by --probe-timeout. Readiness is polled from the
  moment of start with a short backoff (first tries within a millisecond,
  then at most every 5 ms) until --ready-timeout.

Each cycle: start in a new session and process group (cycle-check is a child
subreaper, so double-forked descendants stay visible), wait for readiness,
stop with --stop-signal (or --stop-cmd) and after --stop-timeout SIGKILL,
then look for what was left: zombies (children a live parent has not reaped),
orphans (any descendant still alive --settle after the main process exited),
leaked ports (listening sockets the service had that are still held) and
--check-files matches. Whatever is left is then killed, so the next cycle
starts clean and cycle-check never leaves a process behind (also on Ctrl-C).

Leftovers outside the tree: a command the service hands to a server that was
already running (tmux new-window 'CMD', at, ssh) is not a descendant. After
each stop, a live process outside the tree that started after the launch is a
foreign_leftover (fails the cycle; named, not killed) when its argv is a
command quoted in the service's command line (-- CMD, --start-cmd,
--stop-cmd), or it carries this run's CYCLE_CHECK_RUN environment token. The
holder of a listening socket new since the start is listed too, counted only
with that evidence or --fail-on-new-listeners. Not caught: commands handed
over unquoted or from files (systemd units), servers that retitle themselves
before the check, processes of another cycle-check run.

Crash drill (--workload) and audit (--audit): each cycle starts the
service, waits until it is ready, runs the workload (sh -c, in its own
session, output to stderr; env CYCLE_CHECK_CYCLE and CYCLE_CHECK_PID), and
--kill-after later sends SIGKILL to the service's process groups. The
workload gets SIGTERM (SIGKILL 5 s later), the service is started again at
once, and recovery_ms runs from the kill to ready. Then --audit runs: every
non-empty stdout line is a finding (a JSON object is kept as is; records of
kind summary are skipped), exit 1 with no line is one finding, any other exit
or the timeout is audit_failed. Then the usual stop and checks.

Records (JSON Lines on stdout):
  cycle    cycle, ok, causes (list), started_at, pid, pgid, ready,
           ready_ms, ready_attempts, ready_error, stop_ms, ended_by
           (stop_signal|stop_cmd|sigkill|exited|unkillable), exit_code,
           signal, stop_cmd_exit_code, zombies, orphans (each: pid, ppid,
           pgid, sid, state, cmdline), leaked_ports (address, port, pid,
           cmdline), leftover_files (paths), foreign_leftovers (pid,
           ppid, cmdline, started_in_cycle, evidence: service_command |
           service_environment | null, listening, allowed, counted); with
           --workload also workload_ms, workload_exit_code, workload_signal,
           killed_at,
           killed_pid, recovered, recovery_ms, recovery_error; with --audit
           audit_exit_code, audit_findings, findings (the first 100),
           audit_error
  health   seq, cycle, at, ok, latency_ms, attempts, error
  summary  figures: cycles, cycles_ok, failed_cycles, ready_ms_p50,
           ready_ms_p95, ready_ms_max, stop_ms_p50, stop_ms_max, zombies,
           orphans, leaked_ports, leftover_files, foreign_leftovers,
           health_ok, health_total, health_misses, failures (count per
           cause); gates: failed_cycles, zombies, orphans, leaked_ports,
           foreign_leftovers (all <= 0), health_misses (<=
           --max-health-misses, with --health), ready_ms_max (<= --max-ready);
           with --workload: crashes, recovery_ms_p50, recovery_ms_max and
           gate recovery_ms_max (<= --max-recovery); with --audit:
           audit_findings, audit_failures, audit_violations (count per
           finding's violation field) and gate audit_findings (<= 0). A cycle
           that never recovered, or whose audit failed, leaves its gate's
           value null: it fails.

Causes: start_failed, exited_before_ready, not_ready, exited_early (died
before the stop), stop_timeout (needed SIGKILL), stop_failed (SIGKILL did not
end it, or --stop-cmd failed), exit_status (not 0 and not the stop signal),
zombies, orphans, leaked_ports, leftover_files, foreign_leftover; workload_finished (the
workload ended before the kill: the crash was not mid-work), not_recovered,
audit_findings, audit_failed.

Exit status: 0 every gate passed, 1 a gate failed, 2 could not run (bad
flags, cannot start the command at all), 130/143 interrupted by SIGINT/SIGTERM
(130 for SIGHUP; the summary so far is written, and every process cycle-check
started is gone). If cycle-check cannot get to its cleanup within 8 s of
SIGINT or SIGTERM (blocked on a FIFO or a full stdout), or on a second one, it
kills every process it started and exits with the same status, no summary.";

/// Start/stop reliability: N clean cycles, no zombies, no orphans, no leaked ports.
#[derive(Debug, Parser)]
#[command(
    name = "cycle-check",
    version,
    about = "Start and stop a service N times; prove nothing is left behind",
    long_about = "Start and stop a service N times; prove nothing is left behind.\n\n\
        Each cycle starts the service, waits until a probe says it is ready, stops it \
        the way systemd and Kubernetes do (signal, grace period, SIGKILL), and checks \
        for zombies, orphaned descendants, listening ports still held and leftover \
        files. Optionally the last start is held up and probed for health. One \
        `cycle` record per cycle, `health` records, and a summary with gates.",
    after_long_help = EXAMPLES
)]
pub struct Cli {
    /// How many start/stop cycles to run.
    #[arg(long, default_value_t = 10, value_name = "N", value_parser = common::cli::count)]
    pub cycles: u64,

    /// Readiness probe: http://HOST:PORT/PATH, tcp://HOST:PORT, exec:CMD or log:REGEX.
    #[arg(long, value_name = "PROBE")]
    pub ready: String,

    /// Give up on readiness after this long (the cycle fails as not_ready).
    #[arg(long, default_value = "30s", value_name = "DURATION", value_parser = common::cli::duration)]
    pub ready_timeout: Duration,

    /// Time limit of one probe attempt (connect + answer, or the exec command).
    #[arg(long, default_value = "1s", value_name = "DURATION", value_parser = common::cli::duration)]
    pub probe_timeout: Duration,

    /// http probes must also find this regex in the response body.
    #[arg(long, value_name = "REGEX")]
    pub expect_body: Option<String>,

    /// Consecutive failed attempts (100 ms apart) before a health check
    /// counts as missed (Kubernetes' failureThreshold).
    #[arg(long, default_value_t = 1, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    pub failure_threshold: u32,

    /// Start the service with this shell command instead of CMD (it may
    /// daemonize; pair with --pidfile).
    #[arg(long, value_name = "SHELL-CMD", conflicts_with = "command")]
    pub start_cmd: Option<String>,

    /// Stop the service with this shell command instead of --stop-signal.
    #[arg(long, value_name = "SHELL-CMD")]
    pub stop_cmd: Option<String>,

    /// The service writes its main pid here; readiness waits until it names
    /// a live process of the service (else the cycle fails as
    /// pidfile_missing), which is then the one stopped and waited for. With
    /// `-- CMD` it must name CMD or one of its descendants; with
    /// --start-cmd, also a process written there during the cycle (e.g.
    /// started by a service manager).
    #[arg(long, value_name = "PATH")]
    pub pidfile: Option<String>,

    /// Signal that asks the service to stop: TERM, INT, QUIT, HUP, USR1, ...
    #[arg(long, default_value = "TERM", value_name = "SIGNAL")]
    pub stop_signal: String,

    /// Grace period after the stop signal before SIGKILL.
    #[arg(long, default_value = "10s", value_name = "DURATION", value_parser = common::cli::duration)]
    pub stop_timeout: Duration,

    /// How long other descendants may take to exit after the main process
    /// has, before they count as orphans.
    #[arg(long, default_value = "250ms", value_name = "DURATION", value_parser = common::cli::duration)]
    pub settle: Duration,

    /// After each stop, files matching this glob must not exist (lock, pid
    /// or temp files). Repeatable. Example: --check-files 'run/*.lock'
    #[arg(long, value_name = "GLOB")]
    pub check_files: Vec<String>,

    /// A process outside the service's tree that may outlive it (see
    /// "Leftovers outside the tree"): a port it listens on, or a regex
    /// matched against its command line. Repeatable.
    #[arg(long, value_name = "PORT|REGEX")]
    pub allow_leftover: Vec<String>,

    /// Also count the holder of every listening socket that is new since
    /// the start and still listens after the stop outside the service's
    /// tree, without evidence that the service started it: for a machine
    /// where nothing else starts servers (a CI container).
    #[arg(long)]
    pub fail_on_new_listeners: bool,

    /// Health probe run after the last start (same forms as --ready).
    #[arg(long, value_name = "PROBE")]
    pub health: Option<String>,

    /// Time between health probes.
    #[arg(long, default_value = "5s", value_name = "DURATION", value_parser = common::cli::duration, requires = "health")]
    pub health_interval: Duration,

    /// How long to hold the service up and probe it.
    #[arg(long, default_value = "30m", value_name = "DURATION", value_parser = common::cli::duration, requires = "health")]
    pub health_duration: Duration,

    /// Gate: at most this many missed health checks.
    #[arg(long, default_value_t = 0, value_name = "N", value_parser = common::cli::count)]
    pub max_health_misses: u64,

    /// Gate: the slowest time-to-ready may not exceed this. Example: 2s
    #[arg(long, value_name = "DURATION", value_parser = common::cli::duration_ms)]
    pub max_ready: Option<f64>,

    /// Crash drill: once the service is ready, run this shell command
    /// against it; --kill-after later the service is killed with SIGKILL
    /// (mid-work), the workload is sent SIGTERM, and the service is started
    /// again at once and must be ready within --max-recovery.
    #[arg(long, value_name = "SHELL-CMD")]
    pub workload: Option<String>,

    /// How long the --workload runs before the SIGKILL.
    #[arg(long, default_value = "1s", value_name = "DURATION", value_parser = common::cli::duration, requires = "workload")]
    pub kill_after: Duration,

    /// Gate: the time from the SIGKILL to ready again (recovery_ms_max).
    #[arg(long, default_value = "2m", value_name = "DURATION", value_parser = common::cli::duration_ms, requires = "workload")]
    pub max_recovery: f64,

    /// Audit the service's state in every cycle once it is ready (in a
    /// crash drill: once it is ready again): a shell command whose stdout
    /// lines are findings (JSON Lines, or plain text) and whose exit status
    /// is 0 (clean) or 1 (findings). Gate: audit_findings <= 0.
    #[arg(long, value_name = "SHELL-CMD")]
    pub audit: Option<String>,

    /// Time limit of one --audit run (it fails as audit_failed after it).
    #[arg(long, default_value = "60s", value_name = "DURATION", value_parser = common::cli::duration, requires = "audit")]
    pub audit_timeout: Duration,

    /// Append the service's stdout and stderr here instead of passing them
    /// to cycle-check's stderr (lines it cannot take, e.g. on a full disk,
    /// are warned about and counted: service_log_lost_lines).
    #[arg(long, value_name = "PATH")]
    pub service_log: Option<String>,

    #[command(flatten)]
    pub format: FormatArg,

    // One meaning in every tool; cycle-check prints no progress or notes, so
    // -q changes nothing (warnings and the service's output still show).
    #[command(flatten)]
    pub quiet: QuietArg,

    /// The service command and its arguments (after `--`).
    #[arg(last = true, value_name = "CMD", required_unless_present = "start_cmd")]
    pub command: Vec<String>,
}

/// The clap command, for man pages and completions.
pub fn command() -> clap::Command {
    Cli::command()
}

#[cfg(test)]
mod tests {
    #[test]
    fn clap_definition_is_consistent() {
        super::command().debug_assert();
    }
}
