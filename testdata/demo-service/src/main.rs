//! demo-service: the small HTTP service hardgate's tests, benchmarks and
//! README run their gates against.
//!
//! It is deliberately ordinary (tokio + hyper, sessions in SQLite, a JSON
//! Lines access log) so the gates see what they would see on a real service,
//! and it can be made to misbehave on purpose, one fault or several at once,
//! so each gate can be shown to catch what it claims to catch.
//!
//! Start-up order matters for the faults that fork: every `fork()` happens
//! here in `main` before the tokio runtime starts, while the process still
//! has a single thread (see `faults.rs`).

use std::io::Write;
use std::process::ExitCode;
use std::sync::Arc;

use clap::Parser;

mod accesslog;
mod audit;
mod cli;
mod confirmations;
#[allow(
    unsafe_code,
    reason = "fork() and _exit() for the process faults; each use has a SAFETY note"
)]
mod faults;
mod handlers;
mod pii;
mod provenance;
mod server;
mod store;

use cli::Cli;

fn main() -> ExitCode {
    common::runner::run("demo-service", || run(Cli::parse()))
}

fn run(cli: Cli) -> common::Result<common::Outcome> {
    if cli.audit {
        return audit::run(&cli.db);
    }
    // Faults that leave processes behind are forked first, while we are one thread.
    let mut fault_lines = Vec::new();
    if cli.orphan {
        let pid = faults::spawn_orphan(cli.child_lifetime)?;
        fault_lines.push(format!("fault: orphan pid {pid}"));
    }
    if cli.zombie {
        let pid = faults::spawn_zombie()?;
        fault_lines.push(format!("fault: zombie pid {pid}"));
    }
    // Catch SIGTERM/SIGINT from here on: a supervisor may signal as soon as
    // the port opens, before the runtime below has installed its handlers.
    let early = server::EarlySignals::install()?;
    if let Some(delay) = cli.slow_start {
        let end = std::time::Instant::now() + delay;
        while std::time::Instant::now() < end && !early.stop_requested(cli.ignore_sigterm) {
            std::thread::sleep(
                std::time::Duration::from_millis(5).min(end - std::time::Instant::now()),
            );
        }
    }

    let faults = store::Faults {
        no_transactions: cli.no_transactions,
        unguarded_decisions: cli.unguarded_decisions,
        skip_chain_every: cli.skip_chain_every,
        blank_provenance_every: cli.blank_provenance_every,
    };
    let store = store::Store::open(&cli.db, faults)?;
    let log = match &cli.access_log {
        Some(path) => Some(accesslog::AccessLog::open(path, cli.fake_pii, cli.seed)?),
        None => None,
    };

    let listener = std::net::TcpListener::bind(cli.listen)
        .map_err(|e| common::Error::io(format!("--listen {}", cli.listen), e))?;
    let addr = listener
        .local_addr()
        .map_err(|e| common::Error::io("listening socket", e))?;
    if cli.hold_port {
        // Forked after bind so the child inherits the listening socket.
        let pid = faults::spawn_port_holder(cli.child_lifetime)?;
        fault_lines.push(format!("fault: port holder pid {pid} port {}", addr.port()));
    }
    listener
        .set_nonblocking(true)
        .map_err(|e| common::Error::io("listening socket", e))?;

    // The first line on stdout is the contract tests and `log:` probes wait for.
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "listening on {addr}");
    let _ = writeln!(out, "pid {}", std::process::id());
    for line in &fault_lines {
        let _ = writeln!(out, "{line}");
    }
    let _ = out.flush();
    drop(out);

    let mut runtime = tokio::runtime::Builder::new_multi_thread();
    runtime.enable_all();
    if let Some(n) = cli.workers {
        runtime.worker_threads(n.max(1));
    }
    let runtime = runtime
        .build()
        .map_err(|e| common::Error::io("tokio runtime", e))?;
    let state = Arc::new(server::State::new(&cli, store, log)?);
    runtime.block_on(server::serve(listener, state, early))?;
    Ok(common::Outcome::Pass)
}
