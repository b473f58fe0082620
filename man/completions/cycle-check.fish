complete -c cycle-check -l cycles -d 'How many start/stop cycles to run' -r
complete -c cycle-check -l ready -d 'Readiness probe: http://HOST:PORT/PATH, tcp://HOST:PORT, exec:CMD or log:REGEX' -r
complete -c cycle-check -l ready-timeout -d 'Give up on readiness after this long (the cycle fails as not_ready)' -r
complete -c cycle-check -l probe-timeout -d 'Time limit of one probe attempt (connect + answer, or the exec command)' -r
complete -c cycle-check -l expect-body -d 'http probes must also find this regex in the response body' -r
complete -c cycle-check -l failure-threshold -d 'Consecutive failed attempts (100 ms apart) before a health check counts as missed (Kubernetes\' failureThreshold)' -r
complete -c cycle-check -l start-cmd -d 'Start the service with this shell command instead of CMD (it may daemonize; pair with --pidfile)' -r
complete -c cycle-check -l stop-cmd -d 'Stop the service with this shell command instead of --stop-signal' -r
complete -c cycle-check -l pidfile -d 'The service writes its main pid here; readiness waits until it names a live process of the service (else the cycle fails as pidfile_missing), which is then the one stopped and waited for. With `-- CMD` it must name CMD or one of its descendants; with --start-cmd, also a process written there during the cycle (e.g. started by a service manager)' -r
complete -c cycle-check -l stop-signal -d 'Signal that asks the service to stop: TERM, INT, QUIT, HUP, USR1, ...' -r
complete -c cycle-check -l stop-timeout -d 'Grace period after the stop signal before SIGKILL' -r
complete -c cycle-check -l settle -d 'How long other descendants may take to exit after the main process has, before they count as orphans' -r
complete -c cycle-check -l check-files -d 'After each stop, files matching this glob must not exist (lock, pid or temp files). Repeatable. Example: --check-files \'run/*.lock\'' -r
complete -c cycle-check -l allow-leftover -d 'A process outside the service\'s tree that may outlive it (see "Leftovers outside the tree"): a port it listens on, or a regex matched against its command line. Repeatable' -r
complete -c cycle-check -l health -d 'Health probe run after the last start (same forms as --ready)' -r
complete -c cycle-check -l health-interval -d 'Time between health probes' -r
complete -c cycle-check -l health-duration -d 'How long to hold the service up and probe it' -r
complete -c cycle-check -l max-health-misses -d 'Gate: at most this many missed health checks' -r
complete -c cycle-check -l max-ready -d 'Gate: the slowest time-to-ready may not exceed this. Example: 2s' -r
complete -c cycle-check -l workload -d 'Crash drill: once the service is ready, run this shell command against it; --kill-after later the service is killed with SIGKILL (mid-work), the workload is sent SIGTERM, and the service is started again at once and must be ready within --max-recovery' -r
complete -c cycle-check -l kill-after -d 'How long the --workload runs before the SIGKILL' -r
complete -c cycle-check -l max-recovery -d 'Gate: the time from the SIGKILL to ready again (recovery_ms_max)' -r
complete -c cycle-check -l audit -d 'Audit the service\'s state in every cycle once it is ready (in a crash drill: once it is ready again): a shell command whose stdout lines are findings (JSON Lines, or plain text) and whose exit status is 0 (clean) or 1 (findings). Gate: audit_findings <= 0' -r
complete -c cycle-check -l audit-timeout -d 'Time limit of one --audit run (it fails as audit_failed after it)' -r
complete -c cycle-check -l service-log -d 'Append the service\'s stdout and stderr here instead of passing them to cycle-check\'s stderr (lines it cannot take, e.g. on a full disk, are warned about and counted: service_log_lost_lines)' -r
complete -c cycle-check -l format -d 'Output: jsonl (JSON Lines records, the summary last: what other tools read) or a form for people' -r -f -a "jsonl\t'One JSON record per line (the default; what other tools read)'
text\t'A readable report for a person at a terminal'"
complete -c cycle-check -l fail-on-new-listeners -d 'Also count the holder of every listening socket that is new since the start and still listens after the stop outside the service\'s tree, without evidence that the service started it: for a machine where nothing else starts servers (a CI container)'
complete -c cycle-check -s q -l quiet -d 'No progress bars or notes on stderr (errors and warnings are still printed; the records are the same)'
complete -c cycle-check -s h -l help -d 'Print help (see more with \'--help\')'
complete -c cycle-check -s V -l version -d 'Print version'
