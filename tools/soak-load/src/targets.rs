//! What to send: the targets file (JSON Lines, one target per line) or a
//! single URL from the command line, compiled into a [`Plan`].
//!
//! A target is one request (`name`, `method`, `url`, `headers`, `body`,
//! `weight`) or a `sequence` of named steps one virtual user runs in order,
//! where a step may use an earlier step's JSON response through
//! `{{steps.NAME.FIELD}}` (session churn: start → chats → stop). Everything
//! is checked here, so a bad file fails at once with `FILE:LINE: what`.

use std::collections::{BTreeMap, HashSet};
use std::net::{SocketAddr, ToSocketAddrs};

use bytes::Bytes;
use common::jsonl::JsonlReader;
use common::{Error, Result};
use hyper::header::{HeaderName, HeaderValue};
use hyper::Method;
use serde::Deserialize;
use serde_json::Value;

use crate::schedule;
use crate::template::{JsonTemplate, Text};

/// Upper bound on the sum of weights (one period of the pick table).
const MAX_TOTAL_WEIGHT: u64 = 1_000_000;
/// Upper bound on `repeat` of one step.
const MAX_REPEAT: u32 = 10_000;

/// A host and port requests go to; connections are per endpoint.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Endpoint {
    /// `host:port` as written (the Host header).
    pub authority: String,
    pub addr: SocketAddr,
}

/// A request body: fixed bytes, or JSON/text filled in from earlier steps.
#[derive(Clone, Debug)]
pub enum Body {
    Fixed(Bytes),
    Json(JsonTemplate),
    Text(Text),
}

/// One request, ready to be built many times.
#[derive(Clone, Debug)]
pub struct Request {
    /// Index into [`Plan::stat_names`]: whose figures this request adds to.
    pub stat: usize,
    pub endpoint: usize,
    pub method: Method,
    /// Path and query (origin form), possibly templated.
    pub path: Text,
    /// The path parsed once, when it has no template.
    pub uri: Option<hyper::Uri>,
    pub headers: Vec<(HeaderName, HeaderText)>,
    pub body: Body,
    /// A plain target's statuses that are right answers (`"accept"`,
    /// --accept-status): a redirect the service is meant to answer.
    pub accept: Vec<u16>,
    /// A plain target's `"expect"`: fields (path, value) a 2xx answer's
    /// JSON must hold; `null` also matches an absent field.
    pub expect: Vec<(Vec<String>, Value)>,
}

/// A header value: fixed, or templated.
#[derive(Clone, Debug)]
pub enum HeaderText {
    Fixed(HeaderValue),
    Template(Text),
}

/// One step of a sequence.
#[derive(Clone, Debug)]
pub struct Step {
    pub name: String,
    pub request: Request,
    pub repeat: u32,
    /// A later step refers to this one's response, so it is parsed and kept.
    pub keep_response: bool,
    /// Sent together with the step before it, on a connection of its own.
    pub parallel: bool,
    /// Statuses that count as answered, not as errors (a write refused on
    /// purpose); only 2xx acknowledges a write.
    pub accept: Vec<u16>,
    /// A verify step: not sent during the load; with --verify, sent at the
    /// end for every write its step acknowledged.
    pub verify: Option<crate::verify::Spec>,
}

/// What one pick sends.
#[derive(Clone, Debug)]
pub enum Work {
    Single(Box<Request>),
    Sequence(Vec<Step>),
}

#[derive(Clone, Debug)]
pub struct Target {
    pub name: String,
    pub weight: u32,
    pub work: Work,
}

/// Every target, compiled.
#[derive(Clone, Debug)]
pub struct Plan {
    pub targets: Vec<Target>,
    /// One name per request kind: a target's name, or `SEQUENCE.STEP`.
    pub stat_names: Vec<String>,
    pub endpoints: Vec<Endpoint>,
    /// Which target pick `i` goes to: `table[i % table.len()]`.
    pub table: Vec<u32>,
}

