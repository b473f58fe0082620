complete -c sbom-diff -l from -d 'Format of OLD instead of detecting it' -r -f -a "auto\t'Detect from the content (the default)'
cyclonedx\t'CycloneDX JSON 1.2–1.6 (`bomFormat: CycloneDX`)'
spdx\t'SPDX 2.2/2.3 JSON (`spdxVersion`)'
cargo-lock\t'Cargo.lock (TOML, `[[package]]`)'
npm-lock\t'npm package-lock.json v2/v3 (`lockfileVersion` 2 or 3)'
pip\t'pip requirements.txt or `pip freeze` output (`name==version`)'"
complete -c sbom-diff -l to -d 'Format of NEW instead of detecting it' -r -f -a "auto\t'Detect from the content (the default)'
cyclonedx\t'CycloneDX JSON 1.2–1.6 (`bomFormat: CycloneDX`)'
spdx\t'SPDX 2.2/2.3 JSON (`spdxVersion`)'
cargo-lock\t'Cargo.lock (TOML, `[[package]]`)'
npm-lock\t'npm package-lock.json v2/v3 (`lockfileVersion` 2 or 3)'
pip\t'pip requirements.txt or `pip freeze` output (`name==version`)'"
complete -c sbom-diff -l max-drift -d 'Gate: fail when drift exceeds this percentage. Example: --max-drift 0.5% (the % is required: a bare 0.5 could mean 50% or 0.5%; only 0 may go without it)' -r
complete -c sbom-diff -l max-added -d 'Gate: fail when more than N components were added (0 = no undeclared dependencies)' -r
complete -c sbom-diff -l fail-on -d 'Gate: fail on any change of these kinds (comma-separated). Example: --fail-on downgraded,hash_changed,license_changed' -r -f -a "added\t'A component only the new input has'
removed\t'A component only the old input has'
upgraded\t'Paired, with a higher version'
downgraded\t'Paired, with a lower version'
license_changed\t'Paired, and the licences differ after normalization'
hash_changed\t'Same version, different digest for a common algorithm'
source_changed\t'Paired, and they came from different places (registry, git, file)'
supplier_changed\t'Paired, and both name a supplier, and they differ'
dependency_added\t'A dependency edge only the new graph has'
dependency_removed\t'A dependency edge only the old graph has'"
complete -c sbom-diff -l allow -d 'Approved changes that do not count: lines of `PURL-PATTERN [change=KINDS] [reason]` (see below)' -r
complete -c sbom-diff -l max-input-size -d 'Refuse inputs larger than this many bytes (after decompression)' -r
complete -c sbom-diff -l format -d 'Output: jsonl (JSON Lines records, the summary last: what other tools read) or a form for people' -r -f -a "jsonl\t'One JSON record per line, the summary last (the default)'
text\t'A readable table of changes and the summary'
csv\t'One CSV row per change, with a header row (no summary)'"
complete -c sbom-diff -l allow-unversioned -d 'Accept components without a version (compared by presence and digest) instead of refusing the input'
complete -c sbom-diff -s q -l quiet -d 'No progress bars or notes on stderr (errors and warnings are still printed; the records are the same)'
complete -c sbom-diff -s h -l help -d 'Print help (see more with \'--help\')'
complete -c sbom-diff -s V -l version -d 'Print version'
