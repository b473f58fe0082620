//! HTTP/1.1 on the wire, without I/O: a request written as bytes, and a
//! response read from whatever bytes have arrived so far.
//!
//! A load generator spends most of its own CPU here, so this is the lean
//! path wrk takes rather than a general client: one buffer per connection,
//! the head parsed by `httparse`, the body counted (or kept, up to a
//! limit) without a copy per frame. It reads exactly one response per
//! request (no pipelining) and says whether the connection may carry the
//! next one. Anything it does not understand is an error, never a guess:
//! the connection is then dropped.

use bytes::{Buf, BytesMut};

/// Longest response head (status line and headers) accepted.
pub const MAX_HEAD: usize = 64 << 10;
/// Most headers in one response head.
const MAX_HEADERS: usize = 128;
/// Longest chunk-size line (hex digits, extensions) accepted.
const MAX_CHUNK_LINE: usize = 4 << 10;

/// What is wrong with a response. Each ends the connection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Malformed {
    /// The head is not HTTP/1.x, or bigger than [`MAX_HEAD`].
    Head(String),
    /// The body's framing is broken (bad chunk size, conflicting lengths).
    Framing(String),
    /// The connection ended before the response did.
    Truncated,
    /// The kept body would pass the limit it was asked to stay under.
    TooLarge,
}

/// Where the response stands after the bytes seen so far.
#[derive(Debug, PartialEq, Eq)]
pub enum Progress {
    NeedMore,
    Done,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Body {
    /// `Content-Length` bytes still to come.
    Length(u64),
    /// Chunked: reading a chunk-size line.
    ChunkSize,
    /// Chunked: bytes of the current chunk still to come.
    ChunkData(u64),
    /// Chunked: the CRLF after a chunk's data.
    ChunkEnd,
    /// Chunked: trailer lines after the last chunk, up to an empty line.
    Trailers,
    /// No length given: the body runs until the server closes.
    UntilClose,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Head,
    Body(Body),
    Done,
}

/// Reads one response from a connection's buffer.
#[derive(Debug)]
pub struct Response {
    state: State,
    head_request: bool,
    /// Keep the body (up to this many bytes) instead of discarding it.
    keep: Option<usize>,
    pub status: Option<u16>,
    /// The server lets the connection carry another request.
    pub reusable: bool,
    pub body: Vec<u8>,
}

impl Response {
    /// A reader for the answer to a request; `head_request` for HEAD (no
    /// body whatever the headers say), `keep` to keep up to that many
    /// bytes of body.
    pub fn new(head_request: bool, keep: Option<usize>) -> Response {
        Response {
            state: State::Head,
            head_request,
            keep,
            status: None,
            reusable: false,
            body: Vec::new(),
        }
    }

    /// Consumes what it can of `buf`. Bytes after the end of the response
    /// are left in `buf` (a server that sent them broke the exchange; the
    /// caller then drops the connection).
    pub fn advance(&mut self, buf: &mut BytesMut) -> Result<Progress, Malformed> {
        loop {
            match self.state {
                State::Head => {
                    if !self.head(buf)? {
                        return Ok(Progress::NeedMore);
                    }
                }
                State::Body(body) => {
                    if !self.body(body, buf)? {
                        return Ok(Progress::NeedMore);
                    }
                }
                State::Done => return Ok(Progress::Done),
            }
        }
    }

    /// The server closed the connection: the end of a body that runs until
    /// close, or a truncated response.
    pub fn eof(&mut self) -> Result<Progress, Malformed> {
        match self.state {
            State::Body(Body::UntilClose) => {
                self.state = State::Done;
                self.reusable = false;
                Ok(Progress::Done)
            }
            State::Done => Ok(Progress::Done),
            _ => Err(Malformed::Truncated),
        }
    }

