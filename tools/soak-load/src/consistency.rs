//! What `report` and `merge` check before saved records count: each
//! window against itself (its counts against its histogram, its derived
//! figures against its counts and histogram, its targets against its
//! totals), the window numbers, and a run's windows against the summary
//! written after them.
//!
//! What this cannot see: an edit that keeps all of these consistent — an
//! error turned into a success in a window, in its target and in the
//! summary alike (a histogram holds latencies, not outcomes), or a file
//! rewritten whole. A saved JSON Lines file is not signed; sealing the
//! evidence with `bundle-seal` is what makes a later edit detectable.

use serde_json::Value;

use crate::histo::{self, Latency};
use crate::judge::Totals;
use crate::window::{ErrorsByClass, Figures, Window};

/// Decodes a figures' histogram and checks the counts agree with it and
/// with each other.
pub fn histogram(f: &Figures, whose: &str) -> Result<Latency, String> {
    let h = histo::decode(&f.histogram).map_err(|e| format!("{whose}{e}"))?;
    // Every request sent is in the histogram; steps never sent (class
    // template) have no latency.
    let timed = f.requests.checked_sub(f.errors_by_class.template);
    if timed != Some(h.len()) {
        return Err(format!(
            "{whose}the histogram holds {} latencies but requests is {} ({} of them never sent) (edited or corrupt record)",
            h.len(),
            f.requests,
            f.errors_by_class.template
        ));
    }
    if f.errors != f.errors_by_class.total() || f.ok + f.errors != f.requests {
        return Err(format!(
            "{whose}ok ({}) + errors ({}) must equal requests ({}), and errors the sum of errors_by_class ({})",
            f.ok,
            f.errors,
            f.requests,
            f.errors_by_class.total()
        ));
    }
    if f.errors_by_class.template != 0 && f.skipped_steps != f.errors_by_class.template {
        return Err(format!(
            "{whose}skipped_steps ({}) must equal errors_by_class.template ({}) (edited or corrupt record)",
            f.skipped_steps, f.errors_by_class.template
        ));
    }
    Ok(h)
}

/// The figures computed from counts and histogram must be the ones written.
pub fn derived(f: &Figures, h: &Latency, duration_ms: f64, whose: &str) -> Result<(), String> {
    let again = Figures::from_parts(
        f.requests,
        f.ok,
        f.errors_by_class,
        f.late,
        f.skipped_steps,
        h,
        duration_ms,
    );
    let pairs = [
        (
            "error_rate",
            f.error_rate,
            again.error_rate,
            "errors / requests",
        ),
        (
            "achieved_rps",
            Some(f.achieved_rps),
            Some(again.achieved_rps),
            "requests / duration",
        ),
        ("p50_ms", f.p50_ms, again.p50_ms, "its histogram"),
        ("p90_ms", f.p90_ms, again.p90_ms, "its histogram"),
        ("p95_ms", f.p95_ms, again.p95_ms, "its histogram"),
        ("p99_ms", f.p99_ms, again.p99_ms, "its histogram"),
        ("p999_ms", f.p999_ms, again.p999_ms, "its histogram"),
        ("max_ms", f.max_ms, again.max_ms, "its histogram"),
    ];
    for (name, written, computed, from) in pairs {
        if written != computed {
            let show = |v: Option<f64>| v.map_or("null".to_string(), |x| x.to_string());
            return Err(format!(
                "{whose}{name} is {} but {from} says {} (edited or corrupt record)",
                show(written),
                show(computed)
            ));
        }
    }
    Ok(())
}

/// The targets' figures must add up to the window's, their histograms to
/// its histogram.
pub fn targets(w: &Window, total: &Latency, targets: &[(String, Latency)]) -> Result<(), String> {
    let n = w.window;
    if w.targets.is_empty() {
        if w.figures.requests > 0 {
            return Err(format!(
                "window {n}: {} requests but no targets' figures (edited or corrupt record)",
                w.figures.requests
            ));
        }
        return Ok(());
    }
    let mut requests = 0;
    let mut ok = 0;
    let mut errors = 0;
    let mut by_class = ErrorsByClass::default();
    let mut late = 0;
    let mut skipped = 0;
    for t in &w.targets {
        requests += t.figures.requests;
        ok += t.figures.ok;
        errors += t.figures.errors;
        by_class.add(&t.figures.errors_by_class);
        late += t.figures.late;
        skipped += t.figures.skipped_steps;
    }
    let f = &w.figures;
    let sums = [
        ("requests", requests, f.requests),
        ("ok", ok, f.ok),
        ("errors", errors, f.errors),
        ("late", late, f.late),
        ("skipped_steps", skipped, f.skipped_steps),
    ];
    for (name, of_targets, of_window) in sums {
        if of_targets != of_window {
            return Err(format!(
                "window {n}: the targets' figures do not add up to the window's: {name} (targets {of_targets}, window {of_window}) (edited or corrupt record)"
            ));
        }
    }
    if by_class != f.errors_by_class {
        return Err(format!(
            "window {n}: the targets' figures do not add up to the window's: errors_by_class (edited or corrupt record)"
        ));
    }
    let mut merged = histo::new();
    for (_, h) in targets {
        histo::add(&mut merged, h);
    }
    if !same_counts(&merged, total) {
        return Err(format!(
            "window {n}: the targets' histograms do not add up to the window's (edited or corrupt record)"
        ));
    }
    Ok(())
}

fn same_counts(a: &Latency, b: &Latency) -> bool {
    a.len() == b.len()
        && a.iter_recorded()
            .map(|v| (v.value_iterated_to(), v.count_at_value()))
            .eq(b
                .iter_recorded()
                .map(|v| (v.value_iterated_to(), v.count_at_value())))
}

/// The window-derived figures of a saved summary must be those of the
/// windows before it. Only keys the summary has are compared (older
/// summaries have fewer); memory growth only when it was written per
/// process (`rss_growth_windows`), as computed now.
pub fn summary(windows: &Totals, saved: &Value) -> Result<(), String> {
    let Some(figures) = saved.get("figures").and_then(Value::as_object) else {
        return Err("a summary without figures (edited or corrupt record)".into());
    };
    let per_process = figures.contains_key("rss_growth_windows");
    for (key, computed) in windows.figures() {
        if key.starts_with("rss_") && !per_process {
            continue;
        }
        let Some(written) = figures.get(&key) else {
            continue;
        };
        if !covers(&computed, written) {
            return Err(format!(
                "the run's summary does not match its windows: {key} (windows {}, summary {written}) (edited or corrupt record)",
                short(&computed)
            ));
        }
    }
    let interrupted = saved
        .get("interrupted")
        .and_then(Value::as_bool)
        .unwrap_or(false);
    if interrupted != windows.interrupted {
        return Err(format!(
            "the run's summary does not match its windows: interrupted (windows {}, summary {interrupted}) (edited or corrupt record)",
            windows.interrupted
        ));
    }
    Ok(())
}

/// `written` agrees with `computed` (objects: on every key `written` has).
fn covers(computed: &Value, written: &Value) -> bool {
    match (computed, written) {
        (Value::Object(c), Value::Object(w)) => w
            .iter()
            .all(|(k, wv)| c.get(k).is_some_and(|cv| covers(cv, wv))),
        (c, w) => c == w,
    }
}

fn short(v: &Value) -> String {
    let s = v.to_string();
    if s.len() > 80 {
        format!("{}...", &s[..s.floor_char_boundary(77)])
    } else {
        s
    }
}
