package backendtest

import (
	"errors"
	"fmt"

	"github.com/crossgrad/crossgrad/backend"
)

// CheckRelease checks a backend's lifetime rules on devices it opens with
// open (and closes itself): Release is idempotent, a device keeps working
// after some of its buffers are released, Close releases whatever is left and
// is idempotent, and Release after Close does not crash. When the device
// implements backend.BufferCounter it also checks LiveBuffers() after each
// step: the count of allocated minus released buffers, and 0 after releasing
// everything and after Close. A second device is opened after the first is
// closed, to catch global state that Close leaves behind. Panics become
// errors.
func CheckRelease(open func() (backend.Device, error)) error {
	var errs []error
	for round := range 2 {
		if err := safely(func() error { return releaseRound(open, round == 1) }); err != nil {
			errs = append(errs, fmt.Errorf("device %d: %w", round+1, err))
		}
	}
	return errors.Join(errs...)
}

// releaseRound opens one device and walks it through its lifetime; with
// releaseAll it releases every buffer before Close, else it leaves some for
// Close to free.
func releaseRound(open func() (backend.Device, error), releaseAll bool) (err error) {
	dev, err := open()
	if err != nil {
		return fmt.Errorf("open: %w", err)
	}
	closed := false
	defer func() {
		if !closed {
			_ = dev.Close()
		}
	}()
	counter, counts := dev.(backend.BufferCounter)
	live := func(want int, when string) error {
		if !counts {
			return nil
		}
		if got := counter.LiveBuffers(); got != want {
			return fmt.Errorf("LiveBuffers() = %d %s, want %d", got, when, want)
		}
		return nil
	}
	if err := live(0, "after open"); err != nil {
		return err
	}
	sizes := []int{1, 7, 1024, 33, 4099}
	bufs := make([]backend.Buffer, len(sizes))
	for i, n := range sizes {
		if bufs[i], err = dev.Alloc(n); err != nil {
			return fmt.Errorf("alloc %d: %w", n, err)
		}
		if bufs[i].Len() != n {
			return fmt.Errorf("Alloc(%d).Len() = %d", n, bufs[i].Len())
		}
	}
	if err := live(len(sizes), "after allocating 5 buffers"); err != nil {
		return err
	}
	// Release buffers 0 and 3, each twice.
	for _, i := range []int{0, 3, 0, 3} {
		bufs[i].Release()
	}
	if err := live(len(sizes)-2, "after releasing 2 buffers twice each"); err != nil {
		return err
	}
	// The device still computes with the remaining buffers.
	if err := dev.Dispatch(backend.Fill{N: 1024, Value: 2.5}, bufs[2]); err != nil {
		return fmt.Errorf("fill after releases: %w", err)
	}
	got := make([]float32, 3)
	if err := dev.Read(bufs[2], 1021, got); err != nil {
		return fmt.Errorf("read after fill: %w", err)
	}
	if got[0] != 2.5 || got[1] != 2.5 || got[2] != 2.5 {
		return fmt.Errorf("fill 2.5 after releases read back %v", got)
	}
	if releaseAll {
		for _, b := range bufs {
			b.Release()
		}
		if err := live(0, "after releasing every buffer"); err != nil {
			return err
		}
	}
	if err := dev.Close(); err != nil {
		return fmt.Errorf("close: %w", err)
	}
	closed = true
	if err := live(0, "after Close"); err != nil {
		return err
	}
	if err := dev.Close(); err != nil {
		return fmt.Errorf("second close: %w", err)
	}
	for _, b := range bufs {
		b.Release()
	}
	return live(0, "after releasing buffers of a closed device")
}
