// Package backendtest is the exported conformance suite every backend.Device
// must pass. It runs every kernel of backend.Kernels(), forward and backward,
// over tiny shapes, odd sizes that are not multiples of any tile or
// work-group size, batch 1 and AlexNet's real layer configurations (spatial
// size scaled down), on the device under test and on a reference device
// (backend/ref) with the same seeded random inputs, and compares every output
// buffer element against the reference within the per-kernel tolerance of
// Tolerances.
//
// It is usable outside `go test`: the CLI runs Run on a user's device
// (`crossgrad selftest`) and prints Report.Format. Inside a backend's tests one
// line is enough:
//
//	func TestConformance(t *testing.T) { backendtest.RunTest(t, open) }
//
// Besides the numeric cases the suite checks that bad dispatches (buffers too
// small, wrong buffer count, nil or foreign buffers, invalid params) return an
// error naming the kernel instead of crashing, that Write/Read move float32 bit
// patterns exactly and reject out-of-range offsets, and (CheckRelease) that
// buffers and devices release idempotently without leaks.
package backendtest
