//! The HTTP side: one keep-alive HTTP/1.1 connection per endpoint per
//! virtual user (hyper's low-level client), a request sent and its answer
//! read whole, and the outcome classified.
//!
//! A connection that failed or timed out is dropped, never reused: its state
//! is unknown. Before reuse, `ready()` tells whether the server closed an idle
//! connection meanwhile, so a keep-alive race does not count as an error.

use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::client::conn::http1::{self, SendRequest};
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;

use crate::stats::ErrorClass;
use crate::targets::Endpoint;

/// Longest response body kept for a later step's template.
pub const MAX_KEPT_BODY: usize = 8 << 20;

/// The connections one virtual user holds, one per endpoint at most.
#[derive(Default)]
pub struct Conns {
    conns: Vec<Option<SendRequest<Full<Bytes>>>>,
}

/// What came back.
pub struct Answer {
    pub status: u16,
    /// The body, when asked to keep it.
    pub body: Option<Bytes>,
}

/// A failed exchange: its class, and whether the connection must go.
pub struct Failure {
    pub class: ErrorClass,
    /// HTTP status, when an answer arrived but could not be read to its end.
    pub status: Option<u16>,
}

impl Conns {
    /// A ready connection to endpoint `ep`, opening one if needed.
    async fn ready(
        &mut self,
        ep: usize,
        endpoints: &[Endpoint],
    ) -> Result<&mut SendRequest<Full<Bytes>>, Failure> {
        if self.conns.len() <= ep {
            self.conns.resize_with(ep + 1, || None);
        }
        let reusable = match &mut self.conns[ep] {
            Some(s) if !s.is_closed() => s.ready().await.is_ok(),
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
            // The connection is driven by its own task; it ends when the
            // sender is dropped or the server closes.
            tokio::spawn(async move {
                let _ = conn.await;
            });
            self.conns[ep] = Some(sender);
        }
        match &mut self.conns[ep] {
            Some(s) => Ok(s),
            None => Err(connect_failure()),
        }
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
        let sender = self.ready(ep, endpoints).await?;
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
