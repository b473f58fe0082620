//! The HTTP side: hyper 1 over tokio, one task per connection, keep-alive,
//! and a graceful stop on SIGTERM/SIGINT (stop accepting, let in-flight
//! requests finish within --drain-timeout, checkpoint the database).

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper::header::{HeaderValue, CONTENT_TYPE};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use serde_json::{json, Value};
use tokio::signal::unix::{signal, SignalKind};

use crate::accesslog::{AccessLog, Entry};
use crate::cli::Cli;
use crate::handlers;
use crate::store::{self, StopResult, Store};

/// Request bodies above this are refused with 413.
const MAX_BODY: usize = 1 << 20;

pub struct State {
    pub store: Store,
    log: Option<AccessLog>,
    started: Instant,
    requests: AtomicU64,
    seed: u64,
    fail_rate: Option<f64>,
    locked_starts: Option<f64>,
    starts: AtomicU64,
    latency: Option<Duration>,
    stall: Option<(Duration, Duration)>,
    leak_per_request: Option<usize>,
    leaked: Mutex<Vec<Vec<u8>>>,
    crash_after: Option<u64>,
    ignore_sigterm: bool,
    drain_timeout: Duration,
    pub turn_time: Option<Duration>,
    pub action_time: Option<Duration>,
    pub write_behind: Option<Duration>,
    /// The last message id handed out under --write-behind (which must
    /// answer with an id before the row exists).
    pub last_message_id: AtomicI64,
}

impl State {
    pub fn new(cli: &Cli, store: Store, log: Option<AccessLog>) -> common::Result<State> {
        let last_message_id = store.last_message_id().map_err(common::Error::new)?;
        Ok(State {
            store,
            log,
            started: Instant::now(),
            requests: AtomicU64::new(0),
            seed: cli.seed,
            fail_rate: cli.fail_rate,
            locked_starts: cli.locked_starts,
            starts: AtomicU64::new(0),
            latency: cli.latency,
            stall: cli
                .stall_every
                .zip(cli.stall_for)
                .filter(|(every, _)| !every.is_zero()),
            leak_per_request: cli.leak_per_request,
            leaked: Mutex::new(Vec::new()),
            crash_after: cli.crash_after,
            ignore_sigterm: cli.ignore_sigterm,
            drain_timeout: cli.drain_timeout,
            turn_time: cli.turn_time,
            action_time: cli.action_time,
            write_behind: cli.write_behind,
            last_message_id: AtomicI64::new(last_message_id),
        })
    }

    /// Request `seq` fails under --fail-rate? Decided by the seed alone.
    fn injected_failure(&self, seq: u64) -> bool {
        self.fail_rate.is_some_and(|rate| self.draw(seq) < rate)
    }

    /// A number in [0, 1) for `seq`, from the seed alone.
    fn draw(&self, seq: u64) -> f64 {
        let draw = crate::pii::mix(self.seed ^ crate::pii::mix(seq)) >> 11;
        draw as f64 / (1u64 << 53) as f64
    }

    /// The next session start answers "database is locked" (--locked-starts)?
    fn locked_start(&self) -> bool {
        self.locked_starts.is_some_and(|rate| {
            let n = self.starts.fetch_add(1, Ordering::Relaxed);
            // Another stream of draws than --fail-rate's.
            self.draw(n ^ 0x5eed_10c4) < rate
        })
    }

    /// Inside a periodic stall window (from each multiple of the period for
    /// --stall-for), wait until the window ends.
    async fn stall(&self) {
        let Some((every, len)) = self.stall else {
            return;
        };
        let elapsed = self.started.elapsed();
        if elapsed < every {
            return;
        }
        let into = Duration::from_nanos((elapsed.as_nanos() % every.as_nanos()) as u64);
        if into < len {
            tokio::time::sleep(len - into).await;
        }
    }
}

/// SIGTERM/SIGINT seen before the server loop runs.
pub struct EarlySignals {
    term: Arc<AtomicBool>,
    int: Arc<AtomicBool>,
}

impl EarlySignals {
    pub fn install() -> common::Result<EarlySignals> {
        let term = Arc::new(AtomicBool::new(false));
        let int = Arc::new(AtomicBool::new(false));
        signal_hook::flag::register(signal_hook::consts::SIGTERM, Arc::clone(&term))
            .and_then(|_| {
                signal_hook::flag::register(signal_hook::consts::SIGINT, Arc::clone(&int))
            })
            .map_err(|e| io_err("signal handler", e))?;
        Ok(EarlySignals { term, int })
    }

