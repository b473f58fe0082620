//! The HTTP side: one keep-alive HTTP/1.1 connection per endpoint per
//! virtual user, a request written whole and its answer read whole
//! (`http1.rs` holds the wire format), and the outcome classified.
//!
//! Like wrk, and unlike a general client, a connection is a socket and one
//! buffer driven by the user's own task: no connection task, no channel, no
//! per-request header map. That is most of what a load generator's own CPU
//! costs per request, and on a small machine the load generator and the
//! service share the cores.
//!
//! A connection that failed, timed out or broke the exchange (bytes after
//! the answer, a framing it could not follow) is dropped, never reused: its
//! state is unknown. One that sat idle is checked before reuse, so a server
//! that closed it meanwhile (its keep-alive timeout) does not count as an
//! error.
//!
//! The timeout is one timer per user, re-armed only when it fires early
//! (see [`Conns::exchange`]): a timer future per request costs a timer
//! wheel insert and removal each, more than the rest of the bookkeeping.

use std::pin::Pin;
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use http_body_util::{BodyExt, Full};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::time::{Instant, Sleep};

use crate::http1::{self, Progress};
use crate::stats::ErrorClass;
use crate::targets::Endpoint;

/// Longest response body kept for a later step's template.
pub const MAX_KEPT_BODY: usize = 8 << 20;

/// A connection idle this long is checked for a close by the server
/// before it carries a request (a non-blocking read: one syscall, paid
/// only by connections that waited, where it cannot cost throughput).
const IDLE_CHECK_AFTER: Duration = Duration::from_millis(20);

/// A request as it goes on the wire.
#[derive(Debug, Clone)]
pub struct Outgoing {
    pub wire: Vec<u8>,
    /// HEAD: the answer has no body whatever its headers say.
    pub head: bool,
    /// The path and query, when rendered from a template (a fixed one is
    /// the plan's own).
    pub uri: Option<hyper::Uri>,
    /// --http2: the request as parts (`wire` is then empty).
    pub h2: Option<H2Request>,
}

/// A request for an HTTP/2 connection.
#[derive(Debug, Clone)]
pub struct H2Request {
    pub method: hyper::Method,
    /// Absolute (`http://authority/path`): `:scheme` and `:authority`.
    pub uri: hyper::Uri,
    pub headers: hyper::HeaderMap,
    pub body: Bytes,
}

type H2Sender = hyper::client::conn::http2::SendRequest<Full<Bytes>>;

/// One open connection and what has been read from it.
struct Open {
    stream: TcpStream,
    buf: BytesMut,
    idle_since: Instant,
}

/// What one virtual user carries from request to request: its
/// connections (one per endpoint at most), its timeout timer and its
/// block of correlation ids.
#[derive(Default)]
pub struct Conns {
    conns: Vec<Option<Open>>,
    /// --http2: the user's HTTP/2 connections, one per endpoint at most
    /// (each driven by a task of its own, which ends with its sender).
    h2: Vec<Option<H2Sender>>,
    /// Never later than the current request's deadline (see `exchange`).
    timer: Option<Pin<Box<Sleep>>>,
    pub(crate) ids: crate::load::IdBlock,
}

/// What came back.
pub struct Answer {
    pub status: u16,
    /// The body, when asked to keep it.
    pub body: Option<Bytes>,
    /// When the answer was read to its end.
    pub done: Instant,
}

/// A failed exchange.
pub struct Failure {
    pub class: ErrorClass,
    /// HTTP status, when an answer arrived but could not be read to its end.
    pub status: Option<u16>,
}

impl Open {
    /// Whether an idle connection still looks usable: no EOF, no stray
    /// bytes, no error waiting on it.
    fn still_open(&self, now: Instant) -> bool {
        if now.saturating_duration_since(self.idle_since) < IDLE_CHECK_AFTER {
            return true;
        }
        let mut probe = [0u8; 1];
        matches!(self.stream.try_read(&mut probe), Err(e) if e.kind() == std::io::ErrorKind::WouldBlock)
    }
}

impl Conns {
    /// Forgets the connection to `ep` (after a failure or timeout).
    pub fn discard(&mut self, ep: usize) {
        if let Some(c) = self.conns.get_mut(ep) {
            *c = None;
        }
        if let Some(c) = self.h2.get_mut(ep) {
            *c = None;
        }
    }

