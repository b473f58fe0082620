//! Processes and listeners that outlive the service outside its tree.
//!
//! A service can hand a command to a server that was already running
//! (`tmux new-window "CMD"`, `screen -X screen CMD`, `echo "CMD" | at now`,
//! `ssh localhost "CMD"`, `systemctl start UNIT`, `docker run`): what that
//! server starts is not a descendant, so the subreaper never sees it and no
//! orphan is counted. So after each stop cycle-check also looks at the rest
//! of the machine:
//!
//! - every live process that is not in the service's tree and started after
//!   the service was launched is checked for evidence that it came from the
//!   service; one with evidence is a `foreign_leftover` and fails the cycle:
//!   - `service_command`: its command line is one the service handed over:
//!     a quoted string in the service's command (`-- CMD`, `--start-cmd`,
//!     `--stop-cmd`), word for word (the program by its base name; a leading
//!     `exec`, `nohup`, `setsid`, variable assignments and redirections
//!     dropped), or `sh -c` of that string. The service's own script is not
//!     a handed command: its `sleep 1` proves nothing about another `sleep 1`;
//!   - `service_environment`: it carries this run's `CYCLE_CHECK_RUN` token,
//!     which every process cycle-check starts inherits (`at`, `sudo -E`,
//!     `docker run -e` pass it on; tmux, systemd and ssh do not).
//!
//!   A process that carries another cycle-check run's token is that run's,
//!   never evidence for this one (the same command cycled twice at once).
//! - the machine's listening TCP sockets (this network namespace) are read
//!   before each start and after the stop; the holder of each new one that
//!   is not the service's is listed too, counted only with evidence or with
//!   `--fail-on-new-listeners` (other people start servers on a shared
//!   machine all the time).
//!
//! `--allow-leftover` exempts a port or a command line.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::fs;

use regex::Regex;
use serde::Serialize;

use crate::procfs;
use crate::sock_diag;

/// The environment variable that marks what a cycle-check run started.
pub const TOKEN_VAR: &str = "CYCLE_CHECK_RUN";

/// This run's token: cycle-check's pid and start time, unique on the machine.
pub fn token() -> String {
    let me = std::process::id() as i32;
    format!("{me}-{}", procfs::start_ticks(me).unwrap_or(0))
}

/// Something the user expects to outlive the service (--allow-leftover).
#[derive(Clone, Debug)]
pub enum Allow {
    Port(u16),
    /// Matched against the process's command line.
    Command(Regex),
}

impl Allow {
    /// A port number, or else a regex on the command line.
    pub fn parse(text: &str) -> Result<Allow, String> {
        if !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit()) {
            return text
                .parse()
                .map(Allow::Port)
                .map_err(|_| format!("'{text}' is not a port (0-65535)"));
        }
        Regex::new(text)
            .map(Allow::Command)
            .map_err(|e| format!("bad regex: {e}"))
    }

    fn allows(&self, ports: &[u16], cmdline: Option<&str>) -> bool {
        match self {
            Allow::Port(p) => ports.contains(p),
            Allow::Command(re) => cmdline.is_some_and(|c| re.is_match(c)),
        }
    }
}

/// How leftovers outside the tree are judged (from the command line).
#[derive(Clone, Debug, Default)]
pub struct Policy {
    pub allow: Vec<Allow>,
    /// --fail-on-new-listeners: count the holder of every new listener.
    pub strict: bool,
}

/// A process outside the service's tree, alive after the stop, that either
/// looks like the service's or holds a listener that is new since the start.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct Leftover {
    /// `None`: no /proc entry we can read holds the listener (another
    /// user's process when not root, another pid namespace).
    pub pid: Option<i32>,
    pub ppid: Option<i32>,
    pub cmdline: Option<String>,
    /// It started after the service was launched.
    pub started_in_cycle: bool,
    /// Why it is taken for the service's (`service_command`,
    /// `service_environment`); `None`: no evidence.
    pub evidence: Option<&'static str>,
    /// Listening sockets it holds that are new since the start (`ADDR:PORT`).
    pub listening: Vec<String>,
    /// Matched by --allow-leftover.
    pub allowed: bool,
    /// It fails the cycle: evidence (or a new listener with
    /// --fail-on-new-listeners), and not allowed.
    pub counted: bool,
}

