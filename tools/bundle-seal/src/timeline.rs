//! `timeline DIR`: every record with a time stamp in the bundle's JSON
//! Lines files, merged in time order with its source file and line. Time
//! stamps that do not parse are reported, and `--require-sections` checks
//! that an incident bundle has the files it must have.
//!
//! Events are sorted with [`ExternalSort`]: memory is bounded by
//! `--buffer-size` (plus the merge's small buffers), not by the bundle's
//! size; a bundle larger than that spills sorted runs to `$TMPDIR`.

use std::path::PathBuf;

use common::gate::Gate;
use common::input::Input;
use common::jsonl::{Item, JsonlReader, SKIP_INVALID_HINT};
use common::lines::DEFAULT_MAX_LINE;
use common::summary::SummaryBuilder;
use common::{Outcome, Result};
use serde::Serialize;
use serde_json::Value;

use crate::external_sort::ExternalSort;
use crate::manifest::is_jsonl;
use crate::seal::{TOOL, VERSION};
use crate::walk::{self, open_regular};

/// Top-level fields tried, in order, when no `--time-field` is given.
pub const DEFAULT_FIELDS: [&str; 6] = ["ts", "timestamp", "time", "@timestamp", "at", "started_at"];

#[derive(Debug)]
pub struct TimelineConfig {
    pub dir: PathBuf,
    pub fields: Vec<String>,
    pub require_sections: Vec<String>,
    pub skip_invalid: bool,
    /// Bytes of events held in memory before a sorted run is spilled.
    pub buffer_size: usize,
    /// `--window`/`--max-critical`: the incident gate, when asked for.
    pub incidents: Option<IncidentGate>,
}

/// "Zero critical incidents in the last 7 days" as a gate: records whose
/// severity field names a critical level (see [`CRITICAL_LEVELS`]; case and
/// padding ignored) are counted when
/// their time is at or after `as_of - window` (also after `as_of`: a skewed
/// clock must not hide an incident) or cannot be placed in time at all.
#[derive(Debug)]
pub struct IncidentGate {
    pub window: Option<std::time::Duration>,
    pub max_critical: Option<u64>,
    pub as_of: (i64, u32),
    pub severity_field: String,
}

impl IncidentGate {
    /// From the flags; `None` when neither `--window` nor `--max-critical`
    /// was given.
    pub fn from_cli(
        window: Option<std::time::Duration>,
        max_critical: Option<u64>,
        as_of: Option<&str>,
        severity_field: &str,
    ) -> common::Result<Option<IncidentGate>> {
        if window.is_none() && max_critical.is_none() {
            if as_of.is_some() {
                return Err(common::Error::usage(
                    "--as-of is the end of --window: give --window (and --max-critical)",
                ));
            }
            return Ok(None);
        }
        let as_of = match as_of {
            Some(t) => {
                parse_rfc3339(t).map_err(|e| common::Error::usage(format!("--as-of: {e}")))?
            }
            None => {
                let now = std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .unwrap_or_default();
                (
                    i64::try_from(now.as_secs()).unwrap_or(i64::MAX),
                    now.subsec_nanos(),
                )
            }
        };
        if severity_field.trim().is_empty() {
            return Err(common::Error::usage("--severity-field: empty"));
        }
        Ok(Some(IncidentGate {
            window,
            max_critical,
            as_of,
            severity_field: severity_field.to_string(),
        }))
    }

    fn start(&self) -> Option<(i64, u32)> {
        let w = self.window?;
        let secs = i64::try_from(w.as_secs()).unwrap_or(i64::MAX);
        let (mut s, mut n) = (
            self.as_of.0.saturating_sub(secs),
            i64::from(self.as_of.1) - i64::from(w.subsec_nanos()),
        );
        if n < 0 {
            s -= 1;
            n += 1_000_000_000;
        }
        Some((s, u32::try_from(n).unwrap_or(0)))
    }

    /// The record's severity: a top-level field, or a JSON Pointer
    /// (`/labels/severity`, Alertmanager's shape).
    fn severity<'v>(&self, record: &'v Value) -> Option<&'v Value> {
        if self.severity_field.starts_with('/') {
            record.pointer(&self.severity_field)
        } else {
            record.get(self.severity_field.as_str())
        }
    }

    fn is_critical(severity: &Value) -> bool {
        severity.as_str().is_some_and(|s| {
            let s = s.trim();
            CRITICAL_LEVELS.iter().any(|l| s.eq_ignore_ascii_case(l))
        })
    }
}

