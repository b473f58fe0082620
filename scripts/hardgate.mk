# hardgate's named targets for make, so `make release-gates` works where `just` is not installed.
# The top-level Makefile includes this file; another project's Makefile can include it too:
#
#   include path/to/hardgate/scripts/hardgate.mk
#   CONFIG = hardgate.conf        # the service to judge (see README), else the demo service
#
# Targets (the seeds' names):
#   release-gates        every gate, every negative control, sealed and verified (exit 0 = pass)
#   go-no-go             the decision from the bundle release-gates made: GO only for a complete,
#                        controlled run from a clean tree that verifies and passed
#   beta-check           every gate and control in the short profile (what CI runs)
#   security-hardening   privacy (pii-scrub) and dependencies (sbom-diff)
#   restore-drill        durability (backup-drill)
#   determinism          determinism (replay-diff)
#   soak                 sustained load (soak-load; short unless PROFILE=full)
#   seal                 seal EVIDENCE with KEY and verify it with PUB
#   hardening PHASE=engine|security|load|beta
#   install / uninstall  the tools (release build, stripped), man pages, shell completions
#
# Variables: PROFILE (short, full), CONFIG, OUT, KEY, PUB, RELEASE (the version the bundle is
# sealed for, and go-no-go checks), CONTROLS=no (skip the known-bad cases: the verdict is then
# fail, an uncontrolled run is never a release), SIGNOFF=engineering,security and TRUSTED_KEYS=dir
# (go-no-go also needs each role's signed go: bundle-seal decide), PREFIX (/usr/local),
# DESTDIR, CARGO.

# Where hardgate is: this file is scripts/hardgate.mk inside it; where cargo builds it.
HARDGATE := $(abspath $(dir $(lastword $(MAKEFILE_LIST)))..)
HARDGATE_TARGET := $(if $(CARGO_TARGET_DIR),$(if $(filter /%,$(CARGO_TARGET_DIR)),$(CARGO_TARGET_DIR),$(HARDGATE)/$(CARGO_TARGET_DIR)),$(HARDGATE)/target)

PROFILE ?= short
CONFIG ?=
OUT ?=
KEY ?=
PUB ?=
CONTROLS ?= yes
PHASE ?=
RELEASE ?=
SIGNOFF ?=
TRUSTED_KEYS ?=
EVIDENCE ?= $(CURDIR)/out/release-gates/evidence
PREFIX ?= /usr/local
DESTDIR ?=
CARGO ?= cargo
STRIP ?= strip

# The seeds' hardening phases, as gates of the main job.
HARDGATE_PHASE_engine := start-stop,durability,determinism
HARDGATE_PHASE_security := privacy,dependencies
HARDGATE_PHASE_load := soak
HARDGATE_PHASE_beta := all

# The main job with this make's variables; $(1) = the gates, $(2) = the default output directory.
hardgate_run = OUT="$(if $(OUT),$(OUT),$(CURDIR)/$(2))" $(if $(KEY),KEY="$(KEY)") $(if $(PUB),PUB="$(PUB)") \
	$(if $(RELEASE),RELEASE="$(RELEASE)") \
	"$(HARDGATE)/scripts/release-gates.sh" --only $(1) --profile $(PROFILE) \
	$(if $(CONFIG),--config "$(CONFIG)") $(if $(filter no,$(CONTROLS)),--no-controls)

.PHONY: release-gates go-no-go beta-check security-hardening restore-drill determinism soak \
	seal hardening install uninstall

release-gates:
	$(call hardgate_run,all,out/release-gates)

go-no-go:
	OUT="$(if $(OUT),$(OUT),$(CURDIR)/out/release-gates)" $(if $(PUB),PUB="$(PUB)") \
	$(if $(RELEASE),RELEASE="$(RELEASE)") \
	$(if $(SIGNOFF),SIGNOFF="$(SIGNOFF)" TRUSTED_KEYS="$(TRUSTED_KEYS)") \
	"$(HARDGATE)/scripts/release-gates.sh" --go-no-go

beta-check:
	$(MAKE) --no-print-directory release-gates PROFILE=short

