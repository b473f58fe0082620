# Print an optspec for argparse to handle cmd's options that are independent of any subcommand.
function __fish_replay_diff_global_optspecs
    string join \n key= ignore= mask= float-tolerance= unordered= max-divergences= min-determinism= min-records= skip-invalid max-invalid= max-line= format= q/quiet h/help V/version
end

function __fish_replay_diff_needs_command
    # Figure out if the current invocation already has a command.
    set -l cmd (commandline -opc)
    set -e cmd[1]
    argparse -s (__fish_replay_diff_global_optspecs) -- $cmd 2>/dev/null
    or return
    if set -q argv[1]
        # Also print the command, so this can be used to figure out what it is.
        echo $argv[1]
        return 1
    end
    return 0
end

function __fish_replay_diff_using_subcommand
    set -l cmd (__fish_replay_diff_needs_command)
    test -z "$cmd"
    and return 1
    contains -- $cmd[1] $argv
end

complete -c replay-diff -n "__fish_replay_diff_needs_command" -l key -d 'Align records by the value at this JSON Pointer instead of by position (repeat for a composite key). Example: --key /event_id' -r
complete -c replay-diff -n "__fish_replay_diff_needs_command" -l ignore -d 'Ignore the value at this pointer; `*` matches any array index or member. Example: --ignore /ts --ignore /items/*/ts' -r
complete -c replay-diff -n "__fish_replay_diff_needs_command" -l mask -d 'Replace values of a built-in shape inside strings (not numbers) before comparing: timestamp (RFC 3339), uuid, hex (ids of 8+ hex digits), epoch (10- or 13-digit Unix times). Example: --mask timestamp --mask uuid' -r -f -a "timestamp\t'RFC 3339 / ISO 8601 date-times: 2026-11-23T13:02:07.123Z, +01:00 offsets'
uuid\t'UUIDs in 8-4-4-4-12 form, any case'
hex\t'Hex ids: 8+ hex digits with at least one digit and one letter (git hashes, trace ids); plain numbers and words like "deadbeef" stay'
epoch\t'Unix times in seconds (10 digits) or milliseconds (13 digits)'"
complete -c replay-diff -n "__fish_replay_diff_needs_command" -l float-tolerance -d 'Treat numbers within this absolute difference as equal (as f64 while both are below 2^53 in size; larger integers by their exact difference, so 64-bit ids are never rounded together; larger non-integers only when equal). Without it numbers must be exactly equal in value. Example: 1e-9' -r
complete -c replay-diff -n "__fish_replay_diff_needs_command" -l unordered -d 'Compare the array at this pointer as a multiset (order ignored). Elements match after --ignore and --mask, but exactly: --float-tolerance does not apply inside them. Example: --unordered /tags' -r
complete -c replay-diff -n "__fish_replay_diff_needs_command" -l max-divergences -d 'Gate: fail when divergences (differing paths + missing + extra records) exceed N. Without any gate, any divergence fails (like diff)' -r
complete -c replay-diff -n "__fish_replay_diff_needs_command" -l min-determinism -d 'Gate: fail when determinism (identical records / records judged, defined under --help) is below this percentage. Example: --min-determinism 98% (the % is required: a bare 0.98 could mean 98% or 0.98%)' -r
complete -c replay-diff -n "__fish_replay_diff_needs_command" -l min-records -d 'Gate (always): fail when the golden run has fewer than N records, so a comparison over nothing cannot pass. 0 accepts empty streams. Example: --min-records 50 (a 50-event replay)' -r
complete -c replay-diff -n "__fish_replay_diff_needs_command" -l max-invalid -d 'Gate (with --skip-invalid): fail when more than N lines were invalid' -r
complete -c replay-diff -n "__fish_replay_diff_needs_command" -l max-line -d 'Refuse lines longer than this many bytes (they count as invalid)' -r
complete -c replay-diff -n "__fish_replay_diff_needs_command" -l format -d 'Output: jsonl (JSON Lines records, the summary last: what other tools read) or a form for people' -r -f -a "jsonl\t'One JSON record per line (the default; what other tools read)'
text\t'A readable report for a person at a terminal'"
complete -c replay-diff -n "__fish_replay_diff_needs_command" -l skip-invalid -d 'Report malformed lines as `invalid` records and go on, instead of stopping with exit 2. Each counts against determinism, and the gate `invalid` (limit --max-invalid, default 0) fails on any'
complete -c replay-diff -n "__fish_replay_diff_needs_command" -s q -l quiet -d 'No progress bars or notes on stderr (errors and warnings are still printed; the records are the same)'
complete -c replay-diff -n "__fish_replay_diff_needs_command" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c replay-diff -n "__fish_replay_diff_needs_command" -s V -l version -d 'Print version'
complete -c replay-diff -n "__fish_replay_diff_needs_command" -a "run" -d 'Run a command N times and diff every run\'s stdout against the first'
complete -c replay-diff -n "__fish_replay_diff_needs_command" -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c replay-diff -n "__fish_replay_diff_using_subcommand run" -l times -d 'How many times to run the command (at least 2)' -r
complete -c replay-diff -n "__fish_replay_diff_using_subcommand run" -l allow-exit -d 'An exit code (1-255) that is a normal outcome of the command, not a failed run (repeatable). Without it any run that exits non-zero or is killed fails the `run_failures` gate; a signal always does. Example: --allow-exit 1 (a test runner whose tests may fail)' -r
complete -c replay-diff -n "__fish_replay_diff_using_subcommand run" -l key -d 'Align records by the value at this JSON Pointer instead of by position (repeat for a composite key). Example: --key /event_id' -r
complete -c replay-diff -n "__fish_replay_diff_using_subcommand run" -l ignore -d 'Ignore the value at this pointer; `*` matches any array index or member. Example: --ignore /ts --ignore /items/*/ts' -r
complete -c replay-diff -n "__fish_replay_diff_using_subcommand run" -l mask -d 'Replace values of a built-in shape inside strings (not numbers) before comparing: timestamp (RFC 3339), uuid, hex (ids of 8+ hex digits), epoch (10- or 13-digit Unix times). Example: --mask timestamp --mask uuid' -r -f -a "timestamp\t'RFC 3339 / ISO 8601 date-times: 2026-11-23T13:02:07.123Z, +01:00 offsets'
uuid\t'UUIDs in 8-4-4-4-12 form, any case'
hex\t'Hex ids: 8+ hex digits with at least one digit and one letter (git hashes, trace ids); plain numbers and words like "deadbeef" stay'
epoch\t'Unix times in seconds (10 digits) or milliseconds (13 digits)'"
complete -c replay-diff -n "__fish_replay_diff_using_subcommand run" -l float-tolerance -d 'Treat numbers within this absolute difference as equal (as f64 while both are below 2^53 in size; larger integers by their exact difference, so 64-bit ids are never rounded together; larger non-integers only when equal). Without it numbers must be exactly equal in value. Example: 1e-9' -r
complete -c replay-diff -n "__fish_replay_diff_using_subcommand run" -l unordered -d 'Compare the array at this pointer as a multiset (order ignored). Elements match after --ignore and --mask, but exactly: --float-tolerance does not apply inside them. Example: --unordered /tags' -r
complete -c replay-diff -n "__fish_replay_diff_using_subcommand run" -l max-divergences -d 'Gate: fail when divergences (differing paths + missing + extra records) exceed N. Without any gate, any divergence fails (like diff)' -r
complete -c replay-diff -n "__fish_replay_diff_using_subcommand run" -l min-determinism -d 'Gate: fail when determinism (identical records / records judged, defined under --help) is below this percentage. Example: --min-determinism 98% (the % is required: a bare 0.98 could mean 98% or 0.98%)' -r
complete -c replay-diff -n "__fish_replay_diff_using_subcommand run" -l min-records -d 'Gate (always): fail when the golden run has fewer than N records, so a comparison over nothing cannot pass. 0 accepts empty streams. Example: --min-records 50 (a 50-event replay)' -r
complete -c replay-diff -n "__fish_replay_diff_using_subcommand run" -l max-invalid -d 'Gate (with --skip-invalid): fail when more than N lines were invalid' -r
complete -c replay-diff -n "__fish_replay_diff_using_subcommand run" -l max-line -d 'Refuse lines longer than this many bytes (they count as invalid)' -r
complete -c replay-diff -n "__fish_replay_diff_using_subcommand run" -l format -d 'Output: jsonl (JSON Lines records, the summary last: what other tools read) or a form for people' -r -f -a "jsonl\t'One JSON record per line (the default; what other tools read)'
text\t'A readable report for a person at a terminal'"
complete -c replay-diff -n "__fish_replay_diff_using_subcommand run" -l skip-invalid -d 'Report malformed lines as `invalid` records and go on, instead of stopping with exit 2. Each counts against determinism, and the gate `invalid` (limit --max-invalid, default 0) fails on any'
complete -c replay-diff -n "__fish_replay_diff_using_subcommand run" -s q -l quiet -d 'No progress bars or notes on stderr (errors and warnings are still printed; the records are the same)'
complete -c replay-diff -n "__fish_replay_diff_using_subcommand run" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c replay-diff -n "__fish_replay_diff_using_subcommand help; and not __fish_seen_subcommand_from run help" -f -a "run" -d 'Run a command N times and diff every run\'s stdout against the first'
complete -c replay-diff -n "__fish_replay_diff_using_subcommand help; and not __fish_seen_subcommand_from run help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
