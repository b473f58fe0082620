//! Command-line definition (clap derive). Nothing here can fail beyond
//! clap's own parsing; `lib.rs` turns it into work.

use std::path::PathBuf;

use clap::{Args, CommandFactory, Parser, Subcommand};

const EXAMPLES: &str = "\
Examples:
  # Once: a key pair in minisign's format (keep release.key private).
  bundle-seal keygen -p release.pub -s release.key --unencrypted

  # Seal a release candidate's evidence and decide the release verdict.
  bundle-seal seal artifacts/rc1 --key release.key

  # The release gate in CI: files intact, signature good, verdict pass.
  bundle-seal verify artifacts/rc1 --pub release.pub
  # Forensics on an old bundle: only whether the seal is intact.
  bundle-seal verify artifacts/rc0 --pub release.pub --integrity-only

  # The same, read by a person: one line per file, then the gates.
  bundle-seal verify artifacts/rc1 --pub release.pub --format text

  # Anyone can check it without our tool: the signed manifest, then the
  # files against it (SHA256SUMS alone is unsigned: integrity, not origin).
  minisign -V -p release.pub -m artifacts/rc1/MANIFEST.json
  (cd artifacts/rc1 && jq -r '.files[]|\"\\(.sha256)  \\(.path)\"' MANIFEST.json | sha256sum -c -)

  # Ship it as one reproducible archive, signed; unpack safely and verify.
  SOURCE_DATE_EPOCH=1700000000 bundle-seal pack artifacts/rc1 -o rc1.tar
  bundle-seal pack artifacts/rc1 -o rc1.tar.gz        # gzip-compressed
  bundle-seal pack artifacts/rc1 -o - | ssh host 'cat > rc1.tar'   # stdout
  bundle-seal sign rc1.tar --key release.key      # minisign -V -m rc1.tar works too
  bundle-seal verify-file rc1.tar --pub release.pub
  bundle-seal unpack rc1.tar -C /tmp/rc1 --pub release.pub

  # A tamper-evident audit trail: append, checkpoint, verify daily.
  echo '{\"event\":\"deploy\",\"rc\":\"rc1\"}' | bundle-seal chain append audit.jsonl --key release.key
  bundle-seal chain checkpoint audit.jsonl --key release.key
  bundle-seal chain verify audit.jsonl --pub release.pub

  # Rebuild an incident's timeline; all sections present, every time parseable.
  bundle-seal timeline incidents/42 --require-sections app,proxy,metrics

  # The release ceremony: bind the bundle to its release, decide, verify.
  bundle-seal timeline incidents --window 7d --max-critical 0 > artifacts/rc1/incidents.jsonl
  bundle-seal seal artifacts/rc1 --key release.key --release 2.5.0-beta.1
  bundle-seal decide artifacts/rc1 --decision go --by alice --role engineering --key alice.key
  bundle-seal verify artifacts/rc1 --pub release.pub --release 2.5.0-beta.1 \\
    --require-signoff engineering,security --trusted-keys signers/

Files a seal writes at the bundle's root:
  MANIFEST.json          format, format_version, tool, tool_version,
                         created_at, release, commit, verdict (pass|fail),
                         verdict_reasons,
                         files [path, size, sha256], summaries [source, line,
                         tool, verdict, interrupted, gates], gates [source,
                         line, tool, name, op, limit, value, pass],
                         stray_summaries [source, line, tool, verdict,
                         copy_of, reason, quoted], input_mismatches [source,
                         line, tool, input, file, summary_sha256,
                         sealed_sha256] (only when found)
  MANIFEST.json.minisig  minisign signature (prehashed Ed25519)
  SHA256SUMS             every file and MANIFEST.json, for sha256sum -c
                         (unsigned: integrity only; for authenticity check
                         MANIFEST.json with minisign -V, then the files
                         against its `files`, or run bundle-seal verify)
  DECISIONS.jsonl        (written by decide, after the seal) a receipt chain
                         of signed go/no-go decisions naming the manifest's
                         sha256; not in the manifest, carried by pack

