package backend

import (
	"errors"
	"fmt"
)

// The failure kinds. Every backend wraps its driver's errors in them, so that
// callers test a failure with errors.Is whatever the backend; the Device
// documentation says which of them leave a device unusable.
var (
	// ErrNoDriver means the backend cannot run on this machine at all: its
	// loader, its driver (ICD) or any usable device is absent. Backend.Devices
	// and Backend.Open return it, with the packages to install; tests skip on
	// it.
	ErrNoDriver = errors.New("no driver")
	// ErrOutOfMemory means the device or the host ran out of memory or
	// driver resources, or a buffer is larger than the device's largest
	// allocation (Info.MaxAlloc). A smaller batch may fit.
	ErrOutOfMemory = errors.New("out of device memory")
	// ErrDeviceLost means the device can no longer be used: the driver reset
	// it, or queued work failed or never finished. It is sticky.
	ErrDeviceLost = errors.New("device lost")
	// ErrStalled means device work did not finish within a time limit. A
	// backend that gives up on the device reports it with ErrDeviceLost.
	ErrStalled = errors.New("device call did not return")
	// ErrClosed is returned by every call on a closed Device except Info and
	// Close.
	ErrClosed = errors.New("device is closed")
	// ErrUnsupported means the device lacks an optional ability (for example
	// timers for KernelTimer). It also matches errors.ErrUnsupported.
	ErrUnsupported = fmt.Errorf("not supported by this device: %w", errors.ErrUnsupported)
)

// WithKind marks err as failure kind (one of the Err* values above): the
// result's message is err's own, and errors.Is matches kind as well as
// everything err itself wraps. A nil err stays nil.
func WithKind(kind, err error) error {
	if err == nil {
		return nil
	}
	return &kindError{kind: kind, err: err}
}

// kindError is an error marked with a failure kind.
type kindError struct{ kind, err error }

func (e *kindError) Error() string { return e.err.Error() }

func (e *kindError) Unwrap() []error { return []error{e.err, e.kind} }
