//! Passwords on command lines (auditd `EXECVE`, CI logs, shell history,
//! process lists): a secret-named option followed by its own argument
//! (`--password X`, `--api-key X`), and the password options of a few
//! well-known clients. `--password=X` is a key-value pair ([`super::pairs`]).
//!
//! Only forms whose meaning is certain are taken (trial 2 item 16):
//! - `mysql`/`mariadb` and their tools: `-pX` glued. `-p X` is not a
//!   password: the client prompts and `X` is the database name.
//! - `sshpass -p X` / `-pX`; `redis-cli -a X` (also `valkey-cli`).
//! - `curl -u user:pass` (`--user`, `-U`/`--proxy-user`, `-uuser:pass`): what
//!   follows the first `:`. `-u user` alone makes curl prompt.
//! - `docker login -p X` (podman, buildah, skopeo, nerdctl): `-p` after the
//!   word `login` (`docker run -p 8080:80` publishes a port).
//!
//! A tool's options are read to the end of its command (`|`, `;`, `&`, a
//! quote or backtick that closes the command line, the end of the line).

use std::ops::Range;

use super::keys;
use super::validate;

/// Where a command's words end: a shell separator, a closing quote of the
/// text the command line is quoted in, or the end of the line.
/// At most [`COMMAND_MAX`] bytes are read (a line of many tool names stays
/// linear).
fn command_end(hay: &[u8], from: usize) -> usize {
    let lim = hay.len().min(from + COMMAND_MAX);
    from + hay[from..lim]
        .iter()
        .position(|b| matches!(b, b'\n' | b'\r' | b'|' | b';' | b'&' | b'`' | b')'))
        .unwrap_or(lim - from)
}

/// How far a command's options are followed from its name.
const COMMAND_MAX: usize = 2048;

/// The next word at or after `i` (blanks skipped), before `end`: a quoted
/// word's inside, or up to the next blank.
fn word_at(hay: &[u8], mut i: usize, end: usize) -> Option<Range<usize>> {
    while i < end && matches!(hay[i], b' ' | b'\t') {
        i += 1;
    }
    let q = *hay.get(i).filter(|_| i < end)?;
    if q == b'"' || q == b'\'' {
        let close = hay[i + 1..end].iter().position(|&b| b == q)? + i + 1;
        return Some(i + 1..close);
    }
    let stop = hay[i..end]
        .iter()
        .position(|b| matches!(b, b' ' | b'\t' | b'"' | b'\''))
        .map_or(end, |j| i + j);
    Some(i..stop)
}

/// A value worth scrubbing: not empty, not an option, not a placeholder.
fn value_ok(hay: &[u8], r: &Range<usize>) -> bool {
    let v = &hay[r.clone()];
    !v.is_empty() && v[0] != b'-' && !validate::is_placeholder(v)
}

