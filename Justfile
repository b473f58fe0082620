# Named targets users run (`just release-gates`). The same names work with plain `make`: each
# recipe here calls the make target of that name (scripts/hardgate.mk holds the one definition).
# Variables as for make: `just release-gates PROFILE=full`, `just hardening engine`.

default:
    @just --list

# Every gate and its negative control, sealed and verified (exit 0 = the release may ship).
release-gates *VARS:
    make --no-print-directory release-gates {{VARS}}

# The decision from the bundle release-gates made: verify, verdict table, GO / NO GO.
go-no-go *VARS:
    make --no-print-directory go-no-go {{VARS}}

# Every gate and control in the short profile (what CI runs).
beta-check *VARS:
    make --no-print-directory beta-check {{VARS}}

# Privacy (pii-scrub) and dependencies (sbom-diff).
security-hardening *VARS:
    make --no-print-directory security-hardening {{VARS}}

# Durability (backup-drill).
restore-drill *VARS:
    make --no-print-directory restore-drill {{VARS}}

# Determinism (replay-diff).
determinism *VARS:
    make --no-print-directory determinism {{VARS}}

# Sustained load (soak-load).
soak *VARS:
    make --no-print-directory soak {{VARS}}

# Seal an evidence directory: just seal EVIDENCE=dir KEY=release.key PUB=release.pub
seal *VARS:
    make --no-print-directory seal {{VARS}}

# A hardening phase: engine, security, load or beta.
hardening phase *VARS:
    make --no-print-directory hardening PHASE={{phase}} {{VARS}}

# The tools, their man pages and completions under PREFIX (default /usr/local).
install *VARS:
    make --no-print-directory install {{VARS}}

uninstall *VARS:
    make --no-print-directory uninstall {{VARS}}

# The test suite (the same command as in the README and CI).
test:
    cargo test --workspace

# Regenerate man pages and shell completions from the clap definitions.
man:
    cargo run -p xtask -- man

# Run one tool's benchmark against its peer tool, e.g. `just bench replay-diff`.
bench tool:
    scripts/bench/{{tool}}.sh

ci:
    bash .ci/run