    /// Parses the head when it is complete; false while more is needed.
    fn head(&mut self, buf: &mut BytesMut) -> Result<bool, Malformed> {
        // Uninitialised: no 4 KB of empty headers written per answer.
        let mut headers =
            [const { std::mem::MaybeUninit::<httparse::Header>::uninit() }; MAX_HEADERS];
        let mut parsed = httparse::Response::new(&mut []);
        let len = match httparse::ParserConfig::default().parse_response_with_uninit_headers(
            &mut parsed,
            buf,
            &mut headers,
        ) {
            // Judged the same however the head arrived.
            Ok(httparse::Status::Complete(len)) if len > MAX_HEAD => {
                return Err(Malformed::Head(format!(
                    "response head longer than {MAX_HEAD} bytes"
                )))
            }
            Ok(httparse::Status::Complete(len)) => len,
            Ok(httparse::Status::Partial) if buf.len() > MAX_HEAD => {
                return Err(Malformed::Head(format!(
                    "response head longer than {MAX_HEAD} bytes"
                )))
            }
            Ok(httparse::Status::Partial) => return Ok(false),
            Err(e) => return Err(Malformed::Head(e.to_string())),
        };
        let status = parsed.code.unwrap_or(0);
        let version = parsed.version.unwrap_or(0);
        let framing = Framing::of(parsed.headers)?;
        buf.advance(len);
        if (100..200).contains(&status) {
            if status == 101 {
                return Err(Malformed::Head(
                    "101 Switching Protocols: not an HTTP/1.1 answer".into(),
                ));
            }
            // An interim answer (100 Continue, 103 Early Hints): the real
            // one follows on the same connection.
            return Ok(true);
        }
        self.status = Some(status);
        self.reusable = !framing.close && (version == 1 || framing.keep_alive);
        let no_body = self.head_request || status == 204 || status == 304;
        self.state = if no_body {
            State::Done
        } else if framing.chunked {
            State::Body(Body::ChunkSize)
        } else if let Some(n) = framing.length {
            State::Body(Body::Length(n))
        } else {
            self.reusable = false;
            State::Body(Body::UntilClose)
        };
        Ok(true)
    }

    /// Moves the body on; false while more bytes are needed.
    fn body(&mut self, body: Body, buf: &mut BytesMut) -> Result<bool, Malformed> {
        let next = match body {
            Body::Length(0) => State::Done,
            Body::Length(n) | Body::ChunkData(n) => {
                if buf.is_empty() {
                    return Ok(false);
                }
                let take = usize::try_from(n).unwrap_or(usize::MAX).min(buf.len());
                self.take(buf, take)?;
                let left = n - take as u64;
                match body {
                    Body::Length(_) if left == 0 => State::Done,
                    Body::Length(_) => State::Body(Body::Length(left)),
                    _ if left == 0 => State::Body(Body::ChunkEnd),
                    _ => State::Body(Body::ChunkData(left)),
                }
            }
            Body::UntilClose => {
                if buf.is_empty() {
                    return Ok(false);
                }
                let all = buf.len();
                self.take(buf, all)?;
                return Ok(false);
            }
            Body::ChunkSize => {
                let Some(line) = line(buf, "chunk size")? else {
                    return Ok(false);
                };
                match chunk_size(&line)? {
                    0 => State::Body(Body::Trailers),
                    n => State::Body(Body::ChunkData(n)),
                }
            }
            Body::ChunkEnd => {
                if buf.len() < 2 {
                    return Ok(false);
                }
                if &buf[..2] != b"\r\n" {
                    return Err(Malformed::Framing("no CRLF after a chunk's data".into()));
                }
                buf.advance(2);
                State::Body(Body::ChunkSize)
            }
            Body::Trailers => {
                let Some(line) = line(buf, "trailer")? else {
                    return Ok(false);
                };
                if line.is_empty() {
                    State::Done
                } else {
                    State::Body(Body::Trailers)
                }
            }
        };
        self.state = next;
        Ok(true)
    }