impl Plan {
    pub fn target_for(&self, pick: u64) -> &Target {
        let k = self.table[(pick % self.table.len() as u64) as usize];
        &self.targets[k as usize]
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTarget {
    name: Option<String>,
    method: Option<String>,
    url: Option<String>,
    #[serde(default)]
    headers: BTreeMap<String, String>,
    body: Option<Value>,
    weight: Option<u64>,
    sequence: Option<Vec<RawStep>>,
    /// Statuses that are right answers here (a redirect meant to be one).
    accept: Option<Vec<u16>>,
    /// Fields a 2xx answer must hold (a 200 carrying an error is not one).
    expect: Option<serde_json::Map<String, Value>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawStep {
    name: String,
    method: Option<String>,
    url: String,
    #[serde(default)]
    headers: BTreeMap<String, String>,
    body: Option<Value>,
    repeat: Option<u64>,
    /// Sent at the same time as the step before it (see `sequence.rs`).
    parallel: Option<bool>,
    /// Statuses that are expected answers here, not errors.
    accept: Option<Vec<u16>>,
    /// This step re-reads the write step NAME acknowledged (see `verify.rs`).
    verify: Option<String>,
    /// With `verify`: what the read must answer.
    expect: Option<serde_json::Map<String, Value>>,
}

/// The request the command line describes (`run URL --method --header --body`).
pub struct CliTarget<'a> {
    pub url: &'a str,
    pub method: Option<&'a str>,
    pub headers: &'a [String],
    pub body: Option<&'a str>,
    pub accept: &'a [u16],
}

/// Builds plans, resolving each endpoint once.
#[derive(Default)]
struct Builder {
    targets: Vec<Target>,
    stat_names: Vec<String>,
    endpoints: Vec<Endpoint>,
}

impl Builder {
    fn endpoint(
        &mut self,
        authority: &str,
        host: &str,
        port: u16,
    ) -> std::result::Result<usize, String> {
        if let Some(i) = self.endpoints.iter().position(|e| e.authority == authority) {
            return Ok(i);
        }
        let addr = (host, port)
            .to_socket_addrs()
            .map_err(|e| format!("cannot resolve '{host}': {e}"))?
            .next()
            .ok_or_else(|| format!("'{host}' resolves to no address"))?;
        self.endpoints.push(Endpoint {
            authority: authority.to_string(),
            addr,
        });
        Ok(self.endpoints.len() - 1)
    }

    fn stat(&mut self, name: String) -> usize {
        self.stat_names.push(name);
        self.stat_names.len() - 1
    }

    fn finish(self) -> std::result::Result<Plan, String> {
        let total: u64 = self.targets.iter().map(|t| u64::from(t.weight)).sum();
        if total == 0 {
            return Err("no targets".into());
        }
        if total > MAX_TOTAL_WEIGHT {
            return Err(format!(
                "the weights add up to {total}; at most {MAX_TOTAL_WEIGHT} (scale them down)"
            ));
        }
        let weights: Vec<u32> = self.targets.iter().map(|t| t.weight).collect();
        Ok(Plan {
            table: schedule::pick_table(&weights),
            targets: self.targets,
            stat_names: self.stat_names,
            endpoints: self.endpoints,
        })
    }
}

/// Splits `http://host:port/path?q` into (authority, host, port, path).
fn split_url(url: &str) -> std::result::Result<(String, String, u16, String), String> {
    let rest = if let Some(rest) = url.strip_prefix("http://") {
        rest
    } else if url.starts_with("https://") {
        return Err(format!(
            "'{url}': https is not supported (soak-load speaks plain HTTP/1.1; \
             point it at the service's own port or a TLS-terminating proxy)"
        ));
    } else {
        return Err(format!("'{url}' is not an http:// URL"));
    };
    let (authority, path) = match rest.find(['/', '?']) {
        Some(i) if rest.as_bytes()[i] == b'?' => (&rest[..i], format!("/{}", &rest[i..])),
        Some(i) => (&rest[..i], rest[i..].to_string()),
        None => (rest, "/".to_string()),
    };
    if authority.is_empty() || authority.contains('@') || authority.contains("{{") {
        return Err(format!(
            "'{url}': the host must be written out (no user info, no templates)"
        ));
    }
    let (host, port) = if let Some(v6) = authority.strip_prefix('[') {
        let (h, tail) = v6
            .split_once(']')
            .ok_or_else(|| format!("'{url}': unclosed '[' in the host"))?;
        let port = match tail.strip_prefix(':') {
            Some(p) => p.parse().map_err(|_| format!("'{url}': bad port '{p}'"))?,
            None if tail.is_empty() => 80,
            None => return Err(format!("'{url}': unexpected '{tail}' after the host")),
        };
        (h.to_string(), port)
    } else {
        match authority.rsplit_once(':') {
            Some((h, p)) => (
                h.to_string(),
                p.parse().map_err(|_| format!("'{url}': bad port '{p}'"))?,
            ),
            None => (authority.to_string(), 80),
        }
    };
    if host.is_empty() {
        return Err(format!("'{url}' has no host"));
    }
    Ok((authority.to_string(), host, port, path))
}

fn method(text: Option<&str>) -> std::result::Result<Method, String> {
    let m = text.unwrap_or("GET");
    Method::from_bytes(m.as_bytes()).map_err(|_| format!("'{m}' is not an HTTP method"))
}

/// Compiles one request; `steps` are the earlier steps' names (templates).
#[allow(clippy::too_many_arguments)]
fn request(
    b: &mut Builder,
    stat_name: String,
    method_text: Option<&str>,
    url: &str,
    headers: &BTreeMap<String, String>,
    body: Option<&Value>,
    steps: Option<&[String]>,
) -> std::result::Result<Request, String> {
    let method = method(method_text)?;
    let (authority, host, port, path) = split_url(url)?;
    let path = Text::parse(&path, steps).map_err(|e| format!("url: {e}"))?;
    let mut compiled = Vec::new();
    let mut has_content_type = false;
    for (name, value) in headers {
        let header = HeaderName::from_bytes(name.as_bytes())
            .map_err(|_| format!("header name '{name}' is not valid"))?;
        if header == hyper::header::HOST || header == hyper::header::CONTENT_LENGTH {
            return Err(format!(
                "header '{name}' is set by soak-load from the URL and body"
            ));
        }
        has_content_type |= header == hyper::header::CONTENT_TYPE;
        let text = Text::parse(value, steps).map_err(|e| format!("header '{name}': {e}"))?;
        let value = if text.is_static() {
            HeaderText::Fixed(
                HeaderValue::from_str(value)
                    .map_err(|_| format!("header '{name}' has a value that is not valid"))?,
            )
        } else {
            HeaderText::Template(text)
        };
        compiled.push((header, value));
    }
    let body = match body {
        None | Some(Value::Null) => Body::Fixed(Bytes::new()),
        Some(Value::String(s)) => {
            let t = Text::parse(s, steps).map_err(|e| format!("body: {e}"))?;
            if t.is_static() {
                Body::Fixed(Bytes::from(s.clone()))
            } else {
                Body::Text(t)
            }
        }
        Some(json) => {
            if !has_content_type {
                compiled.push((
                    hyper::header::CONTENT_TYPE,
                    HeaderText::Fixed(HeaderValue::from_static("application/json")),
                ));
            }
            let t = JsonTemplate::parse(json, steps).map_err(|e| format!("body: {e}"))?;
            if t.is_static() {
                Body::Fixed(Bytes::from(json.to_string()))
            } else {
                Body::Json(t)
            }
        }
    };
    let uri = if path.is_static() {
        let text = path.render(&[], crate::template::Splice::Plain)?;
        Some(
            text.parse::<hyper::Uri>()
                .map_err(|e| format!("'{url}': the path is not valid ({e})"))?,
        )
    } else {
        None
    };
    let endpoint = b.endpoint(&authority, &host, port)?;
    let stat = b.stat(stat_name);
    Ok(Request {
        stat,
        endpoint,
        method,
        path,
        uri,
        headers: compiled,
        body,
        accept: Vec::new(),
        expect: Vec::new(),
    })
}

/// A target's `"expect"` object: `"a.b.0": VALUE` pairs.
fn expected(
    expect: Option<serde_json::Map<String, Value>>,
) -> std::result::Result<Vec<(Vec<String>, Value)>, String> {
    let mut out = Vec::new();
    for (field, value) in expect.unwrap_or_default() {
        let path: Vec<String> = field.split('.').map(str::to_string).collect();
        if path.iter().any(String::is_empty) {
            return Err(format!(
                "\"expect\": field '{field}' is not a path like a.b.0"
            ));
        }
        out.push((path, value));
    }
    Ok(out)
}

/// A target's `"accept"` (or --accept-status) list, checked.
fn accepted(list: Option<Vec<u16>>) -> std::result::Result<Vec<u16>, String> {
    let list = list.unwrap_or_default();
    match list.iter().find(|s| !(100..=599).contains(*s)) {
        Some(bad) => Err(format!("\"accept\": {bad} is not an HTTP status")),
        None => Ok(list),
    }
}

fn weight(w: Option<u64>) -> std::result::Result<u32, String> {
    match w {
        None => Ok(1),
        Some(0) => Err("\"weight\" must be at least 1".into()),
        Some(w) => u32::try_from(w)
            .ok()
            .filter(|&w| u64::from(w) <= MAX_TOTAL_WEIGHT)
            .ok_or_else(|| format!("\"weight\" {w} is over {MAX_TOTAL_WEIGHT}")),
    }
}

fn target(b: &mut Builder, raw: RawTarget) -> std::result::Result<Target, String> {
    let weight = weight(raw.weight)?;
    if let Some(steps) = raw.sequence {
        if raw.url.is_some()
            || raw.method.is_some()
            || raw.body.is_some()
            || !raw.headers.is_empty()
            || raw.accept.is_some()
            || raw.expect.is_some()
        {
            return Err(
                "a sequence target has only \"name\", \"weight\" and \"sequence\"; \
                 url, method, headers, body and accept belong to its steps"
                    .into(),
            );
        }
        let name = raw
            .name
            .ok_or("a sequence needs a \"name\" (its steps are reported as NAME.STEP)")?;
        if steps.is_empty() {
            return Err(format!("sequence '{name}' has no steps"));
        }
        let mut names: Vec<String> = Vec::new();
        let mut compiled: Vec<Step> = Vec::new();
        for (i, step) in steps.into_iter().enumerate() {
            let what = format!("sequence '{name}' step {} ('{}')", i + 1, step.name);
            if step.name.is_empty() || names.contains(&step.name) {
                return Err(format!("{what}: step names must be non-empty and unique"));
            }
            let repeat = match step.repeat {
                None => 1,
                Some(r) if r >= 1 && r <= u64::from(MAX_REPEAT) => r as u32,
                Some(r) => {
                    return Err(format!("{what}: \"repeat\" {r} is not in 1..={MAX_REPEAT}"))
                }
            };
            let extra = crate::verify::step_extras(
                &names,
                &compiled,
                step.parallel,
                step.accept,
                step.verify.as_deref(),
                step.expect.as_ref(),
                repeat,
            )
            .map_err(|e| format!("{what}: {e}"))?;
            let req = request(
                b,
                format!("{name}.{}", step.name),
                step.method.as_deref(),
                &step.url,
                &step.headers,
                step.body.as_ref(),
                Some(&names),
            )
            .map_err(|e| format!("{what}: {e}"))?;
            let mut used: Vec<usize> = req.path.steps().collect();
            if let Some(v) = &extra.verify {
                v.steps(&mut used);
            }
            for (_, h) in &req.headers {
                if let HeaderText::Template(t) = h {
                    used.extend(t.steps());
                }
            }
            match &req.body {
                Body::Json(t) => t.steps(&mut used),
                Body::Text(t) => used.extend(t.steps()),
                Body::Fixed(_) => {}
            }
            if extra.parallel {
                crate::verify::check_group(&names, &compiled, &used)
                    .map_err(|e| format!("{what}: {e}"))?;
            }
            for u in used {
                compiled[u].keep_response = true;
            }
            names.push(step.name.clone());
            compiled.push(Step {
                name: step.name,
                request: req,
                repeat,
                keep_response: false,
                parallel: extra.parallel,
                accept: extra.accept,
                verify: extra.verify,
            });
        }
        return Ok(Target {
            name,
            weight,
            work: Work::Sequence(compiled),
        });
    }
    let url = raw
        .url
        .ok_or("a target needs \"url\" (or \"sequence\" with steps)")?;
    let method_text = raw.method.clone();
    let name = match raw.name {
        Some(n) if !n.is_empty() => n,
        Some(_) => return Err("\"name\" must not be empty".into()),
        None => {
            let path = split_url(&url).map(|p| p.3).unwrap_or_default();
            format!("{} {path}", method_text.as_deref().unwrap_or("GET"))
        }
    };
    let mut req = request(
        b,
        name.clone(),
        method_text.as_deref(),
        &url,
        &raw.headers,
        raw.body.as_ref(),
        None,
    )?;
    req.accept = accepted(raw.accept)?;
    req.expect = expected(raw.expect)?;
    Ok(Target {
        name,
        weight,
        work: Work::Single(Box::new(req)),
    })
}

/// Reads and compiles a targets file; errors name `FILE:LINE`.
pub fn load(path: &str) -> Result<(Plan, Option<String>)> {
    let mut reader = JsonlReader::open(path)?;
    let mut b = Builder::default();
    let mut names = HashSet::new();
    let mut last_line = 0;
    while let Some((line, value)) = reader.next_record::<Value>()? {
        last_line = line;
        let file = reader.name().to_string();
        if !value.is_object() {
            return Err(Error::at(&file, line, "a target is a JSON object").with_hint(TARGET_HINT));
        }
        let raw: RawTarget = serde_json::from_value(value).map_err(|e| {
            Error::at(&file, line, format!("not a target: {e}")).with_hint(TARGET_HINT)
        })?;
        let t = target(&mut b, raw).map_err(|e| Error::at(&file, line, e))?;
        if !names.insert(t.name.clone()) {
            return Err(Error::at(
                &file,
                line,
                format!(
                    "target name '{}' is used twice (names must be unique)",
                    t.name
                ),
            ));
        }
        b.targets.push(t);
    }
    let sha = reader.sha256();
    let name = reader.name().to_string();
    b.finish()
        .map_err(|e| Error::at(&name, last_line.max(1), e))
        .map(|plan| (plan, sha))
}

const TARGET_HINT: &str = "a line is {\"name\":..,\"method\":..,\"url\":\"http://..\",\"headers\":{..},\"body\":..,\"weight\":N} \
     or {\"name\":..,\"sequence\":[{\"name\":..,\"url\":..,..},..]}; see 'soak-load run --help'";

/// The plan for a single URL given on the command line.
pub fn from_cli(t: &CliTarget<'_>) -> Result<Plan> {
    let mut headers = BTreeMap::new();
    for h in t.headers {
        let (k, v) = h
            .split_once(':')
            .ok_or_else(|| Error::usage(format!("--header '{h}': expected 'Name: value'")))?;
        headers.insert(k.trim().to_string(), v.trim().to_string());
    }
    let body = t.body.map(|b| Value::String(b.to_string()));
    let mut b = Builder::default();
    let name = {
        let path = split_url(t.url).map(|p| p.3).unwrap_or_default();
        format!("{} {path}", t.method.unwrap_or("GET"))
    };
    let mut req = request(
        &mut b,
        name.clone(),
        t.method,
        t.url,
        &headers,
        body.as_ref(),
        None,
    )
    .map_err(Error::usage)?;
    req.accept = accepted(Some(t.accept.to_vec()))
        .map_err(|e| Error::usage(e.replace("\"accept\"", "--accept-status")))?;
    b.targets.push(Target {
        name,
        weight: 1,
        work: Work::Single(Box::new(req)),
    });
    b.finish().map_err(Error::usage)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn load_text(text: &str) -> Result<Plan> {
        let mut f = tempfile::NamedTempFile::new().unwrap();
        f.write_all(text.as_bytes()).unwrap();
        let path = f.path().to_str().unwrap().to_string();
        load(&path)
            .map(|p| p.0)
            .map_err(|e| Error::new(e.message().replace(&path, "T")))
    }

    #[test]
    fn urls_split() {
        assert_eq!(
            split_url("http://127.0.0.1:8080/v1/chat?x=1").unwrap(),
            (
                "127.0.0.1:8080".into(),
                "127.0.0.1".into(),
                8080,
                "/v1/chat?x=1".into()
            )
        );
        assert_eq!(split_url("http://h").unwrap().3, "/");
        assert_eq!(split_url("http://h?q").unwrap().3, "/?q");
        assert_eq!(split_url("http://[::1]:9/a").unwrap().1, "::1");
        assert!(split_url("https://h/")
            .unwrap_err()
            .contains("https is not supported"));
        assert!(split_url("ftp://h/").is_err());
        assert!(split_url("http://h:x/").is_err());
        assert!(split_url("http://u@h/").is_err());
    }

    #[test]
    fn targets_and_sequences_compile() {
        let plan = load_text(concat!(
            "{\"name\":\"health\",\"url\":\"http://127.0.0.1:1/v1/health\",\"weight\":3}\n",
            "\n",
            "{\"name\":\"churn\",\"sequence\":[",
            "{\"name\":\"start\",\"method\":\"POST\",\"url\":\"http://127.0.0.1:1/session/start\",\"body\":{\"user\":\"u\"}},",
            "{\"name\":\"chat\",\"method\":\"POST\",\"url\":\"http://127.0.0.1:1/v1/chat\",\"body\":{\"session_id\":\"{{steps.start.session_id}}\",\"message\":\"hi\"},\"repeat\":3},",
            "{\"name\":\"stop\",\"method\":\"POST\",\"url\":\"http://127.0.0.1:1/session/stop\",\"body\":{\"session_id\":\"{{steps.start.session_id}}\"}}]}\n",
        ))
        .unwrap();
        assert_eq!(
            plan.stat_names,
            ["health", "churn.start", "churn.chat", "churn.stop"]
        );
        assert_eq!(plan.endpoints.len(), 1);
        assert_eq!(plan.table, vec![0, 0, 1, 0]);
        let Work::Sequence(steps) = &plan.targets[1].work else {
            panic!()
        };
        assert!(steps[0].keep_response && !steps[1].keep_response);
        assert_eq!(steps[1].repeat, 3);
    }

    #[test]
    fn bad_files_name_the_line_and_the_problem() {
        let cases = [
            ("{\"url\":\"http://127.0.0.1:1/\"}\n{\"url\":\"http://127.0.0.1:1/\",\"wieght\":2}\n", "T:2: not a target: unknown field `wieght`"),
            ("{\"url\":\"http://127.0.0.1:1/\"}\n{\"url\":", "T:2:7: truncated last line"),
            ("{\"name\":\"a\",\"url\":\"https://h/\"}\n", "T:1: 'https://h/': https is not supported"),
            ("{\"name\":\"a\",\"url\":\"http://127.0.0.1:1/\",\"weight\":0}\n", "T:1: \"weight\" must be at least 1"),
            ("{\"name\":\"a\",\"url\":\"http://127.0.0.1:1/\"}\n{\"name\":\"a\",\"url\":\"http://127.0.0.1:1/\"}\n", "T:2: target name 'a' is used twice"),
            ("{\"name\":\"s\",\"sequence\":[{\"name\":\"a\",\"url\":\"http://127.0.0.1:1/{{steps.b.id}}\"}]}\n", "T:1: sequence 's' step 1 ('a'): url: template '{{steps.b.id}}' refers to step 'b'"),
            ("{\"name\":\"a\",\"url\":\"http://127.0.0.1:1/\",\"body\":{\"x\":\"{{steps.a.id}}\"}}\n", "T:1: body: template '{{steps.a.id}}' outside a sequence"),
            ("{\"name\":\"a\",\"method\":\"G T\",\"url\":\"http://127.0.0.1:1/\"}\n", "T:1: 'G T' is not an HTTP method"),
            ("{\"name\":\"a\",\"url\":\"http://127.0.0.1:1/\",\"headers\":{\"Host\":\"x\"}}\n", "T:1: header 'Host' is set by soak-load"),
            ("[1]\n", "T:1: a target is a JSON object"),
            ("\n\n", "T:1: no targets"),
        ];
        for (text, want) in cases {
            let got = load_text(text).unwrap_err().to_string();
            assert!(
                got.starts_with(want),
                "{text:?}\n got: {got}\n want prefix: {want}"
            );
        }
    }

    #[test]
    fn command_line_target() {
        let plan = from_cli(&CliTarget {
            accept: &[],
            url: "http://127.0.0.1:1/v1/chat",
            method: Some("POST"),
            headers: &["Content-Type: application/json".into()],
            body: Some("{\"message\":\"hi\"}"),
        })
        .unwrap();
        assert_eq!(plan.stat_names, ["POST /v1/chat"]);
        assert!(from_cli(&CliTarget {
            accept: &[],
            url: "http://h:1/",
            method: None,
            headers: &["nocolon".into()],
            body: None
        })
        .is_err());
    }
}
