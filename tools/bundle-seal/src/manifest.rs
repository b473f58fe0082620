//! MANIFEST.json: what a seal promises. The files (path, size, sha256),
//! the gates gathered from every `kind: summary` record in the bundle's
//! JSON Lines files, and the release verdict those gates imply. Also the
//! SHA256SUMS text derived from it, in the form `sha256sum -c` reads.

use std::fmt::Write as _;
use std::path::Path;

use common::gate::{Gate, Verdict};
use common::input::Input;
use common::jsonl::JsonlReader;
use common::lines::DEFAULT_MAX_LINE;
use common::{Error, Result};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::strict_json;
use crate::walk::{open_regular, Entry};

/// The manifest's `format`; bump `FORMAT_VERSION` on incompatible change.
pub const FORMAT: &str = "hardgate-bundle";
pub const FORMAT_VERSION: u32 = 1;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Manifest {
    pub format: String,
    pub format_version: u32,
    pub tool: String,
    pub tool_version: String,
    pub created_at: String,
    /// The release this bundle is evidence for (semver), from `--release`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub release: Option<String>,
    /// The source commit, from `--commit` or the work tree's `git HEAD`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub commit: Option<String>,
    /// `pass` only when at least one gate is present and every gate and
    /// every summary passed.
    pub verdict: Verdict,
    /// Why the verdict is fail (empty when it is pass).
    pub verdict_reasons: Vec<String>,
    pub files: Vec<FileEntry>,
    pub summaries: Vec<SummaryRef>,
    pub gates: Vec<GateRef>,
    /// Summary records found in files that are not read for gates (a
    /// tool's output saved as `.json`, `.log`, ...). Each fails the verdict:
    /// a failing gate must not pass unseen because of a file name.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub stray_summaries: Vec<StrayRef>,
    /// Inputs a summary names whose file is in the bundle with other
    /// content: the summary vouches for something that was not sealed.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub input_mismatches: Vec<InputMismatch>,
}

/// A summary's input found in the bundle with a different sha256.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct InputMismatch {
    pub source: String,
    pub line: u64,
    pub tool: String,
    /// The input's path as the summary names it.
    pub input: String,
    /// The bundle file it resolves to.
    pub file: String,
    pub summary_sha256: String,
    pub sealed_sha256: String,
}

impl InputMismatch {
    fn reason(&self) -> String {
        let short = |s: &str| s.chars().take(12).collect::<String>();
        format!(
            "{}:{} {} judged input {} with sha256 {}..., but the bundle's {} has {}...: \
             the summary is not about the file sealed",
            self.source,
            self.line,
            self.tool,
            self.input,
            short(&self.summary_sha256),
            self.file,
            short(&self.sealed_sha256)
        )
    }
}
/// A summary record found outside the gate files (see `scan`).
///
/// Manifests before `tool`/`verdict` were recorded hold only `source` and
/// `line`; such an entry fails the verdict, as it did when it was sealed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StrayRef {
    pub source: String,
    pub line: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tool: Option<String>,
    /// The record's verdict, re-judged from its gates.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub verdict: Option<Verdict>,
    /// `source:line` of the gate file summary this record is an exact copy
    /// of (a CI log that echoed it): a passing copy does not fail the release.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub copy_of: Option<String>,
    /// Why it could not be read (it then fails the release).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// Found inside another record or JSON-escaped inside a string (a log
    /// wrapper such as Docker's `{"log":"..."}`, an audit receipt).
    #[serde(default, skip_serializing_if = "is_false")]
    pub quoted: bool,
    /// A tool's `--format text` output saying `verdict: fail`.
    #[serde(default, skip_serializing_if = "is_false")]
    pub text: bool,
    /// A gate result without `kind` (a jq digest of a summary).
    #[serde(default, skip_serializing_if = "is_false")]
    pub digest: bool,
}

fn is_false(b: &bool) -> bool {
    !*b
}

