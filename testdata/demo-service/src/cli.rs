//! Command-line flags: where to listen and store, and which faults to switch on.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use clap::Parser;

const EXAMPLES: &str = "\
Examples:
  # A clean service on a port the OS picks; the first stdout line names it.
  demo-service --listen 127.0.0.1:0 --db /tmp/demo.db --access-log /tmp/access.jsonl

  # Logs with fake personal data in them, for pii-scrub.
  demo-service --access-log access.jsonl --fake-pii --seed 7

  # A misbehaving service: slow to start, 2% of requests fail, leaks an orphan.
  demo-service --slow-start 2s --fail-rate 2% --seed 1 --orphan

  # A memory leak of 64 KiB a request (soak-load's rss_growth must fail).
  demo-service --leak-per-request 64KiB

  # Turns that take 50 ms and are not written in one transaction; after a
  # kill -9 mid-turn, the audit names the orphaned sessions.
  demo-service --db /tmp/demo.db --turn-time 50ms --no-transactions
  demo-service --audit --db /tmp/demo.db

Endpoints:
  GET  /v1/health      {\"status\":\"ok\",\"uptime_ms\":..,\"requests\":..}
  POST /v1/chat        {\"message\":\"hi\",\"session_id\":\"s-000001\"?} -> {\"reply\":..}
  POST /v1/action      {\"action\":\"sum\"|\"reverse\"|..,\"args\":..} -> {\"ok\":true,\"result\":..}
  POST /session/start  {\"user\":\"alice\"?} -> 201 {\"session_id\":\"s-000001\",..}
  POST /session/stop   {\"session_id\":\"s-000001\"} -> {\"stopped_at\":..,\"messages\":..}
  POST /confirmation/request {\"session_id\":..,\"action\":..} -> 201 {\"confirmation_id\":\"c-000001\",..}
  POST /confirmation/decide  {\"confirmation_id\":..,\"decision\":\"approve\"|\"deny\"}
                       -> {\"status\":\"approved\",..}; 409 when decided or closed
  GET  /session/s-000001, /memory/m-000001, /confirmation/c-000001
                       what was stored (a memory with its provenance record)
  GET  /v1/audit       {\"findings\":N,\"records\":[..]} (as --audit)
  Every response echoes the x-correlation-id request header (one is made up
  when it is missing) in the header and in the JSON body.

Standard output: `listening on ADDR` (first line), `pid N`, then one
`fault: ...` line per process fault with the pid it concerns.

Exit status: 0 after a graceful stop (SIGTERM or SIGINT), 2 when it cannot
start (bad flags, port in use, unwritable database or log). With --audit:
0 no finding, 1 findings, 2 the database cannot be read.";

/// The system under test for hardgate: a small HTTP service with faults on demand.
#[derive(Debug, Parser)]
#[command(name = "demo-service", version, after_long_help = EXAMPLES)]
pub struct Cli {
    /// Address to listen on; port 0 lets the OS pick (printed on stdout).
    #[arg(long, default_value = "127.0.0.1:8080", value_name = "ADDR")]
    pub listen: SocketAddr,

    /// The SQLite database holding sessions and chat messages (created if missing).
    #[arg(long, default_value = "demo.db", value_name = "PATH")]
    pub db: PathBuf,

    /// Append one JSON line per request to this file.
    #[arg(long, value_name = "PATH")]
    pub access_log: Option<PathBuf>,

    /// Put fake personal data in the access log: emails, phone numbers, IP
    /// addresses, card numbers (Luhn-valid) and API tokens.
    #[arg(long)]
    pub fake_pii: bool,

    /// Seed for everything random (fake data, which requests fail).
    #[arg(long, default_value_t = 0, value_name = "N")]
    pub seed: u64,

    /// Worker threads (default: one per CPU).
    #[arg(long, value_name = "N")]
    pub workers: Option<usize>,

    /// How long to let in-flight requests finish after SIGTERM.
    #[arg(long, default_value = "5s", value_name = "DURATION", value_parser = common::cli::duration)]
    pub drain_timeout: Duration,

    /// Fault: wait this long before opening the port.
    #[arg(long, value_name = "DURATION", value_parser = common::cli::duration)]
    pub slow_start: Option<Duration>,

    /// Fault: answer this fraction of requests (any endpoint) with 500;
    /// which ones is decided by --seed. Example: 2%
    #[arg(long, value_name = "FRACTION", value_parser = common::cli::fraction)]
    pub fail_rate: Option<f64>,

    /// Fault: answer this fraction of session starts 200 {"error":"database
    /// is locked"} without starting a session (a service that turns
    /// SQLITE_BUSY into a success); which ones is decided by --seed.
    /// Example: 100%
    #[arg(long, value_name = "FRACTION", value_parser = common::cli::fraction)]
    pub locked_starts: Option<f64>,

    /// Fault: add this much latency to every request.
    #[arg(long, value_name = "DURATION", value_parser = common::cli::duration)]
    pub latency: Option<Duration>,

    /// Fault: stall every request for --stall-for once per this period.
    #[arg(long, value_name = "DURATION", value_parser = common::cli::duration, requires = "stall_for")]
    pub stall_every: Option<Duration>,

    /// Fault: how long each periodic stall lasts.
    #[arg(long, value_name = "DURATION", value_parser = common::cli::duration, requires = "stall_every")]
    pub stall_for: Option<Duration>,

    /// Fault: keep this much memory per request, never freed: bytes, or
    /// with a binary unit (k/K/KiB = 1024, M/MiB = 1024 KiB). Example: 64KiB
    #[arg(long, value_name = "SIZE", value_parser = size)]
    pub leak_per_request: Option<usize>,

    /// Fault: double-fork a child that escapes into its own session and
    /// outlives the service (an orphan).
    #[arg(long)]
    pub orphan: bool,

    /// Fault: fork a child that exits at once and is never reaped (a zombie).
    #[arg(long)]
    pub zombie: bool,

    /// Fault: ignore SIGTERM (only SIGINT or SIGKILL stop the service).
    #[arg(long)]
    pub ignore_sigterm: bool,

    /// Fault: fork a child that keeps the listening socket open after the
    /// service exits (a leaked port).
    #[arg(long)]
    pub hold_port: bool,

    /// Fault: serve N requests, then abort (SIGABRT) on the next one.
    #[arg(long, value_name = "N")]
    pub crash_after: Option<u64>,

    /// How long a chat turn in a session takes before it is stored (the
    /// model's answer, the memory's indexing).
    #[arg(long, value_name = "DURATION", value_parser = common::cli::duration)]
    pub turn_time: Option<Duration>,

    /// How long a decided action takes to run.
    #[arg(long, value_name = "DURATION", value_parser = common::cli::duration)]
    pub action_time: Option<Duration>,

    /// Fault: write each multi-row change statement by statement, not in a
    /// transaction; a turn stores its message before --turn-time and its
    /// provenance after. A crash in between leaves an orphaned session.
    #[arg(long)]
    pub no_transactions: bool,

    /// Fault: decide a confirmation by checking it, running the action
    /// (--action-time), then writing without a guard: concurrent decisions
    /// can both win, and a decision can land after its session closed.
    #[arg(long)]
    pub unguarded_decisions: bool,

    /// Fault: every Nth provenance record links to the record before its
    /// predecessor instead of to its predecessor (a broken chain).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    pub skip_chain_every: Option<u64>,

    /// Fault: every Nth provenance record has an empty source_type.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    pub blank_provenance_every: Option<u64>,

    /// Fault: answer a chat turn at once and store it this much later; a
    /// crash in between loses a write the client was told was stored.
    #[arg(long, value_name = "DURATION", value_parser = common::cli::duration)]
    pub write_behind: Option<Duration>,

    /// Do not serve: audit the database (--db) and print every violation
    /// as a JSON line (orphaned sessions, phantom confirmations, broken
    /// provenance chains, empty required fields). Exit 1 if there is any.
    #[arg(long)]
    pub audit: bool,

    /// How long the orphan and port-holder children live at most.
    #[arg(long, default_value = "10m", value_name = "DURATION", value_parser = common::cli::duration)]
    pub child_lifetime: Duration,
}

/// `65536`, `64KiB`, `64k`, `64K`, `1MiB`, `1M` (binary units; a `B` after
/// the unit is allowed): bytes.
fn size(text: &str) -> Result<usize, String> {
    let bad = || format!("'{text}' is not a size (examples: 65536, 64KiB, 64k, 1MiB, 1M)");
    let t = text.trim();
    let t = t
        .strip_suffix("iB")
        .or_else(|| t.strip_suffix('B'))
        .unwrap_or(t);
    let (digits, shift) = match t.char_indices().last() {
        Some((i, 'k' | 'K')) => (&t[..i], 10),
        Some((i, 'M')) => (&t[..i], 20),
        _ => (t, 0),
    };
    let digits = digits.trim();
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(bad());
    }
    let n: usize = digits.parse().map_err(|_| bad())?;
    n.checked_mul(1usize << shift)
        .ok_or_else(|| format!("'{text}' is too large"))
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    #[test]
    fn clap_definition_is_consistent() {
        super::Cli::command().debug_assert();
    }

    #[test]
    fn sizes() {
        use super::size;
        assert_eq!(size("65536"), Ok(65536));
        assert_eq!(size("64KiB"), Ok(65536));
        assert_eq!(size("64k"), Ok(65536));
        assert_eq!(size("64K"), Ok(65536));
        assert_eq!(size("64KB"), Ok(65536));
        assert_eq!(size("1MiB"), Ok(1 << 20));
        assert_eq!(size("2M"), Ok(2 << 20));
        for bad in ["", "KiB", "-1", "1.5M", "64 parsecs", "1G", "m"] {
            assert!(size(bad).is_err(), "{bad}");
        }
        assert!(size("99999999999999999999M").is_err());
    }
}
