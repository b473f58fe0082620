//! A minimal HTTP/1.1 GET for probes: one request per connection
//! (`Connection: close`), status line and headers parsed, body read by
//! Content-Length, chunked encoding or EOF, and everything bounded by one
//! deadline. A probe only needs the status and (for --expect-body) the body,
//! so no client library is pulled in for it.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream, ToSocketAddrs};
use std::time::{Duration, Instant};

/// Bodies are read up to this size; `--expect-body` matches within it.
pub const MAX_RESPONSE: usize = 1 << 20;

/// `http://host:port/path`, split into what a request needs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Url {
    pub host: String,
    pub port: u16,
    /// Path and query, starting with `/`.
    pub target: String,
}

impl Url {
    pub fn parse(text: &str) -> Result<Url, String> {
        let rest = text
            .strip_prefix("http://")
            .ok_or_else(|| format!("'{text}': only http:// URLs can be probed"))?;
        let (authority, target) = match rest.find(['/', '?']) {
            Some(i) if rest.as_bytes()[i] == b'/' => (&rest[..i], rest[i..].to_string()),
            Some(i) => (&rest[..i], format!("/{}", &rest[i..])),
            None => (rest, "/".to_string()),
        };
        if authority.contains('@') {
            return Err(format!(
                "'{text}': user info in probe URLs is not supported"
            ));
        }
        let (host, port) = if let Some(v6) = authority.strip_prefix('[') {
            let (h, after) = v6
                .split_once(']')
                .ok_or_else(|| format!("'{text}': unclosed '['"))?;
            let port = match after.strip_prefix(':') {
                Some(p) => p,
                None if after.is_empty() => "80",
                None => return Err(format!("'{text}': junk after ']'")),
            };
            (h, port)
        } else {
            match authority.rsplit_once(':') {
                Some((h, p)) => (h, p),
                None => (authority, "80"),
            }
        };
        if host.is_empty() {
            return Err(format!("'{text}': no host"));
        }
        let port = port
            .parse::<u16>()
            .ok()
            .filter(|p| *p > 0)
            .ok_or_else(|| format!("'{text}': '{port}' is not a port (1-65535)"))?;
        if target.bytes().any(|b| b.is_ascii_control() || b == b' ') {
            return Err(format!(
                "'{text}': spaces or control characters in the path"
            ));
        }
        Ok(Url {
            host: host.to_string(),
            port,
            target,
        })
    }

    fn host_header(&self) -> String {
        if self.host.contains(':') {
            format!("[{}]:{}", self.host, self.port)
        } else {
            format!("{}:{}", self.host, self.port)
        }
    }
}

/// Resolves `host:port` to its first address.
pub fn resolve(host: &str, port: u16) -> Result<SocketAddr, String> {
    (host, port)
        .to_socket_addrs()
        .map_err(|e| format!("cannot resolve {host}: {e}"))?
        .next()
        .ok_or_else(|| format!("cannot resolve {host}: no address"))
}

/// A parsed response: status and (possibly truncated) body.
#[derive(Debug, PartialEq, Eq)]
pub struct Response {
    pub status: u16,
    pub body: Vec<u8>,
}

fn remaining(deadline: Instant) -> Result<Duration, String> {
    let left = deadline.saturating_duration_since(Instant::now());
    if left.is_zero() {
        Err("timed out".to_string())
    } else {
        Ok(left)
    }
}

/// GETs `url`, giving up at `deadline`.
pub fn get(url: &Url, addr: SocketAddr, deadline: Instant) -> Result<Response, String> {
    let mut stream = TcpStream::connect_timeout(&addr, remaining(deadline)?)
        .map_err(|e| format!("connect {addr}: {}", short_io(&e)))?;
    let _ = stream.set_nodelay(true);
    let request = format!(
        "GET {} HTTP/1.1\r\nHost: {}\r\nUser-Agent: cycle-check\r\nAccept: */*\r\nConnection: close\r\n\r\n",
        url.target,
        url.host_header()
    );
    stream
        .set_write_timeout(Some(remaining(deadline)?))
        .map_err(|e| short_io(&e))?;
    stream
        .write_all(request.as_bytes())
        .map_err(|e| format!("send: {}", short_io(&e)))?;
    let mut parser = ResponseParser::default();
    let mut buf = [0u8; 16 * 1024];
    loop {
        stream
            .set_read_timeout(Some(remaining(deadline)?))
            .map_err(|e| short_io(&e))?;
        let n = match stream.read(&mut buf) {
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(format!("read: {}", short_io(&e))),
        };
        if n == 0 {
            return parser.finish_at_eof();
        }
        if let Some(done) = parser.feed(&buf[..n])? {
            return Ok(done);
        }
    }
}