/// The error for a record of ours that is not a valid summary (no gates
/// array, gates as an object, no verdict), the same in every file: a gate
/// whose output cannot be judged must not be sealed, whatever its name.
pub fn malformed_summary(
    file: impl std::fmt::Display,
    line: u64,
    quoted: bool,
    why: impl std::fmt::Display,
) -> Error {
    let what = if quoted {
        "summary record quoted inside another record"
    } else {
        "summary record"
    };
    Error::at(file, line, format!("{what}: {why}")).with_hint(
        "a summary record needs tool, verdict and a gates array; a gate whose output cannot be \
         judged must not be sealed: run it again, or remove the file",
    )
}

impl StrayRef {
    /// Whether this record fails the release: anything but a passing exact
    /// copy of a gate file's summary.
    pub fn fails(&self) -> bool {
        !(self.verdict.is_some_and(|v| v.is_pass()) && self.copy_of.is_some())
    }

    /// Why it fails the release (None when it does not).
    pub fn reason_text(&self) -> Option<String> {
        if !self.fails() {
            return None;
        }
        let at = format!("{}:{}", self.source, self.line);
        Some(match (&self.tool, self.verdict, &self.reason) {
            (_, _, Some(why)) => format!(
                "{at} looks like a summary record but cannot be read ({why}); a failing gate could hide there"
            ),
            (None, _, None) if self.text => format!(
                "{at} holds a failing gate summary in text form (a tool's --format text, or \
                 YAML); seal judges JSON summaries only: keep the tool's JSON output (--format jsonl) as the evidence"
            ),
            (tool, _, None) if self.digest => format!(
                "{at} holds a failing {}gate result without \"kind\":\"summary\" (a digest \
                 such as jq writes); keep the tool's own summary record as the evidence",
                tool.as_deref().map(|t| format!("{t} ")).unwrap_or_default()
            ),
            (Some(tool), Some(v), None) if !v.is_pass() && self.quoted => {
                format!("{at} holds a failing {tool} summary, quoted inside another record")
            }
            (Some(tool), Some(v), None) if !v.is_pass() && is_jsonl(&self.source) => format!(
                "{at} holds a failing {tool} summary that is not a record of its own line"
            ),
            (Some(tool), Some(v), None) if !v.is_pass() => format!(
                "{at} holds a failing {tool} summary in a file not read for gates \
                 (only {GATE_FILES} are)"
            ),
            (Some(tool), Some(_), None) if self.quoted => format!(
                "{at} holds a passing {tool} summary, quoted inside another record, that is no \
                 copy of one in a gate file (a stale or misplaced result?); remove it, or keep \
                 the record itself in a .jsonl file"
            ),
            (Some(tool), Some(_), None) => format!(
                "{at} holds a passing {tool} summary that is no copy of one in a gate file \
                 (a stale or misplaced result?); move it into a .jsonl file or remove it"
            ),
            _ => format!(
                "{at} holds a summary record, but only {GATE_FILES} are read for gates"
            ),
        })
    }
}

/// The gate files, as the messages name them (keep in sync with [`is_jsonl`]).
pub const GATE_FILES: &str = "*.jsonl, *.jsonl.gz, *.ndjson and *.ndjson.gz";

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileEntry {
    pub path: String,
    pub size: u64,
    pub sha256: String,
}

/// A summary record found in the bundle.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SummaryRef {
    pub source: String,
    pub line: u64,
    pub tool: String,
    pub verdict: Verdict,
    #[serde(default)]
    pub interrupted: bool,
    pub gates: usize,
    /// How many of its inputs were found in the bundle and matched.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub inputs_checked: usize,
}

fn is_zero(n: &usize) -> bool {
    *n == 0
}

/// One gate, with where it came from.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct GateRef {
    pub source: String,
    pub line: u64,
    pub tool: String,
    #[serde(flatten)]
    pub gate: Gate,
}

/// The fields of a summary record the verdict needs.
#[derive(Deserialize)]
struct SummaryIn {
    tool: String,
    verdict: Verdict,
    #[serde(default)]
    interrupted: bool,
    gates: Vec<Gate>,
    #[serde(default)]
    inputs: Vec<common::summary::InputRef>,
}

/// Whether a bundle file holds JSON Lines records we read for summaries
/// (ASCII case ignored: `GATES.JSONL` is read too). Keep in sync with
/// [`GATE_FILES`].
pub fn is_jsonl(rel: &str) -> bool {
    let l = rel.to_ascii_lowercase();
    [".jsonl", ".jsonl.gz", ".ndjson", ".ndjson.gz"]
        .iter()
        .any(|x| l.ends_with(x))
}

