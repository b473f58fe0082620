# Named targets users run (`just release-gates`). Each is a thin call into
# scripts/ so the same thing works without `just` installed.

default:
    @just --list

# Every gate against the bundled demo service; writes a sealed evidence bundle.
release-gates:
    scripts/release-gates.sh

# The security part of the gates: PII in logs and dependency drift.
security-hardening:
    scripts/release-gates.sh --only security

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
