//! Command-line definition (clap derive). Validation into a typed
//! configuration happens in `config.rs`; nothing here can fail beyond clap's
//! own parsing.

use std::path::PathBuf;

use clap::{CommandFactory, Parser};
use common::pointer::Pattern;

const EXAMPLES: &str = "\
Examples:
  # Filter: scrub a log on its way somewhere else.
  cat app.log | pii-scrub > clean.log

  # CI gate: exit 1 if any personal data or secret is in logs/ (report on stdout).
  pii-scrub --check logs/

  # Forensics: what is in there, for people (each finding with a masked snippet).
  pii-scrub --dry-run --format text logs/ /var/log/app.log.gz

  # A key that is not a secret where you work; records cut short scrubbed as text.
  pii-scrub --allow-key session_state --on-invalid-json text < app.log > clean.log

  # Pseudonymize emails and phones (joinable), redact the rest, keep a report.
  export PII_SCRUB_SALT=\"$(cat /run/secrets/scrub-salt)\"
  pii-scrub --action email=hash --action phone=hash --report scrub.jsonl < in.log > out.log

  # Rewrite a tree in place, atomically, keeping .orig backups; bad lines aside.
  pii-scrub --in-place --backup-suffix .orig --quarantine quarantine.jsonl logs/

  # Mirror a tree, only some types, test data allowed, only some JSON fields.
  pii-scrub --out-dir clean/ --only email,phone,card --allow '@example\\.com$' \\
      --fields /user --fields /request/headers/* logs/

Types (built in; names for --only, --except, --action):
  email phone ipv4 ipv6 card ssn iban jwt aws_access_key aws_secret_key
  github_token gitlab_token slack_token stripe_key auth_header private_key
  url_credentials secret (values of keys named password, token, api_key, ...;
  --password X; mysql -pX, sshpass -p X, redis-cli -a X, curl -u user:X,
  docker login -p X)
  identity (values of keys named first_name, last_name, date_of_birth, dob,
  passport_number, national_id, tax_id, ...; phone also finds 7-15 digits
  under keys named phone, phone_number, mobile, msisdn, tel)
  (`pii-scrub --list-types` describes each.)

Records (JSON Lines, in --report FILE, or on stdout with --check/--dry-run):
  finding      file, line, pointer (JSON lines: RFC 6901 path of the value),
               type, action, start, end (byte span in the line, or in the
               decoded string value for JSON lines); never the value itself
               (personal data in file names and pointers, a key such as
               /sessions/4111111111111111, is masked: /sessions/************1111)
  quarantined  file, line, reason (line_too_long, invalid_json, too_deep,
               too_many_findings, decode_error, utf16), bytes. In the --quarantine file the record
               also holds the raw line: record (UTF-8) or record_base64.
               invalid_json: starts like a JSON object ({\") but does not parse, e.g.
               a record cut short (--on-invalid-json text scrubs it as text).
  summary      figures: mode (check, dry_run, filter), files, lines,
               json_lines, bytes, lines_changed, findings, findings_by_type, findings_by_file, allowed,
               quarantined, quarantined_by_reason, invalid_json_as_text,
               errors, skipped (the same file or directory again under
               another name: read once), symlinks (met in trees), ignored
               (with --respect-ignore), excluded (files in trees that
               --glob left out; named on stderr), elapsed_ms,
               throughput_mb_s, key_id (with hash); gates (--check and
               --dry-run alike; a filter has only those asked for, and
               errors): findings <= 0, quarantined (<= --max-quarantined,
               default 0), errors (also after an unreadable input: never a
               pass then), files (>= --min-files, default 1: a run that read
               nothing fails), lines (>= --min-lines, default 1: an empty
               stream or a tree of empty files fails). A filter's pass means its output is scrubbed,
               not that its input was clean (mode filter).

Trees: symlinks are followed (a link to a file is read, a link to a directory
walked; each file read once). A dangling link, a link loop, or a link to a
FIFO or device (access.log -> /dev/stdout) is an unreadable input: an error
naming it (exit 2; --check fails). --in-place never writes through a link:
such a file is refused, with its name. Compressed data other than gzip (xz,
bzip2, zstd, lz4, lzip, .Z), a gzip inside a gzip, zip/7z/tar archives (.tgz
too) and systemd journal files are told by their first bytes and refused the
same way, never scanned as text or rewritten: xz -dc FILE | pii-scrub --check -

Actions: redact [REDACTED:email]; mask keeps a tail (card ************1111,
email j***@example.com, phone last 2 digits, ssn/iban last 4, ipv4 first octet,
tokens their public prefix, anything else ********); hash [email:k1a2b3c4:<32
hex>] = HMAC-SHA256(salt, type, value), refused without a salt; remove drops
the JSON field (in text, the value).

Exit status: 0 done (no gate failed), 1 --check/--dry-run found something (or a line
it had to quarantine) or a gate failed, 2 could not do the job (bad usage,
unreadable input, write failure; other files are still processed; the
summary says fail), 130 interrupted.";

/// What to do with a line that looks like JSON but does not parse.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum InvalidJson {
    /// Keep it out of the output (fail closed); with --quarantine FILE, there.
    Quarantine,
    /// Scrub it as a text line.
    Text,
}

/// Find and neutralize personal data and secrets in logs.
#[derive(Debug, Parser)]
#[command(
    name = "pii-scrub",
    version,
    about = "Find and neutralize personal data and secrets in logs, failing closed",
    long_about = "Find and neutralize personal data and secrets in logs, at grep speed, failing closed.\n\n\
        Reads files, directory trees (every file, hidden ones and those .gitignore excludes too, \
        symlinks followed), .gz files or stdin as bytes. A line that \
        is a JSON object is scrubbed field by field (keys, order and layout kept); any other line is \
        scrubbed as text. Every detector validates its candidates (Luhn, mod-97, octets, ...), so \
        UUIDs, versions, timestamps and order numbers are left alone. Lines that cannot be scrubbed \
        safely are quarantined, never passed through.",
    after_long_help = EXAMPLES
)]
pub struct Cli {
    /// Files or directories to scrub; `-` or nothing reads stdin.
    #[arg(value_name = "PATH")]
    pub paths: Vec<String>,

    /// Only report (no scrubbed output); exit 1 if anything is found.
    #[arg(long, conflicts_with_all = ["dry_run", "in_place", "out_dir"])]
    pub check: bool,

    /// Only report what would be scrubbed; write no data. Judged like
    /// --check (exit 1 if anything is found); with --format text each finding
    /// has a masked snippet.
    #[arg(long, conflicts_with_all = ["in_place", "out_dir"])]
    pub dry_run: bool,

    /// Rewrite each file in place, atomically (temp file + fsync + rename).
    #[arg(long, conflicts_with = "out_dir")]
    pub in_place: bool,

    /// With --in-place: keep the original as FILE+SUFFIX. Example: .orig
    #[arg(long, value_name = "SUFFIX", requires = "in_place")]
    pub backup_suffix: Option<String>,

    /// Write scrubbed copies under DIR, mirroring the input tree.
    #[arg(long, value_name = "DIR")]
    pub out_dir: Option<PathBuf>,

    /// Write finding records and the summary (JSON Lines) to FILE.
    #[arg(long, value_name = "FILE")]
    pub report: Option<String>,

    #[command(flatten)]
    pub format: common::cli::FormatArg,

    /// Write lines that cannot be scrubbed safely, with their reason, to FILE
    /// (mode 0600). Without it they are dropped and counted.
    #[arg(long, value_name = "FILE")]
    pub quarantine: Option<PathBuf>,

    /// Action per type, or for all: TYPE=ACTION or ACTION (redact, mask,
    /// hash, remove). Example: --action mask --action email=hash
    #[arg(long, value_name = "[TYPE=]ACTION")]
    pub action: Vec<String>,

    /// File holding the secret salt for hash (else $PII_SCRUB_SALT).
    #[arg(long, value_name = "FILE")]
    pub salt_file: Option<PathBuf>,

    /// Key id written in hash tokens (default: derived from the salt).
    #[arg(long, value_name = "ID")]
    pub key_id: Option<String>,

    /// Only these types (comma-separated names, custom rules included).
    #[arg(
        long,
        value_name = "TYPES",
        value_delimiter = ',',
        conflicts_with = "except"
    )]
    pub only: Vec<String>,

    /// All types except these (comma-separated).
    #[arg(long, value_name = "TYPES", value_delimiter = ',')]
    pub except: Vec<String>,

    /// Custom rules (TOML or JSON): name, regex, optional group, validator
    /// (luhn, mod97, ...) and action.
    #[arg(long, value_name = "FILE")]
    pub rules: Vec<PathBuf>,

    /// Leave values matching this regex alone (test data); an empty regex or
    /// one matching every value is refused. Example: '@example\.com$'
    #[arg(long, value_name = "REGEX")]
    pub allow: Vec<String>,

    /// Leave the exact values listed in FILE (one per line) alone.
    #[arg(long, value_name = "FILE")]
    pub allow_file: Vec<PathBuf>,

    /// Leave values of keys with this name alone (regex matched against the
    /// whole key name, case-insensitive; for the `secret` type). Example:
    /// --allow-key 'session|pass_through'
    #[arg(long, value_name = "REGEX")]
    pub allow_key: Vec<String>,

    /// A line that looks like a JSON object but does not parse (a record cut
    /// short, a bad escape): quarantine it, or scrub it as text (where
    /// `"password":"…` pairs are still found, also unterminated).
    #[arg(long, value_enum, value_name = "WHAT", default_value = "quarantine")]
    pub on_invalid_json: InvalidJson,

    /// In JSON lines, scrub only values at or under this pointer (`*` matches
    /// any member or index). Text lines are always scrubbed whole.
    #[arg(long, value_name = "POINTER", value_parser = common::cli::pointer)]
    pub fields: Vec<Pattern>,

    /// In JSON lines, leave values at or under this pointer alone ("" and /*,
    /// every value, are refused).
    #[arg(long, value_name = "POINTER", value_parser = common::cli::pointer)]
    pub skip_fields: Vec<Pattern>,

    /// Quarantine lines longer than this many bytes.
    #[arg(long, value_name = "BYTES", default_value_t = common::lines::DEFAULT_MAX_LINE)]
    pub max_line: usize,

    /// Quarantine a line with more findings than this.
    #[arg(long, value_name = "N", default_value_t = 1000)]
    pub max_findings: usize,

    /// Gate: fail when more than N lines were quarantined.
    #[arg(long, value_name = "N", value_parser = common::cli::count)]
    pub max_quarantined: Option<u64>,

    /// Gate: fail when fewer than N inputs were read (default with --check: 1;
    /// stdin counts as one). 0 accepts a run that read nothing.
    #[arg(long, value_name = "N", value_parser = common::cli::count)]
    pub min_files: Option<u64>,

    /// Gate: fail when fewer than N lines were read in all (default with
    /// --check/--dry-run: 1, so an empty stream from a failed producer or a
    /// tree of empty files fails). 0 accepts a run that read no line.
    #[arg(long, value_name = "N", value_parser = common::cli::count)]
    pub min_lines: Option<u64>,

    /// Only files matching this glob in directory walks (repeatable; `!` excludes).
    /// What it leaves out is counted (figure `excluded`) and named on stderr.
    #[arg(long, value_name = "GLOB")]
    pub glob: Vec<String>,

    /// Skip files that .gitignore/.ignore files exclude in directory walks.
    ///
    /// Off by default: a log directory's own `.gitignore` (often `*.log`) must
    /// not hide logs from the check. When on, the files it hid are counted in
    /// the summary's `ignored` figure.
    #[arg(long, overrides_with = "no_ignore")]
    pub respect_ignore: bool,

    /// Read every file in directory walks, whatever ignore files say (the default;
    /// kept so existing scripts that pass it keep working).
    #[arg(long, overrides_with = "respect_ignore")]
    pub no_ignore: bool,

    /// Worker threads for many files (default: number of CPUs).
    #[arg(long, short = 'j', value_name = "N")]
    pub threads: Option<usize>,

    /// Print the built-in types and what they find, then exit.
    #[arg(long)]
    pub list_types: bool,

    #[command(flatten)]
    pub quiet: common::cli::QuietArg,

    /// No warnings on stderr either (files --glob left out, lines dropped
    /// without --quarantine): what -q meant in pii-scrub before it took the
    /// meaning -q has in every tool. Implies --quiet; errors are still
    /// printed, and the records and figures are the same.
    #[arg(long)]
    pub no_warnings: bool,
}

/// The clap command, for man pages and completions.
pub fn command() -> clap::Command {
    Cli::command()
}

#[cfg(test)]
mod tests {
    #[test]
    fn clap_definition_is_consistent() {
        super::command().debug_assert();
    }
}
