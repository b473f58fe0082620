//! Command-line definition (clap derive). Validation into typed settings
//! happens in `config.rs`; nothing here can fail beyond clap's own parsing.

use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, CommandFactory, Parser, Subcommand, ValueEnum};

use common::cli::{FormatArg, QuietArg};

const EXAMPLES: &str = "\
Examples:
  # The 48-hour soak: 1 request/s over a targets file, a window a minute,
  # the service's memory watched, error rate and memory growth gated.
  soak-load run --targets targets.jsonl --rate 1/s --duration 48h \\
      --pid-file /run/app.pid --max-error-rate 0.5% --max-rss-growth 10% \\
      --max-p95-slope 5ms > soak.jsonl

  # The seed load profiles (1000/s for 10 min; 5000/s for 5 min).
  soak-load run http://127.0.0.1:8080/v1/health --profile baseline

  # As fast as 64 keep-alive connections go (closed model), 100000 requests.
  soak-load run http://127.0.0.1:8080/v1/health --connections 64 --requests 100000

  # The same over HTTP/2 without TLS (h2c, prior knowledge: a gRPC-style
  # or `h2c`-enabled server), 500 requests/s for 10 minutes.
  soak-load run http://127.0.0.1:8080/v1/health --http2 --rate 500/s --duration 10m

  # The race run: 20 actors x 100 sequences, every acknowledged write read
  # back at the end; no race error, nothing lost or changed.
  soak-load run --targets race.jsonl --actors 20 --ops 100 --verify \\
      --max-error-rate 0

  # Chaos under load: kill -9 the service every 5 minutes (its supervisor
  # restarts it); recovery within 2 minutes, no acknowledged write lost.
  soak-load run --targets t.jsonl --rate 50/s --duration 1h --verify \\
      --chaos-cmd 'kill -9 $(cat /run/app.pid)' --chaos-every 5m --max-recovery 2m

  # Judge a saved run again with other gates; merge three generators.
  soak-load report soak.jsonl --max-p99 150ms
  soak-load merge gen1.jsonl gen2.jsonl gen3.jsonl --max-error-rate 1% > all.jsonl

Exit status: 0 every gate passed, 1 a gate failed, 2
could not do the job (bad flags, bad targets file, unreadable input), 130
interrupted (the current window and a summary marked interrupted are still
written).";

/// Sustained HTTP load with honest latency, memory and trend gates.
#[derive(Debug, Parser)]
#[command(
    name = "soak-load",
    version,
    about = "Sustained HTTP load with honest latency, per-window memory and trend gates",
    long_about = "Sustained HTTP load with honest latency, per-window memory and trend gates.\n\n\
        `run` sends traffic (open model at a global rate with coordinated-omission-corrected \
        latency, or a closed model), writes a `window` record every --window with counts, \
        errors by class, latency percentiles, the service's memory and a mergeable latency \
        histogram, and ends with the `summary` record and its gates. `report` re-judges saved \
        windows; `merge` combines several generators' runs exactly.",
    after_long_help = EXAMPLES
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Send load, write a window record per --window and the summary.
    #[command(after_long_help = RUN_HELP)]
    Run(Box<RunArgs>),
    /// Recompute the summary and gates from saved window records.
    #[command(after_long_help = REPORT_HELP)]
    Report(ReportArgs),
    /// Merge several runs' windows (one generator each) into one exact result.
    #[command(after_long_help = MERGE_HELP)]
    Merge(ReportArgs),
    /// Draw windows over time as one self-contained HTML page.
    #[command(after_long_help = PLOT_HELP)]
    Plot(PlotArgs),
}

