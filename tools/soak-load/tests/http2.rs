//! --http2 (h2c, prior knowledge) against a real HTTP/2 server on
//! 127.0.0.1 (hyper's, started here), which records what it received: the
//! protocol of every request, its correlation id and body, and how many
//! connections were opened.

use std::collections::HashSet;
use std::convert::Infallible;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use crate::util::{run, write, Demo};
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::{Request, Response, Version};
use hyper_util::rt::{TokioExecutor, TokioIo};

/// One request as the server received it.
struct Seen {
    version: Version,
    method: String,
    path: String,
    correlation_id: Option<String>,
    body: Bytes,
}

/// An h2c server: `/fail` answers 500, anything else 200 with a small
/// JSON body. Stops with the test (its runtime is dropped).
struct H2c {
    port: u16,
    seen: Arc<Mutex<Vec<Seen>>>,
    connections: Arc<AtomicU64>,
    _runtime: tokio::runtime::Runtime,
}

impl H2c {
    fn start() -> H2c {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap();
        let listener = runtime
            .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
            .unwrap();
        let port = listener.local_addr().unwrap().port();
        let seen = Arc::new(Mutex::new(Vec::new()));
        let connections = Arc::new(AtomicU64::new(0));
        let (s, c) = (Arc::clone(&seen), Arc::clone(&connections));
        runtime.spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    return;
                };
                c.fetch_add(1, Ordering::SeqCst);
                let seen = Arc::clone(&s);
                tokio::spawn(async move {
                    let service = hyper::service::service_fn(move |req: Request<Incoming>| {
                        let seen = Arc::clone(&seen);
                        async move {
                            let (parts, body) = req.into_parts();
                            let body = body.collect().await.map(|b| b.to_bytes()).unwrap();
                            let fail = parts.uri.path() == "/fail";
                            seen.lock().unwrap().push(Seen {
                                version: parts.version,
                                method: parts.method.to_string(),
                                path: parts.uri.path().to_string(),
                                correlation_id: parts
                                    .headers
                                    .get("x-correlation-id")
                                    .map(|v| v.to_str().unwrap().to_string()),
                                body,
                            });
                            let answer = Response::builder()
                                .status(if fail { 500 } else { 200 })
                                .body(Full::new(Bytes::from_static(b"{\"ok\":true}")))
                                .unwrap();
                            Ok::<_, Infallible>(answer)
                        }
                    });
                    let _ = hyper::server::conn::http2::Builder::new(TokioExecutor::new())
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
        });
        H2c {
            port,
            seen,
            connections,
            _runtime: runtime,
        }
    }

    fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }
}

#[test]
fn http2_closed_model_sends_exact_counts_on_one_connection_per_user() {
    let server = H2c::start();
    let dir = tempfile::tempdir().unwrap();
    let targets = write(
        dir.path(),
        "targets.jsonl",
        &format!(
            "{}\n{}\n",
            serde_json::json!({"name":"ok","url":server.url("/ok"),"weight":3}),
            serde_json::json!({"name":"fail","method":"POST","url":server.url("/fail"),"body":{"x":1}}),
        ),
    );
    let r = run(&[
        "run",
        "--targets",
        &targets,
        "--http2",
        "--connections",
        "4",
        "--requests",
        "400",
        "--window",
        "60s",
        "--max-error-rate",
        "30%",
        "--quiet",
    ]);
    assert_eq!(r.code, 0, "{}\n{}", r.stderr, r.stdout);
    assert_eq!(r.u64("requests"), 400);
    assert_eq!(r.u64("ok"), 300);
    assert_eq!(r.figure("errors_by_class")["5xx"], 100);
    assert_eq!(r.u64("errors"), 100);
    let seen = server.seen.lock().unwrap();
    assert_eq!(seen.len(), 400);
    assert!(seen.iter().all(|s| s.version == Version::HTTP_2));
    let ids: HashSet<&str> = seen
        .iter()
        .map(|s| s.correlation_id.as_deref().unwrap())
        .collect();
    assert_eq!(ids.len(), 400, "one unique correlation id per request");
    assert!(ids.iter().all(|id| id.starts_with("sl-")));
    let posts: Vec<&Seen> = seen.iter().filter(|s| s.path == "/fail").collect();
    assert_eq!(posts.len(), 100);
    assert!(posts
        .iter()
        .all(|s| s.method == "POST" && s.body.as_ref() == b"{\"x\":1}"));
    // Each user kept its one connection for all its requests.
    assert_eq!(server.connections.load(Ordering::SeqCst), 4);
}

#[test]
fn http2_open_model_sends_exactly_the_requests_asked() {
    let server = H2c::start();
    let r = run(&[
        "run",
        &server.url("/health"),
        "--http2",
        "--rate",
        "200/s",
        "--requests",
        "100",
        "--window",
        "60s",
        "--quiet",
    ]);
    assert_eq!(r.code, 0, "{}\n{}", r.stderr, r.stdout);
    assert_eq!((r.u64("requests"), r.u64("ok")), (100, 100));
    let seen = server.seen.lock().unwrap();
    assert_eq!(seen.len(), 100);
    assert!(seen
        .iter()
        .all(|s| s.version == Version::HTTP_2 && s.path == "/health"));
}

#[test]
fn http2_against_a_server_speaking_only_http1_fails_every_request() {
    let demo = Demo::start(&[]);
    let r = run(&[
        "run",
        &demo.url("/v1/health"),
        "--http2",
        "--connections",
        "2",
        "--requests",
        "20",
        "--window",
        "60s",
        "--quiet",
    ]);
    assert_eq!(r.code, 1, "{}\n{}", r.stderr, r.stdout);
    assert_eq!(r.u64("requests"), 20);
    assert_eq!(r.u64("ok"), 0);
    assert_eq!(r.u64("errors"), 20);
    assert_eq!(r.gate("ok")["pass"], false);
}
