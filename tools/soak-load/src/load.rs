//! Generating the load: the open model (requests at intended times, at a
//! global rate, bounded by `--max-in-flight`) and the closed model (N
//! virtual users, each sending as soon as its last answer arrived).
//!
//! Open model honesty: request `i` has an intended send time fixed by the
//! schedule, and its latency is measured from that time, not from when it
//! was finally sent. When the server stalls and every in-flight slot is
//! busy, the requests that should have gone out meanwhile are sent as soon
//! as slots free up (counted `late`), and their latency includes the wait —
//! so a stall shows in p99 the way users would feel it (coordinated
//! omission corrected, as in wrk2). A request whose slot comes free only
//! after `--timeout` is not sent at all: it is counted `dropped`, an error.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use hyper::header::{HeaderName, HeaderValue};
use serde_json::Value;
use tokio::sync::Semaphore;
use tokio::time::Instant;

use crate::client::{self, Conns, Outgoing};
use crate::http1;
use crate::reqlog::{self, Entry};
use crate::schedule::Schedule;
use crate::stats::{ErrorClass, Shards, LATE_AFTER_US, SHARDS};
use crate::targets::{Body, HeaderText, Plan, Request, Work};
use crate::template::Splice;

/// Open or closed model.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Model {
    /// Requests at intended times; at most `max_in_flight` at once.
    Open {
        schedule: Schedule,
        max_in_flight: usize,
    },
    /// `connections` virtual users, each sending back to back; user `k`
    /// starts `k/connections` of the way through the ramp.
    /// `threads`: how many OS threads share the users (see [`closed`]).
    Closed {
        connections: usize,
        ramp: Duration,
        threads: usize,
    },
    /// `actors` virtual users, each running exactly `ops` picks back to back
    /// (see `actors.rs`).
    Actors { actors: usize, ops: u64 },
}

/// When the load stops by itself.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Limit {
    pub duration: Option<Duration>,
    /// Target picks (a sequence counts once).
    pub requests: Option<u64>,
}

/// What every request task shares.
pub struct Ctx {
    pub plan: Plan,
    pub shards: Shards,
    pub timeout: Duration,
    pub correlation_header: HeaderName,
    /// --http2: requests go as HTTP/2 (h2c) parts, not HTTP/1.1 bytes.
    http2: bool,
    /// `sl-RUN-`: what every correlation id of this run starts with.
    id_prefix: String,
    next_id: AtomicU64,
    pub in_flight: InFlight,
    pub start: Instant,
    pub start_wall: SystemTime,
    reqlog: Option<reqlog::Sender>,
    /// Set on SIGINT (or when the limit is reached): send nothing new.
    pub stop: AtomicBool,
    host_values: Vec<HeaderValue>,
    /// Reads kept for --verify (see `verify.rs`).
    pub verify: crate::verify::Queue,
    /// What --chaos-cmd injections did to the requests (see `chaos.rs`).
    pub chaos: crate::chaos::Tracker,
}

impl Ctx {
    pub fn new(
        plan: Plan,
        timeout: Duration,
        correlation_header: HeaderName,
        http2: bool,
        reqlog: Option<reqlog::Sender>,
        start_wall: SystemTime,
    ) -> Ctx {
        // Unique enough across generators started at the same moment: the
        // wall clock in µs and our pid.
        let micros = start_wall
            .duration_since(SystemTime::UNIX_EPOCH)
            .map(|d| d.as_micros() as u64)
            .unwrap_or(0);
        // At most 3 + 12 + 8 + 1 bytes: room for any u64 in a CorrelationId.
        let id_prefix = format!(
            "sl-{:x}{:x}-",
            micros & 0xffff_ffff_ffff,
            std::process::id()
        );
        let host_values = plan
            .endpoints
            .iter()
            .map(|e| {
                HeaderValue::from_str(&e.authority).unwrap_or(HeaderValue::from_static("localhost"))
            })
            .collect();
        Ctx {
            shards: Shards::new(plan.stat_names.len()),
            plan,
            timeout,
            correlation_header,
            http2,
            id_prefix,
            next_id: AtomicU64::new(1),
            in_flight: InFlight::default(),
            start: Instant::now(),
            start_wall,
            reqlog,
            stop: AtomicBool::new(false),
            host_values,
            verify: crate::verify::Queue::default(),
            chaos: crate::chaos::Tracker::default(),
        }
    }