The release verdict is pass only when at least one gate was found in the
bundle's `kind: summary` records of the gate files (*.jsonl, *.jsonl.gz,
*.ndjson, *.ndjson.gz), every gate passed (re-judged from its op, limit and
value), no summary failed or was interrupted, and no summary record in any
other file fails the release. Every file is searched, whatever its name
(gzip decompressed, UTF-16 decoded, by content): a summary found outside the
gate files fails the release unless it passes and is an exact copy of a gate
file's summary (a CI log that echoed it); one that cannot be read fails too.
Files compressed with xz, zstd, bzip2, lz4, lzip or compress are refused.
Duplicate keys in a summary record stop the seal (exit 2). SOURCE_DATE_EPOCH
fixes created_at, the signature's time stamp and the archive's mtimes, so
sealing a tree twice is byte-identical.

Records (JSON Lines on stdout):
  key         (keygen) key_id, public_key, secret_key, encrypted,
              public_key_base64
  signature   (verify, verify-file) file, status (ok|bad|missing), key_id,
              expected_key_id, trusted_comment, reason
  file        (verify) path, status (ok|modified|missing|extra), size,
              sha256, expected_size, expected_sha256, reason
  archive     (pack) path (- for stdout), entries, bytes, sha256,
              compression (none|gzip); then a summary (no gates)
  signed      (sign) path, signature, key_id, trusted_comment
  receipt     (chain append) seq, hash; the log line itself has kind,
              seq, prev, at, record, hash and, when signed, key_id, sig
  checkpoint  (chain checkpoint) log, seq, hash, at, key_id, sig
  chain_break (chain verify) seq (the first bad one), line, reason
  event       (timeline) at (UTC), source, line, field, record
  unparseable (timeline) source, line, field, value, reason
  section     (timeline) name, status (present|empty|missing), files,
              records
  not_read    (timeline) source, reason (not JSON Lines by name)
  invalid     (timeline --skip-invalid) source, line, reason
  critical    (timeline --window/--max-critical) at, source, line,
              severity_field
  binding     (verify --release/--commit) field, expected, sealed, status
              (ok|mismatch), reason
  decision    (decide) the decision (decision, by, role, note, override,
              manifest_sha256, release, commit, verdict) with seq, at,
              hash, key_id, log; (verify) seq, at, decision, by, role,
              key_id, override, note, status (accepted|rejected|unchecked),
              reason
  summary     seal: gates gates_present, gates_failed, summaries_failed;
              stray_summaries; figures files, bytes, summaries, gates,
              release_verdict,
              verdict_reasons, key_id, manifest_sha256.
              verify/unpack: gates mismatched_files, signature_valid,
              release_verdict_pass (not with --integrity-only),
              release_matches, commit_matches (--release, --commit),
              signoffs_missing, no_go, decision_log_intact
              (--require-signoff); figures
              files, ok, modified, missing, extra, signature, key_id,
              sealed_at,
              release_verdict, verdict_reasons, verdict_consistent (the
              sealed verdict matches the manifest's own gates; when false,
              derived_verdict_reasons and the release gate fails), gates,
              integrity_only.
              verify-file: gate signature_valid; figures file, signature.
              chain verify: gates chain_breaks, unauthenticated_receipts
              (--pub); figures receipts, unauthenticated_receipts, signed,
              unsigned, first_bad_seq, head_seq, head_hash, checkpoint
              (ok|bad|unchecked|absent), checkpoint_seq.
              timeline: gates unparseable_timestamps, missing_sections,
              invalid_lines, critical_in_window, records_with_severity;
              figures files, records, events, untimed, unparseable,
              invalid, missing_sections, files_not_read, first_at,
              last_at, sorted_runs_spilled.

Exit status: 0 sealed/verified and every gate passed, 1 a gate failed (a
mismatch, a bad signature, a failing release verdict, a broken chain), 2
could not do the job (bad usage, unreadable or hostile input), 130/143
interrupted by SIGINT/SIGTERM (every subcommand: the summary is written
marked interrupted; no partial archive, signature, key or chain line and
no temporary file is left).";