/// The listening sockets before the start.
#[derive(Clone, Debug, Default)]
pub struct Baseline {
    listening: HashSet<u64>,
}

impl Baseline {
    pub fn take() -> Baseline {
        Baseline {
            listening: sock_diag::listeners()
                .into_iter()
                .map(|l| l.inode)
                .collect(),
        }
    }

    /// Whether the listening socket `inode` was there before the start.
    pub fn had(&self, inode: u64) -> bool {
        self.listening.contains(&inode)
    }
}

/// What is known of the service when it is judged.
pub struct Service<'a> {
    /// When the service was launched, in clock ticks since boot (the unit
    /// of /proc/PID/stat's start time).
    pub launched_ticks: u64,
    pub handed: &'a Handed,
    /// cycle-check itself: its tree is judged as orphans, not here.
    pub me: i32,
    /// Socket inodes held by the service's tree (judged as leaked ports).
    pub own_sockets: &'a HashSet<u64>,
    pub token: &'a str,
}

/// The processes outside the tree that outlived the service, in pid order
/// (unknown holders last), and the count of new listeners among them.
pub fn leftovers(before: &Baseline, svc: &Service<'_>, policy: &Policy) -> (Vec<Leftover>, usize) {
    let fresh: Vec<procfs::Listener> = sock_diag::listeners()
        .into_iter()
        .filter(|l| !before.listening.contains(&l.inode) && !svc.own_sockets.contains(&l.inode))
        .collect();
    let table = procfs::scan();
    let mut tree: HashSet<i32> = procfs::descendants(&table, svc.me)
        .iter()
        .map(|p| p.pid)
        .collect();
    tree.insert(svc.me);

    // pid (None: unknown) -> new listeners it holds.
    let mut held: BTreeMap<Option<i32>, Vec<String>> = BTreeMap::new();
    if !fresh.is_empty() {
        let inodes: HashSet<u64> = fresh.iter().map(|l| l.inode).collect();
        let owners: HashMap<u64, i32> = procfs::owners(&inodes, &[]);
        for l in &fresh {
            let addr = std::net::SocketAddr::new(l.addr, l.port).to_string();
            held.entry(owners.get(&l.inode).copied())
                .or_default()
                .push(addr);
        }
    }
    let mut out = Vec::new();
    for p in &table {
        if p.is_zombie() || tree.contains(&p.pid) {
            continue;
        }
        let started_in_cycle = p.start_ticks >= svc.launched_ticks;
        let listening = held.remove(&Some(p.pid)).unwrap_or_default();
        if !started_in_cycle && listening.is_empty() {
            continue;
        }
        let evidence = if started_in_cycle {
            evidence(p.pid, svc)
        } else {
            None
        };
        if evidence.is_none() && listening.is_empty() {
            continue;
        }
        out.push(judge(
            Leftover {
                pid: Some(p.pid),
                ppid: Some(p.ppid),
                cmdline: Some(procfs::cmdline(p.pid, &p.comm)),
                started_in_cycle,
                evidence,
                listening,
                allowed: false,
                counted: false,
            },
            policy,
        ));
    }
    // Holders the table did not show (gone since, or unreadable).
    for (pid, listening) in held {
        out.push(judge(
            Leftover {
                pid,
                ppid: None,
                cmdline: None,
                started_in_cycle: false,
                evidence: None,
                listening,
                allowed: false,
                counted: false,
            },
            policy,
        ));
    }
    (out, fresh.len())
}

fn judge(mut l: Leftover, policy: &Policy) -> Leftover {
    let ports: Vec<u16> = l
        .listening
        .iter()
        .filter_map(|a| a.rsplit(':').next()?.parse().ok())
        .collect();
    l.allowed = policy
        .allow
        .iter()
        .any(|a| a.allows(&ports, l.cmdline.as_deref()));
    l.counted = !l.allowed && (l.evidence.is_some() || (policy.strict && !l.listening.is_empty()));
    l
}

