//! Progress bars that draw only when a person is watching: stderr is a
//! terminal, `--quiet` is off, and `TERM` is not `dumb`. Otherwise every call
//! is a no-op, so tools can report progress unconditionally.

use std::io::IsTerminal;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// True when progress may be drawn on stderr.
pub fn should_draw(quiet: bool) -> bool {
    !quiet && std::io::stderr().is_terminal() && std::env::var("TERM").map_or(true, |t| t != "dumb")
}

/// A bar over a known total of bytes (or a spinner when the total is unknown).
pub fn bytes(total: Option<u64>, quiet: bool) -> ProgressBar {
    make(
        total,
        quiet,
        "{spinner} {bytes}/{total_bytes} {bytes_per_sec} {wide_bar} {eta}",
    )
}

/// A bar over a count of items.
pub fn items(total: Option<u64>, quiet: bool, what: &str) -> ProgressBar {
    let template = format!("{{spinner}} {{pos}}/{{len}} {what} {{wide_bar}} {{eta}}");
    make(total, quiet, &template)
}

fn make(total: Option<u64>, quiet: bool, template: &str) -> ProgressBar {
    if !should_draw(quiet) {
        return ProgressBar::hidden();
    }
    let bar = match total {
        Some(n) => ProgressBar::new(n),
        None => ProgressBar::new_spinner(),
    };
    bar.set_draw_target(ProgressDrawTarget::stderr());
    if let Ok(style) = ProgressStyle::with_template(template) {
        bar.set_style(style);
    }
    bar.enable_steady_tick(Duration::from_millis(200));
    bar
}
