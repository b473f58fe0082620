//! One `run`: start the runtime and the load, close a window every
//! `--window` (figures, memory, histogram), watch for SIGINT, and end with
//! the summary.
//!
//! The summary is folded from the very window records written, through the
//! same code `report` uses, so re-judging the saved output gives the same
//! figures.

use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use common::summary::SummaryBuilder;
use common::{interrupt, Error, Outcome, Result};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use tokio::time::Instant;

use crate::config::RunConfig;
use crate::judge::Totals;
use crate::load::{self, Ctx};
use crate::memory::{self, Restarts, Watch};
use crate::reqlog::RequestsLog;
use crate::sink::Sink;
use crate::stats::Recorder;
use crate::window::{Figures, Memory, TargetWindow, Window};

/// After SIGINT, how long requests in flight may still finish.
const INTERRUPT_GRACE: Duration = Duration::from_secs(1);
/// How often the session looks at SIGINT and redraws progress.
const POLL: Duration = Duration::from_millis(50);

/// Closes windows: drains the shards, reads memory, builds the record.
struct Windows {
    ctx: Arc<Ctx>,
    agg: Recorder,
    watch: Option<Watch>,
    /// Shared with the task that looks for restarts between windows.
    restarts: Arc<Mutex<Restarts>>,
    warned_memory: bool,
    /// Ports the watched tree must listen on, and what was found: true
    /// once a reading came from a tree that did, false while every check
    /// said it did not (the last pid checked kept for the warning).
    listener_ports: Vec<u16>,
    serves: Option<bool>,
    unrelated_pid: Option<i32>,
    totals: Totals,
    next_number: u64,
    /// Windows ending by then are warm-up windows.
    warm_at: Instant,
}

impl Windows {
    fn memory(&mut self) -> Memory {
        let Some(w) = &self.watch else {
            return Memory::default();
        };
        // Sampled under the lock: the watcher task may look in between, and
        // an identity read before its newer look, observed after it, would
        // count the old process back and the new one again (two restarts
        // for one, seen under load in the kill -9 race test).
        let mut restarts = self.restarts.lock().unwrap_or_else(|p| p.into_inner());
        let sampled = memory::sample_identified(w);
        let mut memory = match sampled {
            Ok((m, id)) => {
                restarts.observe(Some(id));
                if !self.listener_ports.is_empty() && self.serves != Some(true) {
                    match crate::listening::serves(&memory::tree(id.pid), &self.listener_ports) {
                        Some(true) => self.serves = Some(true),
                        Some(false) => {
                            self.serves = Some(false);
                            self.unrelated_pid = Some(id.pid);
                        }
                        None => {}
                    }
                }
                m
            }
            Err(e) => {
                if !self.warned_memory {
                    common::runner::warn("soak-load", format!("memory not read: {e}"));
                    self.warned_memory = true;
                }
                restarts.look(w);
                Memory::default()
            }
        };
        memory.service_restarts = Some(restarts.take());
        memory
    }

    fn wall(&self, at: Instant) -> String {
        common::clock::rfc3339(self.ctx.start_wall + at.saturating_duration_since(self.ctx.start))
    }

    fn close(&mut self, from: Instant, to: Instant, interrupted: bool, unfinished: u64) -> Window {
        self.ctx.shards.drain_into(&mut self.agg);
        let duration_ms = common::clock::ms(to.saturating_duration_since(from));
        let total = self.agg.total();
        let targets: Vec<TargetWindow> = self
            .ctx
            .plan
            .stat_names
            .iter()
            .zip(&self.agg.stats)
            .map(|(name, s)| TargetWindow {
                name: name.clone(),
                figures: Figures::of_stat(s, duration_ms),
            })
            .collect();
        let w = Window {
            kind: "window".into(),
            window: self.next_number,
            started_at: self.wall(from),
            ended_at: self.wall(to),
            offset_ms: common::clock::ms(from.saturating_duration_since(self.ctx.start)),
            duration_ms,
            figures: Figures::of_stat(&total, duration_ms),
            in_flight: self.ctx.in_flight.load(),
            memory: self.memory(),
            interrupted,
            unfinished,
            warmup: to <= self.warm_at && self.warm_at > self.ctx.start,
            targets,
        };
        let hists: Vec<_> = self
            .ctx
            .plan
            .stat_names
            .iter()
            .cloned()
            .zip(self.agg.stats.iter().map(|s| s.latency.clone()))
            .collect();
        self.totals.add(&w, &total.latency, &hists);
        self.agg.reset();
        self.next_number += 1;
        w
    }
}