    /// Takes `n` body bytes off `buf`, keeping them when asked.
    fn take(&mut self, buf: &mut BytesMut, n: usize) -> Result<(), Malformed> {
        if let Some(limit) = self.keep {
            if self.body.len() + n > limit {
                return Err(Malformed::TooLarge);
            }
            self.body.extend_from_slice(&buf[..n]);
        }
        buf.advance(n);
        Ok(())
    }
}

/// How the headers say the body is framed.
#[derive(Debug, Default)]
struct Framing {
    length: Option<u64>,
    chunked: bool,
    close: bool,
    keep_alive: bool,
}

impl Framing {
    fn of(headers: &[httparse::Header]) -> Result<Framing, Malformed> {
        let mut f = Framing::default();
        for h in headers {
            if h.name.eq_ignore_ascii_case("content-length") {
                let n = std::str::from_utf8(h.value)
                    .ok()
                    .map(str::trim)
                    .filter(|v| !v.is_empty() && v.bytes().all(|b| b.is_ascii_digit()))
                    .and_then(|v| v.parse::<u64>().ok())
                    .ok_or_else(|| {
                        Malformed::Framing("a Content-Length that is not a number".into())
                    })?;
                // Several equal values are allowed (RFC 9110 8.6); different
                // ones are how responses get smuggled.
                if f.length.is_some_and(|m| m != n) {
                    return Err(Malformed::Framing("two different Content-Lengths".into()));
                }
                f.length = Some(n);
            } else if h.name.eq_ignore_ascii_case("transfer-encoding") {
                // Chunked must be the last coding; anything else we cannot frame.
                let last = h.value.rsplit(|&b| b == b',').next().unwrap_or(b"");
                if trimmed(last).eq_ignore_ascii_case(b"chunked") {
                    f.chunked = true;
                } else {
                    return Err(Malformed::Framing(format!(
                        "Transfer-Encoding {:?} does not end in chunked",
                        String::from_utf8_lossy(h.value)
                    )));
                }
            } else if h.name.eq_ignore_ascii_case("connection") {
                for token in h.value.split(|&b| b == b',') {
                    let token = trimmed(token);
                    f.close |= token.eq_ignore_ascii_case(b"close");
                    f.keep_alive |= token.eq_ignore_ascii_case(b"keep-alive");
                }
            }
        }
        // Chunked wins over a length (RFC 9112 6.3), but such a response
        // must not be followed by another on the same connection.
        if f.chunked && f.length.is_some() {
            f.close = true;
            f.length = None;
        }
        Ok(f)
    }
}

fn trimmed(bytes: &[u8]) -> &[u8] {
    let start = bytes
        .iter()
        .position(|b| !b.is_ascii_whitespace())
        .unwrap_or(bytes.len());
    let end = bytes
        .iter()
        .rposition(|b| !b.is_ascii_whitespace())
        .map_or(start, |e| e + 1);
    &bytes[start..end]
}

/// One CRLF-ended line off `buf` (without the CRLF), or `None` until it is
/// all there.
fn line(buf: &mut BytesMut, what: &str) -> Result<Option<Vec<u8>>, Malformed> {
    match buf.windows(2).position(|w| w == b"\r\n") {
        Some(end) if end > MAX_CHUNK_LINE => {
            Err(Malformed::Framing(format!("{what} line too long")))
        }
        Some(end) => {
            let line = buf[..end].to_vec();
            buf.advance(end + 2);
            Ok(Some(line))
        }
        None if buf.len() > MAX_CHUNK_LINE => {
            Err(Malformed::Framing(format!("{what} line too long")))
        }
        None => Ok(None),
    }
}

/// The size on a chunk-size line (hex, then optional `;extensions`).
fn chunk_size(line: &[u8]) -> Result<u64, Malformed> {
    let digits = line.split(|&b| b == b';').next().unwrap_or(b"");
    let digits = trimmed(digits);
    let bad = || {
        Malformed::Framing(format!(
            "bad chunk size {:?}",
            String::from_utf8_lossy(line)
        ))
    };
    if digits.is_empty() || digits.len() > 15 {
        return Err(bad());
    }
    let text = std::str::from_utf8(digits).map_err(|_| bad())?;
    u64::from_str_radix(text, 16).map_err(|_| bad())
}

/// Writes a request: `METHOD TARGET HTTP/1.1`, the headers as given, and a
/// `Content-Length` (always for a body, and for an empty POST/PUT/PATCH,
/// which some servers refuse without one).
pub fn write_request(
    out: &mut Vec<u8>,
    method: &str,
    target: &str,
    headers: &[(&[u8], &[u8])],
    body: &[u8],
) {
    out.clear();
    start_request(out, method, target);
    let mut has_length = false;
    for (name, value) in headers {
        has_length |= name.eq_ignore_ascii_case(b"content-length");
        header(out, name, value);
    }
    end_request(out, method, has_length, body);
}

/// The request line of [`write_request`].
pub fn start_request(out: &mut Vec<u8>, method: &str, target: &str) {
    out.extend_from_slice(method.as_bytes());
    out.push(b' ');
    out.extend_from_slice(target.as_bytes());
    out.extend_from_slice(b" HTTP/1.1\r\n");
}

/// One header line of [`write_request`].
pub fn header(out: &mut Vec<u8>, name: &[u8], value: &[u8]) {
    out.extend_from_slice(name);
    out.extend_from_slice(b": ");
    out.extend_from_slice(value);
    out.extend_from_slice(b"\r\n");
}

/// The end of [`write_request`]: a `Content-Length` unless the headers
/// had one (`has_length`), the blank line and the body.
pub fn end_request(out: &mut Vec<u8>, method: &str, has_length: bool, body: &[u8]) {
    let needs_length = !body.is_empty() || matches!(method, "POST" | "PUT" | "PATCH");
    if needs_length && !has_length {
        out.extend_from_slice(b"content-length: ");
        out.extend_from_slice(itoa::Buffer::new().format(body.len()).as_bytes());
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(b"\r\n");
    out.extend_from_slice(body);
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    /// Feeds `wire` in pieces of `step` bytes; the outcome and what is left.
    fn read(
        wire: &[u8],
        step: usize,
        head: bool,
        keep: Option<usize>,
    ) -> (Result<Response, Malformed>, usize) {
        let mut r = Response::new(head, keep);
        let mut buf = BytesMut::new();
        for piece in wire.chunks(step.max(1)) {
            buf.extend_from_slice(piece);
            match r.advance(&mut buf) {
                Ok(Progress::Done) => return (Ok(r), buf.len()),
                Ok(Progress::NeedMore) => {}
                Err(e) => return (Err(e), buf.len()),
            }
        }
        match r.eof() {
            Ok(_) => (Ok(r), buf.len()),
            Err(e) => (Err(e), buf.len()),
        }
    }

    #[test]
    fn content_length_in_any_split() {
        let wire = b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello";
        for step in 1..=wire.len() {
            let (r, left) = read(wire, step, false, Some(100));
            let r = r.unwrap();
            assert_eq!(
                (r.status, r.reusable, r.body.as_slice(), left),
                (Some(200), true, &b"hello"[..], 0)
            );
        }
    }

    #[test]
    fn chunked_with_extensions_and_trailers() {
        let wire = b"HTTP/1.1 201 Created\r\nTransfer-Encoding: gzip, chunked\r\n\r\n4;x=y\r\nWiki\r\n5\r\npedia\r\n0\r\nX-T: 1\r\n\r\n";
        for step in 1..=wire.len() {
            let r = read(wire, step, false, Some(100)).0.unwrap();
            assert_eq!(
                (r.status, r.body.as_slice()),
                (Some(201), &b"Wikipedia"[..])
            );
            assert!(r.reusable);
        }
    }

    #[test]
    fn until_close_and_connection_close() {
        let r = read(b"HTTP/1.1 200 OK\r\n\r\nall of it", 4, false, Some(100))
            .0
            .unwrap();
        assert_eq!((r.body.as_slice(), r.reusable), (&b"all of it"[..], false));
        let r = read(
            b"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 0\r\n\r\n",
            7,
            false,
            None,
        )
        .0
        .unwrap();
        assert!(!r.reusable);
        let r = read(
            b"HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n",
            7,
            false,
            None,
        )
        .0
        .unwrap();
        assert!(!r.reusable);
        let r = read(
            b"HTTP/1.0 200 OK\r\nConnection: Keep-Alive\r\nContent-Length: 0\r\n\r\n",
            7,
            false,
            None,
        )
        .0
        .unwrap();
        assert!(r.reusable);
    }

    #[test]
    fn interim_answers_no_body_statuses_and_head() {
        let r = read(
            b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 204 No Content\r\n\r\n",
            3,
            false,
            None,
        )
        .0
        .unwrap();
        assert_eq!((r.status, r.reusable), (Some(204), true));
        let r = read(
            b"HTTP/1.1 200 OK\r\nContent-Length: 99\r\n\r\n",
            3,
            true,
            None,
        )
        .0
        .unwrap();
        assert_eq!(r.status, Some(200));
        assert_eq!(
            read(b"HTTP/1.1 101 Switching Protocols\r\n\r\n", 50, false, None)
                .0
                .unwrap_err(),
            Malformed::Head("101 Switching Protocols: not an HTTP/1.1 answer".into())
        );
    }

    #[test]
    fn broken_responses_are_errors() {
        let cases: [(&[u8], &str); 8] = [
            (
                b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhel",
                "Truncated",
            ),
            (
                b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello",
                "Framing",
            ),
            (b"HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n", "Framing"),
            (
                b"HTTP/1.1 200 OK\r\nContent-Length: 99999999999999999999999\r\n\r\n",
                "Framing",
            ),
            (
                b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
                "Framing",
            ),
            (
                b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabcX\r\n",
                "Framing",
            ),
            (
                b"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n",
                "Framing",
            ),
            (b"SSH-2.0-OpenSSH\r\n\r\n", "Head"),
        ];
        for (wire, want) in cases {
            let e = read(wire, 5, false, None).0.unwrap_err();
            assert!(
                format!("{e:?}").starts_with(want),
                "{:?}: {e:?}",
                String::from_utf8_lossy(wire)
            );
        }
        let e = read(
            b"HTTP/1.1 200 OK\r\nContent-Length: 11\r\n\r\nhello world",
            4,
            false,
            Some(10),
        )
        .0
        .unwrap_err();
        assert_eq!(e, Malformed::TooLarge);
        let mut huge = b"HTTP/1.1 200 OK\r\nX: ".to_vec();
        huge.resize(MAX_HEAD + 10, b'a');
        assert!(matches!(
            read(&huge, 4096, false, None).0.unwrap_err(),
            Malformed::Head(_)
        ));
    }

    #[test]
    fn chunked_beats_a_length_but_ends_reuse() {
        let wire = b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n";
        let r = read(wire, 6, false, Some(10)).0.unwrap();
        assert_eq!((r.body.as_slice(), r.reusable), (&b"ok"[..], false));
    }

    #[test]
    fn bytes_after_the_response_are_left_for_the_caller() {
        let (r, left) = read(
            b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nokEXTRA",
            100,
            false,
            None,
        );
        assert!(r.is_ok());
        assert_eq!(left, 5);
    }

    #[test]
    fn requests_are_written_with_a_length_when_needed() {
        let mut out = Vec::new();
        write_request(&mut out, "GET", "/a?b=1", &[(b"host", b"h:1")], b"");
        assert_eq!(out, b"GET /a?b=1 HTTP/1.1\r\nhost: h:1\r\n\r\n");
        write_request(&mut out, "POST", "/p", &[(b"host", b"h")], b"");
        assert_eq!(
            out,
            b"POST /p HTTP/1.1\r\nhost: h\r\ncontent-length: 0\r\n\r\n"
        );
        write_request(&mut out, "PUT", "/p", &[(b"Content-Length", b"2")], b"{}");
        assert_eq!(out, b"PUT /p HTTP/1.1\r\nContent-Length: 2\r\n\r\n{}");
    }
}
