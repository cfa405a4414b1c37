# Plenary. Every Go build, vet and test needs the sqlite_fts5 tag.
GO      ?= go
TAGS    := -tags sqlite_fts5
BIN     := bin/plenary

.PHONY: run build test vet deps clean bench fuzz fuzz-brief vuln postgres test-postgres test-postgres-only

# The packages whose tests run on PostgreSQL too (PLENARY_TEST_BACKEND=postgres):
# each test gets a database of its own, copied from a template.
PG_PACKAGES := . ./internal/db/... ./internal/demo ./governance ./library ./server
# ./e2e runs on PostgreSQL too: the browser journeys, and the crash test
# with two server processes on one database (e2e/chaos_test.go); all but
# these, which touch no database of the backend's (the browser harness's
# own test, and the backup test, which is about SQLite's file).
PG_E2E_SKIP := ^(TestHarness|TestBackupUnderLoad)$$

# Every fuzz target, as package:Target; a new target is added here once.
# go test alone replays each target's seeds and testdata/fuzz corpus.
FUZZ_TARGETS := \
	./internal/markdown:FuzzHTML \
	./library:FuzzSearchText \
	./library:FuzzSearchQuery \
	./library:FuzzDecode \
	./library:FuzzImportJSON \
	./library:FuzzImportCSV \
	./library:FuzzImportCSL \
	./server:FuzzForms
FUZZTIME  ?= 1m
# make test fuzzes by count, not time: with a duration, Go 1.26's fuzzing
# coordinator can fail a healthy target with "context deadline exceeded"
# as the time runs out (golang/go#75804, fixed in Go 1.27); a count has no
# deadline to race. `make fuzz` keeps a duration for long runs: if it ends
# that way with no failing input written under testdata/fuzz, run it again.
FUZZBRIEF ?= 2000x

# Mailpit, a real SMTP server with an HTTP API, pinned: the tests that send
# mail start it on free loopback ports (internal/mailpit).
MAILPIT         := github.com/axllent/mailpit
MAILPIT_VERSION := v1.33.1

# govulncheck, pinned, from the module proxy into bin/ (go run would hide
# its exit status: 3 means vulnerabilities found); its database is vuln.go.dev
# when that answers, else the copy the proxy serves as the module
# golang.org/x/vulndb (the same OSV entries, which govulncheck indexes
# itself when given their directory).
GOVULNCHECK := golang.org/x/vuln/cmd/govulncheck@v1.9.0
VULNDB      ?= golang.org/x/vulndb@latest

## run: build and serve Plenary on plenary.db (embedded SQLite); the log prints the setup link on first start
run: build
	./$(BIN) serve

## build: compile the single binary to bin/plenary
build:
	$(GO) build $(TAGS) -o $(BIN) .