    /// Sends `req` to endpoint `ep` and reads the whole answer, within
    /// `timeout` of `now` (a failure of class `timeout` after it, the
    /// connection then dropped).
    ///
    /// The user's one timer is never later than this deadline: deadlines
    /// only move later from one request to the next, so the timer is left
    /// as it is, and when it fires early (for an earlier request's
    /// deadline) it is re-armed for this one. A request that answers in
    /// time never touches it.
    pub async fn exchange(
        &mut self,
        now: Instant,
        timeout: Duration,
        ep: usize,
        endpoints: &[Endpoint],
        req: &Outgoing,
        keep_body: bool,
    ) -> Result<Answer, Failure> {
        let due = now + timeout;
        let Conns {
            conns, h2, timer, ..
        } = self;
        let timer = match timer {
            Some(t) => {
                if t.deadline() > due {
                    t.as_mut().reset(due);
                }
                t
            }
            None => timer.insert(Box::pin(tokio::time::sleep_until(due))),
        };
        let result = {
            let exchange = async {
                match &req.h2 {
                    Some(parts) => exchange_h2(h2, ep, endpoints, parts, keep_body).await,
                    None => exchange(conns, now, ep, endpoints, req, keep_body).await,
                }
            };
            tokio::pin!(exchange);
            loop {
                tokio::select! {
                    biased;
                    r = &mut exchange => break r,
                    () = timer.as_mut() => {
                        if Instant::now() >= due {
                            break Err(Failure { class: ErrorClass::Timeout, status: None });
                        }
                        timer.as_mut().reset(due);
                    }
                }
            }
        };
        match result {
            Ok((answer, true)) => Ok(answer),
            Ok((answer, false)) => {
                self.discard(ep);
                Ok(answer)
            }
            Err(f) => {
                self.discard(ep);
                Err(f)
            }
        }
    }
}

/// A connection to endpoint `ep`, opening one if needed.
async fn ready<'c>(
    conns: &'c mut Vec<Option<Open>>,
    now: Instant,
    ep: usize,
    endpoints: &[Endpoint],
) -> Result<&'c mut Open, Failure> {
    if conns.len() <= ep {
        conns.resize_with(ep + 1, || None);
    }
    let reusable = matches!(&conns[ep], Some(open) if open.still_open(now));
    if !reusable {
        conns[ep] = None;
        let stream = connect(endpoints[ep].addr).await?;
        conns[ep] = Some(Open {
            stream,
            buf: BytesMut::with_capacity(16 << 10),
            idle_since: now,
        });
    }
    conns[ep].as_mut().ok_or_else(connect_failure)
}

/// One exchange on the user's connection to `ep`: the answer, and whether
/// the connection may carry another request.
async fn exchange(
    conns: &mut Vec<Option<Open>>,
    now: Instant,
    ep: usize,
    endpoints: &[Endpoint],
    req: &Outgoing,
    keep_body: bool,
) -> Result<(Answer, bool), Failure> {
    let open = ready(conns, now, ep, endpoints).await?;
    let other = |status| Failure {
        class: ErrorClass::Other,
        status,
    };
    open.stream
        .write_all(&req.wire)
        .await
        .map_err(|_| other(None))?;
    let mut response = http1::Response::new(req.head, keep_body.then_some(MAX_KEPT_BODY));
    loop {
        match response.advance(&mut open.buf) {
            Ok(Progress::Done) => break,
            Ok(Progress::NeedMore) => {}
            Err(_) => return Err(other(response.status)),
        }
        if open.buf.capacity() - open.buf.len() < 4096 {
            open.buf.reserve(16 << 10);
        }
        let read = open.stream.read_buf(&mut open.buf).await;
        match read {
            Ok(0) => match response.eof() {
                Ok(_) => break,
                Err(_) => return Err(other(response.status)),
            },
            Ok(_) => {}
            Err(_) => return Err(other(response.status)),
        }
    }
    let status = response.status.unwrap_or(0);
    // Anything after the answer means the exchange is out of step.
    let reusable = response.reusable && open.buf.is_empty();
    let done = Instant::now();
    open.idle_since = done;
    let body = keep_body.then(|| Bytes::from(std::mem::take(&mut response.body)));
    Ok((Answer { status, body, done }, reusable))
}