    pub fn stopping(&self) -> bool {
        self.stop.load(Ordering::Relaxed)
    }

    /// A correlation id of its own (for a request outside any user).
    pub(crate) fn correlation_id(&self) -> CorrelationId {
        CorrelationId::new(
            &self.id_prefix,
            self.next_id.fetch_add(1, Ordering::Relaxed),
        )
    }

    /// The next correlation id of a user's block, taking a new block from
    /// the run's counter when it is used up: the counter is shared by every
    /// thread, and one atomic add per request on it costs more than the
    /// id itself.
    pub(crate) fn next_correlation_id(&self, block: &mut IdBlock) -> CorrelationId {
        if block.next == block.end {
            block.next = self.next_id.fetch_add(ID_BLOCK, Ordering::Relaxed);
            block.end = block.next + ID_BLOCK;
        }
        let n = block.next;
        block.next += 1;
        CorrelationId::new(&self.id_prefix, n)
    }

    /// The request on the wire: request line, Host, the target's headers
    /// (templates filled), the correlation id, and the body. A request
    /// without templates is written straight from the plan (nothing parsed
    /// or cloned per request).
    pub(crate) fn build(
        &self,
        req: &Request,
        responses: &[Option<Value>],
        id: &str,
    ) -> Result<Outgoing, String> {
        let rendered_uri = match &req.uri {
            Some(_) => None,
            None => Some(
                req.path
                    .render(responses, Splice::Url)?
                    .parse::<hyper::Uri>()
                    .map_err(|e| format!("the path would not be valid: {e}"))?,
            ),
        };
        let uri = rendered_uri.as_ref().or(req.uri.as_ref());
        let rendered_body = match &req.body {
            Body::Fixed(_) => None,
            Body::Json(t) => Some(t.render(responses)?.to_string().into_bytes()),
            Body::Text(t) => Some(t.render(responses, Splice::Plain)?.into_bytes()),
        };
        let body: &[u8] = match (&rendered_body, &req.body) {
            (Some(b), _) => b,
            (None, Body::Fixed(b)) => b,
            (None, _) => &[],
        };
        let target = uri
            .and_then(|u| u.path_and_query())
            .map_or("/", |p| p.as_str());
        if self.http2 {
            return self.build_h2(req, target, body, responses, id, rendered_uri.clone());
        }
        let mut wire = Vec::with_capacity(192 + target.len() + body.len());
        http1::start_request(&mut wire, req.method.as_str(), target);
        http1::header(
            &mut wire,
            b"host",
            self.host_values[req.endpoint].as_bytes(),
        );
        let mut has_length = false;
        for (name, value) in &req.headers {
            has_length |= *name == hyper::header::CONTENT_LENGTH;
            match value {
                HeaderText::Fixed(v) => {
                    http1::header(&mut wire, name.as_str().as_bytes(), v.as_bytes())
                }
                HeaderText::Template(t) => {
                    let text = t.render(responses, Splice::Plain)?;
                    let v = HeaderValue::from_str(&text)
                        .map_err(|_| format!("header '{name}' would not be valid: {text:?}"))?;
                    http1::header(&mut wire, name.as_str().as_bytes(), v.as_bytes());
                }
            }
        }
        // A correlation id is ours (letters, digits, dashes): always valid.
        http1::header(
            &mut wire,
            self.correlation_header.as_str().as_bytes(),
            id.as_bytes(),
        );
        http1::end_request(&mut wire, req.method.as_str(), has_length, body);
        Ok(Outgoing {
            wire,
            head: req.method == hyper::Method::HEAD,
            uri: rendered_uri,
            h2: None,
        })
    }