/// Seal a release's evidence into a signed bundle, and verify it.
#[derive(Debug, Parser)]
#[command(
    name = "bundle-seal",
    version,
    about = "Seal release evidence into a signed, verifiable bundle; keep a receipt chain",
    long_about = "Seal release evidence into a signed, verifiable bundle; keep a receipt chain.\n\n\
        A seal hashes every file of a bundle directory, gathers every gate from the \
        tools' summary records, decides the release verdict, and signs the manifest \
        with a minisign-compatible key. minisign and sha256sum can verify it too.",
    after_long_help = EXAMPLES
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,

    #[command(flatten)]
    pub format: common::cli::FormatArg,

    #[command(flatten)]
    pub quiet: common::cli::QuietArg,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Write a new key pair in minisign's format.
    #[command(
        after_long_help = "Examples:\n  bundle-seal keygen -p release.pub -s release.key --unencrypted\n  \
        bundle-seal keygen -p release.pub -s release.key --passphrase-file pass.txt"
    )]
    Keygen(KeygenArgs),
    /// Hash, judge and sign a bundle directory.
    #[command(
        after_long_help = "Examples:\n  bundle-seal seal artifacts/rc1 --key release.key\n  \
        bundle-seal seal artifacts/rc1 --key release.key --passphrase-file - < pass.txt"
    )]
    Seal(SealArgs),
    /// Check a sealed bundle: signature, every file, the verdict.
    #[command(
        after_long_help = "Examples:\n  bundle-seal verify artifacts/rc1 --pub release.pub\n  \
        bundle-seal verify artifacts/rc1 --pub RWQ... --integrity-only"
    )]
    Verify(VerifyArgs),
    /// Write a sealed bundle as a reproducible tar archive.
    #[command(
        after_long_help = "Examples:\n  bundle-seal pack artifacts/rc1 -o rc1.tar\n  \
        bundle-seal pack artifacts/rc1 -o rc1.tar.gz\n  \
        bundle-seal pack artifacts/rc1 -o - | ssh host 'cat > rc1.tar'"
    )]
    Pack(PackArgs),
    /// Extract a bundle archive safely into an empty directory and verify it.
    #[command(
        after_long_help = "Examples:\n  bundle-seal unpack rc1.tar.gz -C /tmp/rc1 --pub release.pub"
    )]
    Unpack(UnpackArgs),
    /// The tamper-evident receipt chain (append, checkpoint, verify).
    #[command(subcommand)]
    Chain(ChainCommand),
    /// Merge the time-stamped records of a bundle into one timeline.
    #[command(after_long_help = "Examples:\n  bundle-seal timeline incidents/42\n  \
        bundle-seal timeline incidents/42 --require-sections app,proxy --time-field ts\n  \
        TMPDIR=/scratch bundle-seal timeline big-incident --buffer-size 512M")]
    Timeline(TimelineArgs),
    /// Sign any files (e.g. a packed archive) as `minisign -S` does.
    #[command(
        after_long_help = "Examples:\n  bundle-seal sign rc1.tar --key release.key\n  \
        minisign -V -p release.pub -m rc1.tar"
    )]
    Sign(SignArgs),
    /// Check one file's minisign signature (FILE.minisig).
    #[command(after_long_help = "Examples:\n  bundle-seal verify-file rc1.tar --pub release.pub")]
    VerifyFile(VerifyFileArgs),
    /// Record a signed go/no-go decision on a sealed bundle.
    #[command(after_long_help = "Examples:\n  \
        bundle-seal decide artifacts/rc1 --decision go --by alice --role engineering --key alice.key\n  \
        bundle-seal decide artifacts/rc1 --decision go --by bob --role security --key bob.key \\\n    \
        --override 'CVE-2026-1 does not reach us: feature off'\n  \
        bundle-seal verify artifacts/rc1 --pub release.pub --require-signoff engineering,security \\\n    \
        --trusted-keys signers/")]
    Decide(DecideArgs),
}

#[derive(Debug, Args)]
pub struct SignArgs {
    /// The files to sign; each gets FILE.minisig next to it.
    #[arg(value_name = "FILE", required = true)]
    pub files: Vec<PathBuf>,
    /// The secret key (refused when group/other can read it).
    #[arg(
        short = 's',
        long,
        value_name = "FILE",
        env = "BUNDLE_SEAL_KEY",
        hide_env_values = true
    )]
    pub key: PathBuf,
    /// Passphrase of an encrypted key: this file's first line (`-`: stdin).
    #[arg(long, value_name = "FILE")]
    pub passphrase_file: Option<PathBuf>,
    /// The signed (trusted) comment [default: timestamp:<unix>\tfile:<name>\thashed].
    #[arg(short = 't', long, value_name = "TEXT")]
    pub trusted_comment: Option<String>,
}

