//! From flags to a validated configuration: the type table with each type's
//! action, the combined matcher, allow-lists, the hasher, and the mode.
//! Every mistake here is a usage error naming the flag or the rules file.

use std::collections::HashSet;
use std::path::PathBuf;

use regex::bytes::{Regex, RegexBuilder};
use serde::Deserialize;

use common::cli::Format;
use common::pointer::Pattern;
use common::{Error, Result};

use crate::actions::{Action, Hasher};
use crate::cli::Cli;
use crate::detectors::keys::Field;
use crate::detectors::patterns::BUILTINS;
use crate::detectors::{Anchor, Check, Detector, Matcher, TypeId};

/// Where the salt comes from when `--salt-file` is not given.
pub const SALT_ENV: &str = "PII_SCRUB_SALT";

/// One detectable type and its action.
#[derive(Debug, Clone)]
pub struct TypeInfo {
    pub name: String,
    pub action: Action,
}

/// Everything the line scrubber needs; shared read-only across threads.
#[derive(Debug)]
pub struct Engine {
    pub types: Vec<TypeInfo>,
    pub matcher: Matcher,
    /// The `secret` type when selected: values of secret-named JSON keys.
    pub secret_ty: Option<TypeId>,
    /// Phone- and identity-named JSON keys and the type their values are
    /// reported as, when selected (checked in this order).
    pub key_fields: Vec<(Field, TypeId)>,
    allow: Vec<Regex>,
    allow_values: HashSet<Vec<u8>>,
    pub hasher: Option<Hasher>,
    pub fields: Vec<Pattern>,
    pub skip_fields: Vec<Pattern>,
    pub max_line: usize,
    pub max_findings: usize,
    /// `--on-invalid-json text`: scrub unparsable JSON-looking lines as text.
    pub invalid_json_as_text: bool,
    /// Findings carry a masked context snippet (`--dry-run --format text`).
    pub snippets: bool,
}

impl Engine {
    pub fn name(&self, ty: TypeId) -> &str {
        &self.types[usize::from(ty)].name
    }

    pub fn action(&self, ty: TypeId) -> Action {
        self.types[usize::from(ty)].action
    }

    /// True when an allow-list says this value is test data.
    pub fn allowed(&self, value: &[u8]) -> bool {
        (!self.allow_values.is_empty() && self.allow_values.contains(value))
            || self.allow.iter().any(|r| r.is_match(value))
    }

    pub fn has_allow(&self) -> bool {
        !self.allow.is_empty() || !self.allow_values.is_empty()
    }
}

/// What the run produces.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// Scrubbed data to stdout, `--out-dir` or in place.
    Filter,
    /// Report only (masked snippets with `--format text`); judged like
    /// `Check`: findings fail the summary.
    DryRun,
    /// Report only; the `findings` gate fails on any finding.
    Check,
}

impl Mode {
    /// The summary's `mode` figure.
    pub fn name(self) -> &'static str {
        match self {
            Mode::Filter => "filter",
            Mode::DryRun => "dry_run",
            Mode::Check => "check",
        }
    }
}