/// Severity names at or above "critical" in the schemes incident files use:
/// syslog's (`emerg`, `alert`, `crit`), log libraries' (`fatal`, `panic`),
/// and alerting tools' (`critical`). Only `critical` counted before, so a
/// syslog `crit` or a `FATAL` passed "zero critical incidents".
pub const CRITICAL_LEVELS: [&str; 8] = [
    "critical",
    "crit",
    "emerg",
    "emergency",
    "alert",
    "fatal",
    "panic",
    "p1",
];

/// `--buffer-size`'s default: what a timeline holds in memory at most
/// (plus one read buffer and record per spilled run while merging).
pub const DEFAULT_BUFFER: usize = 64 << 20;

#[derive(Debug, Serialize)]
struct Event {
    kind: &'static str,
    at: String,
    source: String,
    line: u64,
    field: String,
    record: Value,
}

pub fn timeline(cfg: &TimelineConfig, out: &mut common::output::RecordWriter) -> Result<Outcome> {
    let mut summary = SummaryBuilder::new(TOOL, VERSION);
    let entries = walk::walk(&cfg.dir)?;
    walk::require_regular(&entries)?;
    let mut events = ExternalSort::new(cfg.buffer_size);
    let mut event_count = 0u64;
    let mut first: Option<(i64, u32)> = None;
    let mut last: Option<(i64, u32)> = None;
    let mut unparseable = 0u64;
    let mut untimed = 0u64;
    let mut invalid = 0u64;
    let mut records = 0u64;
    let mut files = 0u64;
    let (mut critical_total, mut critical_in_window) = (0u64, 0u64);
    // Records with the severity field at all: none means the gate looked
    // at nothing (a typo in --severity-field, another schema).
    let mut with_severity = 0u64;
    // JSON Lines records per file, for --require-sections: an empty file
    // is not a section's evidence.
    let mut records_in: std::collections::HashMap<&str, u64> = std::collections::HashMap::new();
    let mut not_read = 0u64;
    for e in entries.iter().filter(|e| !is_jsonl(&e.rel)) {
        not_read += 1;
        out.write(&serde_json::json!({
            "kind": "not_read", "source": e.rel,
            "reason": "not JSON Lines by name (.jsonl, .ndjson, optionally .gz)"
        }))?;
    }
    let window_start = cfg.incidents.as_ref().and_then(IncidentGate::start);
    'files: for (file_index, e) in entries.iter().filter(|e| is_jsonl(&e.rel)).enumerate() {
        let file_index = u32::try_from(file_index).unwrap_or(u32::MAX);
        files += 1;
        let name = e.path.display().to_string();
        let input = Input::from_reader(
            &name,
            Some(e.path.clone()),
            Box::new(open_regular(&e.path)?),
        )?;
        let mut reader = JsonlReader::from_input(input, DEFAULT_MAX_LINE);
        while let Some(item) = reader.next_item::<Value>()? {
            // Ctrl-C: stop reading; the spilled runs are unnamed temporary
            // files, gone when dropped.
            if common::interrupt::requested() {
                break 'files;
            }
            let (line, whole) = match item {
                Item::Record { line, value } => (line, value),
                Item::Invalid(bad) => {
                    if !cfg.skip_invalid {
                        return Err(bad.to_error().with_hint(SKIP_INVALID_HINT));
                    }
                    invalid += 1;
                    out.write(&serde_json::json!({
                        "kind": "invalid", "source": e.rel, "line": bad.line, "reason": bad.reason
                    }))?;
                    continue;
                }
            };
            // A line holding an array of alerts (`curl .../api/v2/alerts`)
            // is one record per element.
            let values = match whole {
                Value::Array(items) => items,
                one => vec![one],
            };
            for value in values {
                records += 1;
                *records_in.entry(e.rel.as_str()).or_default() += 1;
                let time = cfg
                    .fields
                    .iter()
                    .find_map(|f| value.get(f.as_str()).map(|v| (f, v)));
                let severity = cfg
                    .incidents
                    .as_ref()
                    .and_then(|g| g.severity(&value).map(|s| (g, s)));
                with_severity += u64::from(severity.is_some());
                if let Some((gate, _)) = severity.filter(|(_, s)| IncidentGate::is_critical(s)) {
                    critical_total += 1;
                    let at = time.and_then(|(_, stamp)| parse_time(stamp).ok());
                    // Not placeable in time: counted, it could be inside.
                    if at.is_none_or(|t| window_start.is_none_or(|s| t >= s)) {
                        critical_in_window += 1;
                        out.write(&serde_json::json!({
                            "kind": "critical", "at": at.map(format_utc), "source": e.rel,
                            "line": line, "severity_field": gate.severity_field
                        }))?;
                    }
                }
                let Some((field, stamp)) = time else {
                    untimed += 1;
                    continue;
                };
                match parse_time(stamp) {
                    Ok(key) => {
                        let field = field.clone();
                        let bytes = out.encode(&Event {
                            kind: "event",
                            at: format_utc(key),
                            source: e.rel.clone(),
                            line,
                            field,
                            record: value,
                        })?;
                        events.push((key.0, key.1, file_index, line), &bytes)?;
                        event_count += 1;
                        first = Some(first.map_or(key, |f| f.min(key)));
                        last = Some(last.map_or(key, |l| l.max(key)));
                    }
                    Err(reason) => {
                        unparseable += 1;
                        out.write(&serde_json::json!({
                            "kind": "unparseable", "source": e.rel, "line": line,
                            "field": field, "value": stamp, "reason": reason
                        }))?;
                    }
                }
            }
        }
    }
    // Equal times keep file-then-line order: the key ends with both.
    let spills = events.spills;
    let mut stopped = common::interrupt::requested();
    if !stopped {
        let merged = events.finish(|_, bytes| {
            if common::interrupt::requested() {
                stopped = true;
                return Err(common::Error::new("interrupted"));
            }
            out.write_bytes(bytes)
        });
        if !stopped {
            merged?;
        }
    }
    if stopped {
        // The events written so far are in order but not all of them: the
        // summary says so, and no gate is judged on part of the records.
        summary.input(&cfg.dir.display().to_string(), None);
        summary.figure("files", files);
        summary.figure("records", records);
        summary.figure("events", event_count);
        summary.figure("sorted_runs_spilled", spills);
        let s = summary.finish(true);
        out.write(&s)?;
        out.flush()?;
        return Ok(s.outcome());
    }
    let mut missing = 0u64;
    for s in &cfg.require_sections {
        let found: Vec<&str> = entries
            .iter()
            .filter(|e| section_matches(&e.rel, s))
            .map(|e| e.rel.as_str())
            .collect();
        // Present only where a file of it was read and held a record: an
        // empty alerts.jsonl, or a proxy.txt timeline never reads, is no
        // evidence of the section.
        let records: u64 = found
            .iter()
            .map(|f| records_in.get(f).copied().unwrap_or(0))
            .sum();
        let status = match (found.is_empty(), records) {
            (true, _) => "missing",
            (false, 0) => "empty",
            _ => "present",
        };
        if status != "present" {
            missing += 1;
        }
        out.write(&serde_json::json!({
            "kind": "section", "name": s, "status": status, "files": found, "records": records
        }))?;
    }
    summary.input(&cfg.dir.display().to_string(), None);
    summary.gate(Gate::at_most(
        "unparseable_timestamps",
        0.0,
        unparseable as f64,
    ));
    if !cfg.require_sections.is_empty() {
        summary.gate(Gate::at_most("missing_sections", 0.0, missing as f64));
    }
    if cfg.skip_invalid {
        summary.gate(Gate::at_most("invalid_lines", 0.0, invalid as f64));
    }
    if let Some(max) = cfg.incidents.as_ref().and_then(|g| g.max_critical) {
        summary.gate(Gate::at_most(
            "critical_in_window",
            max as f64,
            critical_in_window as f64,
        ));
        // A count over records that have no severity field proves nothing.
        summary.gate(Gate::at_least(
            "records_with_severity",
            1.0,
            with_severity as f64,
        ));
    }
    summary.figure("files", files);
    summary.figure("records", records);
    summary.figure("events", event_count);
    summary.figure("untimed", untimed);
    summary.figure("unparseable", unparseable);
    summary.figure("invalid", invalid);
    summary.figure("missing_sections", missing);
    summary.figure("files_not_read", not_read);
    summary.figure("first_at", first.map(format_utc));
    summary.figure("last_at", last.map(format_utc));
    summary.figure("sorted_runs_spilled", spills);
    if let Some(g) = &cfg.incidents {
        summary.figure("severity_field", &g.severity_field);
        summary.figure("as_of", format_utc(g.as_of));
        summary.figure("window_start", window_start.map(format_utc));
        summary.figure("critical_total", critical_total);
        summary.figure("records_with_severity", with_severity);
        summary.figure("critical_in_window", critical_in_window);
    }
    let s = summary.finish(false);
    out.write(&s)?;
    out.flush()?;
    Ok(s.outcome())
}