/// `--password X` with the scan at the `--`: X, if the option's name says
/// secret (`--password-file X`, `--no-password` do not).
pub fn option_value(hay: &[u8], start: usize) -> Option<Range<usize>> {
    if start > 0 && !matches!(hay[start - 1], b' ' | b'\t' | b'"' | b'\'' | b'=') {
        return None; // `a--password b`: not an option
    }
    let name_start = start + 2;
    let name_end = name_start
        + hay[name_start..]
            .iter()
            .take_while(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_'))
            .count();
    if !keys::is_secret_name(&hay[name_start..name_end]) {
        return None;
    }
    if !hay.get(name_end).is_some_and(|b| matches!(b, b' ' | b'\t')) {
        return None;
    }
    let end = command_end(hay, name_end);
    let v = word_at(hay, name_end, end)?;
    value_ok(hay, &v).then_some(v)
}

/// A known client's password option after its name at `start`.
pub fn tool_password(hay: &[u8], start: usize) -> Option<Range<usize>> {
    // The tool is a word of its own, or the last part of a path.
    if start > 0
        && !matches!(
            hay[start - 1],
            b' ' | b'\t' | b'/' | b'"' | b'\'' | b'=' | b'('
        )
    {
        return None;
    }
    let name_end = start
        + hay[start..]
            .iter()
            .take_while(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_'))
            .count();
    let tool = &hay[start..name_end];
    let end = command_end(hay, name_end);
    let container = matches!(
        tool,
        b"docker" | b"podman" | b"buildah" | b"skopeo" | b"nerdctl"
    );
    let mut login = false;
    let mut i = name_end;
    while let Some(w) = word_at(hay, i, end) {
        if w.is_empty() {
            break;
        }
        i = w.end + 1;
        let word = &hay[w.clone()];
        let glued = |flag: &[u8]| {
            (word.len() > flag.len() && word.starts_with(flag)).then(|| w.start + flag.len()..w.end)
        };
        let next = || word_at(hay, w.end + 1, end).filter(|r| value_ok(hay, r));
        let found = if tool.starts_with(b"mysql") || tool.starts_with(b"mariadb") {
            glued(b"-p")
        } else if tool == b"sshpass" {
            glued(b"-p").or_else(|| (word == b"-p").then(next).flatten())
        } else if tool == b"redis-cli" || tool == b"valkey-cli" {
            (word == b"-a").then(next).flatten()
        } else if container {
            login |= word == b"login";
            (login && word == b"-p").then(next).flatten()
        } else if tool == b"curl" {
            let user = if matches!(word, b"-u" | b"--user" | b"-U" | b"--proxy-user") {
                next()
            } else {
                glued(b"-u").or_else(|| glued(b"-U"))
            };
            user.and_then(|u| {
                let colon = hay[u.clone()].iter().position(|&b| b == b':')?;
                Some(u.start + colon + 1..u.end)
            })
        } else {
            None
        };
        if let Some(v) = found.filter(|v| value_ok(hay, v)) {
            return Some(v);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn opt(s: &str) -> Option<&str> {
        option_value(s.as_bytes(), s.find("--")?).map(|r| &s[r])
    }

    fn tool<'a>(s: &'a str, name: &str) -> Option<&'a str> {
        tool_password(s.as_bytes(), s.find(name)?).map(|r| &s[r])
    }

    #[test]
    fn secret_options_take_the_next_word() {
        assert_eq!(opt("app --password s3cret --port 80"), Some("s3cret"));
        assert_eq!(opt("app --api-key 'a b' x"), Some("a b"));
        assert_eq!(opt("app --password-file /run/x"), None);
        assert_eq!(opt("app --no-password x"), None);
        assert_eq!(opt("app --password --port 80"), None);
        assert_eq!(opt("app --password"), None);
        assert_eq!(opt("app --token [REDACTED:secret]"), None);
    }

    #[test]
    fn known_clients() {
        assert_eq!(tool("mysql -u root -ps3cret db", "mysql"), Some("s3cret"));
        assert_eq!(tool("mysql -u root -p db", "mysql"), None);
        assert_eq!(tool("/usr/bin/mysqldump -pX1 db", "mysqldump"), Some("X1"));
        assert_eq!(tool("sshpass -p s3cret ssh h", "sshpass"), Some("s3cret"));
        assert_eq!(
            tool("redis-cli -h h -a s3cret ping", "redis-cli"),
            Some("s3cret")
        );
        assert_eq!(tool("curl -u admin:s3 http://h/", "curl"), Some("s3"));
        assert_eq!(tool("curl -u admin http://h/", "curl"), None);
        assert_eq!(tool("curl -sS --user a:b:c x", "curl"), Some("b:c"));
        assert_eq!(tool("ls | mysql -pY1", "mysql"), Some("Y1"));
        assert_eq!(tool("mysql db; ssh -pX", "mysql"), None);
        assert_eq!(tool("nomysql -pX", "mysql"), None);
        assert_eq!(tool("docker login -u a -p pw1 r", "docker"), Some("pw1"));
        assert_eq!(tool("docker run -p 8080:80 nginx", "docker"), None);
    }
}