/// Why process `pid` is taken for the service's, if it is.
fn evidence(pid: i32, svc: &Service<'_>) -> Option<&'static str> {
    match env_value(pid, TOKEN_VAR).as_deref() {
        Some(t) if t == svc.token => return Some("service_environment"),
        // Another cycle-check run's: never this one's.
        Some(_) => return None,
        None => {}
    }
    svc.handed.matches(&argv(pid)).then_some("service_command")
}

/// A process's arguments; a title rewritten into one string with spaces
/// (`redis-server *:6379`) split at the spaces.
pub fn argv(pid: i32) -> Vec<String> {
    let raw = fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
    let Some(end) = raw.iter().rposition(|&b| b != 0).map(|i| i + 1) else {
        return Vec::new();
    };
    let args: Vec<String> = raw[..end]
        .split(|&b| b == 0)
        .map(|a| String::from_utf8_lossy(a).into_owned())
        .collect();
    match args.as_slice() {
        [] => Vec::new(),
        [only] if only.contains(' ') => only.split_whitespace().map(str::to_string).collect(),
        _ => args,
    }
}

/// The value of `name` in a process's initial environment.
fn env_value(pid: i32, name: &str) -> Option<String> {
    let raw = fs::read(format!("/proc/{pid}/environ")).ok()?;
    let prefix = format!("{name}=");
    raw.split(|&b| b == 0).find_map(|kv| {
        kv.strip_prefix(prefix.as_bytes())
            .map(|v| String::from_utf8_lossy(v).into_owned())
    })
}

/// The commands a service hands to others: quoted strings in its command
/// (recursively), each as the simple commands it holds.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Handed {
    /// The quoted strings themselves (a server may run one as `sh -c S`).
    strings: Vec<String>,
    /// Their simple commands, as argument lists.
    commands: Vec<Vec<String>>,
}

const SHELLS: [&str; 6] = ["sh", "bash", "dash", "zsh", "ksh", "ash"];
/// Words a `#!` line may put before a bare program name (`/usr/bin/env
/// -S bash -e` runs `bash -e SCRIPT`).
const MAX_BARE_PREFIX: usize = 2;
/// How deep quoted strings are followed (`ssh h "tmux new-window 'CMD'"`).
const MAX_DEPTH: usize = 4;

impl Handed {
    /// From the service's command (`-- ARGV` or --start-cmd) and --stop-cmd.
    pub fn of_service(argv: Option<&[String]>, scripts: &[&str]) -> Handed {
        let mut h = Handed::default();
        if let Some(argv) = argv {
            match argv {
                [shell, flag, script, ..] if SHELLS.contains(&base(shell)) && flag == "-c" => {
                    h.script(script, 0);
                }
                // `tmux new-window "CMD"` as the service: an argument with
                // a space is a command handed over.
                _ => {
                    for a in argv
                        .iter()
                        .skip(1)
                        .filter(|a| a.contains(char::is_whitespace))
                    {
                        h.handed(a, 0);
                    }
                }
            }
        }
        for s in scripts {
            h.script(s, 0);
        }
        h
    }

    /// A script the service runs itself: only its quoted strings count.
    fn script(&mut self, text: &str, depth: usize) {
        for q in lex(text).quoted {
            self.handed(&q, depth + 1);
        }
    }

    /// A string handed to another program to run.
    fn handed(&mut self, text: &str, depth: usize) {
        if depth > MAX_DEPTH || self.strings.iter().any(|s| s == text) {
            return;
        }
        self.strings.push(text.to_string());
        let lexed = lex(text);
        self.commands
            .extend(lexed.commands.into_iter().filter(|c| !c.is_empty()));
        for q in lexed.quoted {
            self.handed(&q, depth + 1);
        }
    }