    /// The HTTP/2 form of [`Ctx::build`]: the same method, path, headers,
    /// correlation id and body as parts (`:authority` stands for Host).
    fn build_h2(
        &self,
        req: &Request,
        target: &str,
        body: &[u8],
        responses: &[Option<Value>],
        id: &str,
        rendered_uri: Option<hyper::Uri>,
    ) -> Result<Outgoing, String> {
        let authority = &self.plan.endpoints[req.endpoint].authority;
        let uri = format!("http://{authority}{target}")
            .parse::<hyper::Uri>()
            .map_err(|e| format!("the URL would not be valid: {e}"))?;
        let mut headers = hyper::HeaderMap::with_capacity(req.headers.len() + 1);
        for (name, value) in &req.headers {
            let v = match value {
                HeaderText::Fixed(v) => v.clone(),
                HeaderText::Template(t) => {
                    let text = t.render(responses, Splice::Plain)?;
                    HeaderValue::from_str(&text)
                        .map_err(|_| format!("header '{name}' would not be valid: {text:?}"))?
                }
            };
            headers.append(name.clone(), v);
        }
        // A correlation id is ours (letters, digits, dashes): always valid.
        if let Ok(v) = HeaderValue::from_str(id) {
            headers.insert(self.correlation_header.clone(), v);
        }
        Ok(Outgoing {
            wire: Vec::new(),
            head: req.method == hyper::Method::HEAD,
            uri: rendered_uri,
            h2: Some(client::H2Request {
                method: req.method.clone(),
                uri,
                headers,
                body: bytes::Bytes::copy_from_slice(body),
            }),
        })
    }

    #[allow(clippy::too_many_arguments)]
    pub(crate) fn record(
        &self,
        key: u64,
        stat: usize,
        since: Instant,
        now: Instant,
        outcome: Result<(), ErrorClass>,
        status: Option<u16>,
        late: bool,
        id: &str,
    ) -> Option<Entry> {
        self.chaos.observe(since, now, outcome.is_ok());
        let latency = now.saturating_duration_since(since);
        let latency_us = u64::try_from(latency.as_micros()).unwrap_or(u64::MAX);
        self.shards
            .lock(key)
            .record(stat, latency_us, outcome, late);
        self.reqlog.as_ref().map(|_| Entry {
            offset: since.saturating_duration_since(self.start),
            stat,
            status,
            latency_us,
            correlation_id: id.to_string(),
            error: outcome.err(),
        })
    }

    pub(crate) async fn log(&self, entry: Option<Entry>) {
        if let (Some(tx), Some(e)) = (&self.reqlog, entry) {
            let _ = tx.send(e).await;
        }
    }

    /// Sends one request of a plain target at `sent_at` and records it;
    /// `since` is when its latency started (the intended time in the open
    /// model). Returns when it ended.
    #[allow(clippy::too_many_arguments)]
    async fn one(
        &self,
        conns: &mut Conns,
        key: u64,
        req: &Request,
        since: Instant,
        sent_at: Instant,
        late: bool,
    ) -> Result<Instant, String> {
        let id = self.next_correlation_id(&mut conns.ids);
        let built = self.build(req, &[], &id)?;
        // The body is read whenever the target expects fields of it.
        let keep = !req.expect.is_empty();
        let sent = conns
            .exchange(
                sent_at,
                self.timeout,
                req.endpoint,
                &self.plan.endpoints,
                &built,
                keep,
            )
            .await;
        let (outcome, status, done) = match sent {
            Err(f) => (Err(f.class), f.status, Instant::now()),
            Ok(answer) => {
                let outcome = match client::classify(answer.status) {
                    None if !expected(req, answer.body.as_deref()) => Err(ErrorClass::Other),
                    None => Ok(()),
                    Some(_) if req.accept.contains(&answer.status) => Ok(()),
                    Some(class) => Err(class),
                };
                (outcome, Some(answer.status), answer.done)
            }
        };
        let entry = self.record(key, req.stat, since, done, outcome, status, late, &id);
        self.log(entry).await;
        Ok(done)
    }

