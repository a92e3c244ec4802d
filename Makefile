# BanGUI — the two commands a new user needs are `make run` and `make test`.
GO ?= go
BIN ?= bangui

.PHONY: run demo test build generate check fmt vet unit e2e fuzz

## run: start the panel on http://127.0.0.1:8080/ with data in ./data (fetches the country database first when npm is there)
run:
	./scripts/fetch-geo.sh
	$(GO) run .

## demo: a live panel in seconds: a private fail2ban with synthetic attacks and weeks of history, setup done,
## the password printed (data in ./data/demo; needs the Debian package fail2ban; Ctrl-C stops all of it)
## (built, then run directly: "go run" would turn Ctrl-C into an error exit)
demo:
	./scripts/fetch-geo.sh ./data/demo
	$(GO) build -o $(BIN) . && exec ./$(BIN) demo

## test: install the test packages when root, then run every test (unit, fail2ban, browser)
test:
	./scripts/test-deps.sh
	$(GO) test -count=1 ./...

## build: a single static binary
build:
	CGO_ENABLED=0 $(GO) build -trimpath -o $(BIN) .

## generate: regenerate templ components
generate:
	$(GO) tool templ generate -path views

## check: what CI checks besides the tests
check:
	$(GO) tool templ generate -path views
	git diff --exit-code -- views
	test -z "$$(gofmt -l $$(git ls-files '*.go' | grep -v '_templ.go$$'))"
	$(GO) vet ./...

unit:
	$(GO) test -count=1 $$($(GO) list ./... | grep -v /e2e)

e2e:
	$(GO) test -count=1 -v ./e2e/

## fuzz: run every fuzz target briefly (FUZZTIME=10s by default; longer locally)
fuzz:
	./scripts/fuzz.sh