    /// Whether `argv` is a handed command, or a shell running a handed
    /// string. Words before the command are allowed (a `#!` line's
    /// interpreter, wrappers such as `env`, `nice`, `timeout 5`, `pyenv
    /// exec`): any number when the command has arguments, at most two
    /// when it is a bare program name.
    pub fn matches(&self, argv: &[String]) -> bool {
        let Some((program, args)) = argv.split_first() else {
            return false;
        };
        if let [flag, script] = args {
            if SHELLS.contains(&base(program)) && flag == "-c" && self.strings.contains(script) {
                return true;
            }
        }
        self.commands.iter().any(|c| {
            let extra = argv.len().saturating_sub(c.len());
            argv.len() >= c.len()
                && (c.len() >= 2 || extra <= MAX_BARE_PREFIX)
                && base(&argv[extra]) == base(&c[0])
                && argv[extra + 1..] == c[1..]
        })
    }
}

fn base(word: &str) -> &str {
    word.rsplit('/').next().unwrap_or(word)
}

/// A shell text read the way sh would split it, roughly: its simple
/// commands (words after quote removal; redirections, leading variable
/// assignments and a leading `exec`/`nohup`/`setsid` dropped) and the
/// contents of its quoted strings that hold a space.
#[derive(Debug, Default, PartialEq, Eq)]
struct Lexed {
    commands: Vec<Vec<String>>,
    quoted: Vec<String>,
}

fn lex(text: &str) -> Lexed {
    let mut out = Lexed::default();
    let mut cmd: Vec<String> = Vec::new();
    let mut word = String::new();
    let mut in_word = false;
    let mut skip_target = false;
    let mut chars = text.chars().peekable();

    fn end_word(word: &mut String, in_word: &mut bool, skip: &mut bool, cmd: &mut Vec<String>) {
        if *in_word {
            if *skip {
                *skip = false;
            } else {
                cmd.push(std::mem::take(word));
            }
        }
        word.clear();
        *in_word = false;
    }
    fn end_command(cmd: &mut Vec<String>, out: &mut Lexed) {
        let mut words = std::mem::take(cmd);
        let assignments = words.iter().take_while(|w| is_assignment(w)).count();
        words.drain(..assignments);
        while words
            .first()
            .is_some_and(|w| matches!(w.as_str(), "exec" | "nohup" | "setsid"))
        {
            words.remove(0);
        }
        if !words.is_empty() {
            out.commands.push(words);
        }
    }

    while let Some(c) = chars.next() {
        match c {
            '\'' => {
                let mut q = String::new();
                for c in chars.by_ref() {
                    if c == '\'' {
                        break;
                    }
                    q.push(c);
                }
                if q.contains(char::is_whitespace) {
                    out.quoted.push(q.clone());
                }
                word.push_str(&q);
                in_word = true;
            }
            '"' => {
                let mut q = String::new();
                while let Some(c) = chars.next() {
                    match c {
                        '"' => break,
                        '\\' => match chars.peek() {
                            Some(&n @ ('"' | '\\' | '$' | '`')) => {
                                q.push(n);
                                chars.next();
                            }
                            _ => q.push('\\'),
                        },
                        c => q.push(c),
                    }
                }
                if q.contains(char::is_whitespace) {
                    out.quoted.push(q.clone());
                }
                word.push_str(&q);
                in_word = true;
            }
            '\\' => {
                if let Some(n) = chars.next() {
                    if n != '\n' {
                        word.push(n);
                        in_word = true;
                    }
                }
            }
            '#' if !in_word => {
                for c in chars.by_ref() {
                    if c == '\n' {
                        break;
                    }
                }
                end_word(&mut word, &mut in_word, &mut skip_target, &mut cmd);
                end_command(&mut cmd, &mut out);
            }
            '<' | '>' => {
                // `2>`, `>>`, `>&2`, `<&-`: the fd number and the operator
                // go; a target word follows unless it was `>&N`.
                if in_word && word.bytes().all(|b| b.is_ascii_digit()) {
                    word.clear();
                    in_word = false;
                } else {
                    end_word(&mut word, &mut in_word, &mut skip_target, &mut cmd);
                }
                while chars
                    .peek()
                    .is_some_and(|&n| n == '>' || n == '<' || n == '|')
                {
                    chars.next();
                }
                if chars.peek() == Some(&'&') {
                    chars.next();
                    while chars
                        .peek()
                        .is_some_and(|n| n.is_ascii_digit() || *n == '-')
                    {
                        chars.next();
                    }
                } else {
                    skip_target = true;
                }
            }
            ';' | '&' | '|' | '\n' | '(' | ')' => {
                end_word(&mut word, &mut in_word, &mut skip_target, &mut cmd);
                end_command(&mut cmd, &mut out);
            }
            c if c.is_whitespace() => end_word(&mut word, &mut in_word, &mut skip_target, &mut cmd),
            c => {
                word.push(c);
                in_word = true;
            }
        }
    }
    end_word(&mut word, &mut in_word, &mut skip_target, &mut cmd);
    end_command(&mut cmd, &mut out);
    out
}