    /// A stop was asked for (SIGINT, or SIGTERM unless it is ignored).
    pub fn stop_requested(&self, ignore_sigterm: bool) -> bool {
        self.int.load(Ordering::Relaxed) || (!ignore_sigterm && self.term.load(Ordering::Relaxed))
    }
}

fn io_err(what: &str, e: std::io::Error) -> common::Error {
    common::Error::io(what, e)
}

/// Serves until SIGTERM (unless ignored) or SIGINT, then drains.
pub async fn serve(
    listener: std::net::TcpListener,
    state: Arc<State>,
    early: EarlySignals,
) -> common::Result<()> {
    let listener =
        tokio::net::TcpListener::from_std(listener).map_err(|e| io_err("listener", e))?;
    let mut term = signal(SignalKind::terminate()).map_err(|e| io_err("SIGTERM handler", e))?;
    let mut int = signal(SignalKind::interrupt()).map_err(|e| io_err("SIGINT handler", e))?;
    let (shutdown_tx, shutdown_rx) = tokio::sync::watch::channel(false);
    // Every connection task holds a sender; recv() returns None when all are gone.
    let (done_tx, mut done_rx) = tokio::sync::mpsc::channel::<()>(1);
    // Checked after our handlers are in place, so no signal falls in between.
    let mut stopping = early.stop_requested(state.ignore_sigterm);
    if early.term.load(Ordering::Relaxed) && state.ignore_sigterm {
        eprintln!("demo-service: ignoring SIGTERM (--ignore-sigterm)");
    }
    while !stopping {
        tokio::select! {
            accepted = listener.accept() => {
                let (stream, remote) = match accepted {
                    Ok(pair) => pair,
                    Err(e) => {
                        // Out of descriptors or similar: back off instead of spinning.
                        eprintln!("demo-service: accept: {e}");
                        tokio::time::sleep(Duration::from_millis(10)).await;
                        continue;
                    }
                };
                let _ = stream.set_nodelay(true);
                let state = Arc::clone(&state);
                let mut shutdown = shutdown_rx.clone();
                let done = done_tx.clone();
                tokio::spawn(async move {
                    let svc = service_fn(move |req| handle(req, Arc::clone(&state), remote));
                    let conn = http1::Builder::new().serve_connection(TokioIo::new(stream), svc);
                    tokio::pin!(conn);
                    tokio::select! {
                        _ = conn.as_mut() => {}
                        _ = shutdown.changed() => {
                            conn.as_mut().graceful_shutdown();
                            let _ = conn.as_mut().await;
                        }
                    }
                    drop(done);
                });
            }
            _ = term.recv() => {
                if state.ignore_sigterm {
                    eprintln!("demo-service: ignoring SIGTERM (--ignore-sigterm)");
                    continue;
                }
                stopping = true;
            }
            _ = int.recv() => stopping = true,
        }
    }
    drop(listener);
    let _ = shutdown_tx.send(true);
    drop(done_tx);
    tokio::select! {
        _ = done_rx.recv() => {}
        _ = tokio::time::sleep(state.drain_timeout) => {
            eprintln!("demo-service: drain timeout; closing open connections");
        }
        _ = int.recv() => {}
    }
    state.store.checkpoint();
    Ok(())
}

pub fn reply(status: StatusCode, body: Value) -> (StatusCode, Value) {
    (status, body)
}

pub fn error(status: StatusCode, message: &str) -> (StatusCode, Value) {
    (status, json!({ "error": message }))
}

