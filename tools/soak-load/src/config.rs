//! Validated settings built from the command line (parse, then configure):
//! profiles applied, the targets compiled, the watched process checked.

use std::time::Duration;

use common::{Error, Result};
use hyper::header::HeaderName;

use crate::cli::{Format, GateArgs, Profile, RunArgs};
use crate::judge::Limits;
use crate::load::{Limit, Model};
use crate::memory::Watch;
use crate::schedule::Schedule;
use crate::targets::{self, CliTarget, Plan};

/// What a profile sets: rate, duration, gates.
struct Preset {
    rate: f64,
    duration: Duration,
    limits: Limits,
}

fn preset(p: Profile) -> Preset {
    // The seed gates: p95 < 100 ms, p99 < 150 ms, error rate < 1%.
    let limits = Limits {
        max_error_rate: Some(0.01),
        max_p95_ms: Some(100.0),
        max_p99_ms: Some(150.0),
        ..Limits::default()
    };
    match p {
        Profile::Baseline => Preset {
            rate: 1000.0,
            duration: Duration::from_secs(600),
            limits,
        },
        Profile::Spike => Preset {
            rate: 5000.0,
            duration: Duration::from_secs(300),
            limits,
        },
    }
}

/// The gate limits of `args`, a profile's filling in what was not given.
pub fn limits(args: &GateArgs) -> Limits {
    let own = Limits {
        max_error_rate: args.max_error_rate,
        max_p95_ms: args.max_p95,
        max_p99_ms: args.max_p99,
        max_rss_growth: args.max_rss_growth,
        max_p95_slope_ms_per_hour: args.max_p95_slope,
        min_throughput_rps: args.min_throughput,
        max_restarts: args.max_restarts.map(|n| n as f64),
        max_skipped_steps: args.max_skipped_steps.map(|n| n as f64),
        chaos: false,
    };
    match args.profile {
        Some(p) => own.or(preset(p).limits),
        None => own,
    }
}

/// Everything `run` needs, checked.
pub struct RunConfig {
    pub plan: Plan,
    /// The targets file and its sha256, or the URL.
    pub input: (String, Option<String>),
    pub model: Model,
    pub limit: Limit,
    pub timeout: Duration,
    pub window: Duration,
    /// --warmup: windows ending within it are marked, their memory not judged.
    pub warmup: Duration,
    pub correlation_header: HeaderName,
    /// --http2: h2c with prior knowledge instead of HTTP/1.1.
    pub http2: bool,
    pub requests_log: Option<String>,
    pub watch: Option<Watch>,
    /// The local (loopback) ports of the targets the watched process must
    /// listen on (empty: not checked, --no-listener-check or no local target).
    pub listener_ports: Vec<u16>,
    pub threads: usize,
    pub format: Format,
    pub quiet: bool,
    pub limits: Limits,
    /// --verify: re-read acknowledged writes at the end.
    pub verify: bool,
    pub chaos: Option<crate::chaos::Config>,
}

