//! The HTTP side: one keep-alive HTTP/1.1 connection per endpoint per
//! virtual user (hyper's low-level client), a request sent and its answer
//! read whole, and the outcome classified.
//!
//! The connection is driven inside the user's own task (polled alongside the
//! request) instead of a task of its own: no cross-task wake-ups per
//! request, which is most of what a load generator's client costs.
//!
//! A connection that failed or timed out is dropped, never reused: its state
//! is unknown. Before reuse, `ready()` tells whether the server closed an idle
//! connection meanwhile, so a keep-alive race does not count as an error.

use std::future::Future;
use std::pin::Pin;

use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::client::conn::http1::{self, Connection, SendRequest};
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;

use crate::stats::ErrorClass;
use crate::targets::Endpoint;

/// Longest response body kept for a later step's template.
pub const MAX_KEPT_BODY: usize = 8 << 20;

type Driver = Pin<Box<Connection<TokioIo<TcpStream>, Full<Bytes>>>>;

/// One open connection: the request side and the connection future that
/// moves its bytes (polled by whoever uses the sender).
struct Open {
    sender: SendRequest<Full<Bytes>>,
    driver: Driver,
}

/// The connections one virtual user holds, one per endpoint at most.
#[derive(Default)]
pub struct Conns {
    conns: Vec<Option<Open>>,
}

/// What came back.
pub struct Answer {
    pub status: u16,
    /// The body, when asked to keep it.
    pub body: Option<Bytes>,
}

/// A failed exchange.
pub struct Failure {
    pub class: ErrorClass,
    /// HTTP status, when an answer arrived but could not be read to its end.
    pub status: Option<u16>,
}

/// Runs `work` while driving the connection; the connection ending first
/// (closed, reset) is a failure of class `other`.
async fn driven<T>(
    driver: &mut Driver,
    work: impl Future<Output = Result<T, Failure>>,
) -> Result<T, Failure> {
    tokio::pin!(work);
    tokio::select! {
        biased;
        r = &mut work => r,
        _ = driver.as_mut() => Err(Failure { class: ErrorClass::Other, status: None }),
    }
}

impl Conns {
    /// A ready connection to endpoint `ep`, opening one if needed.
    async fn ready(&mut self, ep: usize, endpoints: &[Endpoint]) -> Result<&mut Open, Failure> {
        if self.conns.len() <= ep {
            self.conns.resize_with(ep + 1, || None);
        }
        let reusable = match &mut self.conns[ep] {
            Some(open) if !open.sender.is_closed() => {
                let Open { sender, driver } = open;
                driven(driver, async {
                    sender.ready().await.map_err(|_| connect_failure())
                })
                .await
                .is_ok()
            }
            _ => false,
        };
        if !reusable {
            self.conns[ep] = None;
            let stream = TcpStream::connect(endpoints[ep].addr)
                .await
                .map_err(|_| connect_failure())?;
            let _ = stream.set_nodelay(true);
            let (sender, conn) = http1::handshake(TokioIo::new(stream))
                .await
                .map_err(|_| connect_failure())?;
            self.conns[ep] = Some(Open {
                sender,
                driver: Box::pin(conn),
            });
        }
        self.conns[ep].as_mut().ok_or_else(connect_failure)
    }

    /// Forgets the connection to `ep` (after a failure or timeout).
    pub fn discard(&mut self, ep: usize) {
        if let Some(c) = self.conns.get_mut(ep) {
            *c = None;
        }
    }

    /// Sends `req` to endpoint `ep` and reads the whole answer. The caller
    /// bounds it with the timeout (and discards the connection on timeout).
    pub async fn exchange(
        &mut self,
        ep: usize,
        endpoints: &[Endpoint],
        req: hyper::Request<Full<Bytes>>,
        keep_body: bool,
    ) -> Result<Answer, Failure> {
        let result = self.exchange_inner(ep, endpoints, req, keep_body).await;
        if result.is_err() {
            self.discard(ep);
        }
        result
    }

    async fn exchange_inner(
        &mut self,
        ep: usize,
        endpoints: &[Endpoint],
        req: hyper::Request<Full<Bytes>>,
        keep_body: bool,
    ) -> Result<Answer, Failure> {
        let Open { sender, driver } = self.ready(ep, endpoints).await?;
        let work = async {
            let response = sender.send_request(req).await.map_err(|_| Failure {
                class: ErrorClass::Other,
                status: None,
            })?;
            let status = response.status().as_u16();
            let body_error = || Failure {
                class: ErrorClass::Other,
                status: Some(status),
            };
            let body = if keep_body {
                let collected = Limited::new(response.into_body(), MAX_KEPT_BODY)
                    .collect()
                    .await
                    .map_err(|_| body_error())?;
                Some(collected.to_bytes())
            } else {
                // Read and drop, frame by frame: no buffering of what nobody reads.
                let mut body = response.into_body();
                while let Some(frame) = body.frame().await {
                    frame.map_err(|_| body_error())?;
                }
                None
            };
            Ok(Answer { status, body })
        };
        driven(driver, work).await
    }
}

fn connect_failure() -> Failure {
    Failure {
        class: ErrorClass::Connect,
        status: None,
    }
}

/// The class of an answer's status; `None` for success (1xx–3xx).
pub fn classify(status: u16) -> Option<ErrorClass> {
    match status {
        100..=399 => None,
        400..=499 => Some(ErrorClass::Status4xx),
        500..=599 => Some(ErrorClass::Status5xx),
        _ => Some(ErrorClass::Other),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_classify() {
        assert_eq!(classify(200), None);
        assert_eq!(classify(302), None);
        assert_eq!(classify(404), Some(ErrorClass::Status4xx));
        assert_eq!(classify(503), Some(ErrorClass::Status5xx));
        assert_eq!(classify(999), Some(ErrorClass::Other));
    }
}