async fn handle(
    req: Request<Incoming>,
    state: Arc<State>,
    remote: SocketAddr,
) -> Result<Response<Full<Bytes>>, Infallible> {
    let started = Instant::now();
    let seq = state.requests.fetch_add(1, Ordering::Relaxed) + 1;
    if let Some(n) = state.crash_after {
        if seq > n {
            eprintln!("demo-service: crashing after {n} requests (--crash-after)");
            std::process::abort();
        }
    }
    let correlation_id = req
        .headers()
        .get("x-correlation-id")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
        .unwrap_or_else(|| format!("gen-{seq:08}"));
    let method = req.method().clone();
    let path = req.uri().path().to_string();

    state.stall().await;
    if let Some(latency) = state.latency {
        tokio::time::sleep(latency).await;
    }
    if let Some(n) = state.leak_per_request {
        // Filled with a non-zero byte so the pages are really touched (RSS grows).
        let mut leaked = state.leaked.lock().unwrap_or_else(|p| p.into_inner());
        leaked.push(vec![0x5a; n]);
    }

    let body = match Limited::new(req.into_body(), MAX_BODY).collect().await {
        Ok(collected) => Ok(collected.to_bytes()),
        Err(e) if e.is::<http_body_util::LengthLimitError>() => Err(error(
            StatusCode::PAYLOAD_TOO_LARGE,
            "request body over 1 MiB",
        )),
        Err(_) => Err(error(
            StatusCode::BAD_REQUEST,
            "could not read the request body",
        )),
    };
    let bytes_in = body.as_ref().map(Bytes::len).unwrap_or(0);
    let (status, mut value) = match body {
        Err(answer) => answer,
        Ok(_) if state.injected_failure(seq) => error(
            StatusCode::INTERNAL_SERVER_ERROR,
            "injected failure (--fail-rate)",
        ),
        Ok(body) => route(&state, &method, &path, &body, &correlation_id).await,
    };
    if let Value::Object(m) = &mut value {
        m.insert(
            "correlation_id".into(),
            Value::from(correlation_id.as_str()),
        );
    }
    let mut text = value.to_string();
    text.push('\n');
    let bytes_out = text.len();

    if let Some(log) = &state.log {
        log.write(&Entry {
            seq,
            method: method.as_str(),
            path: &path,
            status: status.as_u16(),
            latency_ms: common::clock::ms(started.elapsed()),
            bytes_in,
            bytes_out,
            correlation_id: &correlation_id,
            remote: &remote.to_string(),
        });
    }

    let mut response = Response::new(Full::new(Bytes::from(text)));
    *response.status_mut() = status;
    let headers = response.headers_mut();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    if let Ok(v) = HeaderValue::from_str(&correlation_id) {
        headers.insert("x-correlation-id", v);
    }
    Ok(response)
}

/// Parses a JSON object body; an empty body is an empty object.
pub fn object(body: &[u8]) -> Result<serde_json::Map<String, Value>, (StatusCode, Value)> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(serde_json::Map::new());
    }
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(m)) => Ok(m),
        Ok(_) => Err(error(
            StatusCode::BAD_REQUEST,
            "the body must be a JSON object",
        )),
        Err(e) => Err((
            StatusCode::BAD_REQUEST,
            json!({ "error": format!("invalid JSON: {e}") }),
        )),
    }
}

async fn route(
    state: &Arc<State>,
    method: &Method,
    path: &str,
    body: &[u8],
    correlation_id: &str,
) -> (StatusCode, Value) {
    let known = [
        "/v1/health",
        "/v1/chat",
        "/v1/action",
        "/v1/audit",
        "/session/start",
        "/session/stop",
        "/confirmation/request",
        "/confirmation/decide",
    ];
    // Read endpoints: GET /session/s-N, /memory/m-N, /confirmation/c-N.
    let read = ["/session/", "/memory/", "/confirmation/"]
        .into_iter()
        .find_map(|p| path.strip_prefix(p).map(|id| (p, id)))
        .filter(|(_, id)| !id.is_empty() && !id.contains('/') && !known.contains(&path));
    match (method, path) {
        (&Method::GET, "/v1/health") => reply(
            StatusCode::OK,
            json!({
                "status": "ok",
                "uptime_ms": state.started.elapsed().as_millis() as u64,
                "requests": state.requests.load(Ordering::Relaxed),
            }),
        ),
        (&Method::POST, "/v1/chat") => chat(state, body).await,
        (&Method::POST, "/v1/action") => action(body),
        (&Method::GET, "/v1/audit") => handlers::audit(state),
        (&Method::POST, "/session/start") => session_start(state, body, correlation_id),
        (&Method::POST, "/session/stop") => session_stop(state, body),
        (&Method::POST, "/confirmation/request") => handlers::request_confirmation(state, body),
        (&Method::POST, "/confirmation/decide") => handlers::decide(state, body).await,
        (_, p) if known.contains(&p) => error(StatusCode::METHOD_NOT_ALLOWED, "method not allowed"),
        _ => match (method, read) {
            (&Method::GET, Some(("/session/", id))) => handlers::read_session(state, id),
            (&Method::GET, Some(("/memory/", id))) => handlers::read_memory(state, id),
            (&Method::GET, Some(("/confirmation/", id))) => handlers::read_confirmation(state, id),
            (_, Some(_)) => error(StatusCode::METHOD_NOT_ALLOWED, "method not allowed"),
            _ => error(StatusCode::NOT_FOUND, "no such endpoint"),
        },
    }
}