#[derive(Debug, Args)]
pub struct VerifyFileArgs {
    /// The signed file.
    #[arg(value_name = "FILE")]
    pub file: PathBuf,
    /// The public key: a minisign .pub file, or its base64 (`RW...`).
    #[arg(
        short = 'p',
        long = "pub",
        value_name = "KEY",
        env = "BUNDLE_SEAL_PUB",
        hide_env_values = true
    )]
    pub public: String,
    /// The signature [default: FILE.minisig].
    #[arg(short = 'x', long, value_name = "FILE")]
    pub sig: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct KeygenArgs {
    /// Where to write the public key.
    #[arg(
        short = 'p',
        long = "pub",
        value_name = "FILE",
        default_value = "minisign.pub"
    )]
    pub public: PathBuf,
    /// Where to write the secret key (created with mode 0600).
    #[arg(
        short = 's',
        long = "key",
        value_name = "FILE",
        default_value = "minisign.key"
    )]
    pub secret: PathBuf,
    /// Encrypt the secret key with the passphrase on this file's first line
    /// (`-` reads it from stdin), as minisign does.
    #[arg(
        long,
        value_name = "FILE",
        conflicts_with = "unencrypted",
        required_unless_present = "unencrypted"
    )]
    pub passphrase_file: Option<PathBuf>,
    /// Store the secret key unencrypted (like `minisign -G -W`).
    #[arg(short = 'W', long)]
    pub unencrypted: bool,
    /// Replace existing key files.
    #[arg(short, long)]
    pub force: bool,
}

#[derive(Debug, Args)]
pub struct SealArgs {
    /// The bundle directory.
    #[arg(value_name = "DIR")]
    pub dir: PathBuf,
    /// The secret key (minisign format; refused when group/other can read it).
    #[arg(
        short = 's',
        long,
        value_name = "FILE",
        env = "BUNDLE_SEAL_KEY",
        hide_env_values = true
    )]
    pub key: PathBuf,
    /// Passphrase of an encrypted key: this file's first line (`-`: stdin).
    #[arg(long, value_name = "FILE")]
    pub passphrase_file: Option<PathBuf>,
    /// The release this is evidence for, a semantic version (2.5.0-beta.1);
    /// signed into the manifest.
    #[arg(long, value_name = "VERSION")]
    pub release: Option<String>,
    /// The source commit (40 or 64 hex digits) [default: HEAD of the git
    /// work tree the bundle is in, if any].
    #[arg(long, value_name = "SHA")]
    pub commit: Option<String>,
}

#[derive(Debug, Args)]
pub struct DecideArgs {
    /// The sealed bundle directory.
    #[arg(value_name = "DIR")]
    pub dir: PathBuf,
    /// The decision.
    #[arg(long, value_enum)]
    pub decision: DecisionArg,
    /// Who decides (a name or an e-mail address).
    #[arg(long, value_name = "NAME")]
    pub by: String,
    /// The role decided for (engineering, security, operations...).
    #[arg(long, value_name = "ROLE")]
    pub role: Option<String>,
    /// A note kept with the decision.
    #[arg(long, value_name = "TEXT")]
    pub note: Option<String>,
    /// Record a go on a failed release verdict, saying why; shown by every
    /// later verify.
    #[arg(long = "override", value_name = "REASON")]
    pub override_reason: Option<String>,
    /// The decider's secret key; each receipt is signed with it.
    #[arg(short = 's', long, value_name = "FILE")]
    pub key: PathBuf,
    /// Passphrase of an encrypted key: this file's first line (`-`: stdin).
    #[arg(long, value_name = "FILE")]
    pub passphrase_file: Option<PathBuf>,
    /// Also check the manifest's signature with this public key.
    #[arg(short = 'p', long = "pub", value_name = "KEY")]
    pub public: Option<String>,
}

/// `--decision`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum DecisionArg {
    Go,
    #[value(name = "no-go")]
    NoGo,
}

#[derive(Debug, Args)]
pub struct VerifyArgs {
    /// The bundle directory.
    #[arg(value_name = "DIR")]
    pub dir: PathBuf,
    #[command(flatten)]
    pub check: CheckArgs,
}

