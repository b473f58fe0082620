# Print an optspec for argparse to handle cmd's options that are independent of any subcommand.
function __fish_backup_drill_global_optspecs
    string join \n repo= source= sqlite= backup-cmd= min-files= max-not-backed-up= max-changed= no-backup restore-cmd= verify-cmd= max-rto= max-rpo= read-data self-test allow-outside-links scratch= keep= format= q/quiet h/help V/version
end

function __fish_backup_drill_needs_command
    # Figure out if the current invocation already has a command.
    set -l cmd (commandline -opc)
    set -e cmd[1]
    argparse -s (__fish_backup_drill_global_optspecs) -- $cmd 2>/dev/null
    or return
    if set -q argv[1]
        # Also print the command, so this can be used to figure out what it is.
        echo $argv[1]
        return 1
    end
    return 0
end

function __fish_backup_drill_using_subcommand
    set -l cmd (__fish_backup_drill_needs_command)
    test -z "$cmd"
    and return 1
    contains -- $cmd[1] $argv
end

complete -c backup-drill -n "__fish_backup_drill_needs_command" -l repo -d 'The repository (default: a temporary one, removed afterwards)' -r -F
complete -c backup-drill -n "__fish_backup_drill_needs_command" -l source -d 'A directory tree to back up (repeatable): regular files, modes, symlinks (kept as links), empty directories, names as bytes (UTF-8 or not); special files are skipped with a `skipped` record' -r -F
complete -c backup-drill -n "__fish_backup_drill_needs_command" -l sqlite -d 'A SQLite database to back up with SQLite\'s online backup API (repeatable); consistent while other processes write' -r -F
complete -c backup-drill -n "__fish_backup_drill_needs_command" -l backup-cmd -d 'Shell command that writes a dump into $BACKUP_DRILL_OUT; the dump is stored in the snapshot as hook/' -r
complete -c backup-drill -n "__fish_backup_drill_needs_command" -l min-files -d 'Gate: the snapshot must hold at least N files (databases count). An empty --source, or a backup-cmd that wrote nothing, fails it' -r
complete -c backup-drill -n "__fish_backup_drill_needs_command" -l max-not-backed-up -d 'Gate: at most N source entries may be left out of the snapshot (`skipped` records other than special files and files that vanished: a file replaced by a link or directory during the backup; in snapshots of older builds, names that are not UTF-8)' -r
complete -c backup-drill -n "__fish_backup_drill_needs_command" -l max-changed -d 'Gate: at most N files may change while they are read, on both tries (`changed` records; such a file is stored as read and may mix old and new bytes)' -r
complete -c backup-drill -n "__fish_backup_drill_needs_command" -l restore-cmd -d 'Shell command run after the restore (see Hook environment)' -r
complete -c backup-drill -n "__fish_backup_drill_needs_command" -l verify-cmd -d 'Shell command that must exit 0 for the drill to pass' -r
complete -c backup-drill -n "__fish_backup_drill_needs_command" -l max-rto -d 'Gate: restore + verify must take at most this long. Example: 8m' -r
complete -c backup-drill -n "__fish_backup_drill_needs_command" -l max-rpo -d 'Gate: the restored snapshot must be at most this old. Example: 6h' -r
complete -c backup-drill -n "__fish_backup_drill_needs_command" -l scratch -d 'Where to make the temporary restore directory (default: $TMPDIR)' -r -F
complete -c backup-drill -n "__fish_backup_drill_needs_command" -l keep -d 'Keep the restored copy in this (new or empty) directory instead of a temporary one, e.g. to start services on it' -r -F
complete -c backup-drill -n "__fish_backup_drill_needs_command" -l format -d 'Output: jsonl (JSON Lines records, the summary last: what other tools read) or a form for people' -r -f -a "jsonl\t'One JSON record per line (the default; what other tools read)'
text\t'A readable report for a person at a terminal'"
complete -c backup-drill -n "__fish_backup_drill_needs_command" -l no-backup -d 'Do not back up; drill the newest snapshot already in --repo'
complete -c backup-drill -n "__fish_backup_drill_needs_command" -l read-data -d 'Re-read every object in the repository in the check step'
complete -c backup-drill -n "__fish_backup_drill_needs_command" -l self-test -d 'Also corrupt one stored object in a scratch copy of the repository and prove `check` catches it'
complete -c backup-drill -n "__fish_backup_drill_needs_command" -l allow-outside-links -d 'Restore symlinks whose target leaves the restore directory'
complete -c backup-drill -n "__fish_backup_drill_needs_command" -s q -l quiet -d 'No progress bars or notes on stderr (errors and warnings are still printed; the records are the same)'
complete -c backup-drill -n "__fish_backup_drill_needs_command" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c backup-drill -n "__fish_backup_drill_needs_command" -s V -l version -d 'Print version'
complete -c backup-drill -n "__fish_backup_drill_needs_command" -f -a "backup" -d 'Take a snapshot of the sources into the repository'
complete -c backup-drill -n "__fish_backup_drill_needs_command" -f -a "restore" -d 'Restore a snapshot into a directory (never writes outside it)'
complete -c backup-drill -n "__fish_backup_drill_needs_command" -f -a "verify" -d 'Verify a restored directory against a snapshot\'s manifest'
complete -c backup-drill -n "__fish_backup_drill_needs_command" -f -a "check" -d 'Prove the repository is intact: manifests parse, objects exist with the right size, and (--read-data) still match their sha256'
complete -c backup-drill -n "__fish_backup_drill_needs_command" -f -a "list" -d 'List the snapshots in the repository, oldest first'
complete -c backup-drill -n "__fish_backup_drill_needs_command" -f -a "drill" -d 'Back up, restore into a fresh temporary place, verify, check, report'
complete -c backup-drill -n "__fish_backup_drill_needs_command" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c backup-drill -n "__fish_backup_drill_using_subcommand backup" -l repo -d 'The repository directory (created if missing or empty)' -r -F
complete -c backup-drill -n "__fish_backup_drill_using_subcommand backup" -l source -d 'A directory tree to back up (repeatable): regular files, modes, symlinks (kept as links), empty directories, names as bytes (UTF-8 or not); special files are skipped with a `skipped` record' -r -F
complete -c backup-drill -n "__fish_backup_drill_using_subcommand backup" -l sqlite -d 'A SQLite database to back up with SQLite\'s online backup API (repeatable); consistent while other processes write' -r -F
complete -c backup-drill -n "__fish_backup_drill_using_subcommand backup" -l backup-cmd -d 'Shell command that writes a dump into $BACKUP_DRILL_OUT; the dump is stored in the snapshot as hook/' -r
complete -c backup-drill -n "__fish_backup_drill_using_subcommand backup" -l min-files -d 'Gate: the snapshot must hold at least N files (databases count). An empty --source, or a backup-cmd that wrote nothing, fails it' -r
complete -c backup-drill -n "__fish_backup_drill_using_subcommand backup" -l max-not-backed-up -d 'Gate: at most N source entries may be left out of the snapshot (`skipped` records other than special files and files that vanished: a file replaced by a link or directory during the backup; in snapshots of older builds, names that are not UTF-8)' -r
complete -c backup-drill -n "__fish_backup_drill_using_subcommand backup" -l max-changed -d 'Gate: at most N files may change while they are read, on both tries (`changed` records; such a file is stored as read and may mix old and new bytes)' -r
complete -c backup-drill -n "__fish_backup_drill_using_subcommand backup" -l format -d 'Output: jsonl (JSON Lines records, the summary last: what other tools read) or a form for people' -r -f -a "jsonl\t'One JSON record per line (the default; what other tools read)'
text\t'A readable report for a person at a terminal'"
complete -c backup-drill -n "__fish_backup_drill_using_subcommand backup" -s q -l quiet -d 'No progress bars or notes on stderr (errors and warnings are still printed; the records are the same)'
complete -c backup-drill -n "__fish_backup_drill_using_subcommand backup" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c backup-drill -n "__fish_backup_drill_using_subcommand restore" -l repo -d 'The repository directory' -r -F
complete -c backup-drill -n "__fish_backup_drill_using_subcommand restore" -l to -d 'Where to restore (created if missing; must be empty unless --force). A new or empty target is filled in a hidden sibling directory and renamed into place when complete, so a failed restore leaves it empty; with --force into a non-empty one, files are written in place' -r -F
complete -c backup-drill -n "__fish_backup_drill_using_subcommand restore" -l restore-cmd -d 'Shell command run after the files are restored (see Hook environment)' -r
complete -c backup-drill -n "__fish_backup_drill_using_subcommand restore" -l format -d 'Output: jsonl (JSON Lines records, the summary last: what other tools read) or a form for people' -r -f -a "jsonl\t'One JSON record per line (the default; what other tools read)'
text\t'A readable report for a person at a terminal'"
complete -c backup-drill -n "__fish_backup_drill_using_subcommand restore" -l force -d 'Restore into a non-empty directory, replacing files in the way (each written under a temporary name and renamed over the old one, so a failure keeps the old file). A symlink in the way is replaced only by a symlink: a file or directory is never written where a link was planted (that is an error)'
complete -c backup-drill -n "__fish_backup_drill_using_subcommand restore" -l allow-outside-links -d 'Also restore symlinks whose target leaves the restore directory (they are refused by default: the repository is untrusted input)'
complete -c backup-drill -n "__fish_backup_drill_using_subcommand restore" -s q -l quiet -d 'No progress bars or notes on stderr (errors and warnings are still printed; the records are the same)'
complete -c backup-drill -n "__fish_backup_drill_using_subcommand restore" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c backup-drill -n "__fish_backup_drill_using_subcommand verify" -l repo -d 'The repository directory' -r -F
complete -c backup-drill -n "__fish_backup_drill_using_subcommand verify" -l dir -d 'The restored directory to verify' -r -F
complete -c backup-drill -n "__fish_backup_drill_using_subcommand verify" -l verify-cmd -d 'Shell command that must exit 0 for the restore to count as verified' -r
complete -c backup-drill -n "__fish_backup_drill_using_subcommand verify" -l format -d 'Output: jsonl (JSON Lines records, the summary last: what other tools read) or a form for people' -r -f -a "jsonl\t'One JSON record per line (the default; what other tools read)'
text\t'A readable report for a person at a terminal'"
complete -c backup-drill -n "__fish_backup_drill_using_subcommand verify" -s q -l quiet -d 'No progress bars or notes on stderr (errors and warnings are still printed; the records are the same)'
complete -c backup-drill -n "__fish_backup_drill_using_subcommand verify" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c backup-drill -n "__fish_backup_drill_using_subcommand check" -l repo -d 'The repository directory' -r -F
complete -c backup-drill -n "__fish_backup_drill_using_subcommand check" -l format -d 'Output: jsonl (JSON Lines records, the summary last: what other tools read) or a form for people' -r -f -a "jsonl\t'One JSON record per line (the default; what other tools read)'
text\t'A readable report for a person at a terminal'"
complete -c backup-drill -n "__fish_backup_drill_using_subcommand check" -l read-data -d 'Re-read every stored object and prove it still matches its sha256'
complete -c backup-drill -n "__fish_backup_drill_using_subcommand check" -s q -l quiet -d 'No progress bars or notes on stderr (errors and warnings are still printed; the records are the same)'
complete -c backup-drill -n "__fish_backup_drill_using_subcommand check" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c backup-drill -n "__fish_backup_drill_using_subcommand list" -l repo -d 'The repository directory' -r -F
complete -c backup-drill -n "__fish_backup_drill_using_subcommand list" -l format -d 'Output: jsonl (JSON Lines records, the summary last: what other tools read) or a form for people' -r -f -a "jsonl\t'One JSON record per line (the default; what other tools read)'
text\t'A readable report for a person at a terminal'"
complete -c backup-drill -n "__fish_backup_drill_using_subcommand list" -s q -l quiet -d 'No progress bars or notes on stderr (errors and warnings are still printed; the records are the same)'
complete -c backup-drill -n "__fish_backup_drill_using_subcommand list" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c backup-drill -n "__fish_backup_drill_using_subcommand drill" -l repo -d 'The repository (default: a temporary one, removed afterwards)' -r -F
complete -c backup-drill -n "__fish_backup_drill_using_subcommand drill" -l source -d 'A directory tree to back up (repeatable): regular files, modes, symlinks (kept as links), empty directories, names as bytes (UTF-8 or not); special files are skipped with a `skipped` record' -r -F
complete -c backup-drill -n "__fish_backup_drill_using_subcommand drill" -l sqlite -d 'A SQLite database to back up with SQLite\'s online backup API (repeatable); consistent while other processes write' -r -F
complete -c backup-drill -n "__fish_backup_drill_using_subcommand drill" -l backup-cmd -d 'Shell command that writes a dump into $BACKUP_DRILL_OUT; the dump is stored in the snapshot as hook/' -r
complete -c backup-drill -n "__fish_backup_drill_using_subcommand drill" -l min-files -d 'Gate: the snapshot must hold at least N files (databases count). An empty --source, or a backup-cmd that wrote nothing, fails it' -r
complete -c backup-drill -n "__fish_backup_drill_using_subcommand drill" -l max-not-backed-up -d 'Gate: at most N source entries may be left out of the snapshot (`skipped` records other than special files and files that vanished: a file replaced by a link or directory during the backup; in snapshots of older builds, names that are not UTF-8)' -r
complete -c backup-drill -n "__fish_backup_drill_using_subcommand drill" -l max-changed -d 'Gate: at most N files may change while they are read, on both tries (`changed` records; such a file is stored as read and may mix old and new bytes)' -r
complete -c backup-drill -n "__fish_backup_drill_using_subcommand drill" -l restore-cmd -d 'Shell command run after the restore (see Hook environment)' -r
complete -c backup-drill -n "__fish_backup_drill_using_subcommand drill" -l verify-cmd -d 'Shell command that must exit 0 for the drill to pass' -r
complete -c backup-drill -n "__fish_backup_drill_using_subcommand drill" -l max-rto -d 'Gate: restore + verify must take at most this long. Example: 8m' -r
complete -c backup-drill -n "__fish_backup_drill_using_subcommand drill" -l max-rpo -d 'Gate: the restored snapshot must be at most this old. Example: 6h' -r
complete -c backup-drill -n "__fish_backup_drill_using_subcommand drill" -l scratch -d 'Where to make the temporary restore directory (default: $TMPDIR)' -r -F
complete -c backup-drill -n "__fish_backup_drill_using_subcommand drill" -l keep -d 'Keep the restored copy in this (new or empty) directory instead of a temporary one, e.g. to start services on it' -r -F
complete -c backup-drill -n "__fish_backup_drill_using_subcommand drill" -l format -d 'Output: jsonl (JSON Lines records, the summary last: what other tools read) or a form for people' -r -f -a "jsonl\t'One JSON record per line (the default; what other tools read)'
text\t'A readable report for a person at a terminal'"
complete -c backup-drill -n "__fish_backup_drill_using_subcommand drill" -l no-backup -d 'Do not back up; drill the newest snapshot already in --repo'
complete -c backup-drill -n "__fish_backup_drill_using_subcommand drill" -l read-data -d 'Re-read every object in the repository in the check step'
complete -c backup-drill -n "__fish_backup_drill_using_subcommand drill" -l self-test -d 'Also corrupt one stored object in a scratch copy of the repository and prove `check` catches it'
complete -c backup-drill -n "__fish_backup_drill_using_subcommand drill" -l allow-outside-links -d 'Restore symlinks whose target leaves the restore directory'
complete -c backup-drill -n "__fish_backup_drill_using_subcommand drill" -s q -l quiet -d 'No progress bars or notes on stderr (errors and warnings are still printed; the records are the same)'
complete -c backup-drill -n "__fish_backup_drill_using_subcommand drill" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c backup-drill -n "__fish_backup_drill_using_subcommand help; and not __fish_seen_subcommand_from backup restore verify check list drill help" -f -a "backup" -d 'Take a snapshot of the sources into the repository'
complete -c backup-drill -n "__fish_backup_drill_using_subcommand help; and not __fish_seen_subcommand_from backup restore verify check list drill help" -f -a "restore" -d 'Restore a snapshot into a directory (never writes outside it)'
complete -c backup-drill -n "__fish_backup_drill_using_subcommand help; and not __fish_seen_subcommand_from backup restore verify check list drill help" -f -a "verify" -d 'Verify a restored directory against a snapshot\'s manifest'
complete -c backup-drill -n "__fish_backup_drill_using_subcommand help; and not __fish_seen_subcommand_from backup restore verify check list drill help" -f -a "check" -d 'Prove the repository is intact: manifests parse, objects exist with the right size, and (--read-data) still match their sha256'
complete -c backup-drill -n "__fish_backup_drill_using_subcommand help; and not __fish_seen_subcommand_from backup restore verify check list drill help" -f -a "list" -d 'List the snapshots in the repository, oldest first'
complete -c backup-drill -n "__fish_backup_drill_using_subcommand help; and not __fish_seen_subcommand_from backup restore verify check list drill help" -f -a "drill" -d 'Back up, restore into a fresh temporary place, verify, check, report'
complete -c backup-drill -n "__fish_backup_drill_using_subcommand help; and not __fish_seen_subcommand_from backup restore verify check list drill help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
