//! pii-scrub on logs nginx itself wrote: the distribution's nginx on
//! 127.0.0.1 logs request bodies (`$request_body`) with its default escaping
//! (`"` as `\x22`, non-ASCII bytes as `\xC3\xA9`, newlines as `\x0A`) and
//! with `escape=json`; each body carries what the hostile trial's leaks hid
//! (JSON, YAML, XML, a UK phone, non-ASCII emails). With CI set a missing
//! nginx fails the test (.ci/run installs it).

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Command as StdCommand, Stdio};
use std::time::{Duration, Instant};

use assert_cmd::Command;
use common::testkit::{free_port, jsonl, require_tool, summary};
use serde_json::{json, Value};

use crate::util::bin;

/// nginx in the foreground as one process (`master_process off`: killing
/// a master with SIGKILL would leave its worker running, holding the test's
/// output pipe); killed when dropped.
struct Nginx(Child);

impl Drop for Nginx {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A front server on `port` that reads each body (it proxies to a second
/// server answering 200) and logs it twice: default escaping and JSON.
fn start(dir: &Path, port: u16, back: u16) -> Nginx {
    let d = dir.display();
    let conf = format!(
        "worker_processes 1;\npid {d}/nginx.pid;\nerror_log {d}/error.log;\n\
         events {{ worker_connections 64; }}\n\
         http {{\n  client_body_temp_path {d}/body;\n  proxy_temp_path {d}/proxy;\n  \
         fastcgi_temp_path {d}/fastcgi;\n  uwsgi_temp_path {d}/uwsgi;\n  scgi_temp_path {d}/scgi;\n  \
         log_format body '\"$request\" $status \"$request_body\"';\n  \
         log_format bodyjson escape=json '{{\"req\":\"$request\",\"body\":\"$request_body\",\"auth\":\"$http_authorization\"}}';\n  \
         server {{ listen 127.0.0.1:{port};\n    access_log {d}/body.log body;\n    \
         access_log {d}/body.jsonl bodyjson;\n    location / {{ proxy_pass http://127.0.0.1:{back}/; }} }}\n  \
         server {{ listen 127.0.0.1:{back}; access_log off; location / {{ return 200 \"ok\\n\"; }} }}\n}}\n"
    );
    std::fs::write(dir.join("nginx.conf"), conf).unwrap();
    let child = StdCommand::new("nginx")
        .arg("-p")
        .arg(dir)
        .arg("-e")
        .arg(dir.join("error.log"))
        .arg("-c")
        .arg(dir.join("nginx.conf"))
        .args(["-g", "daemon off; master_process off;"])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let nginx = Nginx(child);
    let deadline = Instant::now() + Duration::from_secs(60);
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            Instant::now() < deadline,
            "nginx did not listen: {}",
            std::fs::read_to_string(dir.join("error.log")).unwrap_or_default()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    nginx
}

/// POSTs `body` and reads the whole answer (the connection closes after it).
fn post(port: u16, path: &str, headers: &str, body: &[u8]) {
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(60))).unwrap();
    let head = format!(
        "POST {path} HTTP/1.1\r\nHost: localhost\r\n{headers}Content-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    s.write_all(head.as_bytes()).unwrap();
    s.write_all(body).unwrap();
    let mut answer = String::new();
    s.read_to_string(&mut answer).unwrap();
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
}

/// The log once it holds `lines` lines (nginx writes it as each request ends).
fn read_log(path: &Path, lines: usize) -> Vec<u8> {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let bytes = std::fs::read(path).unwrap_or_default();
        if bytes.iter().filter(|&&b| b == b'\n').count() >= lines {
            return bytes;
        }
        assert!(Instant::now() < deadline, "{} lines", lines);
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// The filter's output; `--check` on that output finds nothing.
fn scrub(log: &[u8]) -> String {
    let out = Command::new(bin())
        .write_stdin(log.to_vec())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let again = Command::new(bin())
        .arg("--check")
        .write_stdin(out.stdout.clone())
        .output()
        .unwrap();
    assert_eq!(
        summary(&jsonl(&again.stdout))["figures"]["findings"],
        0,
        "{}",
        String::from_utf8_lossy(&again.stdout)
    );
    String::from_utf8(out.stdout).unwrap()
}

fn check(log: &Path) -> (i32, Value) {
    let out = Command::new(bin())
        .arg("--check")
        .arg(log)
        .output()
        .unwrap();
    let recs = jsonl(&out.stdout);
    (out.status.code().unwrap_or(-1), summary(&recs).clone())
}

#[test]
fn request_bodies_nginx_logged_lose_every_secret() {
    if !require_tool("nginx") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let (port, back) = (free_port(), free_port());
    let _nginx = start(dir.path(), port, back);
    post(
        port,
        "/login",
        "Content-Type: application/json\r\n",
        "{\"username\":\"bob\",\"password\":\"hunter2hunter2\",\"card\":\"4111111111111111\",\"ssn\":\"123-45-6789\",\"email\":\"josé.garcía@correo.es\"}".as_bytes(),
    );
    post(
        port,
        "/form",
        "",
        b"user=bob&password=s3cr%21t&email=bob%40acme.com",
    );
    post(
        port,
        "/yaml",
        "Authorization: Basic dXNlcjpwYXNzd29yZA==\r\n",
        b"db:\n  password:\n    hunter2\n",
    );
    post(
        port,
        "/xml",
        "",
        b"<login><user>bob</user><password>hunter2hunter2</password></login>",
    );
    post(
        port,
        "/u",
        "",
        "{\"phone\":\"+44 (0)20 7946 0958\",\"note\":\"ruf an: müller@bücher.de\"}".as_bytes(),
    );

    let text = dir.path().join("body.log");
    let log = read_log(&text, 5);
    // What nginx wrote: the escapes that hid these values.
    assert!(String::from_utf8_lossy(&log).contains(
        r#""POST /login HTTP/1.1" 200 "{\x22username\x22:\x22bob\x22,\x22password\x22:\x22hunter2hunter2\x22"#
    ));
    assert_eq!(
        scrub(&log),
        concat!(
            r#""POST /login HTTP/1.1" 200 "{\x22username\x22:\x22bob\x22,\x22password\x22:\x22[REDACTED:secret]\x22,\x22card\x22:\x22[REDACTED:card]\x22,\x22ssn\x22:\x22[REDACTED:secret]\x22,\x22email\x22:\x22[REDACTED:email]\x22}""#,
            "\n",
            r#""POST /form HTTP/1.1" 200 "user=bob&password=[REDACTED:secret]&email=[REDACTED:email]""#,
            "\n",
            r#""POST /yaml HTTP/1.1" 200 "db:\x0A  password:\x0A    [REDACTED:secret]\x0A""#,
            "\n",
            r#""POST /xml HTTP/1.1" 200 "<login><user>bob</user><password>[REDACTED:secret]</password></login>""#,
            "\n",
            r#""POST /u HTTP/1.1" 200 "{\x22phone\x22:\x22[REDACTED:phone]\x22,\x22note\x22:\x22ruf an: [REDACTED:email]\x22}""#,
            "\n",
        )
    );
    let (code, s) = check(&text);
    assert_eq!(code, 1);
    assert_eq!(
        s["figures"]["findings_by_type"],
        json!({"card": 1, "email": 3, "phone": 1, "secret": 5})
    );

    let jsonl_log = dir.path().join("body.jsonl");
    let log = read_log(&jsonl_log, 5);
    assert_eq!(
        scrub(&log),
        concat!(
            r#"{"req":"POST /login HTTP/1.1","body":"{\"username\":\"bob\",\"password\":\"[REDACTED:secret]\",\"card\":\"[REDACTED:card]\",\"ssn\":\"[REDACTED:secret]\",\"email\":\"[REDACTED:email]\"}","auth":""}"#,
            "\n",
            r#"{"req":"POST /form HTTP/1.1","body":"user=bob&password=[REDACTED:secret]&email=[REDACTED:email]","auth":""}"#,
            "\n",
            r#"{"req":"POST /yaml HTTP/1.1","body":"db:\n  password:\n    [REDACTED:secret]\n","auth":"[REDACTED:secret]"}"#,
            "\n",
            r#"{"req":"POST /xml HTTP/1.1","body":"<login><user>bob</user><password>[REDACTED:secret]</password></login>","auth":""}"#,
            "\n",
            r#"{"req":"POST /u HTTP/1.1","body":"{\"phone\":\"[REDACTED:phone]\",\"note\":\"ruf an: [REDACTED:email]\"}","auth":""}"#,
            "\n",
        )
    );
    let (code, s) = check(&jsonl_log);
    assert_eq!(code, 1);
    assert_eq!(
        s["figures"]["findings_by_type"],
        json!({"card": 1, "email": 3, "phone": 1, "secret": 6})
    );
}