#[derive(Debug, Args)]
pub struct CheckArgs {
    /// The public key: a minisign .pub file, or its base64 (`RW...`).
    #[arg(
        short = 'p',
        long = "pub",
        value_name = "KEY",
        env = "BUNDLE_SEAL_PUB",
        hide_env_values = true
    )]
    pub public: String,
    /// Fail when the sealed release verdict is fail. This is the default;
    /// the flag is kept for scripts written before it was.
    #[arg(long, conflicts_with = "integrity_only")]
    pub require_pass: bool,
    /// Check only the seal (signature, files); exit 0 for an intact bundle
    /// even when its release verdict is fail (forensics on old bundles).
    #[arg(long)]
    pub integrity_only: bool,
    /// Fail unless the bundle is sealed for this release.
    #[arg(long, value_name = "VERSION")]
    pub release: Option<String>,
    /// Fail unless the bundle is sealed for this commit (7+ hex digits).
    #[arg(long, value_name = "SHA")]
    pub commit: Option<String>,
    /// Fail unless each role has an accepted go decision (see decide).
    #[arg(
        long,
        value_name = "ROLE,...",
        value_delimiter = ',',
        requires = "trusted_keys"
    )]
    pub require_signoff: Vec<String>,
    /// Public keys trusted to sign decisions: DIR/*.pub for any role,
    /// DIR/ROLE/*.pub for that role only.
    #[arg(long, value_name = "DIR")]
    pub trusted_keys: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct PackArgs {
    /// The sealed bundle directory.
    #[arg(value_name = "DIR")]
    pub dir: PathBuf,
    /// The archive to write (replaced atomically); `-` is stdout (the
    /// records then go to stderr). `.tar.gz`/`.tgz` are gzip-compressed.
    #[arg(short, long, value_name = "FILE")]
    pub output: PathBuf,
}

#[derive(Debug, Args)]
pub struct UnpackArgs {
    /// The archive made by `pack`.
    #[arg(value_name = "ARCHIVE")]
    pub archive: PathBuf,
    /// Where to extract (must be absent or empty).
    #[arg(short = 'C', long = "directory", value_name = "DIR")]
    pub dir: PathBuf,
    #[command(flatten)]
    pub check: CheckArgs,
}

#[derive(Debug, Subcommand)]
pub enum ChainCommand {
    /// Append each JSON record from stdin (or --input) as a receipt.
    #[command(
        after_long_help = "Examples:\n  echo '{\"event\":\"deploy\",\"rc\":\"rc1\"}' | \
        bundle-seal chain append audit.jsonl --key release.key\n  \
        bundle-seal chain append audit.jsonl --input events.jsonl"
    )]
    Append(ChainAppendArgs),
    /// Sign the chain's head into a checkpoint file (detects truncation).
    #[command(
        after_long_help = "Examples:\n  bundle-seal chain checkpoint audit.jsonl --key release.key\n  \
        bundle-seal chain checkpoint audit.jsonl --key release.key --checkpoint /safe/audit.cp"
    )]
    Checkpoint(ChainCheckpointArgs),
    /// Check the chain; name the first bad seq.
    #[command(
        after_long_help = "Examples:\n  bundle-seal chain verify audit.jsonl --pub release.pub --require-signed\n  \
        bundle-seal chain verify audit.jsonl --pub release.pub --checkpoint /safe/audit.cp"
    )]
    Verify(ChainVerifyArgs),
}

