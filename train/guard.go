package train

import (
	"errors"
	"sync"
	"time"

	"github.com/crossgrad/crossgrad/backend"
)

// errAbandoned is returned by every device call once the watchdog gave up
// on the device (a call did not return within the stall timeout).
var errAbandoned = errors.New("train: device abandoned after a stalled call")

// callFailure is the first device call that returned an error.
type callFailure struct {
	op     string         // "alloc", "write", "read", "dispatch" or "sync"
	kernel backend.Kernel // kernel dispatched by the failing call, or the last one queued before it
	inCall bool           // kernel is the failing dispatch itself
	err    error
}

// calls watches the device calls of the training loop: the call in flight
// (for the stall watchdog), the last kernel queued and the first failure
// (for DeviceError), and the longest call (for the automatic stall limit).
// The loop goroutine calls begin and end around every device call; the
// watchdog goroutine calls stalled. After abandon, no call succeeds any
// more, so the loop never acts on a device result the watchdog gave up on.
type calls struct {
	mu        sync.Mutex
	busy      bool
	since     time.Time
	op        string
	kernel    backend.Kernel // last kernel dispatched
	longest   time.Duration
	failed    *callFailure
	abandoned bool
}

// begin marks the start of a device call op (kernel for dispatches).
func (c *calls) begin(op string, kernel backend.Kernel) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.abandoned {
		return errAbandoned
	}
	c.busy, c.since, c.op = true, time.Now(), op
	if kernel != "" {
		c.kernel = kernel
	}
	return nil
}

// end marks the end of the call begun last, recording its error; after
// abandon it turns any result into errAbandoned.
func (c *calls) end(err error) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.busy = false
	if d := time.Since(c.since); d > c.longest {
		c.longest = d
	}
	if c.abandoned {
		return errAbandoned
	}
	if err != nil && c.failed == nil {
		c.failed = &callFailure{op: c.op, kernel: c.kernel, inCall: c.op == "dispatch", err: err}
	}
	return err
}

// failure returns the first failed call, or nil.
func (c *calls) failure() *callFailure {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.failed
}

// longestCall is the longest device call so far.
func (c *calls) longestCall() time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.longest
}

// stalled abandons the device when the call in flight has run longer than
// limit and then calls onStall with the call (op, last kernel queued) and
// how long it ran. onStall runs under the lock, while the loop goroutine is
// still inside the call, so it may read the loop's state.
func (c *calls) stalled(limit time.Duration, onStall func(op string, kernel backend.Kernel, d time.Duration)) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.busy || c.abandoned {
		return false
	}
	d := time.Since(c.since)
	if d <= limit {
		return false
	}
	c.abandoned = true
	onStall(c.op, c.kernel, d)
	return true
}
