# Logbook's everyday targets. `make help` lists them.
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -X github.com/logbookhq/logbook/internal/cli.Version=$(VERSION)
FUZZTIME ?= 60s
# make release: where the archives go, and for which systems.
DIST ?= dist
PLATFORMS ?= linux/amd64 linux/arm64

.PHONY: help build release test race lint fuzz bench ci

help: ## list the targets
	@grep -E '^[a-z]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-8s %s\n", $$1, $$2}'

build: ## build ./logbook with the version stamped in
	CGO_ENABLED=0 go build -ldflags "$(LDFLAGS)" -o logbook ./cmd/logbook

# One directory per platform, logbook-VERSION-OS-ARCH/, holding the binary,
# README.md, docs/*.md and deploy/; then a .tar.gz of each (files owned
# by root, sorted, dated at the last commit) and SHA256SUMS over the
# archives. The directories are removed; DIST is emptied first.
release: ## static binaries for linux/amd64 and linux/arm64: dist/*.tar.gz and dist/SHA256SUMS
	rm -rf $(DIST) && mkdir -p $(DIST)
	set -e; mtime="@$$(git log -1 --format=%ct 2>/dev/null || echo 0)"; \
	for p in $(PLATFORMS); do \
		os=$${p%/*}; arch=$${p#*/}; name=logbook-$(VERSION)-$$os-$$arch; \
		mkdir -p $(DIST)/$$name/docs; \
		CGO_ENABLED=0 GOOS=$$os GOARCH=$$arch go build -trimpath -ldflags "$(LDFLAGS)" -o $(DIST)/$$name/logbook ./cmd/logbook; \
		cp README.md $(DIST)/$$name/; cp docs/*.md $(DIST)/$$name/docs/; cp -R deploy $(DIST)/$$name/; \
		rm -f $(DIST)/$$name/deploy/*.go; \
		tar -C $(DIST) --sort=name --owner=0 --group=0 --numeric-owner --mtime="$$mtime" -czf $(DIST)/$$name.tar.gz $$name; \
		rm -rf $(DIST)/$$name; \
	done
	cd $(DIST) && sha256sum *.tar.gz > SHA256SUMS
	@cat $(DIST)/SHA256SUMS

test: ## run the tests
	go test ./...

race: ## run the tests with the race detector, as CI does
	go test -race -count=1 ./...

lint: ## gofmt, go vet, staticcheck and the go.mod tidiness check
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || (gofmt -l $$(git ls-files '*.go'); exit 1)
	go vet ./...
	go tool staticcheck ./...
	go mod tidy -diff

fuzz: ## fuzz every Fuzz* target for FUZZTIME (60s) each; .ci/fuzz -l lists them
	FUZZTIME=$(FUZZTIME) bash .ci/fuzz

bench: ## run the benchmarks documented in docs/benchmarks.md
	go test -run='^$$' -bench=. -benchmem ./internal/api ./internal/store/sqlite ./internal/simulate

ci: ## what CI runs (needs root for apt-get)
	bash .ci/run