/// The validated run configuration.
#[derive(Debug)]
pub struct Config {
    pub engine: Engine,
    pub mode: Mode,
    pub paths: Vec<String>,
    pub in_place: bool,
    pub backup_suffix: Option<String>,
    pub out_dir: Option<PathBuf>,
    pub report: Option<String>,
    pub format: Format,
    pub quarantine: Option<PathBuf>,
    pub max_quarantined: Option<u64>,
    /// `files >= N` (`--check`: default 1).
    pub min_files: Option<u64>,
    /// `lines >= N` (`--check`/`--dry-run`: default 1).
    pub min_lines: Option<u64>,
    pub globs: Vec<String>,
    pub respect_ignore: bool,
    pub threads: usize,
    /// `-q`: no progress bar (as in every tool).
    pub quiet: bool,
    /// `--no-warnings`: no warnings either.
    pub no_warnings: bool,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RuleFile {
    #[serde(alias = "rules", default)]
    rule: Vec<Rule>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Rule {
    name: String,
    regex: String,
    #[serde(default)]
    group: usize,
    validator: Option<String>,
    action: Option<String>,
}

fn load_rules(path: &PathBuf) -> Result<Vec<Rule>> {
    let shown = path.display();
    let text = std::fs::read_to_string(path)
        .map_err(|e| Error::io(&shown, e).context("reading --rules"))?;
    let trimmed = text.trim_start();
    let is_json = match path.extension().and_then(|e| e.to_str()) {
        Some("json") => true,
        Some("toml") => false,
        _ => {
            trimmed.starts_with('{')
                || (trimmed.starts_with('[') && trimmed[1..].trim_start().starts_with('{'))
        }
    };
    if is_json {
        if trimmed.starts_with('[') {
            return serde_json::from_str::<Vec<Rule>>(&text)
                .map_err(|e| Error::at_column(&shown, e.line() as u64, e.column() as u64, e));
        }
        return serde_json::from_str::<RuleFile>(&text)
            .map(|f| f.rule)
            .map_err(|e| Error::at_column(&shown, e.line() as u64, e.column() as u64, e));
    }
    toml::from_str::<RuleFile>(&text)
        .map(|f| f.rule)
        .map_err(|e| {
            let line = e
                .span()
                .map(|s| text[..s.start.min(text.len())].matches('\n').count() as u64 + 1)
                .unwrap_or(1);
            Error::at(&shown, line, e.message())
        })
}

fn valid_type_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 40
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
}

fn read_salt(cli: &Cli) -> Result<Option<Vec<u8>>> {
    if let Some(path) = &cli.salt_file {
        let mut bytes = std::fs::read(path)
            .map_err(|e| Error::io(path.display(), e).context("reading --salt-file"))?;
        while bytes.last().is_some_and(|b| *b == b'\n' || *b == b'\r') {
            bytes.pop();
        }
        return Ok(Some(bytes));
    }
    Ok(std::env::var_os(SALT_ENV)
        .map(|v| v.into_encoded_bytes())
        .filter(|v| !v.is_empty()))
}

impl Config {
    pub fn from_cli(cli: Cli) -> Result<Config> {
        refuse_switch_offs(&cli)?;
        // 1. The type table: built-ins, then custom rules.
        // Several built-in detectors may find one type (`phone` by its
        // format, and by a phone-named key): one type per name.
        let mut types: Vec<TypeInfo> = Vec::new();
        let mut specs: Vec<(usize, String, &str, Anchor, Check, usize)> = Vec::new();
        for b in BUILTINS {
            let ty = match types.iter().position(|t| t.name == b.name) {
                Some(i) => i,
                None => {
                    types.push(TypeInfo {
                        name: b.name.to_string(),
                        action: Action::Redact,
                    });
                    types.len() - 1
                }
            };
            specs.push((ty, b.regex.to_string(), b.candidate, b.anchor, b.check, 0));
        }
        let mut rule_actions: Vec<(usize, Action)> = Vec::new();
        for path in &cli.rules {
            for rule in load_rules(path)? {
                let shown = path.display();
                if !valid_type_name(&rule.name) {
                    return Err(Error::usage(format!(
                        "{shown}: rule name '{}': use lowercase letters, digits and '_'",
                        rule.name
                    )));
                }
                if types.iter().any(|t| t.name == rule.name) {
                    return Err(Error::usage(format!(
                        "{shown}: rule '{}' is defined twice or shadows a built-in type",
                        rule.name
                    )));
                }
                let check = match rule.validator.as_deref() {
                    None => Check::None,
                    Some(v) => Check::from_rule_name(v).ok_or_else(|| {
                        Error::usage(format!(
                            "{shown}: rule '{}': unknown validator '{v}' (known: none, luhn, mod97, email, phone, ipv4, ipv6, card, ssn, jwt)",
                            rule.name
                        ))
                    })?,
                };
                if let Some(a) = &rule.action {
                    let action = Action::parse(a).ok_or_else(|| {
                        Error::usage(format!(
                            "{shown}: rule '{}': unknown action '{a}' (redact, mask, hash, remove)",
                            rule.name
                        ))
                    })?;
                    rule_actions.push((types.len(), action));
                }
                types.push(TypeInfo {
                    name: rule.name.clone(),
                    action: Action::Redact,
                });
                specs.push((
                    types.len() - 1,
                    rule.regex,
                    "",
                    Anchor::Start,
                    check,
                    rule.group,
                ));
            }
        }
        if types.len() > usize::from(u16::MAX) {
            return Err(Error::usage("too many rules"));
        }
        let names: Vec<String> = types.iter().map(|t| t.name.clone()).collect();
        let known = |name: &str| names.iter().position(|t| t == name);

        // 2. Actions: global default < rule file < TYPE=ACTION on the command line.
        let mut per_type: Vec<(usize, Action)> = Vec::new();
        for spec in &cli.action {
            match spec.split_once('=') {
                None => {
                    let a = Action::parse(spec).ok_or_else(|| bad_action(spec))?;
                    types.iter_mut().for_each(|t| t.action = a);
                }
                Some((ty, a)) => {
                    let i = known(ty).ok_or_else(|| unknown_type("--action", ty))?;
                    per_type.push((i, Action::parse(a).ok_or_else(|| bad_action(a))?));
                }
            }
        }
        for (i, a) in rule_actions.into_iter().chain(per_type) {
            types[i].action = a;
        }

        // 3. Selection.
        for name in cli.only.iter().chain(&cli.except) {
            known(name).ok_or_else(|| {
                unknown_type(
                    if cli.only.contains(name) {
                        "--only"
                    } else {
                        "--except"
                    },
                    name,
                )
            })?;
        }
        let selected = |name: &str| {
            (cli.only.is_empty() || cli.only.iter().any(|n| n == name))
                && !cli.except.iter().any(|n| n == name)
        };
        let mut detectors = Vec::new();
        for (i, pattern, candidate, anchor, check, group) in &specs {
            let i = *i;
            if !selected(&types[i].name) {
                continue;
            }
            let d = Detector::new(i as TypeId, pattern, candidate, *anchor, *check, *group)
                .map_err(|e| Error::usage(format!("rule '{}': bad regex: {e}", types[i].name)))?;
            detectors.push(d);
        }
        if detectors.is_empty() {
            return Err(Error::usage(
                "no type is selected: --only/--except left nothing to look for",
            ));
        }
        let secret_ty = known("secret")
            .filter(|&i| selected(&types[i].name))
            .map(|i| i as TypeId);
        // `--allow-key`: whole names, case-insensitive, so allowing `session`
        // does not also allow `session_token`.
        let allow_keys = if cli.allow_key.is_empty() {
            None
        } else {
            for a in &cli.allow_key {
                RegexBuilder::new(a)
                    .build()
                    .map_err(|e| Error::usage(format!("--allow-key '{a}': bad regex: {e}")))?;
            }
            let joined = cli
                .allow_key
                .iter()
                .map(|a| format!("^(?:{a})$"))
                .collect::<Vec<_>>()
                .join("|");
            Some(
                RegexBuilder::new(&joined)
                    .case_insensitive(true)
                    .build()
                    .map_err(|e| Error::usage(format!("--allow-key: bad regex: {e}")))?,
            )
        };
        let matcher = Matcher::new(detectors, allow_keys)?;
        let key_fields = [Field::Identity, Field::Phone]
            .into_iter()
            .filter_map(|f| matcher.field_type(f).map(|ty| (f, ty)))
            .collect();

        // 4. Hashing needs a salt; an unsalted hash of a phone number is a lookup away.
        let hashing = types
            .iter()
            .any(|t| t.action == Action::Hash && selected(&t.name));
        let hasher = match (hashing, read_salt(&cli)?) {
            (false, _) => None,
            (true, Some(salt)) => Some(Hasher::new(&salt, cli.key_id.as_deref())?),
            (true, None) => {
                return Err(Error::usage(format!(
                    "hash needs a secret salt: give --salt-file FILE or set {SALT_ENV}"
                ))
                .with_hint("an unsalted hash of an email or phone number can be reversed by guessing; generate a salt with: head -c 32 /dev/urandom | base64"));
            }
        };

        // 5. Allow-lists.
        let mut allow = Vec::new();
        for a in &cli.allow {
            allow.push(
                RegexBuilder::new(a)
                    .build()
                    .map_err(|e| Error::usage(format!("--allow '{a}': bad regex: {e}")))?,
            );
        }
        let mut allow_values = HashSet::new();
        for path in &cli.allow_file {
            let text = std::fs::read(path)
                .map_err(|e| Error::io(path.display(), e).context("reading --allow-file"))?;
            for line in text.split(|&b| b == b'\n') {
                let line = line.strip_suffix(b"\r").unwrap_or(line);
                if !line.is_empty() {
                    allow_values.insert(line.to_vec());
                }
            }
        }

        // 6. Mode and outputs.
        let mode = if cli.check {
            Mode::Check
        } else if cli.dry_run {
            Mode::DryRun
        } else {
            Mode::Filter
        };
        let paths = if cli.paths.is_empty() {
            vec!["-".to_string()]
        } else {
            cli.paths.clone()
        };
        if mode == Mode::Filter
            && !cli.in_place
            && cli.out_dir.is_none()
            && cli.report.as_deref() == Some("-")
        {
            return Err(Error::usage(
                "--report -: stdout carries the scrubbed data in filter mode; records and data are never mixed",
            )
            .with_hint("give --report FILE, or use --dry-run/--check (records on stdout)"));
        }
        if (cli.in_place || cli.out_dir.is_some()) && paths.iter().any(|p| p == "-") {
            return Err(Error::usage(
                "--in-place and --out-dir need file or directory paths, not stdin",
            ));
        }
        if cli.max_line == 0 {
            return Err(Error::usage("--max-line must be at least 1"));
        }
        if let Some(suffix) = &cli.backup_suffix {
            if suffix.is_empty() || suffix.contains('/') {
                return Err(Error::usage(format!(
                    "--backup-suffix '{suffix}': must be non-empty and contain no '/'"
                )));
            }
        }
        let threads = match cli.threads {
            Some(0) => return Err(Error::usage("--threads must be at least 1")),
            Some(n) => n,
            None => std::thread::available_parallelism().map_or(1, |n| n.get()),
        };
        let engine = Engine {
            types,
            matcher,
            secret_ty,
            key_fields,
            allow,
            allow_values,
            hasher,
            fields: cli.fields.clone(),
            skip_fields: cli.skip_fields.clone(),
            max_line: cli.max_line,
            max_findings: cli.max_findings,
            invalid_json_as_text: cli.on_invalid_json == crate::cli::InvalidJson::Text,
            snippets: mode == Mode::DryRun && cli.format.format == Format::Text,
        };
        Ok(Config {
            engine,
            mode,
            paths,
            in_place: cli.in_place,
            backup_suffix: cli.backup_suffix,
            out_dir: cli.out_dir,
            report: cli.report,
            format: cli.format.format,
            quarantine: cli.quarantine,
            max_quarantined: cli.max_quarantined,
            min_files: cli.min_files,
            min_lines: cli.min_lines,
            globs: cli.glob,
            respect_ignore: cli.respect_ignore,
            threads,
            quiet: cli.quiet.quiet || cli.no_warnings,
            no_warnings: cli.no_warnings,
        })
    }
}

/// A value that selects everything turns the flag's check off: `--allow
/// "$ALLOW"` with the variable unset allowed every value and `--check`
/// passed (trial 2 item 33). Empty values are refused for every flag where
/// one would select everything (or, for `--fields`/`--glob`, is surely a
/// mistake), and so are an allow regex matching every value (it matches a
/// value nobody would allow) and `--skip-fields` of every member (`/*`).
fn refuse_switch_offs(cli: &Cli) -> Result<()> {
    let off = |flag: &str, value: &str, why: &str| {
        Error::usage(format!(
            "{flag} '{value}': {why}, which switches the check off"
        ))
        .with_hint("an unset variable in a script? give a value, or leave the flag out")
    };
    let empty = "an empty value matches every value";
    let flags: [(&str, Vec<&str>); 5] = [
        ("--allow", cli.allow.iter().map(String::as_str).collect()),
        (
            "--allow-key",
            cli.allow_key.iter().map(String::as_str).collect(),
        ),
        (
            "--skip-fields",
            cli.skip_fields.iter().map(|p| p.as_str()).collect(),
        ),
        ("--fields", cli.fields.iter().map(|p| p.as_str()).collect()),
        ("--glob", cli.glob.iter().map(String::as_str).collect()),
    ];
    for (flag, values) in &flags {
        if let Some(v) = values.iter().find(|v| v.trim().is_empty()) {
            return Err(off(flag, v, empty));
        }
    }
    for a in &cli.allow {
        // A bad regex is reported where it is compiled.
        if let Ok(re) = RegexBuilder::new(a).build() {
            if re.is_match(b"\x01pii-scrub: no value looks like this\x02") && re.is_match(b"") {
                return Err(off("--allow", a, "matches every value"));
            }
        }
    }
    for p in &cli.skip_fields {
        // `/*` is every member of a record (records are objects).
        if p.tokens().len() <= 1 && p.tokens().iter().all(|t| *t == common::pointer::Token::Any) {
            return Err(off("--skip-fields", p.as_str(), "matches every value"));
        }
    }
    Ok(())
}

fn bad_action(a: &str) -> Error {
    Error::usage(format!(
        "--action '{a}': unknown action (redact, mask, hash, remove)"
    ))
}

fn unknown_type(flag: &str, name: &str) -> Error {
    Error::usage(format!("{flag}: unknown type '{name}'")).with_hint("see 'pii-scrub --list-types'")
}