security-hardening:
	$(call hardgate_run,$(HARDGATE_PHASE_security),out/security-hardening)

restore-drill:
	$(call hardgate_run,durability,out/restore-drill)

determinism:
	$(call hardgate_run,determinism,out/determinism)

soak:
	$(call hardgate_run,soak,out/soak)

# Seal an evidence directory assembled by other means (your own gates' JSON Lines), then verify.
seal:
	@test -n "$(KEY)" || { echo "make seal: set KEY=release.key and PUB=release.pub" >&2; exit 2; }
	@test -n "$(PUB)" || { echo "make seal: set PUB=release.pub" >&2; exit 2; }
	cd "$(HARDGATE)" && $(CARGO) build --release --locked -q -p bundle-seal
	"$(HARDGATE_TARGET)/release/bundle-seal" seal "$(EVIDENCE)" --key "$(KEY)" --format text
	"$(HARDGATE_TARGET)/release/bundle-seal" verify "$(EVIDENCE)" --pub "$(PUB)" --require-pass --format text

hardening:
	@case "$(PHASE)" in engine|security|load|beta) ;; \
	  *) echo "make hardening: PHASE must be engine, security, load or beta" >&2; exit 2 ;; esac
	$(call hardgate_run,$(HARDGATE_PHASE_$(PHASE)),out/hardening-$(PHASE))

# --- install ------------------------------------------------------------------------------------
# The tools are the crates under tools/; each one's man pages (man/NAME.1, man/NAME-SUB.1) and
# completions (man/completions/) are generated from its clap definition and checked in.
HARDGATE_TOOLS := $(notdir $(wildcard $(HARDGATE)/tools/*))
BINDIR := $(DESTDIR)$(PREFIX)/bin
MAN1DIR := $(DESTDIR)$(PREFIX)/share/man/man1
BASHCOMPDIR := $(DESTDIR)$(PREFIX)/share/bash-completion/completions
ZSHCOMPDIR := $(DESTDIR)$(PREFIX)/share/zsh/site-functions
FISHCOMPDIR := $(DESTDIR)$(PREFIX)/share/fish/vendor_completions.d

install:
	# The whole workspace, as the main job builds it (one set of features: no rebuild between them).
	cd "$(HARDGATE)" && $(CARGO) build --release --locked --workspace
	install -d "$(BINDIR)" "$(MAN1DIR)" "$(BASHCOMPDIR)" "$(ZSHCOMPDIR)" "$(FISHCOMPDIR)"
	for t in $(HARDGATE_TOOLS); do \
	  install -m 0755 "$(HARDGATE_TARGET)/release/$$t" "$(BINDIR)/$$t" && $(STRIP) "$(BINDIR)/$$t" || exit 1; \
	  for p in "$(HARDGATE)/man/$$t.1" "$(HARDGATE)/man/$$t"-*.1; do \
	    [ ! -f "$$p" ] || install -m 0644 "$$p" "$(MAN1DIR)/" || exit 1; \
	  done; \
	  c="$(HARDGATE)/man/completions"; \
	  [ ! -f "$$c/$$t.bash" ] || install -m 0644 "$$c/$$t.bash" "$(BASHCOMPDIR)/$$t" || exit 1; \
	  [ ! -f "$$c/_$$t" ] || install -m 0644 "$$c/_$$t" "$(ZSHCOMPDIR)/_$$t" || exit 1; \
	  [ ! -f "$$c/$$t.fish" ] || install -m 0644 "$$c/$$t.fish" "$(FISHCOMPDIR)/$$t.fish" || exit 1; \
	done
	@echo "installed $(HARDGATE_TOOLS) under $(DESTDIR)$(PREFIX)"

uninstall:
	for t in $(HARDGATE_TOOLS); do \
	  rm -f "$(BINDIR)/$$t" "$(MAN1DIR)/$$t.1" "$(MAN1DIR)/$$t"-*.1 "$(BASHCOMPDIR)/$$t" \
	    "$(ZSHCOMPDIR)/_$$t" "$(FISHCOMPDIR)/$$t.fish"; \
	done
