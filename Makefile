export CGO_CFLAGS := -O2 -g -DCL_TARGET_OPENCL_VERSION=120
GO ?= go
PKGS := ./...

.PHONY: setup test vet fmt generate bench

## setup: install the Debian packages and Go modules (run as root)
setup:
	bash scripts/setup.sh
	$(GO) mod download

## test: formatting, vet and every test (backends on PoCL and lavapipe)
test: fmt vet
	$(GO) test -count=1 -timeout 25m $(PKGS)

fmt:
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

vet:
	$(GO) vet $(PKGS)

## generate: regenerate params headers and SPIR-V (needs glslc, spirv-val)
generate:
	$(GO) generate ./shaders/...

## bench: GEMM and convolution benchmarks on every backend
bench:
	$(GO) test -tags clblast -run '^$$' -bench . -benchtime 3x ./backend/...
