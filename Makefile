# Logbook's everyday targets. `make help` lists them.
VERSION ?= $(shell git describe --tags --always 2>/dev/null || echo dev)
LDFLAGS := -X github.com/logbookhq/logbook/internal/cli.Version=$(VERSION)
FUZZTIME ?= 60s

.PHONY: help build test race lint fuzz bench ci

help: ## list the targets
	@grep -E '^[a-z]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-8s %s\n", $$1, $$2}'

build: ## build ./logbook with the version stamped in
	CGO_ENABLED=0 go build -ldflags "$(LDFLAGS)" -o logbook ./cmd/logbook

test: ## run the tests
	go test ./...

race: ## run the tests with the race detector, as CI does
	go test -race -count=1 ./...

lint: ## gofmt, go vet and the go.mod tidiness check
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || (gofmt -l $$(git ls-files '*.go'); exit 1)
	go vet ./...
	go mod tidy -diff

fuzz: ## fuzz every Fuzz* target for FUZZTIME (60s) each; .ci/fuzz -l lists them
	FUZZTIME=$(FUZZTIME) bash .ci/fuzz

bench: ## run the benchmarks documented in docs/benchmarks.md
	go test -run='^$$' -bench=. -benchmem ./internal/api ./internal/store/sqlite ./internal/simulate

ci: ## what CI runs (needs root for apt-get)
	bash .ci/run
