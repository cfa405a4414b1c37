# Plenary. Every Go build, vet and test needs the sqlite_fts5 tag.
GO      ?= go
TAGS    := -tags sqlite_fts5
BIN     := bin/plenary

.PHONY: run build test vet deps clean bench

## run: build and serve Plenary on plenary.db (embedded SQLite); the log prints the setup link on first start
run: build
	./$(BIN) serve

## build: compile the single binary to bin/plenary
build:
	$(GO) build $(TAGS) -o $(BIN) .

## test: install what the tests need, then gofmt check, vet and every test with the race detector
test: deps
	@unformatted=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go' -not -path './node_modules/*')); \
	  if [ -n "$$unformatted" ]; then echo "gofmt needed: $$unformatted"; exit 1; fi
	$(GO) vet $(TAGS) ./...
	$(GO) test $(TAGS) -race -count=1 ./...

## deps: Debian's Chromium and the sqlite3 shell for the tests, axe-core from npm; each only when missing
deps:
	@if ! command -v chromium >/dev/null 2>&1 || ! command -v sqlite3 >/dev/null 2>&1; then \
	  echo "Installing chromium and sqlite3 from Debian"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium sqlite3 >/dev/null; \
	fi
	@if [ ! -f node_modules/axe-core/axe.min.js ]; then echo "Installing axe-core from npm"; npm ci --no-audit --no-fund --silent; fi

## bench: measure votes, reads and memory against raw SQLite and minimal gin ceilings (flags: go run ./bench -h; pass them as BENCH_FLAGS="...")
bench:
	$(GO) run $(TAGS) ./bench $(BENCH_FLAGS)

## chaos: SIGKILL the real server 40 times under votes and submissions, then check nothing acknowledged is lost or half-written (CHAOS_FLAGS="-chaos.seed=N -chaos.kills=N -chaos.minutes=N -chaos.voters=N")
.PHONY: chaos
chaos:
	$(GO) test $(TAGS) -count=1 -timeout 30m -run '^TestChaos$$' -v ./e2e -chaos.kills=40 -chaos.minutes=2 $(CHAOS_FLAGS)

clean:
	rm -rf bin e2e/screenshots