/// One exchange on the user's HTTP/2 connection to `ep` (h2c, prior
/// knowledge), opened if needed; the whole answer is read.
async fn exchange_h2(
    senders: &mut Vec<Option<H2Sender>>,
    ep: usize,
    endpoints: &[Endpoint],
    req: &H2Request,
    keep_body: bool,
) -> Result<(Answer, bool), Failure> {
    if senders.len() <= ep {
        senders.resize_with(ep + 1, || None);
    }
    if senders[ep].as_ref().is_none_or(H2Sender::is_closed) {
        senders[ep] = None;
        let stream = connect(endpoints[ep].addr).await?;
        let (sender, conn) = hyper::client::conn::http2::handshake(
            hyper_util::rt::TokioExecutor::new(),
            hyper_util::rt::TokioIo::new(stream),
        )
        .await
        .map_err(|_| connect_failure())?;
        // Ends when the sender is dropped (discard) or the server closes.
        tokio::spawn(conn);
        senders[ep] = Some(sender);
    }
    let other = |status| Failure {
        class: ErrorClass::Other,
        status,
    };
    let sender = senders[ep].as_mut().ok_or_else(connect_failure)?;
    sender.ready().await.map_err(|_| other(None))?;
    let mut request = hyper::Request::new(Full::new(req.body.clone()));
    *request.method_mut() = req.method.clone();
    *request.uri_mut() = req.uri.clone();
    *request.headers_mut() = req.headers.clone();
    let response = sender
        .send_request(request)
        .await
        .map_err(|_| other(None))?;
    let status = response.status().as_u16();
    let mut body = response.into_body();
    let mut kept = Vec::new();
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|_| other(Some(status)))?;
        if let (true, Some(data)) = (keep_body, frame.data_ref()) {
            if kept.len() + data.len() > MAX_KEPT_BODY {
                return Err(other(Some(status)));
            }
            kept.extend_from_slice(data);
        }
    }
    let done = Instant::now();
    let body = keep_body.then(|| Bytes::from(kept));
    Ok((Answer { status, body, done }, true))
}

/// Opens a TCP connection to `addr`, refusing one connected to itself.
///
/// With nothing listening on a port in the ephemeral range (a service
/// killed and not yet restarted, on a port its supervisor reuses), the
/// kernel may pick that very port as the source of a connect: the socket
/// then talks to itself, its own request read back as the answer, and it
/// holds the port so the service cannot bind it again — the load generator
/// would prolong the outage it measures (a loop of connects to a closed
/// port in 32768-60999 here connected to itself after 17 403 tries: rare,
/// but a soak of days with outages makes thousands of them).
async fn connect(addr: std::net::SocketAddr) -> Result<TcpStream, Failure> {
    let stream = TcpStream::connect(addr)
        .await
        .map_err(|_| connect_failure())?;
    if connected_to_self(&stream) {
        return Err(connect_failure());
    }
    let _ = stream.set_nodelay(true);
    Ok(stream)
}

/// Whether `stream` is connected to itself (same address at both ends).
fn connected_to_self(stream: &TcpStream) -> bool {
    matches!((stream.local_addr(), stream.peer_addr()), (Ok(a), Ok(b)) if a == b)
}

fn connect_failure() -> Failure {
    Failure {
        class: ErrorClass::Connect,
        status: None,
    }
}

