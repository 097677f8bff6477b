# PatchPanda: `make run` starts the relay on the embedded default,
# `make test` runs every test (PostgreSQL, Redis and SQS ones when their
# variables are set; see docs/testing.md).

GO       ?= go
VERSION  ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS  := -X github.com/patchpanda/patchpanda/internal/relay.Version=$(VERSION) \
            -X github.com/patchpanda/patchpanda/internal/cli.Version=$(VERSION)

.PHONY: run test lint migrate bench build build-cloud fuzz clean release-check actionlint gh-extension

run:
	$(GO) run -ldflags "$(LDFLAGS)" ./cmd/relay serve

test:
	$(GO) test -count=1 ./...

lint:
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...
	$(GO) vet -tags cloud ./internal/secrets ./internal/coveragesvc
	$(GO) run honnef.co/go/tools/cmd/staticcheck@v0.8.2 ./...

migrate:
	$(GO) run ./cmd/relay migrate

# Go benchmarks (`ppctl version`'s start-up among them, against a Go
# hello-world's: x-floor), then the intake load test (relay on SQLite, on PostgreSQL
# when PATCHPANDA_TEST_POSTGRES_URL is set, and a bare handler), then the
# coverage parsers against lcov --summary and go tool cover -func (and on a
# real per-test tracefile when internal/coverage/testdata/realc/jq.info was
# made), with each ratio and the ppctl start-up, then the 60 s hostile soak
# (a relay child process under attack while legitimate deliveries and
# uploads flow; their p99s and the relay's peak RSS).
# Results and how to read them: docs/benchmarks.md.
bench:
	$(GO) test -run '^$$' -bench . -benchmem ./internal/webhook ./internal/coverage ./internal/keys
	$(GO) test -run '^$$' -bench Version -benchtime 200x ./cmd/ppctl
	$(GO) run ./tools/webhookload-bench -duration 2s -rounds 5
	mkdir -p bin && $(GO) build -o bin/ppctl ./cmd/ppctl
	$(GO) run ./tools/coveragebench -size 200MB -xml-size 100MB -ppctl bin/ppctl
	$(GO) run ./tools/soak -duration 60s

build:
	mkdir -p bin
	$(GO) build -ldflags "$(LDFLAGS)" -o bin/relay ./cmd/relay
	CGO_ENABLED=0 $(GO) build -ldflags "$(LDFLAGS)" -o bin/ppctl ./cmd/ppctl
	cp bin/ppctl bin/gh-patchpanda

# The gh extension from this checkout, as gh installs a local one:
#   make gh-extension && (cd bin/gh-patchpanda && gh extension install .)
gh-extension:
	mkdir -p bin/gh-patchpanda
	CGO_ENABLED=0 $(GO) build -ldflags "$(LDFLAGS)" -o bin/gh-patchpanda/gh-patchpanda ./cmd/ppctl

# The release configuration, checked, and built for this machine only
# (the relay's other targets need zig; see docs/action.md, "Releases").
GORELEASER ?= $(GO) run github.com/goreleaser/goreleaser/v2@v2.15.1
release-check:
	$(GORELEASER) check
	$(GORELEASER) build --snapshot --single-target --clean

# The workflows, and action.yml through the workflow that uses it (./).
actionlint:
	$(GO) run github.com/rhysd/actionlint/cmd/actionlint@v1.7.12 .github/workflows/*.yml docs/examples/coverage.yml

# The relay with the cloud drivers: AWS KMS, GCP KMS and Vault secrets
# keepers, and S3 and GCS coverage buckets (their SDKs add about 15 MB).
build-cloud:
	mkdir -p bin
	$(GO) build -tags cloud -ldflags "$(LDFLAGS)" -o bin/relay ./cmd/relay

# Every fuzz target for FUZZTIME each (the inputs that found bugs stay in
# each package's testdata/fuzz and run with make test).
FUZZTIME ?= 30s
fuzz:
	@for pkg in $$(grep -rl --include='*_test.go' '^func Fuzz' internal | xargs -n1 dirname | sort -u); do \
		for fn in $$(grep -h '^func Fuzz' $$pkg/*_test.go | sed 's/func \(Fuzz[A-Za-z0-9_]*\).*/\1/'); do \
			echo "== $$pkg $$fn"; \
			$(GO) test -run '^$$' -fuzz "^$$fn\$$" -fuzztime $(FUZZTIME) ./$$pkg || exit 1; \
		done; \
	done

clean:
	rm -rf bin patchpanda.db patchpanda.db-shm patchpanda.db-wal