    /// Runs target pick `pick`: one request, or a whole sequence. `key`
    /// picks the figures' shard. `intended` is the scheduled send time in
    /// the open model; the closed model passes `None` (no schedule: the
    /// latency starts now and nothing is ever late or dropped). Returns
    /// about when it ended.
    pub async fn run_pick(
        &self,
        conns: &mut Conns,
        pick: u64,
        key: u64,
        intended: Option<Instant>,
    ) -> Instant {
        let target = self.plan.target_for(pick);
        let now = Instant::now();
        let intended = intended.unwrap_or(now);
        let delay = now.saturating_duration_since(intended);
        let late = delay.as_micros() > u128::from(LATE_AFTER_US);
        let first_stat = match &target.work {
            Work::Single(r) => r.stat,
            Work::Sequence(steps) => steps[0].request.stat,
        };
        if delay > self.timeout {
            let entry = self.record(
                key,
                first_stat,
                intended,
                now,
                Err(ErrorClass::Dropped),
                None,
                true,
                "",
            );
            self.log(entry).await;
            return now;
        }
        match &target.work {
            Work::Single(req) => match self.one(conns, key, req, intended, now, late).await {
                Ok(done) => done,
                Err(e) => {
                    // Only templates can fail to build, and single targets have none.
                    debug_assert!(false, "{e}");
                    Instant::now()
                }
            },
            Work::Sequence(steps) => {
                crate::sequence::run(self, conns, key, steps, intended, late).await;
                Instant::now()
            }
        }
    }
}

/// A 2xx answer holds what the target expects (`"expect"`): its body is
/// JSON with each field equal to its value (`null`: absent or null, so
/// `{"errors": null}` fails a GraphQL answer carrying errors).
fn expected(req: &Request, body: Option<&[u8]>) -> bool {
    if req.expect.is_empty() {
        return true;
    }
    let Some(answer) = body.and_then(|b| serde_json::from_slice::<Value>(b).ok()) else {
        return false;
    };
    let answers = [Some(answer)];
    req.expect.iter().all(|(path, want)| {
        let found = crate::template::Ref {
            step: 0,
            path: path.clone(),
        }
        .lookup(&answers);
        found.unwrap_or(&Value::Null) == want
    })
}

/// Generates the load until the limit, or until `ctx.stop` is set; then
/// waits for requests in flight: all of them when the run ended by itself
/// (each is bounded by its timeout), at most `grace` after a stop.
/// Returns how many were still unanswered.
pub async fn generate(ctx: Arc<Ctx>, model: Model, limit: Limit, grace: Duration) -> u64 {
    let end = limit.duration.map(|d| ctx.start + d);
    match model {
        Model::Open {
            schedule,
            max_in_flight,
        } => open(ctx, schedule, max_in_flight, limit, end, grace).await,
        Model::Closed {
            connections,
            ramp,
            threads,
        } => closed(ctx, connections, ramp, threads, limit, end, grace).await,
        Model::Actors { actors, ops } => crate::actors::run(ctx, actors, ops, end, grace).await,
    }
}

/// How often loops waiting on time look at the stop flag.
const STOP_POLL: Duration = Duration::from_millis(20);

async fn open(
    ctx: Arc<Ctx>,
    schedule: Schedule,
    max_in_flight: usize,
    limit: Limit,
    end: Option<Instant>,
    grace: Duration,
) -> u64 {
    let slots = Arc::new(Semaphore::new(max_in_flight));
    let handle = tokio::runtime::Handle::current();
    let dispatcher = {
        let (ctx, slots) = (Arc::clone(&ctx), Arc::clone(&slots));
        tokio::task::spawn_blocking(move || dispatch(&ctx, &handle, &slots, schedule, limit, end))
    };
    let _ = dispatcher.await;
    // Drain: every slot back means nothing is in flight.
    let all = u32::try_from(max_in_flight).unwrap_or(u32::MAX);
    let bound = drain_bound(&ctx, grace);
    let _ = tokio::time::timeout(bound, slots.acquire_many(all)).await;
    ctx.in_flight.load()
}