/// What `gather` read: the summaries and their gates, and the canonical
/// sha256 of each summary record (`source:line` by digest), so a copy of
/// one elsewhere in the bundle is recognised.
#[derive(Debug, Default)]
pub struct Gathered {
    pub summaries: Vec<SummaryRef>,
    pub gates: Vec<GateRef>,
    pub canonical: std::collections::HashMap<String, String>,
    pub input_mismatches: Vec<InputMismatch>,
}

/// The bundle files a summary's input path may name: the path relative to
/// the bundle (the tool ran inside it), or the path as the tool saw it,
/// resolved from here (the tool ran where the seal runs), when that lies
/// inside the bundle. A path that resolves outside is not in the bundle.
fn resolve_input(
    canonical_root: Option<&Path>,
    path: &str,
    sealed: &std::collections::HashMap<&str, &str>,
) -> Vec<String> {
    let mut out = Vec::new();
    if let Ok(clean) = common::safe_path::check_relative(path) {
        if let Some(rel) = clean.to_str() {
            if sealed.contains_key(rel) {
                out.push(rel.to_string());
            }
        }
    }
    let p = Path::new(path);
    let resolved = if p.is_absolute() {
        p.to_path_buf()
    } else {
        match std::env::current_dir() {
            Ok(cwd) => cwd.join(p),
            Err(_) => return out,
        }
    };
    if let (Some(croot), Ok(full)) = (canonical_root, std::fs::canonicalize(&resolved)) {
        if let Some(rel) = full.strip_prefix(croot).ok().and_then(Path::to_str) {
            if sealed.contains_key(rel) && !out.iter().any(|o| o == rel) {
                out.push(rel.to_string());
            }
        }
    }
    out
}

/// Reads every summary record from the bundle's JSON Lines files (strict:
/// a malformed line stops the seal, naming file and line).
///
/// `sealed` holds the hashes the manifest will list: a file whose bytes
/// read here differ from them changed during the seal, and the gates read
/// would not be the ones the hashes vouch for.
pub fn gather(root: &Path, entries: &[Entry], sealed: &[FileEntry]) -> Result<Gathered> {
    let canonical_root = std::fs::canonicalize(root).ok();
    let hashes: std::collections::HashMap<&str, &str> = sealed
        .iter()
        .map(|f| (f.path.as_str(), f.sha256.as_str()))
        .collect();
    let mut out = Gathered::default();
    for e in entries.iter().filter(|e| is_jsonl(&e.rel)) {
        let name = e.path.display().to_string();
        let file = open_regular(&e.path)?;
        let input = Input::from_reader(&name, Some(e.path.clone()), Box::new(file))?;
        // A gzip stream may end before the file does (trailing bytes are not
        // read), so only plain files are compared byte for byte.
        let plain = !input.is_gzip();
        let mut reader = JsonlReader::from_input(input, DEFAULT_MAX_LINE);
        // Strict about duplicate keys: `"verdict":"fail",...,"verdict":"pass"`
        // must not read as a pass.
        while let Some((line, value)) = strict_json::next_record(
            &mut reader,
            "every line of a bundle's .jsonl files must be one JSON record; fix or remove the file",
        )? {
            if value.get("kind").and_then(Value::as_str) != Some("summary") {
                continue;
            }
            out.canonical
                .entry(crate::canonical::sha256(&value))
                .or_insert_with(|| format!("{}:{line}", e.rel));
            let s: SummaryIn = serde_json::from_value(value)
                .map_err(|err| malformed_summary(&name, line, false, err))?;
            // A summary vouches for its inputs by sha256: where an input is
            // in the bundle, it must be the file sealed.
            let mut inputs_checked = 0;
            for input in &s.inputs {
                let Some(want) = input.sha256.as_deref() else {
                    continue;
                };
                let found = resolve_input(canonical_root.as_deref(), &input.path, &hashes);
                if found.is_empty() {
                    continue;
                }
                if found.iter().any(|f| hashes.get(f.as_str()) == Some(&want)) {
                    inputs_checked += 1;
                } else {
                    out.input_mismatches.push(InputMismatch {
                        source: e.rel.clone(),
                        line,
                        tool: s.tool.clone(),
                        input: input.path.clone(),
                        file: found[0].clone(),
                        summary_sha256: want.to_string(),
                        sealed_sha256: hashes
                            .get(found[0].as_str())
                            .copied()
                            .unwrap_or_default()
                            .to_string(),
                    });
                }
            }
            out.summaries.push(SummaryRef {
                source: e.rel.clone(),
                line,
                tool: s.tool.clone(),
                verdict: s.verdict,
                interrupted: s.interrupted,
                gates: s.gates.len(),
                inputs_checked,
            });
            for g in s.gates {
                out.gates.push(GateRef {
                    source: e.rel.clone(),
                    line,
                    tool: s.tool.clone(),
                    gate: g,
                });
            }
        }
        if plain && reader.sha256().as_deref() != hashes.get(e.rel.as_str()).copied() {
            return Err(Error::new(format!(
                "{name}: changed while the bundle was being sealed; nothing was written"
            ))
            .with_hint("stop whatever writes into the bundle, then seal again"));
        }
    }
    Ok(out)
}