fn is_assignment(word: &str) -> bool {
    word.split_once('=').is_some_and(|(name, _)| {
        !name.is_empty()
            && !name.starts_with(|c: char| c.is_ascii_digit())
            && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    fn v(words: &[&str]) -> Vec<String> {
        words.iter().map(|w| w.to_string()).collect()
    }

    fn sh(script: &str) -> Handed {
        Handed::of_service(Some(&v(&["sh", "-c", script])), &[])
    }

    #[test]
    fn shell_text_is_split_into_commands_and_quoted_strings() {
        let l = lex(
            r#"A=1 exec python3 -m x 0 > out.txt 2>&1; tmux new -d "a 'b c'" && echo \"d e\" # f g"#,
        );
        assert_eq!(
            l.commands,
            vec![
                v(&["python3", "-m", "x", "0"]),
                v(&["tmux", "new", "-d", "a 'b c'"]),
                v(&["echo", "\"d", "e\""]),
            ]
        );
        assert_eq!(l.quoted, v(&["a 'b c'"]));
        assert_eq!(
            lex("a 2> /dev/null b <in c >>log").commands,
            vec![v(&["a", "b", "c"])]
        );
        assert_eq!(lex("x >&2 y 1<&- z").commands, vec![v(&["x", "y", "z"])]);
        assert_eq!(lex(r#""unterminated 'q"#).quoted, v(&["unterminated 'q"]));
        assert_eq!(lex("").commands, Vec::<Vec<String>>::new());
        assert!(is_assignment("FOO_1=x") && !is_assignment("1A=x") && !is_assignment("--a=b"));
    }

    #[test]
    fn a_command_handed_to_tmux_is_found_and_the_services_own_script_is_not() {
        let h = sh(
            r#"tmux -L probe new-window -d "exec python3 -m http.server 0 --bind 127.0.0.1"; sleep 1; exec redis-server --port 16390"#,
        );
        let py = v(&[
            "/usr/lib/py/bin/python3",
            "-m",
            "http.server",
            "0",
            "--bind",
            "127.0.0.1",
        ]);
        assert!(h.matches(&py));
        // The shell tmux runs it with, before its exec.
        assert!(h.matches(&v(&[
            "/bin/sh",
            "-c",
            "exec python3 -m http.server 0 --bind 127.0.0.1"
        ])));
        // The service's own commands prove nothing about someone else's.
        assert!(!h.matches(&v(&["sleep", "1"])));
        assert!(!h.matches(&v(&["redis-server", "--port", "16390"])));
        // Not another port, not more or fewer arguments, not another program.
        assert!(!h.matches(&v(&[
            "python3",
            "-m",
            "http.server",
            "8000",
            "--bind",
            "127.0.0.1"
        ])));
        assert!(!h.matches(&v(&["python3", "-m", "http.server", "0", "--bind"])));
        assert!(!h.matches(&v(&[
            "python3.11",
            "-m",
            "http.server",
            "0",
            "--bind",
            "127.0.0.1"
        ])));
        assert!(!h.matches(&[]));
        // Through a `#!` script (pyenv's shim, then its `pyenv-exec`).
        let tail = ["-m", "http.server", "0", "--bind", "127.0.0.1"];
        let with = |head: &[&str]| v(&[head, &tail[..]].concat());
        assert!(h.matches(&with(&["bash", "/root/.pyenv/shims/python3"])));
        assert!(h.matches(&with(&[
            "bash",
            "/root/.pyenv/libexec/pyenv-exec",
            "python3"
        ])));
        assert!(h.matches(&with(&[
            "bash",
            "/root/.pyenv/libexec/pyenv",
            "exec",
            "python3"
        ])));
        assert!(h.matches(&with(&["timeout", "5", "nice", "-n", "5", "python3"])));
        assert!(!h.matches(&with(&["bash", "x", "python4"])));
        // A bare program name takes at most a `#!` line's two words.
        let h = sh(r#"tmux new-window -d "exec ./srv""#);
        assert!(h.matches(&v(&["./srv"])) && h.matches(&v(&["/bin/sh", "-e", "./srv"])));
        assert!(!h.matches(&v(&["vim", "-R", "-n", "./srv"])));
    }

    #[test]
    fn handed_strings_nest_and_come_from_every_command_form() {
        let h = sh(r#"ssh localhost "tmux new-window 'nohup ./srv --port 9 >log 2>&1'""#);
        assert!(h.matches(&v(&["./srv", "--port", "9"])));
        assert!(h.matches(&v(&[
            "tmux",
            "new-window",
            "nohup ./srv --port 9 >log 2>&1"
        ])));
        // `-- tmux new-window "CMD"` without a shell.
        let h = Handed::of_service(Some(&v(&["tmux", "new-window", "-d", "srv -p 1"])), &[]);
        assert!(h.matches(&v(&["srv", "-p", "1"])));
        assert!(!h.matches(&v(&["tmux", "new-window", "-d", "srv -p 1"])));
        // --start-cmd / --stop-cmd text.
        let h = Handed::of_service(None, &["echo 'worker --queue q' | at now", "true"]);
        assert!(h.matches(&v(&["worker", "--queue", "q"])));
        assert!(!h.matches(&v(&["at", "now"])));
        // A plain service command hands nothing over.
        assert_eq!(
            Handed::of_service(Some(&v(&["redis-server", "--port", "1"])), &[]),
            Handed::default()
        );
    }

    #[test]
    fn allow_is_a_port_or_a_regex() {
        assert!(matches!(Allow::parse("8080"), Ok(Allow::Port(8080))));
        assert!(Allow::parse("70000").unwrap_err().contains("not a port"));
        assert!(Allow::parse("(").unwrap_err().contains("bad regex"));
        let a = Allow::parse(r"^nginx: master").unwrap();
        assert!(a.allows(&[], Some("nginx: master process nginx")));
        assert!(!a.allows(&[1], None));
        assert!(Allow::Port(7).allows(&[3, 7], None));
        let judged = judge(
            Leftover {
                pid: Some(1),
                ppid: Some(0),
                cmdline: Some("x".into()),
                started_in_cycle: true,
                evidence: None,
                listening: vec!["[::1]:7".into()],
                allowed: false,
                counted: false,
            },
            &Policy {
                allow: vec![Allow::Port(7)],
                strict: true,
            },
        );
        assert!(judged.allowed && !judged.counted);
    }

    #[test]
    fn this_processs_token_arguments_and_environment_are_read() {
        let t = token();
        assert!(t.starts_with(&format!("{}-", std::process::id())));
        assert!(!t.ends_with("-0"), "{t}");
        let me = std::process::id() as i32;
        assert!(!argv(me).is_empty());
        assert!(argv(i32::MAX).is_empty());
        assert_eq!(
            env_value(me, "PATH").as_deref(),
            std::env::var("PATH").ok().as_deref()
        );
        assert_eq!(env_value(me, "CYCLE_CHECK_NO_SUCH_VAR"), None);
    }
}