/// The class of an answer's status; `None` for success (1xx, 2xx). A
/// redirect is not followed, so it says nothing about the page it points
/// to (a `302 Location: /login` of a broken session): `other`, unless the
/// target or step accepts it.
pub fn classify(status: u16) -> Option<ErrorClass> {
    match status {
        100..=299 => None,
        400..=499 => Some(ErrorClass::Status4xx),
        500..=599 => Some(ErrorClass::Status5xx),
        _ => Some(ErrorClass::Other),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;
    use std::io::{Read, Write};
    use std::net::TcpListener;

    #[test]
    fn statuses_classify() {
        assert_eq!(classify(200), None);
        assert_eq!(classify(204), None);
        assert_eq!(classify(302), Some(ErrorClass::Other));
        assert_eq!(classify(404), Some(ErrorClass::Status4xx));
        assert_eq!(classify(503), Some(ErrorClass::Status5xx));
        assert_eq!(classify(999), Some(ErrorClass::Other));
    }

    /// A real server on 127.0.0.1 that answers requests with the scripted
    /// `answers` in turn (one per request read), closing the connection
    /// after each when asked; returns how many connections it accepted.
    fn server(
        answers: Vec<&'static [u8]>,
        close_after_each: bool,
    ) -> (Endpoint, std::thread::JoinHandle<usize>) {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let handle = std::thread::spawn(move || {
            let mut accepted = 0;
            let mut answers = answers.into_iter().peekable();
            'outer: for conn in listener.incoming() {
                let mut conn = conn.unwrap();
                accepted += 1;
                loop {
                    // One request: read up to the blank line (no bodies here).
                    let mut seen = Vec::new();
                    let mut byte = [0u8; 1];
                    while !seen.ends_with(b"\r\n\r\n") {
                        match conn.read(&mut byte) {
                            Ok(1) => seen.push(byte[0]),
                            _ => continue 'outer,
                        }
                    }
                    let Some(answer) = answers.next() else {
                        break 'outer;
                    };
                    conn.write_all(answer).unwrap();
                    if answers.peek().is_none() {
                        break 'outer;
                    }
                    if close_after_each {
                        continue 'outer;
                    }
                }
            }
            accepted
        });
        let endpoint = Endpoint {
            authority: addr.to_string(),
            addr,
        };
        (endpoint, handle)
    }

    fn get(keep: bool) -> (Outgoing, bool) {
        let mut wire = Vec::new();
        http1::write_request(&mut wire, "GET", "/", &[(b"host", b"x")], b"");
        (
            Outgoing {
                wire,
                head: false,
                uri: None,
                h2: None,
            },
            keep,
        )
    }

    fn exchange_all(
        eps: &[Endpoint],
        n: usize,
        pause: std::time::Duration,
    ) -> Vec<Result<(u16, Option<Bytes>), ErrorClass>> {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async {
            let mut conns = Conns::default();
            let mut out = Vec::new();
            for _ in 0..n {
                let (req, keep) = get(true);
                let r = conns
                    .exchange(Instant::now(), Duration::from_secs(30), 0, eps, &req, keep)
                    .await;
                out.push(r.map(|a| (a.status, a.body)).map_err(|f| f.class));
                tokio::time::sleep(pause).await;
            }
            out
        })
    }

    #[test]
    fn keep_alive_chunked_and_lengths_on_one_connection() {
        let (ep, server) = server(
            vec![
                b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok",
                b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n",
                b"HTTP/1.1 503 Busy\r\nContent-Length: 0\r\n\r\n",
            ],
            false,
        );
        let got = exchange_all(&[ep], 3, std::time::Duration::ZERO);
        let got: Vec<_> = got
            .into_iter()
            .map(|r| r.ok().map(|(s, b)| (s, b.unwrap())))
            .collect();
        assert_eq!(
            got,
            vec![
                Some((200, Bytes::from_static(b"ok"))),
                Some((200, Bytes::from_static(b"abc"))),
                Some((503, Bytes::new())),
            ]
        );
        assert_eq!(server.join().unwrap(), 1, "all three on one connection");
    }

    #[test]
    fn a_server_that_closed_an_idle_connection_is_not_an_error() {
        // The server closes after each answer without saying so; the next
        // request, sent after the connection sat idle, goes on a new one.
        let (ep, server) = server(
            vec![
                b"HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\na",
                b"HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nb",
            ],
            true,
        );
        let got = exchange_all(&[ep], 2, IDLE_CHECK_AFTER * 3);
        let statuses: Vec<_> = got.iter().map(|r| r.as_ref().map(|a| a.0).ok()).collect();
        assert_eq!(statuses, vec![Some(200), Some(200)]);
        assert_eq!(server.join().unwrap(), 2);
    }

    #[test]
    fn connection_close_and_body_until_close_end_the_connection() {
        let (ep, server) = server(
            vec![
                b"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 1\r\n\r\na",
                b"HTTP/1.1 200 OK\r\n\r\nuntil close",
            ],
            true,
        );
        let got = exchange_all(&[ep], 2, std::time::Duration::ZERO);
        let bodies: Vec<_> = got.into_iter().map(|r| r.ok().and_then(|a| a.1)).collect();
        assert_eq!(
            bodies,
            vec![
                Some(Bytes::from_static(b"a")),
                Some(Bytes::from_static(b"until close"))
            ]
        );
        assert_eq!(server.join().unwrap(), 2);
    }

    #[test]
    fn broken_answers_are_errors_of_class_other_and_end_the_connection() {
        let (ep, server) = server(
            vec![
                // Bytes after the answer: out of step, dropped (but this answer counts).
                b"HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\naHTTP/1.1 200 OK",
                b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello",
                b"garbage\r\n\r\n",
            ],
            false,
        );
        let got = exchange_all(&[ep], 3, std::time::Duration::ZERO);
        let classes: Vec<_> = got
            .iter()
            .map(|r| r.as_ref().map(|a| a.0).map_err(|c| c.name()))
            .collect();
        assert_eq!(classes, vec![Ok(200), Err("other"), Err("other")]);
        drop(server);
    }

    #[test]
    fn nothing_listening_is_a_connect_error() {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        drop(listener);
        let ep = Endpoint {
            authority: addr.to_string(),
            addr,
        };
        let got = exchange_all(&[ep], 1, std::time::Duration::ZERO);
        assert!(matches!(got[0], Err(ErrorClass::Connect)));
    }

    /// A TCP connection from 127.0.0.1:P to 127.0.0.1:P: what connect()
    /// can return when nothing listens on P and the kernel picks P as the
    /// source port (P in the ephemeral range), made at once here by binding
    /// to P first (a simultaneous open).
    fn connected_to_itself() -> TcpStream {
        runtime().block_on(async {
            let socket = tokio::net::TcpSocket::new_v4().unwrap();
            socket.bind("127.0.0.1:0".parse().unwrap()).unwrap();
            let own = socket.local_addr().unwrap();
            socket.connect(own).await.unwrap()
        })
    }

    #[test]
    fn a_connection_to_itself_is_not_a_connection() {
        let rt = runtime();
        let stream = connected_to_itself();
        assert_eq!(stream.local_addr().unwrap(), stream.peer_addr().unwrap());
        let _guard = rt.enter();
        assert!(connected_to_self(&stream));
        // A real one is.
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let real = rt
            .block_on(TcpStream::connect(listener.local_addr().unwrap()))
            .unwrap();
        assert!(!connected_to_self(&real));
    }

    /// A server that reads one request per connection and answers it only
    /// when told to (a message on `go`); never, when `go` is dropped.
    fn held_server() -> (Endpoint, std::sync::mpsc::Sender<()>) {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let (go, wait) = std::sync::mpsc::channel::<()>();
        std::thread::spawn(move || {
            for conn in listener.incoming() {
                let mut conn = conn.unwrap();
                let mut seen = Vec::new();
                let mut byte = [0u8; 1];
                while !seen.ends_with(b"\r\n\r\n") {
                    if conn.read(&mut byte).unwrap_or(0) == 0 {
                        return;
                    }
                    seen.push(byte[0]);
                }
                if wait.recv().is_err() {
                    // Keep the connection open, unanswered, until the test ends.
                    std::thread::park();
                    return;
                }
                let _ = conn.write_all(
                    b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
                );
            }
        });
        let endpoint = Endpoint {
            authority: addr.to_string(),
            addr,
        };
        (endpoint, go)
    }

    fn runtime() -> tokio::runtime::Runtime {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap()
    }

    #[test]
    fn an_answer_that_never_comes_is_a_timeout_at_the_timeout() {
        let (ep, go) = held_server();
        let eps = [ep];
        let (req, _) = get(false);
        let timeout = Duration::from_millis(200);
        let (result, waited) = runtime().block_on(async {
            let mut conns = Conns::default();
            let t0 = Instant::now();
            let r = conns.exchange(t0, timeout, 0, &eps, &req, false).await;
            (r.map(|a| a.status).map_err(|f| f.class), t0.elapsed())
        });
        assert_eq!(result, Err(ErrorClass::Timeout));
        assert!(waited >= timeout, "{waited:?}");
        drop(go);
    }

    /// The user's timer is armed for the first request's deadline; a later
    /// request with a later deadline, still unanswered when that first
    /// deadline passes, must not be cut off by it.
    #[test]
    fn an_earlier_requests_deadline_does_not_time_out_a_later_request() {
        let (ep, go) = held_server();
        let eps = [ep];
        let (req, _) = get(false);
        let result = runtime().block_on(async {
            let mut conns = Conns::default();
            // First request: answered at once; its deadline (50 ms) arms the timer.
            go.send(()).unwrap();
            let first = conns
                .exchange(
                    Instant::now(),
                    Duration::from_millis(50),
                    0,
                    &eps,
                    &req,
                    false,
                )
                .await;
            assert_eq!(first.map(|a| a.status).map_err(|f| f.class), Ok(200));
            // Second: 60 s to answer; the answer is let go only once the
            // first deadline is well past, so the timer has fired meanwhile.
            let second = conns.exchange(
                Instant::now(),
                Duration::from_secs(60),
                0,
                &eps,
                &req,
                false,
            );
            let release = async {
                tokio::time::sleep(Duration::from_millis(300)).await;
                go.send(()).unwrap();
            };
            let (second, ()) = tokio::join!(second, release);
            second.map(|a| a.status).map_err(|f| f.class)
        });
        assert_eq!(result, Ok(200));
    }
}