/// The release verdict and, when it fails, why.
pub fn verdict(
    summaries: &[SummaryRef],
    gates: &[GateRef],
    strays: &[StrayRef],
    mismatches: &[InputMismatch],
) -> (Verdict, Vec<String>) {
    let mut reasons = Vec::new();
    if gates.is_empty() {
        reasons.push("no gate found in any summary record".to_string());
    }
    reasons.extend(strays.iter().filter_map(StrayRef::reason_text));
    reasons.extend(mismatches.iter().map(InputMismatch::reason));
    for g in gates {
        // A gate's own `pass` is re-judged: a summary cannot claim a pass
        // its figures contradict.
        let judged = Gate::check(g.gate.name.clone(), g.gate.op, g.gate.limit, g.gate.value).pass;
        let where_ = format!("{}:{} {} gate {}", g.source, g.line, g.tool, g.gate.name);
        if !g.gate.pass {
            reasons.push(format!(
                "{where_} failed ({} {} {})",
                g.gate.value,
                g.gate.op.symbol(),
                g.gate.limit
            ));
        } else if !judged {
            reasons.push(format!(
                "{where_} claims pass but {} {} {} does not hold",
                g.gate.value,
                g.gate.op.symbol(),
                g.gate.limit
            ));
        }
    }
    for s in summaries {
        if s.interrupted {
            reasons.push(format!(
                "{}:{} {} run was interrupted",
                s.source, s.line, s.tool
            ));
        } else if !s.verdict.is_pass() {
            reasons.push(format!(
                "{}:{} {} verdict is fail",
                s.source, s.line, s.tool
            ));
        }
    }
    let v = if reasons.is_empty() {
        Verdict::Pass
    } else {
        Verdict::Fail
    };
    (v, reasons)
}

impl Manifest {
    /// The verdict its own summaries, gates, strays and input checks imply.
    pub fn derived_verdict(&self) -> (Verdict, Vec<String>) {
        verdict(
            &self.summaries,
            &self.gates,
            &self.stray_summaries,
            &self.input_mismatches,
        )
    }