/// A section is a file or directory of the bundle: its path, its name, or
/// its name without extensions (`app` matches `logs/app.jsonl.gz`).
fn section_matches(rel: &str, section: &str) -> bool {
    let section = section.trim_end_matches('/');
    if rel == section || rel.starts_with(&format!("{section}/")) {
        return true;
    }
    let name = rel.rsplit('/').next().unwrap_or(rel);
    name == section || name.split('.').next() == Some(section)
}

/// A time stamp as (unix seconds, nanoseconds): an RFC 3339 string with `Z`
/// or an offset, or a number of seconds (milliseconds when 13 digits).
pub fn parse_time(v: &Value) -> std::result::Result<(i64, u32), String> {
    match v {
        Value::String(s) => parse_rfc3339(s),
        Value::Number(n) => parse_epoch(n),
        _ => Err(format!(
            "expected an RFC 3339 string or an epoch number, found {}",
            type_name(v)
        )),
    }
}

/// Epoch seconds, or milliseconds when >= 1e11, computed in integers from
/// the number as written: a float never rounds `1700000000123` (ms) to
/// `...20.122999907`. A fraction is read from the shortest decimal that
/// reads back as the same double, i.e. what the writer wrote.
fn parse_epoch(n: &serde_json::Number) -> std::result::Result<(i64, u32), String> {
    const MAX_SECS: u64 = 253_402_300_799; // 9999-12-31T23:59:59Z
    let beyond = || "epoch time beyond year 9999".to_string();
    let (int, frac): (u64, String) = if let Some(u) = n.as_u64() {
        (u, String::new())
    } else if n.as_i64().is_some() {
        return Err("negative epoch time".into());
    } else {
        let x = n.as_f64().ok_or("not a number")?;
        if !x.is_finite() || x < 0.0 {
            return Err("negative or non-finite epoch time".into());
        }
        // Rust prints a double's shortest round-trip form, never with an exponent.
        let text = format!("{x}");
        let (i, f) = text.split_once('.').unwrap_or((&text, ""));
        (i.parse().map_err(|_| beyond())?, f.to_string())
    };
    // Nanoseconds from up to `digits` more decimal places (truncated).
    let nanos_from = |digits: usize, scale: u32| -> u32 {
        let mut d: String = frac.chars().take(digits).collect();
        while d.len() < digits {
            d.push('0');
        }
        d.parse::<u32>().unwrap_or(0) * scale
    };
    let (secs, nanos) = if int >= 100_000_000_000 {
        let ms_rem = u32::try_from(int % 1000).unwrap_or(0);
        (int / 1000, ms_rem * 1_000_000 + nanos_from(6, 1))
    } else {
        (int, nanos_from(9, 1))
    };
    if secs > MAX_SECS {
        return Err(beyond());
    }
    Ok((i64::try_from(secs).map_err(|_| beyond())?, nanos))
}

fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

fn parse_rfc3339(s: &str) -> std::result::Result<(i64, u32), String> {
    let bad = || format!("not an RFC 3339 time: {s:?}");
    let b = s.as_bytes();
    if b.len() < 20 || !s.is_ascii() {
        return Err(bad());
    }
    let num = |r: std::ops::Range<usize>| -> std::result::Result<i64, String> {
        let t = &s[r];
        if t.bytes().all(|c| c.is_ascii_digit()) {
            t.parse::<i64>().map_err(|_| bad())
        } else {
            Err(bad())
        }
    };
    if b[4] != b'-'
        || b[7] != b'-'
        || !matches!(b[10], b'T' | b't' | b' ')
        || b[13] != b':'
        || b[16] != b':'
    {
        return Err(bad());
    }
    let (year, month, day) = (num(0..4)?, num(5..7)?, num(8..10)?);
    let (hour, min, sec) = (num(11..13)?, num(14..16)?, num(17..19)?);
    if !(1..=12).contains(&month) || day < 1 || day > days_in_month(year, month) {
        return Err(format!("date out of range: {s:?}"));
    }
    if hour > 23 || min > 59 || sec > 60 {
        return Err(format!("time of day out of range: {s:?}"));
    }
    let mut i = 19;
    let mut nanos = 0u32;
    if b[i] == b'.' {
        let start = i + 1;
        i = start;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
        let frac = &s[start..i];
        if frac.is_empty() {
            return Err(bad());
        }
        let mut digits: String = frac.chars().take(9).collect();
        while digits.len() < 9 {
            digits.push('0');
        }
        nanos = digits.parse().map_err(|_| bad())?;
    }
    let offset = match &s[i..] {
        "Z" | "z" => 0,
        rest if rest.len() == 6
            && (rest.starts_with('+') || rest.starts_with('-'))
            && &rest[3..4] == ":" =>
        {
            let h = num(i + 1..i + 3)?;
            let m = num(i + 4..i + 6)?;
            if h > 23 || m > 59 {
                return Err(format!("offset out of range: {s:?}"));
            }
            let o = h * 3600 + m * 60;
            if rest.starts_with('-') {
                -o
            } else {
                o
            }
        }
        _ => {
            return Err(format!(
                "missing or malformed time zone (Z or ±hh:mm): {s:?}"
            ))
        }
    };
    // A leap second sorts as the last instant of its minute.
    let sec = sec.min(59);
    let days = days_from_civil(year, month, day);
    Ok((days * 86_400 + hour * 3600 + min * 60 + sec - offset, nanos))
}

