package vulkan

import (
	vk "github.com/vulkan-go/vulkan"
)

// use is one buffer access of a command.
type use struct {
	b     *Buffer
	write bool
}

// accessOf is the read and write access of a stage.
func accessOf(stage vk.PipelineStageFlags) (read, write vk.AccessFlags) {
	if stage == stageTransfer {
		return vk.AccessFlags(vk.AccessTransferReadBit), vk.AccessFlags(vk.AccessTransferWriteBit)
	}
	return vk.AccessFlags(vk.AccessShaderReadBit), vk.AccessFlags(vk.AccessShaderWriteBit)
}

// guard records the buffer memory barriers a command at stage needs before
// it accesses uses, then notes the accesses: read-after-write and
// write-after-write get a memory barrier on the buffer's range,
// write-after-read an execution dependency. Buffers untouched since the
// batch's opening barrier need nothing. A buffer listed twice counts as
// written if either use writes.
func (d *Device) guard(uses []use, stage vk.PipelineStageFlags) {
	r := &d.rec
	cmd := r.cur.cmd
	var src, dst vk.PipelineStageFlags
	var barriers []bufferBarrier
	dstRead, dstWrite := accessOf(stage)
	for i, u := range uses {
		b := u.b
		if b.hzBatch != r.cur.serial {
			b.hzBatch, b.hzWrite, b.hzRead = r.cur.serial, 0, 0
			r.touched = append(r.touched, b)
		}
		dup := false
		for _, v := range uses[:i] {
			dup = dup || v.b == b
		}
		if dup {
			continue
		}
		write := u.write
		for _, v := range uses[i+1:] {
			write = write || (v.b == b && v.write)
		}
		switch {
		case b.hzWrite != 0:
			_, srcWrite := accessOf(b.hzWrite)
			src |= b.hzWrite | b.hzRead
			dst |= stage
			barriers = append(barriers, bufferBarrier{buf: b.blk.buf, off: b.off, size: b.size,
				srcAccess: srcWrite, dstAcc: dstRead | dstWrite})
			b.hzWrite, b.hzRead = 0, 0
		case write && b.hzRead != 0:
			src |= b.hzRead
			dst |= stage
			b.hzRead = 0
		}
	}
	if dst != 0 {
		recordBarriers(cmd, src, dst, barriers)
	}
	for _, u := range uses {
		b := u.b
		b.lastUse = r.cur.serial
		if u.write {
			b.hzWrite, b.hzRead = stage, 0
		}
	}
	for _, u := range uses {
		if !u.write && u.b.hzWrite == 0 {
			u.b.hzRead |= stage
		}
	}
}