/// An I/O error as a short reason, without the "(os error N)" tail.
pub fn short_io(e: &std::io::Error) -> String {
    match e.kind() {
        std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut => "timed out".to_string(),
        _ => {
            let text = e.to_string();
            match text.find(" (os error") {
                Some(i) => text[..i].to_string(),
                None => text,
            }
        }
    }
}

/// Incremental response parser: feed bytes, get the response once complete.
#[derive(Debug, Default)]
pub struct ResponseParser {
    buf: Vec<u8>,
    head: Option<Head>,
}

#[derive(Debug)]
struct Head {
    status: u16,
    body_start: usize,
    framing: Framing,
}

#[derive(Debug, Clone, Copy)]
enum Framing {
    Length(usize),
    Chunked,
    UntilEof,
}

impl ResponseParser {
    /// Adds bytes; `Ok(Some(..))` once the response is complete.
    pub fn feed(&mut self, bytes: &[u8]) -> Result<Option<Response>, String> {
        // Keep a little beyond the limit so framing can still be seen.
        let room = (MAX_RESPONSE + 64 * 1024).saturating_sub(self.buf.len());
        self.buf.extend_from_slice(&bytes[..bytes.len().min(room)]);
        if self.head.is_none() {
            match find(&self.buf, b"\r\n\r\n") {
                Some(end) => self.head = Some(parse_head(&self.buf[..end], end + 4)?),
                None if self.buf.len() > 64 * 1024 => {
                    return Err("response headers over 64 KiB".to_string())
                }
                None => return Ok(None),
            }
        }
        self.try_complete(false)
    }

    /// The peer closed the connection.
    pub fn finish_at_eof(&mut self) -> Result<Response, String> {
        if self.head.is_none() {
            return Err(if self.buf.is_empty() {
                "connection closed before any response".to_string()
            } else {
                "connection closed inside the response headers".to_string()
            });
        }
        match self.try_complete(true)? {
            Some(r) => Ok(r),
            None => Err("connection closed inside the response body".to_string()),
        }
    }

