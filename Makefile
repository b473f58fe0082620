# make release-gates, make go-no-go, make hardening PHASE=engine, make install PREFIX=/usr/local:
# the targets live in scripts/hardgate.mk (which other projects can include too); `just` has the
# same names. `make help` lists them.
.DEFAULT_GOAL := help
include scripts/hardgate.mk

.PHONY: help test e2e man

help:
	@sed -n '/^# Targets/,/^# Variables/p' scripts/hardgate.mk | sed -e 's/^# \{0,1\}//' -e '$$d'
	@echo "  test                 cargo test --workspace (the README's test command)"
	@echo "  e2e                  scripts/e2e.sh (the cross-tool check CI runs)"
	@echo "  man                  regenerate man/ from the clap definitions"

test:
	$(CARGO) test --workspace

e2e:
	scripts/e2e.sh

man:
	$(CARGO) run -q -p xtask -- man
