export CGO_CFLAGS := -O2 -g -DCL_TARGET_OPENCL_VERSION=120
GO ?= go
PKGS := ./...

.PHONY: setup build build-mpi test vet fmt generate bench

## setup: install the missing Debian packages (through sudo when not root) and the Go modules
setup:
	bash scripts/setup.sh

## build: the crossgrad binary (no MPI library needed)
build:
	$(GO) build -o crossgrad ./cmd/crossgrad

## build-mpi: the crossgrad binary with MPI for mpirun (cgo against Open MPI: libopenmpi-dev)
build-mpi:
	$(GO) build -tags mpi -o crossgrad ./cmd/crossgrad

## test: formatting, vet and every test (backends on PoCL and lavapipe); package mpi and the
## crossgrad MPI tests again with the mpi tag (under mpirun on localhost, one package at a time:
## the kill test needs CPU time within the 3 s its mpirun leaves between SIGTERM and SIGKILL); the data loader and
## training loop again under the race detector (-short: without the reference-backend-heavy tests)
test: fmt vet
	$(GO) test -count=1 -timeout 25m $(PKGS)
	$(GO) test -count=1 -p 1 -timeout 10m -tags mpi -run MPI ./mpi/... ./cmd/crossgrad
	$(GO) test -count=1 -race -short -timeout 10m ./data ./train

fmt:
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

vet:
	$(GO) vet $(PKGS)
	$(GO) vet -tags mpi ./mpi/... ./cmd/crossgrad

## generate: regenerate params headers and SPIR-V (needs glslc, spirv-val)
generate:
	$(GO) generate ./shaders/...

## bench: GEMM and convolution benchmarks on every backend
bench:
	$(GO) test -tags clblast -run '^$$' -bench . -benchtime 3x ./backend/...

## gpu-bundle: the folder bench/gpu/run.sh needs on a GPU machine without Go or network:
## the crossgrad binary, the Debian OpenCL and Vulkan loader packages and Fashion-MNIST
GPU_BUNDLE ?= bench/gpu/bundle
FASHION_MNIST ?= /usr/share/datasets/fashion-mnist
.PHONY: gpu-bundle
gpu-bundle:
	rm -rf $(GPU_BUNDLE)
	mkdir -p $(GPU_BUNDLE)/debs $(GPU_BUNDLE)/data
	$(GO) build -trimpath -ldflags "-X main.version=$$(git describe --always --dirty 2>/dev/null || echo dev)" \
		-o $(GPU_BUNDLE)/crossgrad ./cmd/crossgrad
	cd $(GPU_BUNDLE)/debs && apt-get download ocl-icd-libopencl1 libvulkan1
	cp $(FASHION_MNIST)/*-ubyte.gz $(GPU_BUNDLE)/data/
	cp bench/gpu/run.sh $(GPU_BUNDLE)/run.sh
	@echo "bundle ready in $(GPU_BUNDLE): copy bench/gpu/ (run.sh and bundle/) to the GPU machine and run bench/gpu/run.sh RESULTS_DIR"
