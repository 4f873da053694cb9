package vulkan

import (
	"errors"
	"fmt"
	"unsafe"

	vk "github.com/vulkan-go/vulkan"

	"github.com/crossgrad/crossgrad/backend"
)

// Buffer is a range of a memory block of its Device. It implements
// backend.Buffer; it is owned by the Device and invalid after Close.
type Buffer struct {
	d        *Device
	n        int    // float32 elements
	blk      *block // nil once released
	off      uint64 // byte offset in blk.buf
	size     uint64 // bytes reserved (n*4)
	internal bool   // scratch: not counted by LiveBuffers
	released bool

	lastUse uint64 // serial of the last batch that referenced the buffer
	// Hazards since the last barrier of the recording batch.
	hzWrite vk.PipelineStageFlags // stage of an unsynchronised write, 0 if none
	hzRead  vk.PipelineStageFlags // stages that read since the last barrier
	hzBatch uint64                // serial the hazard fields belong to
}

// Len implements backend.Buffer.
func (b *Buffer) Len() int { return b.n }

// Release implements backend.Buffer. The memory returns to its block once
// the work that uses it has finished. Idempotent; a no-op after Close.
func (b *Buffer) Release() {
	d := b.d
	d.mu.Lock()
	defer d.mu.Unlock()
	d.releaseLocked(b)
}

func (d *Device) releaseLocked(b *Buffer) {
	if b.released {
		return
	}
	b.released = true
	delete(d.live, b)
	if d.closed || b.blk == nil {
		return
	}
	if b.lastUse > d.rec.completed {
		d.rec.deferFree(b)
		return
	}
	d.freeRange(b)
}

// freeRange returns b's range to its pool.
func (d *Device) freeRange(b *Buffer) {
	if b.blk == nil {
		return
	}
	d.mem.release(b.blk, b.off, b.size)
	b.blk = nil
}

// Alloc implements backend.Device: a buffer of n float32 elements
// (contents undefined). Out-of-memory errors name the size; the device stays
// usable.
func (d *Device) Alloc(n int) (backend.Buffer, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if err := d.usable(); err != nil {
		return nil, err
	}
	b, err := d.allocLocked(n, false)
	if err != nil {
		return nil, err
	}
	return b, nil
}

func (d *Device) allocLocked(n int, internal bool) (*Buffer, error) {
	if n <= 0 || n > backend.MaxElements {
		return nil, fmt.Errorf("vulkan: alloc of %d elements: size must be in [1, %d]", n, backend.MaxElements)
	}
	size := uint64(n) * 4
	if size > d.info.MaxAlloc {
		return nil, fmt.Errorf("vulkan: alloc of %d elements (%d bytes) exceeds the device's largest allocation of %d bytes: %w",
			n, size, d.info.MaxAlloc, backend.ErrOutOfMemory)
	}
	blk, off, err := d.mem.alloc(size)
	if errors.Is(err, backend.ErrOutOfMemory) {
		// Free what idle memory there is, then try once more.
		if werr := d.waitAll(); werr != nil {
			return nil, werr
		}
		d.mem.trim(0)
		d.staging.trim(0)
		blk, off, err = d.mem.alloc(size)
	}
	if err != nil {
		return nil, fmt.Errorf("vulkan: alloc of %d elements (%d bytes): %w", n, size, err)
	}
	b := &Buffer{d: d, n: n, blk: blk, off: off, size: size, internal: internal}
	if !internal {
		d.live[b] = struct{}{}
	}
	return b, nil
}

// own checks that buf is a live buffer of d. d.mu must be held.
func (d *Device) own(op string, buf backend.Buffer) (*Buffer, error) {
	b, ok := buf.(*Buffer)
	if !ok || b == nil {
		return nil, fmt.Errorf("vulkan %s: buffer %T does not belong to a Vulkan device", op, buf)
	}
	if b.d != d {
		return nil, fmt.Errorf("vulkan %s: buffer belongs to another Vulkan device", op)
	}
	if b.released || b.blk == nil {
		return nil, fmt.Errorf("vulkan %s: buffer was released", op)
	}
	return b, nil
}

// hostSlice is the mapped memory of elements [off, off+n) of a buffer in a
// host-visible pool (C memory: no cgo pointer rules apply).
func hostSlice(blk *block, byteOff uint64, n int) []float32 {
	return unsafe.Slice((*float32)(unsafe.Add(blk.ptr, byteOff)), n)
}

// scratchBuffer returns the internal buffer for purpose with at least n
// elements, growing it (the old one is released after its pending work).
func (d *Device) scratchBuffer(purpose string, n int) (*Buffer, error) {
	if b := d.scratch[purpose]; b != nil && b.n >= n {
		return b, nil
	} else if b != nil {
		d.releaseLocked(b)
		delete(d.scratch, purpose)
	}
	b, err := d.allocLocked(max(n, 1024), true)
	if err != nil {
		return nil, fmt.Errorf("vulkan: %s scratch: %w", purpose, err)
	}
	d.scratch[purpose] = b
	return b, nil
}