async fn chat(state: &Arc<State>, body: &[u8]) -> (StatusCode, Value) {
    let m = match object(body) {
        Ok(m) => m,
        Err(e) => return e,
    };
    let Some(message) = m.get("message").and_then(Value::as_str) else {
        return error(
            StatusCode::BAD_REQUEST,
            "\"message\" (a string) is required",
        );
    };
    let reply_text = format!("echo: {message}");
    let tokens = message.split_whitespace().count();
    match m.get("session_id") {
        None | Some(Value::Null) => reply(
            StatusCode::OK,
            json!({ "reply": reply_text, "tokens": tokens }),
        ),
        Some(Value::String(name)) => {
            let Some(id) = store::session_id(name) else {
                return error(StatusCode::NOT_FOUND, "no open session with that id");
            };
            handlers::turn(state, id, name, message, reply_text, tokens).await
        }
        Some(_) => error(StatusCode::BAD_REQUEST, "\"session_id\" must be a string"),
    }
}

fn action(body: &[u8]) -> (StatusCode, Value) {
    let m = match object(body) {
        Ok(m) => m,
        Err(e) => return e,
    };
    let Some(name) = m.get("action").and_then(Value::as_str) else {
        return error(StatusCode::BAD_REQUEST, "\"action\" (a string) is required");
    };
    let args = m.get("args").cloned().unwrap_or(Value::Null);
    let result = match name {
        "sum" => match args.as_array() {
            Some(xs) if xs.iter().all(Value::is_number) => {
                json!(xs.iter().filter_map(Value::as_f64).sum::<f64>())
            }
            _ => {
                return error(
                    StatusCode::BAD_REQUEST,
                    "sum: \"args\" must be an array of numbers",
                )
            }
        },
        "reverse" => match args.as_str() {
            Some(s) => json!(s.chars().rev().collect::<String>()),
            None => {
                return error(
                    StatusCode::BAD_REQUEST,
                    "reverse: \"args\" must be a string",
                )
            }
        },
        _ => args,
    };
    reply(
        StatusCode::OK,
        json!({ "ok": true, "action": name, "result": result }),
    )
}

fn session_start(state: &State, body: &[u8], correlation_id: &str) -> (StatusCode, Value) {
    let m = match object(body) {
        Ok(m) => m,
        Err(e) => return e,
    };
    let user = m.get("user").and_then(Value::as_str).unwrap_or("anonymous");
    if state.locked_start() {
        // The fault: the busy database swallowed into a success.
        return reply(StatusCode::OK, json!({ "error": "database is locked" }));
    }
    let at = common::clock::now_rfc3339();
    match state.store.start(user, &at, correlation_id) {
        Ok(id) => reply(
            StatusCode::CREATED,
            json!({ "session_id": store::session_name(id), "user": user, "started_at": at }),
        ),
        Err(e) => db_error(&e),
    }
}

fn session_stop(state: &State, body: &[u8]) -> (StatusCode, Value) {
    let m = match object(body) {
        Ok(m) => m,
        Err(e) => return e,
    };
    let Some(name) = m.get("session_id").and_then(Value::as_str) else {
        return error(
            StatusCode::BAD_REQUEST,
            "\"session_id\" (a string) is required",
        );
    };
    let Some(id) = store::session_id(name) else {
        return error(StatusCode::NOT_FOUND, "no such session");
    };
    match state.store.stop(id, &common::clock::now_rfc3339()) {
        Ok(StopResult::Stopped {
            stopped_at,
            messages,
            expired_confirmations,
        }) => reply(
            StatusCode::OK,
            json!({
                "session_id": name,
                "stopped_at": stopped_at,
                "messages": messages,
                "expired_confirmations": expired_confirmations,
            }),
        ),
        Ok(StopResult::Unknown) => error(StatusCode::NOT_FOUND, "no such session"),
        Ok(StopResult::AlreadyStopped) => error(StatusCode::CONFLICT, "session already stopped"),
        Err(e) => db_error(&e),
    }
}

pub fn db_error(e: &str) -> (StatusCode, Value) {
    eprintln!("demo-service: database: {e}");
    error(StatusCode::SERVICE_UNAVAILABLE, "database error")
}