fn days_in_month(y: i64, m: i64) -> i64 {
    match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        _ if (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 => 29,
        _ => 28,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

/// UTC RFC 3339 with as many fraction digits as the time needs (0, 3, 6, 9).
pub fn format_utc((secs, nanos): (i64, u32)) -> String {
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    let (y, m, d) = civil_from_days(days);
    let mut s = format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}",
        rem / 3600,
        rem / 60 % 60,
        rem % 60
    );
    if nanos != 0 {
        if nanos % 1_000_000 == 0 {
            s.push_str(&format!(".{:03}", nanos / 1_000_000));
        } else if nanos % 1000 == 0 {
            s.push_str(&format!(".{:06}", nanos / 1000));
        } else {
            s.push_str(&format!(".{nanos:09}"));
        }
    }
    s.push('Z');
    s
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use serde_json::json;

    #[test]
    fn parses_offsets_fractions_and_epochs() {
        let utc = parse_time(&json!("2026-11-23T13:02:07.5Z")).unwrap();
        assert_eq!(
            parse_time(&json!("2026-11-23T15:02:07.500+02:00")).unwrap(),
            utc
        );
        assert_eq!(format_utc(utc), "2026-11-23T13:02:07.500Z");
        assert_eq!(
            parse_time(&json!(1_795_438_927)).unwrap(),
            (1_795_438_927, 0)
        );
        assert_eq!(
            parse_time(&json!(1_795_438_927_250u64)).unwrap(),
            (1_795_438_927, 250_000_000)
        );
        assert_eq!(format_utc((0, 0)), "1970-01-01T00:00:00Z");
        assert_eq!(
            format_utc(parse_time(&json!("2024-02-29T23:59:59Z")).unwrap()),
            "2024-02-29T23:59:59Z"
        );
        for bad in [
            "2026-02-30T00:00:00Z",
            "2026-11-23 13:02",
            "yesterday",
            "2026-11-23T13:02:07",
            "2026-11-23T25:00:00Z",
        ] {
            assert!(parse_time(&json!(bad)).is_err(), "{bad}");
        }
        assert!(parse_time(&json!(null)).is_err());
    }

    #[test]
    fn sections_match_paths_names_and_stems() {
        assert!(section_matches("logs/app.jsonl.gz", "app"));
        assert!(section_matches("logs/app.jsonl.gz", "logs"));
        assert!(section_matches("metrics.jsonl", "metrics.jsonl"));
        assert!(!section_matches("apps.jsonl", "app"));
    }
}