impl RunConfig {
    pub fn from_args(args: &RunArgs) -> Result<RunConfig> {
        let preset = args.gates.profile.map(preset);
        let limits = limits(&args.gates);
        let rate = args.rate.or(if args.connections.is_none() {
            preset.as_ref().map(|p| p.rate)
        } else {
            None
        });
        if args.actors.is_some() && args.requests.is_some() {
            return Err(Error::usage(
                "--requests and --actors exclude each other (--actors N --ops M runs N x M picks)",
            ));
        }
        if args.ops.is_some() && args.actors.is_none() {
            return Err(Error::usage(
                "--ops N needs --actors M (each actor runs N picks)",
            ));
        }
        if args.threads == Some(0) {
            return Err(Error::usage("--threads must be at least 1"));
        }
        let threads = args.threads.unwrap_or_else(|| {
            std::thread::available_parallelism().map_or(2, std::num::NonZeroUsize::get)
        });
        let model = match (rate, args.connections, args.actors) {
            (_, _, Some(actors)) => {
                if actors == 0 {
                    return Err(Error::usage("--actors must be at least 1"));
                }
                match args.ops {
                    Some(0) | None => return Err(Error::usage("--ops must be at least 1")),
                    Some(ops) => Model::Actors { actors, ops },
                }
            }
            (rate, connections, None) => match (rate, connections) {
                (Some(rate), None) => {
                    if args.max_in_flight == 0 {
                        return Err(Error::usage("--max-in-flight must be at least 1"));
                    }
                    Model::Open {
                        schedule: Schedule {
                            rate,
                            ramp_s: args.ramp.as_secs_f64(),
                        },
                        max_in_flight: args.max_in_flight,
                    }
                }
                (None, Some(0)) => return Err(Error::usage("--connections must be at least 1")),
                (None, Some(n)) => Model::Closed {
                    connections: n,
                    ramp: args.ramp,
                    threads,
                },
                (Some(_), Some(_)) => {
                    return Err(Error::usage("--rate and --connections exclude each other"))
                }
                (None, None) => {
                    return Err(Error::usage(
                        "say how to send: --rate R (open model, e.g. 1000/s), --connections N \
                     (closed model), --actors N --ops M or --profile NAME",
                    ))
                }
            },
        };
        let duration = args.duration.or(if args.requests.is_none() {
            preset.as_ref().map(|p| p.duration)
        } else {
            None
        });
        if duration.is_some_and(|d| d.is_zero()) {
            return Err(Error::usage("--duration must be above zero"));
        }
        if args.requests == Some(0) {
            return Err(Error::usage("--requests must be at least 1"));
        }
        if args.window < Duration::from_millis(10) {
            return Err(Error::usage("--window must be at least 10ms"));
        }
        if duration.is_some_and(|d| !args.warmup.is_zero() && args.warmup >= d) {
            return Err(Error::usage(
                "--warmup must be shorter than --duration (no window would be left to judge memory on)",
            ));
        }
        if args.timeout.is_zero() {
            return Err(Error::usage("--timeout must be above zero"));
        }
        let correlation_header = HeaderName::from_bytes(args.correlation_header.as_bytes())
            .map_err(|_| {
                Error::usage(format!(
                    "--correlation-header '{}' is not a valid header name",
                    args.correlation_header
                ))
            })?;
        let watch = match (&args.pid, &args.pid_file) {
            (Some(pid), _) => Some(Watch::Pid(*pid)),
            (None, Some(path)) => Some(Watch::PidFile(path.clone())),
            (None, None) => None,
        };
        if let Some(w) = &watch {
            crate::memory::sample(w).map_err(|e| {
                Error::usage(format!("--pid/--pid-file: {e}"))
                    .with_hint("start the service first; soak-load watches a running process")
            })?;
        } else if limits.max_rss_growth.is_some() {
            return Err(Error::usage(
                "--max-rss-growth needs the service's process: --pid PID or --pid-file FILE",
            ));
        } else if limits.max_restarts.is_some() {
            return Err(Error::usage(
                "--max-restarts needs the service's process: --pid PID or --pid-file FILE",
            ));
        }
        let (plan, input) = match (&args.targets, &args.url) {
            (Some(path), _) => {
                let (plan, sha) = targets::load(path)?;
                (plan, (path.clone(), sha))
            }
            (None, Some(url)) => {
                let plan = targets::from_cli(&CliTarget {
                    url,
                    method: args.method.as_deref(),
                    headers: &args.header,
                    body: args.body.as_deref(),
                    accept: &args.accept_status,
                })?;
                (plan, (url.clone(), None))
            }
            (None, None) => return Err(Error::usage("give a URL or --targets FILE")),
        };
        if args.verify && !crate::verify::has_verify_steps(&plan) {
            return Err(Error::usage(
                "--verify: no step of the targets verifies a write (add a step with \"verify\": STEP and \"expect\")",
            ));
        }
        let chaos = match &args.chaos_cmd {
            Some(c) if c.trim().is_empty() => {
                return Err(Error::usage("--chaos-cmd: the command is empty"))
            }
            Some(c) => {
                if args.chaos_every.is_zero() {
                    return Err(Error::usage("--chaos-every must be above zero"));
                }
                Some(crate::chaos::Config {
                    command: c.clone(),
                    every: args.chaos_every,
                    max_recovery_ms: args.max_recovery,
                    max_no_effect: args.max_chaos_no_effect as f64,
                })
            }
            None => None,
        };
        let mut listener_ports: Vec<u16> = Vec::new();
        if watch.is_some() && !args.no_listener_check {
            for e in &plan.endpoints {
                let ip = e.addr.ip();
                if (ip.is_loopback() || ip.is_unspecified())
                    && !listener_ports.contains(&e.addr.port())
                {
                    listener_ports.push(e.addr.port());
                }
            }
        }
        Ok(RunConfig {
            plan,
            input,
            model,
            limit: Limit {
                duration,
                requests: args.requests,
            },
            timeout: args.timeout,
            window: args.window,
            warmup: args.warmup,
            correlation_header,
            http2: args.http2,
            requests_log: args.requests_log.clone(),
            watch,
            listener_ports,
            threads,
            format: args.format.format,
            quiet: args.quiet.quiet,
            limits: Limits {
                chaos: chaos.is_some(),
                ..limits
            },
            verify: args.verify,
            chaos,
        })
    }
}