/// The progress line: only on a terminal, never with --quiet.
struct Progress {
    bar: Option<ProgressBar>,
    last: Instant,
    last_requests: u64,
}

impl Progress {
    fn new(quiet: bool) -> Progress {
        let bar = common::progress::should_draw(quiet).then(|| {
            let bar = ProgressBar::new_spinner();
            bar.set_draw_target(ProgressDrawTarget::stderr());
            if let Ok(style) = ProgressStyle::with_template("{spinner} {elapsed_precise} {msg}") {
                bar.set_style(style);
            }
            bar
        });
        Progress {
            bar,
            last: Instant::now(),
            last_requests: 0,
        }
    }

    fn update(&mut self, windows: &Windows) {
        let Some(bar) = &self.bar else {
            return;
        };
        let now = Instant::now();
        let dt = now.saturating_duration_since(self.last).as_secs_f64();
        if dt < 1.0 {
            return;
        }
        let mut current = Recorder::new(windows.ctx.plan.stat_names.len());
        windows.ctx.shards.peek_into(&mut current);
        let t = current.total();
        let requests = windows.totals.requests() + t.counts.requests;
        let rate = requests.saturating_sub(self.last_requests) as f64 / dt;
        let errors = if t.counts.requests > 0 {
            100.0 * t.counts.errors_total() as f64 / t.counts.requests as f64
        } else {
            0.0
        };
        let p95 = crate::histo::quantile_ms(&t.latency, 0.95)
            .map_or("-".to_string(), |v| format!("{v:.1} ms"));
        bar.set_message(format!(
            "{requests} requests  {rate:.0}/s  errors {errors:.2}%  p95 {p95}  in flight {}  (window {})",
            windows.ctx.in_flight.load(),
            windows.next_number
        ));
        bar.tick();
        self.last = now;
        self.last_requests = requests;
    }

    fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}

