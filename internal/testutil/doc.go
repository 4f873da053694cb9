// Package testutil holds the helpers and fake devices that the tests of
// several packages share: deterministic random data, float64 references,
// finite differences, a tolerance assertion and Device wrappers that fail
// allocations or count the calls that cross to the device.
//
// It imports only backend and testify, so the tests of any package above
// backend (internal tests of backend/ref included) may use it.
package testutil
