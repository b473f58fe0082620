//! Built-in value shapes that `--mask` replaces inside strings before
//! comparing, so a replay's fresh time stamps or ids do not count.

use std::borrow::Cow;
use std::sync::OnceLock;

use regex::Regex;

/// A shape to mask.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, clap::ValueEnum)]
pub enum Mask {
    /// RFC 3339 / ISO 8601 date-times: 2026-11-23T13:02:07.123Z, +01:00 offsets.
    Timestamp,
    /// UUIDs in 8-4-4-4-12 form, any case.
    Uuid,
    /// Hex ids: 8+ hex digits with at least one digit and one letter (git
    /// hashes, trace ids); plain numbers and words like "deadbeef" stay.
    Hex,
    /// Unix times in seconds (10 digits) or milliseconds (13 digits).
    Epoch,
}

impl Mask {
    fn placeholder(self) -> &'static str {
        match self {
            Mask::Timestamp => "<timestamp>",
            Mask::Uuid => "<uuid>",
            Mask::Hex => "<hex>",
            Mask::Epoch => "<epoch>",
        }
    }

    fn regex(self) -> &'static Regex {
        static TIMESTAMP: OnceLock<Regex> = OnceLock::new();
        static UUID: OnceLock<Regex> = OnceLock::new();
        static HEX: OnceLock<Regex> = OnceLock::new();
        static EPOCH: OnceLock<Regex> = OnceLock::new();
        let (cell, pattern) = match self {
            Mask::Timestamp => (
                &TIMESTAMP,
                r"\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:[Zz]|[+-]\d{2}:?\d{2})?",
            ),
            Mask::Uuid => (
                &UUID,
                r"(?i-u)\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b",
            ),
            Mask::Hex => (
                &HEX,
                r"(?i-u)\b(?:0x)?[0-9a-f]*[0-9][0-9a-f]*[a-f][0-9a-f]*\b|(?i-u)\b(?:0x)?[0-9a-f]*[a-f][0-9a-f]*[0-9][0-9a-f]*\b",
            ),
            Mask::Epoch => (&EPOCH, r"(?-u)\b(?:\d{13}|\d{10})\b"),
        };
        cell.get_or_init(|| match Regex::new(pattern) {
            Ok(re) => re,
            // The patterns are constants covered by tests; this cannot fail.
            Err(_) => Regex::new("$^").unwrap_or_else(|_| unreachable!()),
        })
    }

    /// Replaces every occurrence of this shape in `text`.
    pub fn apply<'t>(self, text: &'t str) -> Cow<'t, str> {
        let re = self.regex();
        if self == Mask::Hex {
            // Only runs of 8+ hex digits are ids; shorter words stay.
            return re.replace_all(text, |caps: &regex::Captures<'_>| {
                let m = &caps[0];
                let digits = m.trim_start_matches("0x").trim_start_matches("0X");
                if digits.len() >= 8 {
                    self.placeholder().to_string()
                } else {
                    m.to_string()
                }
            });
        }
        re.replace_all(text, self.placeholder())
    }
}

/// Applies every mask in order (timestamps before epochs and hex).
pub fn apply_all<'t>(masks: &[Mask], text: &'t str) -> Cow<'t, str> {
    let mut out = Cow::Borrowed(text);
    for mask in masks {
        if let Cow::Owned(s) = mask.apply(&out) {
            out = Cow::Owned(s);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shapes() {
        assert_eq!(
            Mask::Timestamp.apply("at 2026-11-23T13:02:07.123Z and 2026-01-01T00:00:00+01:00"),
            "at <timestamp> and <timestamp>"
        );
        assert_eq!(
            Mask::Uuid.apply("id 123e4567-E89B-12d3-a456-426614174000."),
            "id <uuid>."
        );
        assert_eq!(
            Mask::Hex.apply("commit 9fceb02d0ae598e95dc970b74767f19372d61af8 cafe"),
            "commit <hex> cafe"
        );
        assert_eq!(
            Mask::Hex.apply("deadbee1 12345678 decade deadbeef"),
            "<hex> 12345678 decade deadbeef"
        );
        assert_eq!(
            Mask::Epoch.apply("t=1700000000123 n=12345"),
            "t=<epoch> n=12345"
        );
    }
}