/// The open model's clock, on a thread of its own: the runtime's timer
/// ticks in whole milliseconds, which would add up to 1 ms to every
/// latency measured from the intended time; a sleeping thread wakes within
/// microseconds. Each pick is then handed to the runtime.
fn dispatch(
    ctx: &Arc<Ctx>,
    handle: &tokio::runtime::Handle,
    slots: &Arc<Semaphore>,
    schedule: Schedule,
    limit: Limit,
    end: Option<Instant>,
) {
    // Wake when due, not up to the default 50 µs later.
    let _ = nix::sys::prctl::set_timerslack(1_000);
    let pool: Arc<Mutex<Vec<Conns>>> = Arc::new(Mutex::new(Vec::new()));
    let mut pick: u64 = 0;
    loop {
        if limit.requests.is_some_and(|n| pick >= n) {
            return;
        }
        let intended = ctx.start + schedule.offset(pick);
        if end.is_some_and(|e| intended >= e) {
            return;
        }
        loop {
            let now = Instant::now();
            if now >= intended {
                break;
            }
            if ctx.stopping() {
                return;
            }
            std::thread::sleep((intended - now).min(STOP_POLL));
        }
        let permit = match Arc::clone(slots).try_acquire_owned() {
            Ok(p) => p,
            Err(tokio::sync::TryAcquireError::Closed) => return,
            // Every slot is busy: wait (the sends are now late; their
            // latency still counts from the intended time).
            Err(tokio::sync::TryAcquireError::NoPermits) => loop {
                if ctx.stopping() {
                    return;
                }
                let wait = tokio::time::timeout(STOP_POLL, Arc::clone(slots).acquire_owned());
                match handle.block_on(wait) {
                    Ok(Ok(p)) => break p,
                    Ok(Err(_)) => return,
                    Err(_) => continue,
                }
            },
        };
        let ctx2 = Arc::clone(ctx);
        let pool2 = Arc::clone(&pool);
        ctx.in_flight.enter(pick);
        handle.spawn(async move {
            let mut conns = pool2
                .lock()
                .map(|mut p| p.pop())
                .ok()
                .flatten()
                .unwrap_or_default();
            ctx2.run_pick(&mut conns, pick, pick, Some(intended)).await;
            if let Ok(mut p) = pool2.lock() {
                p.push(conns);
            }
            ctx2.in_flight.leave(pick);
            drop(permit);
        });
        pick += 1;
    }
}

/// How long to wait for requests in flight: each ends by its own timeout
/// when the run ended by itself; after a stop, at most `grace`.
fn drain_bound(ctx: &Ctx, grace: Duration) -> Duration {
    if ctx.stopping() {
        grace
    } else {
        ctx.timeout + Duration::from_secs(1)
    }
}

