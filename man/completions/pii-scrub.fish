complete -c pii-scrub -l backup-suffix -d 'With --in-place: keep the original as FILE+SUFFIX. Example: .orig' -r
complete -c pii-scrub -l out-dir -d 'Write scrubbed copies under DIR, mirroring the input tree' -r -F
complete -c pii-scrub -l report -d 'Write finding records and the summary (JSON Lines) to FILE' -r
complete -c pii-scrub -l format -d 'Output: jsonl (JSON Lines records, the summary last: what other tools read) or a form for people' -r -f -a "jsonl\t'One JSON record per line (the default; what other tools read)'
text\t'A readable report for a person at a terminal'"
complete -c pii-scrub -l quarantine -d 'Write lines that cannot be scrubbed safely, with their reason, to FILE (mode 0600). Without it they are dropped and counted' -r -F
complete -c pii-scrub -l action -d 'Action per type, or for all: TYPE=ACTION or ACTION (redact, mask, hash, remove). Example: --action mask --action email=hash' -r
complete -c pii-scrub -l salt-file -d 'File holding the secret salt for hash (else $PII_SCRUB_SALT)' -r -F
complete -c pii-scrub -l key-id -d 'Key id written in hash tokens (default: derived from the salt)' -r
complete -c pii-scrub -l only -d 'Only these types (comma-separated names, custom rules included)' -r
complete -c pii-scrub -l except -d 'All types except these (comma-separated)' -r
complete -c pii-scrub -l rules -d 'Custom rules (TOML or JSON): name, regex, optional group, validator (luhn, mod97, ...) and action' -r -F
complete -c pii-scrub -l allow -d 'Leave values matching this regex alone (test data); an empty regex or one matching every value is refused. Example: \'@example\\.com$\'' -r
complete -c pii-scrub -l allow-file -d 'Leave the exact values listed in FILE (one per line) alone' -r -F
complete -c pii-scrub -l allow-key -d 'Leave values of keys with this name alone (regex matched against the whole key name, case-insensitive; for the `secret` type). Example: --allow-key \'session|pass_through\'' -r
complete -c pii-scrub -l on-invalid-json -d 'A line that looks like a JSON object but does not parse (a record cut short, a bad escape): quarantine it, or scrub it as text (where `"password":"…` pairs are still found, also unterminated)' -r -f -a "quarantine\t'Keep it out of the output (fail closed); with --quarantine FILE, there'
text\t'Scrub it as a text line'"
complete -c pii-scrub -l fields -d 'In JSON lines, scrub only values at or under this pointer (`*` matches any member or index). Text lines are always scrubbed whole' -r
complete -c pii-scrub -l skip-fields -d 'In JSON lines, leave values at or under this pointer alone ("" and /*, every value, are refused)' -r
complete -c pii-scrub -l max-line -d 'Quarantine lines longer than this many bytes' -r
complete -c pii-scrub -l max-findings -d 'Quarantine a line with more findings than this' -r
complete -c pii-scrub -l max-quarantined -d 'Gate: fail when more than N lines were quarantined' -r
complete -c pii-scrub -l min-files -d 'Gate: fail when fewer than N inputs were read (default with --check: 1; stdin counts as one). 0 accepts a run that read nothing' -r
complete -c pii-scrub -l min-lines -d 'Gate: fail when fewer than N lines were read in all (default with --check/--dry-run: 1, so an empty stream from a failed producer or a tree of empty files fails). 0 accepts a run that read no line' -r
complete -c pii-scrub -l glob -d 'Only files matching this glob in directory walks (repeatable; `!` excludes). What it leaves out is counted (figure `excluded`) and named on stderr' -r
complete -c pii-scrub -s j -l threads -d 'Worker threads for many files (default: number of CPUs)' -r
complete -c pii-scrub -l check -d 'Only report (no scrubbed output); exit 1 if anything is found'
complete -c pii-scrub -l dry-run -d 'Only report what would be scrubbed; write no data. Judged like --check (exit 1 if anything is found); with --format text each finding has a masked snippet'
complete -c pii-scrub -l in-place -d 'Rewrite each file in place, atomically (temp file + fsync + rename)'
complete -c pii-scrub -l respect-ignore -d 'Skip files that .gitignore/.ignore files exclude in directory walks'
complete -c pii-scrub -l no-ignore -d 'Read every file in directory walks, whatever ignore files say (the default; kept so existing scripts that pass it keep working)'
complete -c pii-scrub -l list-types -d 'Print the built-in types and what they find, then exit'
complete -c pii-scrub -s q -l quiet -d 'No progress bars or notes on stderr (errors and warnings are still printed; the records are the same)'
complete -c pii-scrub -l no-warnings -d 'No warnings on stderr either (files --glob left out, lines dropped without --quarantine): what -q meant in pii-scrub before it took the meaning -q has in every tool. Implies --quiet; errors are still printed, and the records and figures are the same'
complete -c pii-scrub -s h -l help -d 'Print help (see more with \'--help\')'
complete -c pii-scrub -s V -l version -d 'Print version'
