package vulkan

import (
	"fmt"

	"github.com/crossgrad/crossgrad/backend"
)

// maxStagedPerBatch bounds the staging memory one batch holds for uploads;
// beyond it the batch is submitted.
const maxStagedPerBatch = 256 << 20

// Write implements backend.Device. On a host-visible device a buffer that
// no queued work uses is written in place; otherwise the data goes to
// staging memory and a copy is recorded into the command stream, ordered
// with the dispatches around it, so the host never waits.
func (d *Device) Write(dst backend.Buffer, offset int, src []float32) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if err := d.usable(); err != nil {
		return err
	}
	b, err := d.own("write", dst)
	if err != nil {
		return err
	}
	if err := backend.CheckRange("vulkan write", b.n, offset, len(src)); err != nil {
		return err
	}
	return d.writeLocked(b, offset, src)
}

func (d *Device) writeLocked(b *Buffer, offset int, src []float32) error {
	if len(src) == 0 {
		return nil
	}
	if d.direct && b.lastUse <= d.rec.completed {
		copy(hostSlice(b.blk, b.off+uint64(offset)*4, len(src)), src)
		return nil
	}
	size := uint64(len(src)) * 4
	if d.rec.cur != nil && d.rec.stagedB+size > maxStagedPerBatch {
		if err := d.submit(); err != nil {
			return err
		}
	}
	if err := d.begin(); err != nil {
		return err
	}
	st, off, err := d.staging.alloc(size)
	if err != nil {
		return fmt.Errorf("vulkan write of %d elements: staging: %w", len(src), err)
	}
	copy(hostSlice(st, off, len(src)), src)
	s := d.rec.cur
	s.staging = append(s.staging, stagingRange{st, off, size})
	d.rec.stagedB += size
	d.guard([]use{{b, true}}, stageTransfer)
	copyBuffer(s.cmd, st.buf, b.blk.buf, uint64(off), b.off+uint64(offset)*4, uint64(size))
	return nil
}

// Read implements backend.Device: it submits the queued work, waits for
// it, then copies (through staging memory on a device with device-local
// buffers).
func (d *Device) Read(src backend.Buffer, offset int, dst []float32) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if err := d.usable(); err != nil {
		return err
	}
	b, err := d.own("read", src)
	if err != nil {
		return err
	}
	if err := backend.CheckRange("vulkan read", b.n, offset, len(dst)); err != nil {
		return err
	}
	if d.direct || len(dst) == 0 {
		if d.rec.pending() {
			if err := d.waitAll(); err != nil {
				return err
			}
		}
		if len(dst) > 0 {
			copy(dst, hostSlice(b.blk, b.off+uint64(offset)*4, len(dst)))
		}
		return d.inst.sink.take()
	}
	size := uint64(len(dst)) * 4
	st, off, err := d.staging.alloc(size)
	if err != nil {
		return fmt.Errorf("vulkan read of %d elements: staging: %w", len(dst), err)
	}
	defer d.staging.release(st, off, size)
	if err := d.begin(); err != nil {
		return err
	}
	d.guard([]use{{b, false}}, stageTransfer)
	copyBuffer(d.rec.cur.cmd, b.blk.buf, st.buf, b.off+uint64(offset)*4, uint64(off), uint64(size))
	if err := d.waitAll(); err != nil {
		return err
	}
	copy(dst, hostSlice(st, off, len(dst)))
	return d.inst.sink.take()
}