/// The closed model, wrk's way: the users are split over `threads` OS
/// threads, each running its own single-threaded runtime (its own epoll
/// and timers), so an answer wakes the thread that owns its connection
/// and nothing crosses threads per request (a multi-threaded runtime's
/// hand-offs between workers cost more than the request itself on
/// loopback).
async fn closed(
    ctx: Arc<Ctx>,
    connections: usize,
    ramp: Duration,
    threads: usize,
    limit: Limit,
    end: Option<Instant>,
    grace: Duration,
) -> u64 {
    let threads = threads.clamp(1, connections.max(1));
    let next = Arc::new(AtomicU64::new(0));
    let part = |index: usize| Partition {
        ctx: Arc::clone(&ctx),
        picks: Picks {
            next: Arc::clone(&next),
            block: Arc::new(Mutex::new((0, 0))),
            limit: limit.requests,
        },
        users: (index..connections).step_by(threads).collect(),
        shard: index as u64,
        connections,
        ramp,
        end,
        grace,
    };
    let mut done = Vec::with_capacity(threads);
    for index in 0..threads {
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let spawned = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .ok()
            .and_then(|runtime| {
                let p = part(index);
                std::thread::Builder::new()
                    .name(format!("soak-load-{index}"))
                    .spawn(move || {
                        runtime.block_on(p.run());
                        // Tasks aborted after the grace end with the runtime.
                        drop(runtime);
                        let _ = tx.send(());
                    })
                    .ok()
            });
        match spawned {
            Some(_) => done.push(tokio::spawn(async move {
                let _ = rx.await;
            })),
            // No thread to be had: this share runs on the session's runtime.
            None => done.push(tokio::spawn(part(index).run())),
        }
    }
    for d in done {
        let _ = d.await;
    }
    ctx.in_flight.load()
}

/// The closed model's picks, handed to a thread's users from blocks taken
/// off the run's counter: exactly `limit` in all, and one atomic add on the
/// shared counter per block instead of per request.
#[derive(Clone)]
struct Picks {
    /// The run's next unclaimed pick, shared by all threads.
    next: Arc<AtomicU64>,
    /// This thread's block: next pick and end (exclusive).
    block: Arc<Mutex<(u64, u64)>>,
    limit: Option<u64>,
}

/// Picks taken off the shared counter at once.
const PICK_BLOCK: u64 = 64;

impl Picks {
    /// The next pick, or `None` when all were taken.
    fn take(&self) -> Option<u64> {
        let mut block = self.block.lock().unwrap_or_else(|p| p.into_inner());
        if block.0 == block.1 {
            let start = self.next.fetch_add(PICK_BLOCK, Ordering::Relaxed);
            let end = self
                .limit
                .map_or(start + PICK_BLOCK, |n| n.min(start + PICK_BLOCK));
            if start >= end {
                return None;
            }
            *block = (start, end);
        }
        let pick = block.0;
        block.0 += 1;
        Some(pick)
    }
}

/// One thread's share of the closed model's users.
struct Partition {
    ctx: Arc<Ctx>,
    picks: Picks,
    users: Vec<usize>,
    /// The figures' shard: one per thread, so threads never contend.
    shard: u64,
    connections: usize,
    ramp: Duration,
    end: Option<Instant>,
    grace: Duration,
}

impl Partition {
    async fn run(self) {
        let Partition {
            ctx,
            picks,
            users,
            shard,
            connections,
            ramp,
            end,
            grace,
        } = self;
        let mut tasks = tokio::task::JoinSet::new();
        for user in users {
            let ctx = Arc::clone(&ctx);
            let picks = picks.clone();
            tasks.spawn(async move {
                let start_at = ctx.start + ramp.mul_f64(user as f64 / connections as f64);
                while Instant::now() < start_at && !ctx.stopping() {
                    tokio::time::sleep_until(start_at.min(Instant::now() + STOP_POLL)).await;
                }
                let mut conns = Conns::default();
                // The end of the last request stands for now: a clock read saved.
                let mut now = Instant::now();
                loop {
                    if ctx.stopping() {
                        break;
                    }
                    if end.is_some_and(|e| now >= e) {
                        break;
                    }
                    let Some(pick) = picks.take() else {
                        break;
                    };
                    ctx.in_flight.enter(shard);
                    now = ctx.run_pick(&mut conns, pick, shard, None).await;
                    ctx.in_flight.leave(shard);
                }
            });
        }
        // Users end by themselves at the limit; after a stop, wait at most the grace.
        loop {
            if ctx.stopping() {
                let bound = drain_bound(&ctx, grace);
                let _ = tokio::time::timeout(bound, async {
                    while tasks.join_next().await.is_some() {}
                })
                .await;
                tasks.abort_all();
                break;
            }
            if let Ok(None) = tokio::time::timeout(STOP_POLL, tasks.join_next()).await {
                break;
            }
        }
    }
}