    /// Parses and checks a manifest read from `name`.
    pub fn parse(bytes: &[u8], name: &str) -> Result<Manifest> {
        let m: Manifest = serde_json::from_slice(bytes).map_err(|e| {
            Error::at_column(
                name,
                e.line() as u64,
                e.column() as u64,
                common::jsonl::describe_json_error(&e),
            )
        })?;
        if m.format != FORMAT {
            return Err(Error::new(format!(
                "{name}: format is {:?}, not {FORMAT:?}",
                m.format
            )));
        }
        if m.format_version > FORMAT_VERSION {
            return Err(Error::new(format!(
                "{name}: format version {} is newer than this tool reads ({FORMAT_VERSION})",
                m.format_version
            ))
            .with_hint("upgrade bundle-seal"));
        }
        let mut last: Option<&str> = None;
        for (i, f) in m.files.iter().enumerate() {
            let clean = common::safe_path::check_relative(&f.path)
                .map_err(|e| e.context(format!("{name}: files[{i}]")))?;
            if clean.to_str() != Some(f.path.as_str()) {
                return Err(Error::new(format!(
                    "{name}: files[{i}]: path {:?} is not in normal form",
                    f.path
                )));
            }
            if crate::walk::SEAL_FILES.contains(&f.path.as_str())
                || f.path == crate::decisions::DECISIONS
            {
                return Err(Error::new(format!(
                    "{name}: files[{i}]: lists the seal's own file {:?}",
                    f.path
                )));
            }
            if f.sha256.len() != 64
                || !f
                    .sha256
                    .bytes()
                    .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
            {
                return Err(Error::new(format!(
                    "{name}: files[{i}]: sha256 is not 64 lower-case hex digits"
                )));
            }
            if last.is_some_and(|l| l.as_bytes() >= f.path.as_bytes()) {
                return Err(Error::new(format!(
                    "{name}: files[{i}]: {:?} is out of order or listed twice",
                    f.path
                )));
            }
            last = Some(&f.path);
        }
        Ok(m)
    }

    /// Pretty JSON with a final newline (what is written and signed).
    pub fn to_bytes(&self) -> Result<Vec<u8>> {
        let mut bytes = serde_json::to_vec_pretty(self)
            .map_err(|e| Error::new(format!("cannot encode manifest: {e}")))?;
        bytes.push(b'\n');
        Ok(bytes)
    }
}

/// `SHA256SUMS` in GNU's format: every file, then MANIFEST.json itself, so
/// `sha256sum -c` checks the whole bundle with no tool of ours.
pub fn sha256sums(files: &[FileEntry], manifest_sha256: &str) -> String {
    let mut out = String::new();
    for f in files {
        sums_line(&mut out, &f.sha256, &f.path);
    }
    sums_line(&mut out, manifest_sha256, crate::walk::MANIFEST);
    out
}

fn sums_line(out: &mut String, sha: &str, path: &str) {
    // GNU escapes `\` and newline in names and marks such lines with `\`.
    if path.contains(['\\', '\n']) {
        let escaped = path.replace('\\', "\\\\").replace('\n', "\\n");
        let _ = writeln!(out, "\\{sha}  {escaped}");
    } else {
        let _ = writeln!(out, "{sha}  {path}");
    }
}

/// Refuses names `sha256sum -c` cannot read back (a carriage return).
pub fn check_name(path: &Path, rel: &str) -> Result<()> {
    if rel.contains('\r') {
        return Err(Error::new(format!(
            "{}: file name contains a carriage return, which SHA256SUMS cannot carry",
            path.display()
        )));
    }
    Ok(())
}

#[cfg(test)]
mod gather_tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    /// What seal hashed must be what gather read: a file rewritten between
    /// the two (another process writing into the bundle) stops the seal.
    #[test]
    fn a_file_changed_between_hashing_and_gathering_stops_the_seal() {
        let dir = tempfile::tempdir().unwrap();
        let line = "{\"kind\":\"summary\",\"tool\":\"t\",\"version\":\"1\",\"verdict\":\"pass\",\
                    \"gates\":[{\"name\":\"g\",\"op\":\"<=\",\"limit\":0,\"value\":0,\"pass\":true}]}\r\n";
        std::fs::write(dir.path().join("s.jsonl"), format!("\u{feff}{line}")).unwrap();
        let entries = crate::walk::walk(dir.path()).unwrap();
        let (sha256, size) = crate::walk::hash_file(&entries[0].path).unwrap();
        let mut sealed = vec![FileEntry {
            path: "s.jsonl".into(),
            size,
            sha256,
        }];
        let g = gather(dir.path(), &entries, &sealed).unwrap();
        assert_eq!(
            (g.summaries.len(), g.gates.len(), g.canonical.len()),
            (1, 1, 1)
        );

        sealed[0].sha256 = "0".repeat(64);
        let err = gather(dir.path(), &entries, &sealed).unwrap_err();
        assert_eq!(
            err.to_string(),
            format!(
                "{}: changed while the bundle was being sealed; nothing was written",
                entries[0].path.display()
            )
        );
    }
}