/// Runs the load as configured and writes windows and the summary.
pub fn run(config: RunConfig) -> Result<Outcome> {
    interrupt::install()?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(config.threads)
        .enable_all()
        .build()
        .map_err(|e| Error::io("tokio runtime", e))?;
    let mut summary = SummaryBuilder::new("soak-load", env!("CARGO_PKG_VERSION"));
    summary.input(&config.input.0, config.input.1.clone());
    let start_wall = SystemTime::now();
    let (reqlog, sender) = match &config.requests_log {
        Some(path) => {
            let (log, tx) = RequestsLog::start(path, config.plan.stat_names.clone(), start_wall)?;
            (Some(log), Some(tx))
        }
        None => (None, None),
    };
    let kinds = config.plan.stat_names.len();
    let ctx = Arc::new(Ctx::new(
        config.plan,
        config.timeout,
        config.correlation_header,
        config.http2,
        sender,
        start_wall,
    ));
    if config.verify {
        ctx.verify.enable();
    }
    let chaos_config = config.chaos.clone();
    let verify = config.verify;
    let mut sink = Sink::stdout(config.format);
    let mut first_look = Restarts::default();
    if let Some(w) = &config.watch {
        first_look.look(w);
    }
    let restarts = Arc::new(Mutex::new(first_look));
    let mut windows = Windows {
        ctx: Arc::clone(&ctx),
        agg: Recorder::new(kinds),
        watch: config.watch.clone(),
        restarts: Arc::clone(&restarts),
        warned_memory: false,
        listener_ports: config.listener_ports.clone(),
        serves: None,
        unrelated_pid: None,
        totals: Totals::new(),
        next_number: 1,
        warm_at: ctx.start + config.warmup,
    };
    let mut progress = Progress::new(config.quiet);
    let window = config.window;
    // Windows close on the run's clock; in a run with a duration the last
    // one runs from the last tick before the end to the actual end (drain
    // included), so no sliver of a window is left over.
    let last_tick = config.limit.duration;
    let result: Result<(bool, After)> = runtime.block_on(async {
        let chaos_done = Arc::new(std::sync::atomic::AtomicBool::new(false));
        // Restarts tell a chaos injection's effect only when a process is watched.
        let watched = config.watch.as_ref().map(|_| Arc::clone(&restarts));
        let chaos_task = chaos_config.clone().map(|c| {
            tokio::spawn(crate::chaos::schedule(
                Arc::clone(&ctx),
                c,
                Arc::clone(&chaos_done),
                watched.clone(),
            ))
        });
        let watcher = config
            .watch
            .clone()
            .map(|w| tokio::spawn(watch_restarts(w, Arc::clone(&restarts))));
        let mut load = tokio::spawn(load::generate(
            Arc::clone(&ctx),
            config.model,
            config.limit,
            INTERRUPT_GRACE,
        ));
        let mut from = ctx.start;
        let mut next = ctx.start + window;
        let mut interrupted = false;
        let unfinished = loop {
            let tick_allowed = last_tick.is_none_or(|d| next < ctx.start + d);
            tokio::select! {
                done = &mut load => break done.unwrap_or(0),
                _ = tokio::time::sleep_until(next), if tick_allowed => {
                    let w = windows.close(from, next, false, 0);
                    sink.window(&w)?;
                    from = next;
                    next += window;
                }
                _ = tokio::time::sleep(POLL) => {
                    if interrupt::requested() && !ctx.stopping() {
                        ctx.stop.store(true, Ordering::Relaxed);
                        interrupted = true;
                    }
                    progress.update(&windows);
                }
            }
        };
        if let Some(task) = watcher {
            task.abort();
        }
        let w = windows.close(
            from,
            Instant::now(),
            interrupted,
            if interrupted { unfinished } else { 0 },
        );
        if !interrupted && unfinished > 0 {
            common::runner::warn(
                "soak-load",
                format!("{unfinished} requests were still unanswered after their timeout"),
            );
        }
        sink.window(&w)?;
        let after = after_the_load(
            &ctx,
            chaos_config.as_ref(),
            verify,
            interrupted,
            &chaos_done,
            chaos_task,
            watched.as_deref(),
        )
        .await;
        for r in after.chaos.iter().flat_map(|c| &c.records) {
            sink.record(r)?;
        }
        for r in after.verified.iter().flat_map(|v| &v.records) {
            sink.record(r)?;
        }
        Ok((interrupted, after))
    });
    progress.finish();
    // Ends every task still holding the context (and so the log's sender).
    runtime.shutdown_timeout(Duration::from_millis(200));
    let (interrupted, after) = result?;
    // The last holders of the context, and so of the requests log's sender.
    let Windows {
        totals,
        ctx: held,
        serves,
        unrelated_pid,
        listener_ports,
        ..
    } = windows;
    drop(held);
    drop(ctx);
    if let Some(log) = reqlog {
        log.finish()?;
    }
    let mut limits = config.limits;
    if limits.max_restarts.is_none() && totals.restarts().is_some() {
        // Under --chaos-cmd each injection may end the service once (that
        // is what a kill -9 under a supervisor does); more is a crash of
        // its own.
        limits.max_restarts = after.chaos.as_ref().map(|c| c.records.len() as f64);
    }
    for gate in totals.gates(&limits) {
        summary.gate(gate);
    }
    for (k, v) in totals.figures() {
        summary.figure(&k, v);
    }
    after.add_to(&mut summary);
    // Whether the memory judged was the service's (see listening.rs): 1
    // when no reading came from a tree listening on a target's port.
    let unrelated = serves.map(|s| u64::from(!s));
    if let Some(u) = unrelated {
        summary.gate(common::gate::Gate::at_most("rss_unrelated", 0.0, u as f64));
    }
    summary.figure("rss_unrelated", serde_json::json!(unrelated));
    if let (Some(false), Some(pid)) = (serves, unrelated_pid) {
        let ports: Vec<String> = listener_ports.iter().map(u16::to_string).collect();
        common::runner::warn(
            "soak-load",
            format!(
                "the watched process {pid} (and its descendants) holds no listening socket on \
                 the target's port {}: its memory is not the service's",
                ports.join(", ")
            ),
        );
    }
    warn_about(&totals);
    let mut s = summary.finish(interrupted);
    if let (Some(a), Some(b)) = (&totals.first_started_at, &totals.last_ended_at) {
        s.started_at = a.clone();
        s.finished_at = b.clone();
    }
    sink.summary(&s)?;
    Ok(s.outcome())
}

