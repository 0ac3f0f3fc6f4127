# Dialogo. Targets:
#   make deps    install PostgreSQL, pgvector, npm and Chromium if missing
#                (uses sudo unless root)
#   make assets  install the front-end packages (npm ci) and copy what is
#                served into web/static/vendor, which the binary embeds
#   make build   build bin/dialogo
#   make run     load the demo data and serve, on a private PostgreSQL cluster
#   make test    vet, then run every test against a private PostgreSQL cluster
#                (PKGS=./crm/... for some packages, TESTFLAGS=-race for more flags)
#   make bench   run the Go benchmarks against a private PostgreSQL cluster
#   make clean   remove what the targets above made (not the run's data)
# The shell logic lives in scripts/.

SHELL := /bin/bash
.DEFAULT_GOAL := build

# Go is often installed in /usr/local/go without being on PATH (under sudo, in CI).
ifeq ($(shell command -v go 2>/dev/null),)
export PATH := /usr/local/go/bin:$(PATH)
endif
GO ?= go

PKGS ?= ./...
TEST_TIMEOUT ?= 15m
TESTFLAGS ?=
BENCH ?= .

.PHONY: deps assets build run test bench clean

deps:
	scripts/install-deps.sh

assets:
	scripts/build-assets.sh

build: assets
	$(GO) build -o bin/dialogo ./cmd/dialogo

# With no DATABASE_URL, both subcommands run their own private cluster.
run: deps build
	./bin/dialogo demo && exec ./bin/dialogo serve

test: deps assets
	$(GO) vet $(PKGS)
	scripts/with-testpg.sh $(GO) test -timeout $(TEST_TIMEOUT) $(TESTFLAGS) $(PKGS)

bench: deps assets
	scripts/with-testpg.sh $(GO) test -run '^$$' -bench '$(BENCH)' -benchmem -timeout 60m $(PKGS)

# The test cluster is stopped before its folder goes (and, as root, the folder
# it may be kept in under /var/lib/dialogo with it).
clean:
	if [ -d .tmp/testpg ]; then $(GO) run ./internal/pgcluster/cmd/testpg remove .tmp/testpg; fi
	rm -rf bin .tmp web/static/node_modules
	find web/static/vendor -mindepth 1 -maxdepth 1 ! -name .gitkeep -exec rm -rf {} +
