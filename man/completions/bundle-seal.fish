# Print an optspec for argparse to handle cmd's options that are independent of any subcommand.
function __fish_bundle_seal_global_optspecs
    string join \n format= q/quiet h/help V/version
end

function __fish_bundle_seal_needs_command
    # Figure out if the current invocation already has a command.
    set -l cmd (commandline -opc)
    set -e cmd[1]
    argparse -s (__fish_bundle_seal_global_optspecs) -- $cmd 2>/dev/null
    or return
    if set -q argv[1]
        # Also print the command, so this can be used to figure out what it is.
        echo $argv[1]
        return 1
    end
    return 0
end

function __fish_bundle_seal_using_subcommand
    set -l cmd (__fish_bundle_seal_needs_command)
    test -z "$cmd"
    and return 1
    contains -- $cmd[1] $argv
end

complete -c bundle-seal -n "__fish_bundle_seal_needs_command" -l format -d 'Output: jsonl (JSON Lines records, the summary last: what other tools read) or a form for people' -r -f -a "jsonl\t'One JSON record per line (the default; what other tools read)'
text\t'A readable report for a person at a terminal'"
complete -c bundle-seal -n "__fish_bundle_seal_needs_command" -s q -l quiet -d 'No progress bars or notes on stderr (errors and warnings are still printed; the records are the same)'
complete -c bundle-seal -n "__fish_bundle_seal_needs_command" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c bundle-seal -n "__fish_bundle_seal_needs_command" -s V -l version -d 'Print version'
complete -c bundle-seal -n "__fish_bundle_seal_needs_command" -f -a "keygen" -d 'Write a new key pair in minisign\'s format'
complete -c bundle-seal -n "__fish_bundle_seal_needs_command" -f -a "seal" -d 'Hash, judge and sign a bundle directory'
complete -c bundle-seal -n "__fish_bundle_seal_needs_command" -f -a "verify" -d 'Check a sealed bundle: signature, every file, the verdict'
complete -c bundle-seal -n "__fish_bundle_seal_needs_command" -f -a "pack" -d 'Write a sealed bundle as a reproducible tar archive'
complete -c bundle-seal -n "__fish_bundle_seal_needs_command" -f -a "unpack" -d 'Extract a bundle archive safely into an empty directory and verify it'
complete -c bundle-seal -n "__fish_bundle_seal_needs_command" -f -a "chain" -d 'The tamper-evident receipt chain (append, checkpoint, verify)'
complete -c bundle-seal -n "__fish_bundle_seal_needs_command" -f -a "timeline" -d 'Merge the time-stamped records of a bundle into one timeline'
complete -c bundle-seal -n "__fish_bundle_seal_needs_command" -f -a "sign" -d 'Sign any files (e.g. a packed archive) as `minisign -S` does'
complete -c bundle-seal -n "__fish_bundle_seal_needs_command" -f -a "verify-file" -d 'Check one file\'s minisign signature (FILE.minisig)'
complete -c bundle-seal -n "__fish_bundle_seal_needs_command" -f -a "decide" -d 'Record a signed go/no-go decision on a sealed bundle'
complete -c bundle-seal -n "__fish_bundle_seal_needs_command" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c bundle-seal -n "__fish_bundle_seal_using_subcommand keygen" -s p -l pub -d 'Where to write the public key' -r -F
complete -c bundle-seal -n "__fish_bundle_seal_using_subcommand keygen" -s s -l key -d 'Where to write the secret key (created with mode 0600)' -r -F
complete -c bundle-seal -n "__fish_bundle_seal_using_subcommand keygen" -l passphrase-file -d 'Encrypt the secret key with the passphrase on this file\'s first line (`-` reads it from stdin), as minisign does' -r -F
complete -c bundle-seal -n "__fish_bundle_seal_using_subcommand keygen" -l format -d 'Output: jsonl (JSON Lines records, the summary last: what other tools read) or a form for people' -r -f -a "jsonl\t'One JSON record per line (the default; what other tools read)'
text\t'A readable report for a person at a terminal'"
complete -c bundle-seal -n "__fish_bundle_seal_using_subcommand keygen" -s W -l unencrypted -d 'Store the secret key unencrypted (like `minisign -G -W`)'
complete -c bundle-seal -n "__fish_bundle_seal_using_subcommand keygen" -s f -l force -d 'Replace existing key files'
complete -c bundle-seal -n "__fish_bundle_seal_using_subcommand keygen" -s q -l quiet -d 'No progress bars or notes on stderr (errors and warnings are still printed; the records are the same)'
complete -c bundle-seal -n "__fish_bundle_seal_using_subcommand keygen" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c bundle-seal -n "__fish_bundle_seal_using_subcommand seal" -s s -l key -d 'The secret key (minisign format; refused when group/other can read it)' -r -F
complete -c bundle-seal -n "__fish_bundle_seal_using_subcommand seal" -l passphrase-file -d 'Passphrase of an encrypted key: this file\'s first line (`-`: stdin)' -r -F
complete -c bundle-seal -n "__fish_bundle_seal_using_subcommand seal" -l release -d 'The release this is evidence for, a semantic version (2.5.0-beta.1); signed into the manifest' -r
complete -c bundle-seal -n "__fish_bundle_seal_using_subcommand seal" -l commit -d 'The source commit (40 or 64 hex digits) [default: HEAD of the git work tree the bundle is in, if any]' -r
complete -c bundle-seal -n "__fish_bundle_seal_using_subcommand seal" -l format -d 'Output: jsonl (JSON Lines records, the summary last: what other tools read) or a form for people' -r -f -a "jsonl\t'One JSON record per line (the default; what other tools read)'
text\t'A readable report for a person at a terminal'"
complete -c bundle-seal -n "__fish_bundle_seal_using_subcommand seal" -s q -l quiet -d 'No progress bars or notes on stderr (errors and warnings are still printed; the records are the same)'
complete -c bundle-seal -n "__fish_bundle_seal_using_subcommand seal" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c bundle-seal -n "__fish_bundle_seal_using_subcommand verify" -s p -l pub -d 'The public key: a minisign .pub file, or its base64 (`RW...`)' -r
complete -c bundle-seal -n "__fish_bundle_seal_using_subcommand verify" -l release -d 'Fail unless the bundle is sealed for this release' -r
complete -c bundle-seal -n "__fish_bundle_seal_using_subcommand verify" -l commit -d 'Fail unless the bundle is sealed for this commit (7+ hex digits)' -r
complete -c bundle-seal -n "__fish_bundle_seal_using_subcommand verify" -l require-signoff -d 'Fail unless each role has an accepted go decision (see decide)' -r
complete -c bundle-seal -n "__fish_bundle_seal_using_subcommand verify" -l trusted-keys -d 'Public keys trusted to sign decisions: DIR/*.pub for any role, DIR/ROLE/*.pub for that role only' -r -F
complete -c bundle-seal -n "__fish_bundle_seal_using_subcommand verify" -l format -d 'Output: jsonl (JSON Lines records, the summary last: what other tools read) or a form for people' -r -f -a "jsonl\t'One JSON record per line (the default; what other tools read)'
text\t'A readable report for a person at a terminal'"
complete -c bundle-seal -n "__fish_bundle_seal_using_subcommand verify" -l require-pass -d 'Fail when the sealed release verdict is fail. This is the default; the flag is kept for scripts written before it was'
complete -c bundle-seal -n "__fish_bundle_seal_using_subcommand verify" -l integrity-only -d 'Check only the seal (signature, files); exit 0 for an intact bundle even when its release verdict is fail (forensics on old bundles)'
complete -c bundle-seal -n "__fish_bundle_seal_using_subcommand verify" -s q -l quiet -d 'No progress bars or notes on stderr (errors and warnings are still printed; the records are the same)'
complete -c bundle-seal -n "__fish_bundle_seal_using_subcommand verify" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c bundle-seal -n "__fish_bundle_seal_using_subcommand pack" -s o -l output -d 'The archive to write (replaced atomically); `-` is stdout (the records then go to stderr). `.tar.gz`/`.tgz` are gzip-compressed' -r -F
complete -c bundle-seal -n "__fish_bundle_seal_using_subcommand pack" -l format -d 'Output: jsonl (JSON Lines records, the summary last: what other tools read) or a form for people' -r -f -a "jsonl\t'One JSON record per line (the default; what other tools read)'
text\t'A readable report for a person at a terminal'"
complete -c bundle-seal -n "__fish_bundle_seal_using_subcommand pack" -s q -l quiet -d 'No progress bars or notes on stderr (errors and warnings are still printed; the records are the same)'
complete -c bundle-seal -n "__fish_bundle_seal_using_subcommand pack" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c bundle-seal -n "__fish_bundle_seal_using_subcommand unpack" -s C -l directory -d 'Where to extract (must be absent or empty)' -r -F
complete -c bundle-seal -n "__fish_bundle_seal_using_subcommand unpack" -s p -l pub -d 'The public key: a minisign .pub file, or its base64 (`RW...`)' -r
complete -c bundle-seal -n "__fish_bundle_seal_using_subcommand unpack" -l release -d 'Fail unless the bundle is sealed for this release' -r
complete -c bundle-seal -n "__fish_bundle_seal_using_subcommand unpack" -l commit -d 'Fail unless the bundle is sealed for this commit (7+ hex digits)' -r
complete -c bundle-seal -n "__fish_bundle_seal_using_subcommand unpack" -l require-signoff -d 'Fail unless each role has an accepted go decision (see decide)' -r
complete -c bundle-seal -n "__fish_bundle_seal_using_subcommand unpack" -l trusted-keys -d 'Public keys trusted to sign decisions: DIR/*.pub for any role, DIR/ROLE/*.pub for that role only' -r -F
complete -c bundle-seal -n "__fish_bundle_seal_using_subcommand unpack" -l format -d 'Output: jsonl (JSON Lines records, the summary last: what other tools read) or a form for people' -r -f -a "jsonl\t'One JSON record per line (the default; what other tools read)'
text\t'A readable report for a person at a terminal'"
complete -c bundle-seal -n "__fish_bundle_seal_using_subcommand unpack" -l require-pass -d 'Fail when the sealed release verdict is fail. This is the default; the flag is kept for scripts written before it was'
complete -c bundle-seal -n "__fish_bundle_seal_using_subcommand unpack" -l integrity-only -d 'Check only the seal (signature, files); exit 0 for an intact bundle even when its release verdict is fail (forensics on old bundles)'
complete -c bundle-seal -n "__fish_bundle_seal_using_subcommand unpack" -s q -l quiet -d 'No progress bars or notes on stderr (errors and warnings are still printed; the records are the same)'
complete -c bundle-seal -n "__fish_bundle_seal_using_subcommand unpack" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c bundle-seal -n "__fish_bundle_seal_using_subcommand chain; and not __fish_seen_subcommand_from append checkpoint verify help" -l format -d 'Output: jsonl (JSON Lines records, the summary last: what other tools read) or a form for people' -r -f -a "jsonl\t'One JSON record per line (the default; what other tools read)'
text\t'A readable report for a person at a terminal'"
complete -c bundle-seal -n "__fish_bundle_seal_using_subcommand chain; and not __fish_seen_subcommand_from append checkpoint verify help" -s q -l quiet -d 'No progress bars or notes on stderr (errors and warnings are still printed; the records are the same)'
complete -c bundle-seal -n "__fish_bundle_seal_using_subcommand chain; and not __fish_seen_subcommand_from append checkpoint verify help" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c bundle-seal -n "__fish_bundle_seal_using_subcommand chain; and not __fish_seen_subcommand_from append checkpoint verify help" -f -a "append" -d 'Append each JSON record from stdin (or --input) as a receipt'
complete -c bundle-seal -n "__fish_bundle_seal_using_subcommand chain; and not __fish_seen_subcommand_from append checkpoint verify help" -f -a "checkpoint" -d 'Sign the chain\'s head into a checkpoint file (detects truncation)'
complete -c bundle-seal -n "__fish_bundle_seal_using_subcommand chain; and not __fish_seen_subcommand_from append checkpoint verify help" -f -a "verify" -d 'Check the chain; name the first bad seq'
complete -c bundle-seal -n "__fish_bundle_seal_using_subcommand chain; and not __fish_seen_subcommand_from append checkpoint verify help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c bundle-seal -n "__fish_bundle_seal_using_subcommand chain; and __fish_seen_subcommand_from append" -s i -l input -d 'Records to append (JSON Lines; `-` is stdin)' -r
complete -c bundle-seal -n "__fish_bundle_seal_using_subcommand chain; and __fish_seen_subcommand_from append" -s s -l key -d 'Sign each receipt with this secret key' -r -F
complete -c bundle-seal -n "__fish_bundle_seal_using_subcommand chain; and __fish_seen_subcommand_from append" -l passphrase-file -d 'Passphrase of an encrypted key: this file\'s first line' -r -F
complete -c bundle-seal -n "__fish_bundle_seal_using_subcommand chain; and __fish_seen_subcommand_from append" -l format -d 'Output: jsonl (JSON Lines records, the summary last: what other tools read) or a form for people' -r -f -a "jsonl\t'One JSON record per line (the default; what other tools read)'
text\t'A readable report for a person at a terminal'"
complete -c bundle-seal -n "__fish_bundle_seal_using_subcommand chain; and __fish_seen_subcommand_from append" -s q -l quiet -d 'No progress bars or notes on stderr (errors and warnings are still printed; the records are the same)'
complete -c bundle-seal -n "__fish_bundle_seal_using_subcommand chain; and __fish_seen_subcommand_from append" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c bundle-seal -n "__fish_bundle_seal_using_subcommand chain; and __fish_seen_subcommand_from checkpoint" -s s -l key -d 'The secret key that signs the head' -r -F
complete -c bundle-seal -n "__fish_bundle_seal_using_subcommand chain; and __fish_seen_subcommand_from checkpoint" -l passphrase-file -d 'Passphrase of an encrypted key: this file\'s first line' -r -F
complete -c bundle-seal -n "__fish_bundle_seal_using_subcommand chain; and __fish_seen_subcommand_from checkpoint" -l checkpoint -d 'Where to write the checkpoint [default: LOG.checkpoint]' -r -F
complete -c bundle-seal -n "__fish_bundle_seal_using_subcommand chain; and __fish_seen_subcommand_from checkpoint" -l format -d 'Output: jsonl (JSON Lines records, the summary last: what other tools read) or a form for people' -r -f -a "jsonl\t'One JSON record per line (the default; what other tools read)'
text\t'A readable report for a person at a terminal'"
complete -c bundle-seal -n "__fish_bundle_seal_using_subcommand chain; and __fish_seen_subcommand_from checkpoint" -s q -l quiet -d 'No progress bars or notes on stderr (errors and warnings are still printed; the records are the same)'
complete -c bundle-seal -n "__fish_bundle_seal_using_subcommand chain; and __fish_seen_subcommand_from checkpoint" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c bundle-seal -n "__fish_bundle_seal_using_subcommand chain; and __fish_seen_subcommand_from verify" -s p -l pub -d 'Check receipt and checkpoint signatures with this public key; an unsigned receipt after a signed one is then a break, and receipts no verified signature covers fail `unauthenticated_receipts`' -r
complete -c bundle-seal -n "__fish_bundle_seal_using_subcommand chain; and __fish_seen_subcommand_from verify" -l checkpoint -d 'The checkpoint to hold the log to [default: LOG.checkpoint, if present]' -r -F
complete -c bundle-seal -n "__fish_bundle_seal_using_subcommand chain; and __fish_seen_subcommand_from verify" -l format -d 'Output: jsonl (JSON Lines records, the summary last: what other tools read) or a form for people' -r -f -a "jsonl\t'One JSON record per line (the default; what other tools read)'
text\t'A readable report for a person at a terminal'"
complete -c bundle-seal -n "__fish_bundle_seal_using_subcommand chain; and __fish_seen_subcommand_from verify" -l require-signed -d 'Fail on any receipt without a signature'
complete -c bundle-seal -n "__fish_bundle_seal_using_subcommand chain; and __fish_seen_subcommand_from verify" -s q -l quiet -d 'No progress bars or notes on stderr (errors and warnings are still printed; the records are the same)'
complete -c bundle-seal -n "__fish_bundle_seal_using_subcommand chain; and __fish_seen_subcommand_from verify" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c bundle-seal -n "__fish_bundle_seal_using_subcommand chain; and __fish_seen_subcommand_from help" -f -a "append" -d 'Append each JSON record from stdin (or --input) as a receipt'
complete -c bundle-seal -n "__fish_bundle_seal_using_subcommand chain; and __fish_seen_subcommand_from help" -f -a "checkpoint" -d 'Sign the chain\'s head into a checkpoint file (detects truncation)'
complete -c bundle-seal -n "__fish_bundle_seal_using_subcommand chain; and __fish_seen_subcommand_from help" -f -a "verify" -d 'Check the chain; name the first bad seq'
complete -c bundle-seal -n "__fish_bundle_seal_using_subcommand chain; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c bundle-seal -n "__fish_bundle_seal_using_subcommand timeline" -l require-sections -d 'Sections (files or directories, by path, name or name without extension) that must be present with at least one record read (an empty or non-JSON-Lines file is `empty`). Example: app,proxy,metrics' -r
complete -c bundle-seal -n "__fish_bundle_seal_using_subcommand timeline" -l time-field -d 'Top-level field holding a record\'s time (repeat; first present wins) [default: ts, timestamp, time, @timestamp, at, started_at]' -r
complete -c bundle-seal -n "__fish_bundle_seal_using_subcommand timeline" -l window -d 'Count critical records only from this long before --as-of (7d, 48h)' -r
complete -c bundle-seal -n "__fish_bundle_seal_using_subcommand timeline" -l max-critical -d 'Fail when more critical records than this fall in the window (or in the whole timeline without --window)' -r
complete -c bundle-seal -n "__fish_bundle_seal_using_subcommand timeline" -l as-of -d 'The end of the window, RFC 3339 [default: now]' -r
complete -c bundle-seal -n "__fish_bundle_seal_using_subcommand timeline" -l severity-field -d 'Field holding a record\'s severity: a top-level name or a JSON Pointer. critical, crit, emerg, emergency, alert, fatal, panic and p1 (any case, padding ignored) are critical; with --max-critical at least one record must have the field. Example: /labels/severity' -r
complete -c bundle-seal -n "__fish_bundle_seal_using_subcommand timeline" -l buffer-size -d 'Memory for events before sorted runs spill to $TMPDIR (like `sort -S`): bytes, or with K, M, G (KiB, MiB, GiB)' -r
complete -c bundle-seal -n "__fish_bundle_seal_using_subcommand timeline" -l format -d 'Output: jsonl (JSON Lines records, the summary last: what other tools read) or a form for people' -r -f -a "jsonl\t'One JSON record per line (the default; what other tools read)'
text\t'A readable report for a person at a terminal'"
complete -c bundle-seal -n "__fish_bundle_seal_using_subcommand timeline" -l skip-invalid -d 'Report malformed lines as `invalid` records and go on'
complete -c bundle-seal -n "__fish_bundle_seal_using_subcommand timeline" -s q -l quiet -d 'No progress bars or notes on stderr (errors and warnings are still printed; the records are the same)'
complete -c bundle-seal -n "__fish_bundle_seal_using_subcommand timeline" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c bundle-seal -n "__fish_bundle_seal_using_subcommand sign" -s s -l key -d 'The secret key (refused when group/other can read it)' -r -F
complete -c bundle-seal -n "__fish_bundle_seal_using_subcommand sign" -l passphrase-file -d 'Passphrase of an encrypted key: this file\'s first line (`-`: stdin)' -r -F
complete -c bundle-seal -n "__fish_bundle_seal_using_subcommand sign" -s t -l trusted-comment -d 'The signed (trusted) comment [default: timestamp:<unix>\\tfile:<name>\\thashed]' -r
complete -c bundle-seal -n "__fish_bundle_seal_using_subcommand sign" -l format -d 'Output: jsonl (JSON Lines records, the summary last: what other tools read) or a form for people' -r -f -a "jsonl\t'One JSON record per line (the default; what other tools read)'
text\t'A readable report for a person at a terminal'"
complete -c bundle-seal -n "__fish_bundle_seal_using_subcommand sign" -s q -l quiet -d 'No progress bars or notes on stderr (errors and warnings are still printed; the records are the same)'
complete -c bundle-seal -n "__fish_bundle_seal_using_subcommand sign" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c bundle-seal -n "__fish_bundle_seal_using_subcommand verify-file" -s p -l pub -d 'The public key: a minisign .pub file, or its base64 (`RW...`)' -r
complete -c bundle-seal -n "__fish_bundle_seal_using_subcommand verify-file" -s x -l sig -d 'The signature [default: FILE.minisig]' -r -F
complete -c bundle-seal -n "__fish_bundle_seal_using_subcommand verify-file" -l format -d 'Output: jsonl (JSON Lines records, the summary last: what other tools read) or a form for people' -r -f -a "jsonl\t'One JSON record per line (the default; what other tools read)'
text\t'A readable report for a person at a terminal'"
complete -c bundle-seal -n "__fish_bundle_seal_using_subcommand verify-file" -s q -l quiet -d 'No progress bars or notes on stderr (errors and warnings are still printed; the records are the same)'
complete -c bundle-seal -n "__fish_bundle_seal_using_subcommand verify-file" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c bundle-seal -n "__fish_bundle_seal_using_subcommand decide" -l decision -d 'The decision' -r -f -a "go\t''
no-go\t''"
complete -c bundle-seal -n "__fish_bundle_seal_using_subcommand decide" -l by -d 'Who decides (a name or an e-mail address)' -r
complete -c bundle-seal -n "__fish_bundle_seal_using_subcommand decide" -l role -d 'The role decided for (engineering, security, operations...)' -r
complete -c bundle-seal -n "__fish_bundle_seal_using_subcommand decide" -l note -d 'A note kept with the decision' -r
complete -c bundle-seal -n "__fish_bundle_seal_using_subcommand decide" -l override -d 'Record a go on a failed release verdict, saying why; shown by every later verify' -r
complete -c bundle-seal -n "__fish_bundle_seal_using_subcommand decide" -s s -l key -d 'The decider\'s secret key; each receipt is signed with it' -r -F
complete -c bundle-seal -n "__fish_bundle_seal_using_subcommand decide" -l passphrase-file -d 'Passphrase of an encrypted key: this file\'s first line (`-`: stdin)' -r -F
complete -c bundle-seal -n "__fish_bundle_seal_using_subcommand decide" -s p -l pub -d 'Also check the manifest\'s signature with this public key' -r
complete -c bundle-seal -n "__fish_bundle_seal_using_subcommand decide" -l format -d 'Output: jsonl (JSON Lines records, the summary last: what other tools read) or a form for people' -r -f -a "jsonl\t'One JSON record per line (the default; what other tools read)'
text\t'A readable report for a person at a terminal'"
complete -c bundle-seal -n "__fish_bundle_seal_using_subcommand decide" -s q -l quiet -d 'No progress bars or notes on stderr (errors and warnings are still printed; the records are the same)'
complete -c bundle-seal -n "__fish_bundle_seal_using_subcommand decide" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c bundle-seal -n "__fish_bundle_seal_using_subcommand help; and not __fish_seen_subcommand_from keygen seal verify pack unpack chain timeline sign verify-file decide help" -f -a "keygen" -d 'Write a new key pair in minisign\'s format'
complete -c bundle-seal -n "__fish_bundle_seal_using_subcommand help; and not __fish_seen_subcommand_from keygen seal verify pack unpack chain timeline sign verify-file decide help" -f -a "seal" -d 'Hash, judge and sign a bundle directory'
complete -c bundle-seal -n "__fish_bundle_seal_using_subcommand help; and not __fish_seen_subcommand_from keygen seal verify pack unpack chain timeline sign verify-file decide help" -f -a "verify" -d 'Check a sealed bundle: signature, every file, the verdict'
complete -c bundle-seal -n "__fish_bundle_seal_using_subcommand help; and not __fish_seen_subcommand_from keygen seal verify pack unpack chain timeline sign verify-file decide help" -f -a "pack" -d 'Write a sealed bundle as a reproducible tar archive'
complete -c bundle-seal -n "__fish_bundle_seal_using_subcommand help; and not __fish_seen_subcommand_from keygen seal verify pack unpack chain timeline sign verify-file decide help" -f -a "unpack" -d 'Extract a bundle archive safely into an empty directory and verify it'
complete -c bundle-seal -n "__fish_bundle_seal_using_subcommand help; and not __fish_seen_subcommand_from keygen seal verify pack unpack chain timeline sign verify-file decide help" -f -a "chain" -d 'The tamper-evident receipt chain (append, checkpoint, verify)'
complete -c bundle-seal -n "__fish_bundle_seal_using_subcommand help; and not __fish_seen_subcommand_from keygen seal verify pack unpack chain timeline sign verify-file decide help" -f -a "timeline" -d 'Merge the time-stamped records of a bundle into one timeline'
complete -c bundle-seal -n "__fish_bundle_seal_using_subcommand help; and not __fish_seen_subcommand_from keygen seal verify pack unpack chain timeline sign verify-file decide help" -f -a "sign" -d 'Sign any files (e.g. a packed archive) as `minisign -S` does'
complete -c bundle-seal -n "__fish_bundle_seal_using_subcommand help; and not __fish_seen_subcommand_from keygen seal verify pack unpack chain timeline sign verify-file decide help" -f -a "verify-file" -d 'Check one file\'s minisign signature (FILE.minisig)'
complete -c bundle-seal -n "__fish_bundle_seal_using_subcommand help; and not __fish_seen_subcommand_from keygen seal verify pack unpack chain timeline sign verify-file decide help" -f -a "decide" -d 'Record a signed go/no-go decision on a sealed bundle'
complete -c bundle-seal -n "__fish_bundle_seal_using_subcommand help; and not __fish_seen_subcommand_from keygen seal verify pack unpack chain timeline sign verify-file decide help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c bundle-seal -n "__fish_bundle_seal_using_subcommand help; and __fish_seen_subcommand_from chain" -f -a "append" -d 'Append each JSON record from stdin (or --input) as a receipt'
complete -c bundle-seal -n "__fish_bundle_seal_using_subcommand help; and __fish_seen_subcommand_from chain" -f -a "checkpoint" -d 'Sign the chain\'s head into a checkpoint file (detects truncation)'
complete -c bundle-seal -n "__fish_bundle_seal_using_subcommand help; and __fish_seen_subcommand_from chain" -f -a "verify" -d 'Check the chain; name the first bad seq'