    fn try_complete(&mut self, eof: bool) -> Result<Option<Response>, String> {
        let Some(head) = &self.head else {
            return Ok(None);
        };
        let body = &self.buf[head.body_start..];
        let full = self.buf.len() >= MAX_RESPONSE;
        let done = |body: Vec<u8>| {
            Ok(Some(Response {
                status: head.status,
                body,
            }))
        };
        match head.framing {
            Framing::Length(n) if body.len() >= n => done(body[..n].to_vec()),
            Framing::Length(_) if full => done(body.to_vec()),
            Framing::Length(_) => Ok(None),
            Framing::UntilEof if eof || full => done(body.to_vec()),
            Framing::UntilEof => Ok(None),
            Framing::Chunked => match dechunk(body)? {
                Some(b) => done(b),
                None if full => done(body.to_vec()),
                None => Ok(None),
            },
        }
    }
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

fn parse_head(head: &[u8], body_start: usize) -> Result<Head, String> {
    let text =
        std::str::from_utf8(head).map_err(|_| "response headers are not UTF-8".to_string())?;
    let mut lines = text.split("\r\n");
    let status_line = lines.next().unwrap_or_default();
    let mut parts = status_line.splitn(3, ' ');
    let version = parts.next().unwrap_or_default();
    if !version.starts_with("HTTP/1.") {
        return Err(format!(
            "not an HTTP/1.x response: {:?}",
            truncate(status_line)
        ));
    }
    let status = parts
        .next()
        .and_then(|s| (s.len() == 3).then(|| s.parse::<u16>().ok()).flatten())
        .filter(|s| (100..=999).contains(s))
        .ok_or_else(|| format!("bad status line: {:?}", truncate(status_line)))?;
    let mut framing = Framing::UntilEof;
    for line in lines {
        let Some((name, value)) = line.split_once(':') else {
            return Err(format!("bad header line: {:?}", truncate(line)));
        };
        let value = value.trim();
        if name.eq_ignore_ascii_case("transfer-encoding")
            && value.to_ascii_lowercase().contains("chunked")
        {
            framing = Framing::Chunked;
        } else if name.eq_ignore_ascii_case("content-length")
            && !matches!(framing, Framing::Chunked)
        {
            let n = value
                .parse()
                .map_err(|_| format!("bad Content-Length: {:?}", truncate(value)))?;
            framing = Framing::Length(n);
        }
    }
    // 1xx, 204 and 304 have no body.
    if status < 200 || status == 204 || status == 304 {
        framing = Framing::Length(0);
    }
    Ok(Head {
        status,
        body_start,
        framing,
    })
}

fn truncate(s: &str) -> String {
    s.chars().take(80).collect()
}

/// Decodes a chunked body; `Ok(None)` while incomplete.
fn dechunk(mut data: &[u8]) -> Result<Option<Vec<u8>>, String> {
    let mut out = Vec::new();
    loop {
        let Some(eol) = find(data, b"\r\n") else {
            return Ok(None);
        };
        let size_text =
            std::str::from_utf8(&data[..eol]).map_err(|_| "bad chunk size".to_string())?;
        let size_text = size_text.split(';').next().unwrap_or_default().trim();
        let size = usize::from_str_radix(size_text, 16)
            .map_err(|_| format!("bad chunk size: {:?}", truncate(size_text)))?;
        data = &data[eol + 2..];
        if size == 0 {
            return Ok(Some(out));
        }
        if data.len() < size.saturating_add(2) {
            return Ok(None);
        }
        out.extend_from_slice(&data[..size]);
        if &data[size..size + 2] != b"\r\n" {
            return Err("chunk not followed by CRLF".to_string());
        }
        data = &data[size + 2..];
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_all(bytes: &[u8]) -> Result<Response, String> {
        let mut p = ResponseParser::default();
        // Feed byte by byte: framing must not depend on read boundaries.
        for b in bytes {
            if let Some(r) = p.feed(std::slice::from_ref(b))? {
                return Ok(r);
            }
        }
        p.finish_at_eof()
    }

    #[test]
    fn urls() {
        let u = Url::parse("http://127.0.0.1:8080/v1/health").unwrap();
        assert_eq!(
            (u.host.as_str(), u.port, u.target.as_str()),
            ("127.0.0.1", 8080, "/v1/health")
        );
        let u = Url::parse("http://[::1]:9/x?y=1").unwrap();
        assert_eq!(
            (u.host.as_str(), u.port, u.target.as_str()),
            ("::1", 9, "/x?y=1")
        );
        assert_eq!(Url::parse("http://localhost").unwrap().target, "/");
        assert_eq!(Url::parse("http://h?q").unwrap().target, "/?q");
        assert_eq!(Url::parse("http://h").unwrap().port, 80);
        for bad in [
            "https://x",
            "http://:80/",
            "http://h:0/",
            "http://h:99999",
            "http://[::1",
            "http://u@h/",
            "http://h/a b",
        ] {
            assert!(Url::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn responses_by_length_chunked_and_eof() {
        let r = parse_all(b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhelloEXTRA").unwrap();
        assert_eq!((r.status, r.body.as_slice()), (200, &b"hello"[..]));
        let r = parse_all(b"HTTP/1.1 503 Busy\r\nTransfer-Encoding: chunked\r\n\r\n3;x=y\r\nabc\r\n2\r\nde\r\n0\r\n\r\n").unwrap();
        assert_eq!((r.status, r.body.as_slice()), (503, &b"abcde"[..]));
        let r = parse_all(b"HTTP/1.0 302 Found\r\nLocation: /\r\n\r\nbody until eof").unwrap();
        assert_eq!((r.status, r.body.as_slice()), (302, &b"body until eof"[..]));
        let r = parse_all(b"HTTP/1.1 204 No Content\r\n\r\n").unwrap();
        assert_eq!(r.body, b"");
    }

    #[test]
    fn malformed_and_truncated_responses() {
        for (bytes, want) in [
            (&b""[..], "connection closed before any response"),
            (
                b"HTTP/1.1 200 OK\r\nContent-",
                "connection closed inside the response headers",
            ),
            (
                b"HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\nshort",
                "connection closed inside the response body",
            ),
            (
                b"SSH-2.0-OpenSSH\r\n\r\n",
                "not an HTTP/1.x response: \"SSH-2.0-OpenSSH\"",
            ),
            (
                b"HTTP/1.1 2000 OK\r\n\r\n",
                "bad status line: \"HTTP/1.1 2000 OK\"",
            ),
            (
                b"HTTP/1.1 200 OK\r\nno colon\r\n\r\n",
                "bad header line: \"no colon\"",
            ),
            (
                b"HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n",
                "bad Content-Length: \"-1\"",
            ),
            (
                b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
                "bad chunk size: \"zz\"",
            ),
            (
                b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nabc",
                "chunk not followed by CRLF",
            ),
            (
                b"HTTP/1.1 200 \xff\r\n\r\n",
                "response headers are not UTF-8",
            ),
        ] {
            assert_eq!(
                parse_all(bytes).unwrap_err(),
                want,
                "{:?}",
                String::from_utf8_lossy(bytes)
            );
        }
    }

    #[test]
    fn huge_responses_are_bounded() {
        let mut p = ResponseParser::default();
        assert!(p.feed(b"HTTP/1.1 200 OK\r\n\r\n").unwrap().is_none());
        let chunk = vec![b'x'; 1 << 20];
        let mut result = None;
        for _ in 0..10 {
            if let Some(r) = p.feed(&chunk).unwrap() {
                result = Some(r);
                break;
            }
        }
        let r = result.expect("completes once the limit is reached");
        assert!(r.body.len() >= MAX_RESPONSE - 64);
        let mut p = ResponseParser::default();
        let err = p.feed(&vec![b'h'; 70 * 1024]).unwrap_err();
        assert_eq!(err, "response headers over 64 KiB");
    }

    /// A real server on 127.0.0.1 that answers each connection with `reply`
    /// (or, with `None`, accepts and never answers).
    fn server(reply: Option<Vec<u8>>) -> (SocketAddr, std::thread::JoinHandle<()>) {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = l.local_addr().unwrap();
        let h = std::thread::spawn(move || {
            let (mut s, _) = l.accept().unwrap();
            let mut req = [0u8; 1024];
            let _ = s.read(&mut req);
            match reply {
                Some(bytes) => {
                    let _ = s.write_all(&bytes);
                }
                None => std::thread::sleep(Duration::from_millis(500)),
            }
        });
        (addr, h)
    }

    fn probe(reply: Option<Vec<u8>>, timeout: Duration) -> Result<Response, String> {
        let (addr, h) = server(reply);
        let url = Url::parse(&format!("http://{addr}/v1/health")).unwrap();
        let r = get(&url, addr, Instant::now() + timeout);
        h.join().unwrap();
        r
    }

    #[test]
    fn hostile_servers() {
        let ok = probe(
            Some(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok".to_vec()),
            Duration::from_secs(5),
        );
        assert_eq!(
            ok.unwrap(),
            Response {
                status: 200,
                body: b"ok".to_vec()
            }
        );
        // 10 MB without a header end.
        let err = probe(Some(vec![b'A'; 10 << 20]), Duration::from_secs(5)).unwrap_err();
        assert_eq!(err, "response headers over 64 KiB");
        // Accepts, reads, never answers: bounded by the probe's deadline.
        let t = Instant::now();
        let err = probe(None, Duration::from_millis(100)).unwrap_err();
        assert_eq!(err, "read: timed out");
        assert!(t.elapsed() < Duration::from_secs(2));
        let err = probe(
            Some(b"\xff\xfe garbage\r\n\r\n".to_vec()),
            Duration::from_secs(5),
        )
        .unwrap_err();
        assert_eq!(err, "response headers are not UTF-8");
    }
}