/// Requests in flight, one counter per figures shard (each on a cache line
/// of its own), so threads sending at once do not fight over one line.
#[derive(Debug, Default)]
pub struct InFlight {
    shards: [Padded; SHARDS],
}

#[derive(Debug, Default)]
#[repr(align(128))]
struct Padded(AtomicU64);

impl InFlight {
    /// A request of shard `key` started.
    pub fn enter(&self, key: u64) {
        self.shards[(key % SHARDS as u64) as usize]
            .0
            .fetch_add(1, Ordering::Relaxed);
    }

    /// A request of shard `key` ended.
    pub fn leave(&self, key: u64) {
        self.shards[(key % SHARDS as u64) as usize]
            .0
            .fetch_sub(1, Ordering::Relaxed);
    }

    pub fn load(&self) -> u64 {
        self.shards
            .iter()
            .map(|s| s.0.load(Ordering::Relaxed))
            .fold(0, u64::wrapping_add)
    }
}

/// Correlation ids taken off the run's counter at once by one user.
const ID_BLOCK: u64 = 256;

/// A user's block of correlation ids: next and end (exclusive).
#[derive(Debug, Default)]
pub struct IdBlock {
    next: u64,
    end: u64,
}

/// A correlation id, `sl-RUN-N`, kept inline (no allocation per request).
#[derive(Clone, Copy)]
pub struct CorrelationId {
    len: usize,
    buf: [u8; 64],
}

impl CorrelationId {
    /// `prefix` (at most 24 bytes, see `Ctx::new`) and `n` in decimal.
    fn new(prefix: &str, n: u64) -> CorrelationId {
        let mut id = CorrelationId {
            len: 0,
            buf: [0; 64],
        };
        let p = prefix.as_bytes();
        let p = &p[..p.len().min(id.buf.len() - 20)];
        id.buf[..p.len()].copy_from_slice(p);
        let mut digits = itoa::Buffer::new();
        let d = digits.format(n).as_bytes();
        id.buf[p.len()..p.len() + d.len()].copy_from_slice(d);
        id.len = p.len() + d.len();
        id
    }

    pub fn as_str(&self) -> &str {
        // Only ASCII goes in (see `new`).
        std::str::from_utf8(&self.buf[..self.len]).unwrap_or("")
    }
}

impl std::ops::Deref for CorrelationId {
    type Target = str;
    fn deref(&self) -> &str {
        self.as_str()
    }
}

impl std::fmt::Debug for CorrelationId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn correlation_ids_are_the_prefix_and_the_number() {
        assert_eq!(CorrelationId::new("sl-ab12-", 0).as_str(), "sl-ab12-0");
        assert_eq!(CorrelationId::new("sl-ab12-", 907).as_str(), "sl-ab12-907");
        let longest = "sl-ffffffffffffffffffff-";
        assert_eq!(
            CorrelationId::new(longest, u64::MAX).as_str(),
            format!("{longest}{}", u64::MAX)
        );
    }

    #[test]
    fn picks_from_blocks_are_each_pick_below_the_limit_once() {
        let next = Arc::new(AtomicU64::new(0));
        let thread = || Picks {
            next: Arc::clone(&next),
            block: Arc::new(Mutex::new((0, 0))),
            limit: Some(1000),
        };
        let (a, b) = (thread(), thread());
        let mut seen = Vec::new();
        // Two threads' users taking turns, unevenly.
        loop {
            let x = a.take();
            let y = b.take().into_iter().chain(b.take());
            if x.is_none() && seen.len() >= 1000 {
                break;
            }
            seen.extend(x);
            seen.extend(y);
        }
        assert_eq!(a.take(), None);
        assert_eq!(b.take(), None);
        seen.sort_unstable();
        assert_eq!(seen, (0..1000).collect::<Vec<u64>>());
    }
}