/// Looks at the watched process every [`memory::RESTART_POLL`], so a
/// process that ended and was replaced between two windows is counted.
async fn watch_restarts(watch: Watch, restarts: Arc<Mutex<Restarts>>) {
    let mut tick = tokio::time::interval(memory::RESTART_POLL);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        restarts
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .look(&watch);
    }
}

/// What is judged once the load is over: the chaos injections' outages
/// and the verification of acknowledged writes.
struct After {
    chaos: Option<crate::chaos::Outcome>,
    verified: Option<crate::verify::Outcome>,
}

impl After {
    fn add_to(&self, summary: &mut SummaryBuilder) {
        if let Some(c) = &self.chaos {
            for g in c.gates() {
                summary.gate(g);
            }
            for (k, v) in c.figures() {
                summary.figure(k, v);
            }
        }
        if let Some(v) = &self.verified {
            for g in v.gates() {
                summary.gate(g);
            }
            for (k, value) in v.figures() {
                summary.figure(k, value);
            }
        }
    }
}

/// Lets a chaos command still running finish, then reads back the
/// acknowledged writes (not after an interrupt: then nothing is vouched
/// for, and the verification gates fail).
async fn after_the_load(
    ctx: &Arc<Ctx>,
    chaos: Option<&crate::chaos::Config>,
    verify: bool,
    interrupted: bool,
    chaos_done: &std::sync::atomic::AtomicBool,
    chaos_task: Option<tokio::task::JoinHandle<()>>,
    restarts: Option<&Mutex<Restarts>>,
) -> After {
    chaos_done.store(true, Ordering::Relaxed);
    if let Some(task) = chaos_task {
        let _ = task.await;
    }
    let restarts_now = restarts.map(crate::chaos::seen);
    let chaos = chaos.map(|c| crate::chaos::finish(ctx, c, restarts_now));
    let verified = match (verify, interrupted) {
        (false, _) => None,
        (true, true) => Some(crate::verify::Outcome::default()),
        (true, false) => Some(crate::verify::run(Arc::clone(ctx)).await),
    };
    After { chaos, verified }
}

/// Things a person should know about the run's own honesty.
fn warn_about(totals: &Totals) {
    let f = totals.figures();
    let get = |k: &str| f.get(k).and_then(serde_json::Value::as_u64).unwrap_or(0);
    let late = get("late");
    if late > 0 {
        common::runner::warn(
            "soak-load",
            format!(
                "{late} sends started over 10 ms after their intended time (all --max-in-flight \
                 slots busy, or this machine could not keep up); their latency includes the wait"
            ),
        );
    }
    let requests = get("requests");
    if requests > 0 && get("ok") == 0 {
        common::runner::warn("soak-load", "no request succeeded");
    }
    let restarts = get("service_restarts");
    if restarts > 0 {
        common::runner::warn(
            "soak-load",
            format!("the watched service process ended or was replaced {restarts} times"),
        );
    }
    if f.get("rss_max_bytes").is_some_and(|v| !v.is_null()) && totals.rss_growth().is_nan() {
        common::runner::warn(
            "soak-load",
            "rss_growth: no one process was read in two windows (growth is never measured \
             from one process to another); use longer runs or shorter --window",
        );
    }
}