const PLOT_HELP: &str = "\
One HTML file, nothing fetched (inline SVG and CSS, no script): latency
p50/p95/p99, error rate, achieved rate and the service's RSS per window over
time, the gate limits as dashed red lines (from the gate flags given here, or
else from the first file's summary), each run's verdict and gates on top.
Several files are drawn together (one set of lines per file).

Examples:
  soak-load plot soak.jsonl -o soak.html
  soak-load plot baseline.jsonl candidate.jsonl --per-target -o compare.html";

#[derive(Debug, Args)]
pub struct PlotArgs {
    /// Files with window records (`-` for stdin).
    #[arg(value_name = "FILE", required = true)]
    pub files: Vec<String>,

    /// The HTML file to write (replaced atomically).
    #[arg(short, long, value_name = "FILE")]
    pub output: String,

    /// Also draw one line per target (p95, error rate, rate).
    #[arg(long)]
    pub per_target: bool,

    /// The page's title (default: the files' names).
    #[arg(long, value_name = "TEXT")]
    pub title: Option<String>,

    #[command(flatten)]
    pub gates: GateArgs,
}

const RUN_HELP: &str = "\
Targets file (JSON Lines, one target per line; blank lines skipped):
  {\"name\":\"health\",\"url\":\"http://127.0.0.1:8080/v1/health\",\"weight\":5}
  {\"name\":\"chat\",\"method\":\"POST\",\"url\":\"http://127.0.0.1:8080/v1/chat\",
   \"headers\":{\"Authorization\":\"Bearer x\"},\"body\":{\"message\":\"hi\"}}
  {\"name\":\"churn\",\"sequence\":[
    {\"name\":\"start\",\"method\":\"POST\",\"url\":\"http://127.0.0.1:8080/session/start\",\"body\":{}},
    {\"name\":\"chat\",\"method\":\"POST\",\"url\":\"http://127.0.0.1:8080/v1/chat\",\"repeat\":3,
     \"body\":{\"session_id\":\"{{steps.start.session_id}}\",\"message\":\"hi\"}},
    {\"name\":\"stop\",\"method\":\"POST\",\"url\":\"http://127.0.0.1:8080/session/stop\",
     \"body\":{\"session_id\":\"{{steps.start.session_id}}\"}}]}
  method defaults to GET, weight to 1 (targets are picked by smooth weighted
  round robin: exact shares), a JSON body gets Content-Type: application/json.
  Success is a 2xx answer. Redirects are not followed: a 3xx is an error of
  class `other` (a `302 Location: /login` says nothing about the page behind
  it) unless the target lists it, \"accept\": [301] (--accept-status 301 for
  URL). A 2xx is checked only when a plain target says what it holds:
  \"expect\": {\"errors\": null} (fields a.b.0 equal to values in the
  answer's JSON; null also matches an absent field), else a 200 carrying
  an error (GraphQL {\"errors\":[..]}, JSON-RPC) counts as a success; a 2xx
  not holding them is an error of class `other`.
  A sequence is one pick: its steps run in order on one connection, and
  {{steps.NAME.FIELD}} (FIELD may be a.b.0) takes a value from an earlier
  step's JSON answer. A step whose value is missing (the earlier step
  failed, or answered without the field) is not sent: a request failed
  with class `template` (no latency) and a skipped step (gated at 0 by
  default). Figures of a step are reported as SEQUENCE.STEP.

Models:
  --rate R (open model): pick i has an intended send time (i/R after the start,
  or on the --ramp curve) and its latency is measured from it, so a stalled
  server shows in the percentiles (coordinated omission corrected). At most
  --max-in-flight picks are in flight; a send that starts over 10 ms after its
  intended time counts as `late`; one whose slot came free only after
  --timeout is not sent and counts as an error of class `dropped`.
  --connections N (closed model): N users, each sending as soon as its last
  answer came back; latency from the send.
  --actors N --ops M: N users at once, each running exactly M picks back to
  back (the race run: 20 actors x 100 operations); latency from the send.
  --http2: every model speaks HTTP/2 over cleartext with prior knowledge
  (h2c: no upgrade, no TLS) instead of HTTP/1.1, one connection per user
  and endpoint, one request at a time on it; a server that does not speak
  HTTP/2 fails every request (class `connect` or `other`).

Races, verification, chaos (step fields of a sequence):
  \"parallel\": true    sent at the same moment as the step before it, on a
                      connection of its own (two decisions at once)
  \"accept\": [409]     these statuses are right answers here, not errors;
                      only 2xx acknowledges a write
  \"verify\": \"STEP\",   a verify step: not sent during the load; with --verify
  \"expect\": {F: V}    its read is kept for every run whose STEP was
                      acknowledged and sent at the end: 404/410 is a lost
                      write, a field F not equal to V (templates allowed:
                      {{steps.STEP.status}}) a changed one, anything else
                      unverified. One `verify` record per write that did
                      not check out; gates lost_writes, changed_writes,
                      unverified_writes (<= 0; null when nothing was
                      acknowledged).
  --chaos-cmd CMD: sh -c CMD every --chaos-every; a `chaos` record per
  injection: at, command_exit_code, outage_started_at (the first request
  failing after it), outage_ended_at (the first success sent after that),
  recovery_ms, failed_requests, recovered, service_restarts (of the
  watched process until the next injection; null when none is watched),
  effective (a request failed after it, or the process restarted). An
  injection with no effect proves no recovery: gate chaos_no_effect <=
  --max-chaos-no-effect (0).

Records (JSON Lines on stdout):
  window   window, started_at, ended_at, offset_ms, duration_ms, requests, ok,
           errors, errors_by_class {connect, timeout, 4xx, 5xx, other,
           dropped, template}, error_rate, achieved_rps, p50_ms, p90_ms, p95_ms, p99_ms,
           p999_ms, max_ms, late, skipped_steps, histogram (base64 of the V2
           HDR histogram of latencies in µs), in_flight, rss_bytes, processes,
           service_uptime_s, service_pid, service_restarts (watched
           processes that ended or were replaced in the window; with
           --pid/--pid-file), interrupted
           and unfinished (last window of an interrupted run), and targets:
           the same figures per target name.
  summary  figures: windows, requests, ok, errors, errors_by_class,
           error_rate, throughput_rps, duration_ms, p50/p90/p95/p99/p999/max
           (ms), late, dropped, skipped_steps, unfinished,
           p95_slope_ms_per_hour, service_restarts, rss_growth (of one
           process: the largest growth of any process read in two windows
           or more, never from one process to the next; null if none was),
           rss_slope_bytes_per_hour, rss_first_bytes, rss_last_bytes,
           rss_growth_service_pid, rss_growth_windows, rss_max_bytes,
           rss_warmup_windows (windows marked warmup: true, --warmup),
           rss_unrelated (1: no memory reading came from a process tree
           listening on a loopback target's port, a --pid naming the wrong
           process; gated <= 0 by default; null when it cannot be told or
           with --no-listener-check),
           targets; gates: error_rate (<=, by default 1%; not asked by
           default with --chaos-cmd), ok (>= 1, always: a run with no
           success never passes), p95_ms, p99_ms, rss_growth,
           p95_slope_ms_per_hour (each <=), throughput_rps (>=), as asked;
           skipped_steps (<=, by default 0; not asked with --chaos-cmd),
           service_restarts (<=, by default 0 whenever the process is
           watched; one per injection with --chaos-cmd); with --verify
           writes_acknowledged, writes_verified, lost_writes,
           changed_writes, unverified_writes; with --chaos-cmd
           chaos_injections, chaos_command_failures, outages,
           unrecovered_outages, recovery_ms_max, outage_failed_requests,
           chaos_no_effect.
  verify   outcome (lost, changed, unverified), step, write,
           write_correlation_id, url, status, mismatches (field, expected,
           found), error.
  chaos    seq, at, offset_ms, command_exit_code, command_ms,
           outage_started_at, outage_ended_at, recovery_ms,
           failed_requests, recovered, service_restarts, effective.
  Every request sent lands in the latency histogram, errors and timeouts
  included (a timeout at its timeout, a dropped pick at its age), so
  failures cannot hide from the percentiles; steps never sent (template)
  count in the error rate instead. A request log (--requests-log) has one
  `request` record per request: at, target, status, latency_ms,
  correlation_id, error.";

const REPORT_HELP: &str = "\
Reads `window` records (other kinds are skipped) from the files in order, as
one run, and writes the summary again with the gates asked for here: run
once, judge many ways. A run that was interrupted, or whose windows are
not followed by its summary (killed with SIGKILL, by the OOM killer, a CI
timeout), gets a failing `run_complete` gate: its evidence is partial (a
warning names the file).

Input that contradicts itself is refused (exit 2, FILE:LINE): a window whose
counts, rates or percentiles disagree with its histogram, whose targets do
not add up to it, a missing window, or a summary whose figures are not those
of the windows before it. An edit that keeps all of these consistent cannot
be seen from the file alone: the file is not signed (bundle-seal is).

Examples:
  soak-load report soak.jsonl --profile baseline
  soak-load report soak.jsonl --format csv > windows.csv";

const MERGE_HELP: &str = "\
Each file is one generator's run. Windows with the same number are merged:
counts added, histograms merged (exact, not percentiles averaged), memory the
largest reading, duration the longest. Writes the merged windows, then the
summary. A file whose run has no summary fails `run_complete`, as in report.
The same file given twice (by name, hard link or symlink) or a copy of it is
refused (exit 2): it would count every request twice; so in report. Start the generators together (GNU parallel, a Kubernetes Indexed
Job) so window N covers the same minute everywhere.

Examples:
  parallel -j4 'soak-load run --targets t.jsonl --rate 250/s --duration 1h > gen{}.jsonl' ::: 1 2 3 4
  soak-load merge gen*.jsonl --max-p99 150ms > merged.jsonl";

/// `--format`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// window records and the summary as JSON Lines (the default).
    Jsonl,
    /// one CSV row per window and target (target empty for the total);
    /// the summary goes to stderr as text.
    Csv,
}

/// Named load profiles (the seed gates).
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Profile {
    /// 1000/s for 10m; gates p95 100ms, p99 150ms, error rate 1%.
    Baseline,
    /// 5000/s for 5m; the same gates.
    Spike,
}

/// The gates (shared by run, report and merge).
#[derive(Debug, Args, Clone, Default)]
pub struct GateArgs {
    /// A preset: its rate and duration (run) and its gates; flags given
    /// explicitly win.
    #[arg(long, value_enum, value_name = "NAME")]
    pub profile: Option<Profile>,

    /// Gate: error rate (errors / requests) at most this. Default: 1%
    /// (not asked by default with --chaos-cmd). Whatever it is, a run in
    /// which no request succeeded fails (gate ok >= 1). Example: 0.5% (the
    /// % is required: a bare 0.5 could mean 50% or 0.5%; only 0 may go
    /// without it)
    #[arg(long, value_name = "PERCENT", value_parser = common::cli::fraction)]
    pub max_error_rate: Option<f64>,

    /// Gate: p95 latency at most this. Example: 100ms
    #[arg(long, value_name = "DURATION", value_parser = common::cli::duration_ms)]
    pub max_p95: Option<f64>,

    /// Gate: p99 latency at most this. Example: 150ms
    #[arg(long, value_name = "DURATION", value_parser = common::cli::duration_ms)]
    pub max_p99: Option<f64>,

    /// Gate: the service's RSS growth from the first to the last window at
    /// most this (needs --pid or --pid-file). Example: 10% (the % is
    /// required)
    #[arg(long, value_name = "PERCENT", value_parser = growth)]
    pub max_rss_growth: Option<f64>,

    /// Gate: the least-squares trend of the windows' p95 at most this much
    /// per hour. Example: 5ms (meaning 5 ms/h)
    #[arg(long, value_name = "DURATION", value_parser = per_hour)]
    pub max_p95_slope: Option<f64>,

    /// Gate: throughput (requests / time) at least this. Example: 950/s
    #[arg(long, value_name = "RATE", value_parser = crate::schedule::parse_rate)]
    pub min_throughput: Option<f64>,

    /// Gate: the watched service process (--pid/--pid-file) ended or was
    /// replaced at most this many times. Default whenever it is watched: 0
    /// (with --chaos-cmd: one per injection).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64))]
    pub max_restarts: Option<u64>,

    /// Gate: sequence steps never sent because a value they need was
    /// missing from an earlier answer at most this many. Default: 0 (not
    /// asked with --chaos-cmd).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64))]
    pub max_skipped_steps: Option<u64>,
}

/// `10%`, `150%`: a non-negative ratio (growth may exceed 100%); a bare
/// number other than 0 is refused as ambiguous.
fn growth(text: &str) -> Result<f64, String> {
    common::threshold::growth(text)
}

/// `5ms`, `5ms/h`, `1s/h` → milliseconds per hour.
fn per_hour(text: &str) -> Result<f64, String> {
    let t = text.trim();
    let t = t.strip_suffix("/h").unwrap_or(t);
    common::threshold::duration_ms(t)
}

#[derive(Debug, Args)]
pub struct RunArgs {
    /// The URL to load (or use --targets).
    #[arg(
        value_name = "URL",
        required_unless_present = "targets",
        conflicts_with = "targets"
    )]
    pub url: Option<String>,

    /// Targets file (JSON Lines; see below).
    #[arg(long, value_name = "FILE")]
    pub targets: Option<String>,

    /// HTTP method for URL (default GET).
    #[arg(long, value_name = "METHOD", requires = "url")]
    pub method: Option<String>,

    /// A header for URL, 'Name: value' (repeatable).
    #[arg(long, value_name = "HEADER", requires = "url")]
    pub header: Vec<String>,

    /// Request body for URL.
    #[arg(long, value_name = "TEXT", requires = "url")]
    pub body: Option<String>,

    /// A status that is a right answer for URL although not 2xx (a
    /// redirect the service is meant to give; redirects are not followed
    /// and count as errors of class `other` otherwise). Repeatable or
    /// comma-separated. Example: 301
    #[arg(long, value_name = "STATUS", requires = "url", value_delimiter = ',')]
    pub accept_status: Vec<u16>,

    /// Open model: picks per second, global (also /m, /h). Example: 1000/s
    #[arg(long, value_name = "RATE", value_parser = crate::schedule::parse_rate, conflicts_with = "connections")]
    pub rate: Option<f64>,

    /// Closed model: this many users sending back to back.
    #[arg(long, value_name = "N")]
    pub connections: Option<usize>,

    /// Stop after this long (default: until --requests or Ctrl-C). Example: 48h
    #[arg(long, value_name = "DURATION", value_parser = common::cli::duration)]
    pub duration: Option<Duration>,

    /// Stop after this many picks (a sequence counts once).
    #[arg(long, value_name = "N", value_parser = common::cli::count)]
    pub requests: Option<u64>,

    /// Grow the rate linearly from 0 over this long (closed model: start
    /// users one by one over it). Example: 30s
    #[arg(long, value_name = "DURATION", value_parser = common::cli::duration, default_value = "0")]
    pub ramp: Duration,

    /// Give up on a request after this long (class `timeout`).
    #[arg(long, value_name = "DURATION", value_parser = common::cli::duration, default_value = "30s")]
    pub timeout: Duration,

    /// Open model: at most this many picks in flight (and connections open).
    #[arg(long, value_name = "N", default_value_t = 1000)]
    pub max_in_flight: usize,

    /// Leave the memory readings of windows that end within this long
    /// after the start out of rss_growth and its slope (a fresh service's
    /// allocator and caches grow at first); everything else still counts.
    /// Example: 1m
    #[arg(long, value_name = "DURATION", value_parser = common::cli::duration, default_value = "0")]
    pub warmup: Duration,

    /// Length of a window record.
    #[arg(long, value_name = "DURATION", value_parser = common::cli::duration, default_value = "60s")]
    pub window: Duration,

    /// Header carrying each request's unique id.
    #[arg(long, value_name = "NAME", default_value = "X-Correlation-ID")]
    pub correlation_header: String,

    /// Speak HTTP/2 over cleartext with prior knowledge (h2c) instead of
    /// HTTP/1.1: one connection per user and endpoint.
    #[arg(long)]
    pub http2: bool,

    /// Also write one `request` record per request to FILE.
    #[arg(long, value_name = "FILE")]
    pub requests_log: Option<String>,

    /// Watch this process (and its descendants): RSS per window.
    #[arg(long, value_name = "PID", conflicts_with = "pid_file")]
    pub pid: Option<i32>,

    /// Watch the process whose id is in FILE (re-read every window).
    #[arg(long, value_name = "FILE")]
    pub pid_file: Option<PathBuf>,

    /// Do not check that the watched process (--pid/--pid-file) listens
    /// on a loopback target's port (gate rss_unrelated): for a port mapped
    /// to another (docker -p 8080:80) or a proxy in front of the service.
    #[arg(long)]
    pub no_listener_check: bool,

    /// Threads sending the load (default: one per CPU). The closed model
    /// splits its connections over them, each thread with its own event
    /// loop, as wrk -t does.
    #[arg(long, value_name = "N")]
    pub threads: Option<usize>,

    /// Actors: this many virtual users at once, each running exactly --ops
    /// picks back to back (a sequence is one); the race run.
    #[arg(long, value_name = "N", requires = "ops", conflicts_with_all = ["rate", "connections"])]
    pub actors: Option<usize>,

    /// With --actors: picks each actor runs.
    #[arg(long, value_name = "M", value_parser = common::cli::count, requires = "actors")]
    pub ops: Option<u64>,

    /// At the end, re-read every write a step acknowledged (the targets'
    /// verify steps) and gate lost, changed and unverified writes at 0.
    #[arg(long)]
    pub verify: bool,

    /// Run this shell command every --chaos-every during the load (kill -9
    /// the service under its supervisor, SIGSTOP/SIGCONT it, ...); a
    /// `chaos` record per injection; gates recovery_ms_max and
    /// chaos_command_failures.
    #[arg(long, value_name = "SHELL-CMD")]
    pub chaos_cmd: Option<String>,

    /// Time between chaos injections (the first is one period in).
    #[arg(long, value_name = "DURATION", value_parser = common::cli::duration, default_value = "5m", requires = "chaos_cmd")]
    pub chaos_every: Duration,

    /// Gate: every outage a chaos injection caused ends (a request sent
    /// after its first failure succeeds) within this.
    #[arg(long, value_name = "DURATION", value_parser = common::cli::duration_ms, default_value = "2m", requires = "chaos_cmd")]
    pub max_recovery: f64,

    /// Gate: chaos injections with no observed effect (no request failed
    /// after it and, with --pid/--pid-file, the process did not restart)
    /// at most this many. A SIGSTOP stall shorter than --timeout fails no
    /// request: allow it here, or give a shorter --timeout.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64), default_value = "0", requires = "chaos_cmd")]
    pub max_chaos_no_effect: u64,

    #[command(flatten)]
    pub format: FormatArg<Format>,

    #[command(flatten)]
    pub quiet: QuietArg,

    #[command(flatten)]
    pub gates: GateArgs,
}

#[derive(Debug, Args)]
pub struct ReportArgs {
    /// Files with window records (`-` for stdin).
    #[arg(value_name = "FILE", default_value = "-")]
    pub files: Vec<String>,

    #[command(flatten)]
    pub format: FormatArg<Format>,

    #[command(flatten)]
    pub gates: GateArgs,
}

/// The clap command, for man pages and completions.
pub fn command() -> clap::Command {
    Cli::command()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clap_definition_is_consistent() {
        command().debug_assert();
    }

    #[test]
    fn value_parsers() {
        assert_eq!(growth("10%"), Ok(0.1));
        assert_eq!(growth("150%"), Ok(1.5));
        assert!(growth("1.5").is_err());
        assert!(growth("-1%").is_err());
        assert_eq!(per_hour("5ms"), Ok(5.0));
        assert_eq!(per_hour("1s/h"), Ok(1000.0));
        assert!(per_hour("fast").is_err());
    }
}