#[derive(Debug, Args)]
pub struct ChainAppendArgs {
    /// The log (JSON Lines; created when absent).
    #[arg(value_name = "LOG")]
    pub log: PathBuf,
    /// Records to append (JSON Lines; `-` is stdin).
    #[arg(short, long, value_name = "FILE", default_value = "-")]
    pub input: String,
    /// Sign each receipt with this secret key.
    #[arg(short = 's', long, value_name = "FILE")]
    pub key: Option<PathBuf>,
    /// Passphrase of an encrypted key: this file's first line.
    #[arg(long, value_name = "FILE")]
    pub passphrase_file: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct ChainCheckpointArgs {
    /// The log.
    #[arg(value_name = "LOG")]
    pub log: PathBuf,
    /// The secret key that signs the head.
    #[arg(short = 's', long, value_name = "FILE")]
    pub key: PathBuf,
    /// Passphrase of an encrypted key: this file's first line.
    #[arg(long, value_name = "FILE")]
    pub passphrase_file: Option<PathBuf>,
    /// Where to write the checkpoint [default: LOG.checkpoint].
    #[arg(long, value_name = "FILE")]
    pub checkpoint: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct ChainVerifyArgs {
    /// The log.
    #[arg(value_name = "LOG")]
    pub log: PathBuf,
    /// Check receipt and checkpoint signatures with this public key; an
    /// unsigned receipt after a signed one is then a break, and receipts no
    /// verified signature covers fail `unauthenticated_receipts`.
    #[arg(short = 'p', long = "pub", value_name = "KEY")]
    pub public: Option<String>,
    /// The checkpoint to hold the log to [default: LOG.checkpoint, if present].
    #[arg(long, value_name = "FILE")]
    pub checkpoint: Option<PathBuf>,
    /// Fail on any receipt without a signature.
    #[arg(long, requires = "public")]
    pub require_signed: bool,
}

#[derive(Debug, Args)]
pub struct TimelineArgs {
    /// The (incident) bundle directory.
    #[arg(value_name = "DIR")]
    pub dir: PathBuf,
    /// Sections (files or directories, by path, name or name without
    /// extension) that must be present with at least one record read
    /// (an empty or non-JSON-Lines file is `empty`). Example: app,proxy,metrics
    #[arg(long, value_name = "A,B,C", value_delimiter = ',')]
    pub require_sections: Vec<String>,
    /// Top-level field holding a record's time (repeat; first present wins)
    /// [default: ts, timestamp, time, @timestamp, at, started_at].
    #[arg(long, value_name = "NAME")]
    pub time_field: Vec<String>,
    /// Report malformed lines as `invalid` records and go on.
    #[arg(long)]
    pub skip_invalid: bool,
    /// Count critical records only from this long before --as-of (7d, 48h).
    #[arg(long, value_name = "DURATION", value_parser = humantime::parse_duration)]
    pub window: Option<std::time::Duration>,
    /// Fail when more critical records than this fall in the window (or in
    /// the whole timeline without --window).
    #[arg(long, value_name = "N")]
    pub max_critical: Option<u64>,
    /// The end of the window, RFC 3339 [default: now].
    #[arg(long, value_name = "TIME")]
    pub as_of: Option<String>,
    /// Field holding a record's severity: a top-level name or a JSON
    /// Pointer. critical, crit, emerg, emergency, alert, fatal, panic and
    /// p1 (any case, padding ignored) are critical; with --max-critical at
    /// least one record must have the field. Example: /labels/severity
    #[arg(long, value_name = "NAME", default_value = "severity")]
    pub severity_field: String,
    /// Memory for events before sorted runs spill to $TMPDIR (like
    /// `sort -S`): bytes, or with K, M, G (KiB, MiB, GiB).
    #[arg(long, value_name = "SIZE", default_value = "64M", value_parser = size)]
    pub buffer_size: usize,
}

/// `64M`, `512K`, `1G`, `65536` (binary units), at least 4 KiB.
fn size(text: &str) -> Result<usize, String> {
    let t = text.trim();
    let t = t
        .strip_suffix("iB")
        .or_else(|| t.strip_suffix('B'))
        .unwrap_or(t);
    let (digits, shift) = match t.char_indices().last() {
        Some((i, 'K' | 'k')) => (&t[..i], 10),
        Some((i, 'M' | 'm')) => (&t[..i], 20),
        Some((i, 'G' | 'g')) => (&t[..i], 30),
        _ => (t, 0),
    };
    let n: usize = digits
        .trim()
        .parse()
        .map_err(|_| format!("{text:?} is not a size such as 64M, 512K or 1G"))?;
    let bytes = n
        .checked_mul(1usize << shift)
        .ok_or_else(|| format!("{text:?} is too large"))?;
    if bytes < 4096 {
        return Err(format!("{text:?} is below the minimum of 4K"));
    }
    Ok(bytes)
}

/// The clap command, for man pages and completions.
pub fn command() -> clap::Command {
    Cli::command()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clap_definition_is_consistent() {
        command().debug_assert();
    }
}
