# Print an optspec for argparse to handle cmd's options that are independent of any subcommand.
function __fish_soak_load_global_optspecs
    string join \n h/help V/version
end

function __fish_soak_load_needs_command
    # Figure out if the current invocation already has a command.
    set -l cmd (commandline -opc)
    set -e cmd[1]
    argparse -s (__fish_soak_load_global_optspecs) -- $cmd 2>/dev/null
    or return
    if set -q argv[1]
        # Also print the command, so this can be used to figure out what it is.
        echo $argv[1]
        return 1
    end
    return 0
end

function __fish_soak_load_using_subcommand
    set -l cmd (__fish_soak_load_needs_command)
    test -z "$cmd"
    and return 1
    contains -- $cmd[1] $argv
end

complete -c soak-load -n "__fish_soak_load_needs_command" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c soak-load -n "__fish_soak_load_needs_command" -s V -l version -d 'Print version'
complete -c soak-load -n "__fish_soak_load_needs_command" -f -a "run" -d 'Send load, write a window record per --window and the summary'
complete -c soak-load -n "__fish_soak_load_needs_command" -f -a "report" -d 'Recompute the summary and gates from saved window records'
complete -c soak-load -n "__fish_soak_load_needs_command" -f -a "merge" -d 'Merge several runs\' windows (one generator each) into one exact result'
complete -c soak-load -n "__fish_soak_load_needs_command" -f -a "plot" -d 'Draw windows over time as one self-contained HTML page'
complete -c soak-load -n "__fish_soak_load_needs_command" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c soak-load -n "__fish_soak_load_using_subcommand run" -l targets -d 'Targets file (JSON Lines; see below)' -r
complete -c soak-load -n "__fish_soak_load_using_subcommand run" -l method -d 'HTTP method for URL (default GET)' -r
complete -c soak-load -n "__fish_soak_load_using_subcommand run" -l header -d 'A header for URL, \'Name: value\' (repeatable)' -r
complete -c soak-load -n "__fish_soak_load_using_subcommand run" -l body -d 'Request body for URL' -r
complete -c soak-load -n "__fish_soak_load_using_subcommand run" -l accept-status -d 'A status that is a right answer for URL although not 2xx (a redirect the service is meant to give; redirects are not followed and count as errors of class `other` otherwise). Repeatable or comma-separated. Example: 301' -r
complete -c soak-load -n "__fish_soak_load_using_subcommand run" -l rate -d 'Open model: picks per second, global (also /m, /h). Example: 1000/s' -r
complete -c soak-load -n "__fish_soak_load_using_subcommand run" -l connections -d 'Closed model: this many users sending back to back' -r
complete -c soak-load -n "__fish_soak_load_using_subcommand run" -l duration -d 'Stop after this long (default: until --requests or Ctrl-C). Example: 48h' -r
complete -c soak-load -n "__fish_soak_load_using_subcommand run" -l requests -d 'Stop after this many picks (a sequence counts once)' -r
complete -c soak-load -n "__fish_soak_load_using_subcommand run" -l ramp -d 'Grow the rate linearly from 0 over this long (closed model: start users one by one over it). Example: 30s' -r
complete -c soak-load -n "__fish_soak_load_using_subcommand run" -l timeout -d 'Give up on a request after this long (class `timeout`)' -r
complete -c soak-load -n "__fish_soak_load_using_subcommand run" -l max-in-flight -d 'Open model: at most this many picks in flight (and connections open)' -r
complete -c soak-load -n "__fish_soak_load_using_subcommand run" -l warmup -d 'Leave the memory readings of windows that end within this long after the start out of rss_growth and its slope (a fresh service\'s allocator and caches grow at first); everything else still counts. Example: 1m' -r
complete -c soak-load -n "__fish_soak_load_using_subcommand run" -l window -d 'Length of a window record' -r
complete -c soak-load -n "__fish_soak_load_using_subcommand run" -l correlation-header -d 'Header carrying each request\'s unique id' -r
complete -c soak-load -n "__fish_soak_load_using_subcommand run" -l requests-log -d 'Also write one `request` record per request to FILE' -r
complete -c soak-load -n "__fish_soak_load_using_subcommand run" -l pid -d 'Watch this process (and its descendants): RSS per window' -r
complete -c soak-load -n "__fish_soak_load_using_subcommand run" -l pid-file -d 'Watch the process whose id is in FILE (re-read every window)' -r -F
complete -c soak-load -n "__fish_soak_load_using_subcommand run" -l threads -d 'Threads sending the load (default: one per CPU). The closed model splits its connections over them, each thread with its own event loop, as wrk -t does' -r
complete -c soak-load -n "__fish_soak_load_using_subcommand run" -l actors -d 'Actors: this many virtual users at once, each running exactly --ops picks back to back (a sequence is one); the race run' -r
complete -c soak-load -n "__fish_soak_load_using_subcommand run" -l ops -d 'With --actors: picks each actor runs' -r
complete -c soak-load -n "__fish_soak_load_using_subcommand run" -l chaos-cmd -d 'Run this shell command every --chaos-every during the load (kill -9 the service under its supervisor, SIGSTOP/SIGCONT it, ...); a `chaos` record per injection; gates recovery_ms_max and chaos_command_failures' -r
complete -c soak-load -n "__fish_soak_load_using_subcommand run" -l chaos-every -d 'Time between chaos injections (the first is one period in)' -r
complete -c soak-load -n "__fish_soak_load_using_subcommand run" -l max-recovery -d 'Gate: every outage a chaos injection caused ends (a request sent after its first failure succeeds) within this' -r
complete -c soak-load -n "__fish_soak_load_using_subcommand run" -l max-chaos-no-effect -d 'Gate: chaos injections with no observed effect (no request failed after it and, with --pid/--pid-file, the process did not restart) at most this many. A SIGSTOP stall shorter than --timeout fails no request: allow it here, or give a shorter --timeout' -r
complete -c soak-load -n "__fish_soak_load_using_subcommand run" -l format -d 'Output: jsonl (JSON Lines records, the summary last: what other tools read) or a form for people' -r -f -a "jsonl\t'window records and the summary as JSON Lines (the default)'
csv\t'one CSV row per window and target (target empty for the total); the summary goes to stderr as text'"
complete -c soak-load -n "__fish_soak_load_using_subcommand run" -l profile -d 'A preset: its rate and duration (run) and its gates; flags given explicitly win' -r -f -a "baseline\t'1000/s for 10m; gates p95 100ms, p99 150ms, error rate 1%'
spike\t'5000/s for 5m; the same gates'"
complete -c soak-load -n "__fish_soak_load_using_subcommand run" -l max-error-rate -d 'Gate: error rate (errors / requests) at most this. Default: 1% (not asked by default with --chaos-cmd). Whatever it is, a run in which no request succeeded fails (gate ok >= 1). Example: 0.5% (the % is required: a bare 0.5 could mean 50% or 0.5%; only 0 may go without it)' -r
complete -c soak-load -n "__fish_soak_load_using_subcommand run" -l max-p95 -d 'Gate: p95 latency at most this. Example: 100ms' -r
complete -c soak-load -n "__fish_soak_load_using_subcommand run" -l max-p99 -d 'Gate: p99 latency at most this. Example: 150ms' -r
complete -c soak-load -n "__fish_soak_load_using_subcommand run" -l max-rss-growth -d 'Gate: the service\'s RSS growth from the first to the last window at most this (needs --pid or --pid-file). Example: 10% (the % is required)' -r
complete -c soak-load -n "__fish_soak_load_using_subcommand run" -l max-p95-slope -d 'Gate: the least-squares trend of the windows\' p95 at most this much per hour. Example: 5ms (meaning 5 ms/h)' -r
complete -c soak-load -n "__fish_soak_load_using_subcommand run" -l min-throughput -d 'Gate: throughput (requests / time) at least this. Example: 950/s' -r
complete -c soak-load -n "__fish_soak_load_using_subcommand run" -l max-restarts -d 'Gate: the watched service process (--pid/--pid-file) ended or was replaced at most this many times. Default whenever it is watched: 0 (with --chaos-cmd: one per injection)' -r
complete -c soak-load -n "__fish_soak_load_using_subcommand run" -l max-skipped-steps -d 'Gate: sequence steps never sent because a value they need was missing from an earlier answer at most this many. Default: 0 (not asked with --chaos-cmd)' -r
complete -c soak-load -n "__fish_soak_load_using_subcommand run" -l http2 -d 'Speak HTTP/2 over cleartext with prior knowledge (h2c) instead of HTTP/1.1: one connection per user and endpoint'
complete -c soak-load -n "__fish_soak_load_using_subcommand run" -l no-listener-check -d 'Do not check that the watched process (--pid/--pid-file) listens on a loopback target\'s port (gate rss_unrelated): for a port mapped to another (docker -p 8080:80) or a proxy in front of the service'
complete -c soak-load -n "__fish_soak_load_using_subcommand run" -l verify -d 'At the end, re-read every write a step acknowledged (the targets\' verify steps) and gate lost, changed and unverified writes at 0'
complete -c soak-load -n "__fish_soak_load_using_subcommand run" -s q -l quiet -d 'No progress bars or notes on stderr (errors and warnings are still printed; the records are the same)'
complete -c soak-load -n "__fish_soak_load_using_subcommand run" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c soak-load -n "__fish_soak_load_using_subcommand report" -l format -d 'Output: jsonl (JSON Lines records, the summary last: what other tools read) or a form for people' -r -f -a "jsonl\t'window records and the summary as JSON Lines (the default)'
csv\t'one CSV row per window and target (target empty for the total); the summary goes to stderr as text'"
complete -c soak-load -n "__fish_soak_load_using_subcommand report" -l profile -d 'A preset: its rate and duration (run) and its gates; flags given explicitly win' -r -f -a "baseline\t'1000/s for 10m; gates p95 100ms, p99 150ms, error rate 1%'
spike\t'5000/s for 5m; the same gates'"
complete -c soak-load -n "__fish_soak_load_using_subcommand report" -l max-error-rate -d 'Gate: error rate (errors / requests) at most this. Default: 1% (not asked by default with --chaos-cmd). Whatever it is, a run in which no request succeeded fails (gate ok >= 1). Example: 0.5% (the % is required: a bare 0.5 could mean 50% or 0.5%; only 0 may go without it)' -r
complete -c soak-load -n "__fish_soak_load_using_subcommand report" -l max-p95 -d 'Gate: p95 latency at most this. Example: 100ms' -r
complete -c soak-load -n "__fish_soak_load_using_subcommand report" -l max-p99 -d 'Gate: p99 latency at most this. Example: 150ms' -r
complete -c soak-load -n "__fish_soak_load_using_subcommand report" -l max-rss-growth -d 'Gate: the service\'s RSS growth from the first to the last window at most this (needs --pid or --pid-file). Example: 10% (the % is required)' -r
complete -c soak-load -n "__fish_soak_load_using_subcommand report" -l max-p95-slope -d 'Gate: the least-squares trend of the windows\' p95 at most this much per hour. Example: 5ms (meaning 5 ms/h)' -r
complete -c soak-load -n "__fish_soak_load_using_subcommand report" -l min-throughput -d 'Gate: throughput (requests / time) at least this. Example: 950/s' -r
complete -c soak-load -n "__fish_soak_load_using_subcommand report" -l max-restarts -d 'Gate: the watched service process (--pid/--pid-file) ended or was replaced at most this many times. Default whenever it is watched: 0 (with --chaos-cmd: one per injection)' -r
complete -c soak-load -n "__fish_soak_load_using_subcommand report" -l max-skipped-steps -d 'Gate: sequence steps never sent because a value they need was missing from an earlier answer at most this many. Default: 0 (not asked with --chaos-cmd)' -r
complete -c soak-load -n "__fish_soak_load_using_subcommand report" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c soak-load -n "__fish_soak_load_using_subcommand merge" -l format -d 'Output: jsonl (JSON Lines records, the summary last: what other tools read) or a form for people' -r -f -a "jsonl\t'window records and the summary as JSON Lines (the default)'
csv\t'one CSV row per window and target (target empty for the total); the summary goes to stderr as text'"
complete -c soak-load -n "__fish_soak_load_using_subcommand merge" -l profile -d 'A preset: its rate and duration (run) and its gates; flags given explicitly win' -r -f -a "baseline\t'1000/s for 10m; gates p95 100ms, p99 150ms, error rate 1%'
spike\t'5000/s for 5m; the same gates'"
complete -c soak-load -n "__fish_soak_load_using_subcommand merge" -l max-error-rate -d 'Gate: error rate (errors / requests) at most this. Default: 1% (not asked by default with --chaos-cmd). Whatever it is, a run in which no request succeeded fails (gate ok >= 1). Example: 0.5% (the % is required: a bare 0.5 could mean 50% or 0.5%; only 0 may go without it)' -r
complete -c soak-load -n "__fish_soak_load_using_subcommand merge" -l max-p95 -d 'Gate: p95 latency at most this. Example: 100ms' -r
complete -c soak-load -n "__fish_soak_load_using_subcommand merge" -l max-p99 -d 'Gate: p99 latency at most this. Example: 150ms' -r
complete -c soak-load -n "__fish_soak_load_using_subcommand merge" -l max-rss-growth -d 'Gate: the service\'s RSS growth from the first to the last window at most this (needs --pid or --pid-file). Example: 10% (the % is required)' -r
complete -c soak-load -n "__fish_soak_load_using_subcommand merge" -l max-p95-slope -d 'Gate: the least-squares trend of the windows\' p95 at most this much per hour. Example: 5ms (meaning 5 ms/h)' -r
complete -c soak-load -n "__fish_soak_load_using_subcommand merge" -l min-throughput -d 'Gate: throughput (requests / time) at least this. Example: 950/s' -r
complete -c soak-load -n "__fish_soak_load_using_subcommand merge" -l max-restarts -d 'Gate: the watched service process (--pid/--pid-file) ended or was replaced at most this many times. Default whenever it is watched: 0 (with --chaos-cmd: one per injection)' -r
complete -c soak-load -n "__fish_soak_load_using_subcommand merge" -l max-skipped-steps -d 'Gate: sequence steps never sent because a value they need was missing from an earlier answer at most this many. Default: 0 (not asked with --chaos-cmd)' -r
complete -c soak-load -n "__fish_soak_load_using_subcommand merge" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c soak-load -n "__fish_soak_load_using_subcommand plot" -s o -l output -d 'The HTML file to write (replaced atomically)' -r
complete -c soak-load -n "__fish_soak_load_using_subcommand plot" -l title -d 'The page\'s title (default: the files\' names)' -r
complete -c soak-load -n "__fish_soak_load_using_subcommand plot" -l profile -d 'A preset: its rate and duration (run) and its gates; flags given explicitly win' -r -f -a "baseline\t'1000/s for 10m; gates p95 100ms, p99 150ms, error rate 1%'
spike\t'5000/s for 5m; the same gates'"
complete -c soak-load -n "__fish_soak_load_using_subcommand plot" -l max-error-rate -d 'Gate: error rate (errors / requests) at most this. Default: 1% (not asked by default with --chaos-cmd). Whatever it is, a run in which no request succeeded fails (gate ok >= 1). Example: 0.5% (the % is required: a bare 0.5 could mean 50% or 0.5%; only 0 may go without it)' -r
complete -c soak-load -n "__fish_soak_load_using_subcommand plot" -l max-p95 -d 'Gate: p95 latency at most this. Example: 100ms' -r
complete -c soak-load -n "__fish_soak_load_using_subcommand plot" -l max-p99 -d 'Gate: p99 latency at most this. Example: 150ms' -r
complete -c soak-load -n "__fish_soak_load_using_subcommand plot" -l max-rss-growth -d 'Gate: the service\'s RSS growth from the first to the last window at most this (needs --pid or --pid-file). Example: 10% (the % is required)' -r
complete -c soak-load -n "__fish_soak_load_using_subcommand plot" -l max-p95-slope -d 'Gate: the least-squares trend of the windows\' p95 at most this much per hour. Example: 5ms (meaning 5 ms/h)' -r
complete -c soak-load -n "__fish_soak_load_using_subcommand plot" -l min-throughput -d 'Gate: throughput (requests / time) at least this. Example: 950/s' -r
complete -c soak-load -n "__fish_soak_load_using_subcommand plot" -l max-restarts -d 'Gate: the watched service process (--pid/--pid-file) ended or was replaced at most this many times. Default whenever it is watched: 0 (with --chaos-cmd: one per injection)' -r
complete -c soak-load -n "__fish_soak_load_using_subcommand plot" -l max-skipped-steps -d 'Gate: sequence steps never sent because a value they need was missing from an earlier answer at most this many. Default: 0 (not asked with --chaos-cmd)' -r
complete -c soak-load -n "__fish_soak_load_using_subcommand plot" -l per-target -d 'Also draw one line per target (p95, error rate, rate)'
complete -c soak-load -n "__fish_soak_load_using_subcommand plot" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c soak-load -n "__fish_soak_load_using_subcommand help; and not __fish_seen_subcommand_from run report merge plot help" -f -a "run" -d 'Send load, write a window record per --window and the summary'
complete -c soak-load -n "__fish_soak_load_using_subcommand help; and not __fish_seen_subcommand_from run report merge plot help" -f -a "report" -d 'Recompute the summary and gates from saved window records'
complete -c soak-load -n "__fish_soak_load_using_subcommand help; and not __fish_seen_subcommand_from run report merge plot help" -f -a "merge" -d 'Merge several runs\' windows (one generator each) into one exact result'
complete -c soak-load -n "__fish_soak_load_using_subcommand help; and not __fish_seen_subcommand_from run report merge plot help" -f -a "plot" -d 'Draw windows over time as one self-contained HTML page'
complete -c soak-load -n "__fish_soak_load_using_subcommand help; and not __fish_seen_subcommand_from run report merge plot help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