## test: install what the tests need, then gofmt check, vet and every test with the race detector, on SQLite and (PG_PACKAGES, and ./e2e but PG_E2E_SKIP) on PostgreSQL
test: deps
	@unformatted=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go' -not -path './node_modules/*')); \
	  if [ -n "$$unformatted" ]; then echo "gofmt needed: $$unformatted"; exit 1; fi
	$(GO) vet $(TAGS) ./...
	$(GO) test $(TAGS) -race -count=1 -timeout 30m ./...
	$(MAKE) --no-print-directory test-postgres-only
	$(MAKE) --no-print-directory fuzz-brief
	$(MAKE) --no-print-directory vuln

## test-postgres: the PG_PACKAGES tests and the end-to-end tests (but PG_E2E_SKIP) on PostgreSQL (installed and started by make postgres when missing or stopped)
test-postgres: postgres test-postgres-only

test-postgres-only:
	PLENARY_TEST_BACKEND=postgres $(GO) test $(TAGS) -race -count=1 -timeout 30m $(PG_PACKAGES)
	PLENARY_TEST_BACKEND=postgres $(GO) test $(TAGS) -race -count=1 -timeout 30m -skip '$(PG_E2E_SKIP)' ./e2e

## postgres: a PostgreSQL server on 127.0.0.1:5432 for the tests: installed from Debian and started if need be
postgres:
	@./.ci/postgres

## deps: Debian's Chromium, the sqlite3 shell and PostgreSQL for the tests, axe-core from npm, Mailpit (the tests' SMTP server) into .tools/; each only when missing
deps: postgres
	@if ! $(GO) version -m .tools/mailpit 2>/dev/null | grep -q 'mod[[:space:]]*$(MAILPIT)[[:space:]]*$(MAILPIT_VERSION)'; then \
	  echo "Installing Mailpit $(MAILPIT_VERSION) into .tools/"; \
	  GOBIN=$(CURDIR)/.tools $(GO) install $(MAILPIT)@$(MAILPIT_VERSION) || exit 1; \
	fi
	@if ! command -v chromium >/dev/null 2>&1 || ! command -v sqlite3 >/dev/null 2>&1; then \
	  echo "Installing chromium and sqlite3 from Debian"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium sqlite3 >/dev/null; \
	fi
	@if [ ! -f node_modules/axe-core/axe.min.js ]; then echo "Installing axe-core from npm"; npm ci --no-audit --no-fund --silent; fi

## bench: measure votes, reads and memory against raw-insert and minimal gin ceilings (flags: go run ./bench -h; pass them as BENCH_FLAGS="...");
## BACKEND=postgres runs it on a fresh PostgreSQL database served by two Plenary processes, its ceiling raw PostgreSQL inserts
BACKEND ?= sqlite
bench:
	$(GO) run $(TAGS) ./bench -backend $(BACKEND) $(BENCH_FLAGS)

## chaos: SIGKILL the real server 40 times under votes and submissions, on SQLite (one process) and on PostgreSQL (two processes on one database, killed in turn), then check nothing acknowledged is lost or half-written (CHAOS_BACKENDS="sqlite postgres", CHAOS_FLAGS="-chaos.seed=N -chaos.kills=N -chaos.minutes=N -chaos.voters=N")
.PHONY: chaos
CHAOS_BACKENDS ?= sqlite postgres
chaos:
	@for b in $(CHAOS_BACKENDS); do \
	  if [ "$$b" = postgres ]; then ./.ci/postgres || exit 1; fi; \
	  echo "chaos on $$b"; \
	  PLENARY_TEST_BACKEND=$$b $(GO) test $(TAGS) -count=1 -timeout 30m -run '^TestChaos$$' -v ./e2e -chaos.kills=40 -chaos.minutes=2 $(CHAOS_FLAGS) || exit 1; \
	done

## fuzz: run every fuzz target for FUZZTIME each (default 1m); a failing input is saved under the package's testdata/fuzz
fuzz:
	@for t in $(FUZZ_TARGETS); do \
	  pkg=$${t%%:*}; name=$${t##*:}; echo "fuzz $$name ($$pkg) for $(FUZZTIME)"; \
	  $(GO) test $(TAGS) -run '^$$' -fuzz "^$$name\$$" -fuzztime $(FUZZTIME) $$pkg || exit 1; \
	done

## fuzz-brief: every fuzz target for FUZZBRIEF each (default 2000 inputs), as make test runs them
fuzz-brief:
	@$(MAKE) --no-print-directory fuzz FUZZTIME=$(FUZZBRIEF)

## vuln: govulncheck the code: fails when it calls a vulnerable module; the Go toolchain's own only warn, unless VULN_STDLIB=fail
vuln:
	@if curl -fsS -m 10 -o /dev/null https://vuln.go.dev/index/db.json.gz 2>/dev/null; then \
	  db=https://vuln.go.dev; \
	else \
	  tmp=$$(mktemp -d); \
	  dir=$$(cd $$tmp && $(GO) mod download -json $(VULNDB) | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$$/\1/p'); \
	  rmdir $$tmp; \
	  if [ ! -d "$$dir/data/osv" ]; then \
	    echo "vuln: neither vuln.go.dev nor $(VULNDB) on the module proxy could be reached; nothing was checked"; exit 1; \
	  fi; \
	  db=file://$$dir/data/osv; \
	  echo "vuln: vuln.go.dev cannot be reached; using $${dir##*/} from the module proxy"; \
	fi; \
	GOBIN=$(CURDIR)/bin $(GO) install $(GOVULNCHECK) || exit 1; \
	out=$$(bin/govulncheck -db $$db $(TAGS) ./... 2>&1); rc=$$?; echo "$$out"; \
	if [ $$rc -eq 3 ] && ! echo "$$out" | sed -n '/^=== Symbol Results ===/,/^=== /p' | grep -q '^  Module: '; then \
	  echo "vuln: WARNING: only the Go toolchain ($$($(GO) env GOVERSION)) is affected; upgrade Go to the version named above"; \
	  [ "$(VULN_STDLIB)" != fail ]; \
	else exit $$rc; fi

clean:
	rm -rf bin e2e/screenshots
