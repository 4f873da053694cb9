package vulkan

import (
	"fmt"
	"time"
	"unsafe"

	vk "github.com/vulkan-go/vulkan"

	"github.com/crossgrad/crossgrad/backend"
)

// fenceTimeout bounds every wait for a submission: a device that does not
// finish one batch of dispatches in this time is treated as lost instead of
// hanging the caller. GPUs get a minute; CPU drivers (lavapipe), where one
// batch of the seed model's step at batch 128 takes minutes, get ten.
func (d *Device) fenceTimeout() time.Duration {
	if d.info.Type == backend.CPUDevice {
		return 10 * time.Minute
	}
	return 60 * time.Second
}

// numSlots is the number of command buffers in flight at once.
const numSlots = 3

// slot is one command buffer with its fence, timestamp queries and the
// transient staging memory its copies use.
type slot struct {
	cmd      vk.CommandBuffer
	fence    vk.Fence
	query    vk.QueryPool // nil without timestamp support
	serial   uint64
	inFlight bool
	timed    []timedDispatch
	staging  []stagingRange
}

// timedDispatch names the kernel measured by queries q and q+1.
type timedDispatch struct {
	kernel backend.Kernel
	q      uint32
}

// stagingRange is transient host-visible memory, freed when its batch ends.
type stagingRange struct {
	blk       *block
	off, size uint64
}

// recorder batches work into command buffers and tracks which batches have
// finished (by serial number, in submission order).
type recorder struct {
	pool      vk.CommandPool
	slots     []*slot
	next      int
	cur       *slot // recording, nil between batches
	count     int   // dispatches recorded in cur
	serial    uint64
	completed uint64
	deferred  []*Buffer // released while still in use
	touched   []*Buffer // buffers with hazard state in cur
	stagedB   uint64    // staging bytes in cur
	tsMask    uint64
	tsPeriod  float64 // nanoseconds per tick
}

func (r *recorder) init(d *Device) error {
	ci := vk.CommandPoolCreateInfo{
		SType:            vk.StructureTypeCommandPoolCreateInfo,
		Flags:            vk.CommandPoolCreateFlags(vk.CommandPoolCreateResetCommandBufferBit),
		QueueFamilyIndex: d.family,
	}
	var cp vk.CommandPool
	res := vk.CreateCommandPool(d.dev, &ci, nil, &cp)
	ci.Free()
	if res != vk.Success {
		return resultErr("vkCreateCommandPool", res)
	}
	r.pool = cp
	bits := d.phys.families[d.family].TimestampValidBits
	if bits > 0 && d.limits.TimestampPeriod > 0 {
		r.tsMask = ^uint64(0)
		if bits < 64 {
			r.tsMask = 1<<bits - 1
		}
		r.tsPeriod = float64(d.limits.TimestampPeriod)
	}
	cmds := make([]vk.CommandBuffer, numSlots)
	ai := vk.CommandBufferAllocateInfo{
		SType:              vk.StructureTypeCommandBufferAllocateInfo,
		CommandPool:        cp,
		Level:              vk.CommandBufferLevelPrimary,
		CommandBufferCount: numSlots,
	}
	res = vk.AllocateCommandBuffers(d.dev, &ai, cmds)
	ai.Free()
	if res != vk.Success {
		return resultErr("vkAllocateCommandBuffers", res)
	}
	for i := range cmds {
		s := &slot{cmd: cmds[i]}
		r.slots = append(r.slots, s)
		fci := vk.FenceCreateInfo{SType: vk.StructureTypeFenceCreateInfo}
		var f vk.Fence
		res := vk.CreateFence(d.dev, &fci, nil, &f)
		fci.Free()
		if res != vk.Success {
			return resultErr("vkCreateFence", res)
		}
		s.fence = f
		if r.tsMask != 0 {
			qci := vk.QueryPoolCreateInfo{
				SType:      vk.StructureTypeQueryPoolCreateInfo,
				QueryType:  vk.QueryTypeTimestamp,
				QueryCount: uint32(2 * d.maxBatch),
			}
			var qp vk.QueryPool
			res := vk.CreateQueryPool(d.dev, &qci, nil, &qp)
			qci.Free()
			if res != vk.Success {
				return resultErr("vkCreateQueryPool", res)
			}
			s.query = qp
		}
	}
	return nil
}

func (r *recorder) destroy(d *Device) {
	if d.dev == nil {
		return
	}
	for _, s := range r.slots {
		if s.query != nil {
			vk.DestroyQueryPool(d.dev, s.query, nil)
		}
		if s.fence != nil {
			vk.DestroyFence(d.dev, s.fence, nil)
		}
	}
	r.slots = nil
	if r.pool != nil {
		vk.DestroyCommandPool(d.dev, r.pool, nil)
		r.pool = nil
	}
}

// deferFree queues b's range for release once the work using it finishes.
func (r *recorder) deferFree(b *Buffer) { r.deferred = append(r.deferred, b) }

// pending reports whether work is recorded or in flight.
func (r *recorder) pending() bool { return r.cur != nil || r.serial > r.completed }

// Stage and access masks.
const (
	stageCompute  = vk.PipelineStageFlags(vk.PipelineStageComputeShaderBit)
	stageTransfer = vk.PipelineStageFlags(vk.PipelineStageTransferBit)
	stageHost     = vk.PipelineStageFlags(vk.PipelineStageHostBit)
	accessAll     = vk.AccessFlags(vk.AccessShaderReadBit | vk.AccessShaderWriteBit | vk.AccessTransferReadBit | vk.AccessTransferWriteBit)
	accessWrites  = vk.AccessFlags(vk.AccessShaderWriteBit | vk.AccessTransferWriteBit)
)

// begin starts a batch if none is recording, first finishing the oldest
// batch when every command buffer is in flight.
func (d *Device) begin() error {
	r := &d.rec
	if r.cur != nil {
		return nil
	}
	s := r.slots[r.next]
	if s.inFlight {
		if err := d.completeUpTo(s.serial); err != nil {
			return err
		}
	}
	r.next = (r.next + 1) % len(r.slots)
	if res := vk.ResetFences(d.dev, 1, []vk.Fence{s.fence}); res != vk.Success {
		return d.fail(resultErr("vkResetFences", res))
	}
	if res := vk.ResetCommandBuffer(s.cmd, 0); res != vk.Success {
		return d.fail(resultErr("vkResetCommandBuffer", res))
	}
	bi := vk.CommandBufferBeginInfo{
		SType: vk.StructureTypeCommandBufferBeginInfo,
		Flags: vk.CommandBufferUsageFlags(vk.CommandBufferUsageOneTimeSubmitBit),
	}
	res := vk.BeginCommandBuffer(s.cmd, &bi)
	bi.Free()
	if res != vk.Success {
		return d.fail(resultErr("vkBeginCommandBuffer", res))
	}
	r.serial++
	s.serial = r.serial
	s.timed = s.timed[:0]
	if s.query != nil {
		vk.CmdResetQueryPool(s.cmd, s.query, 0, uint32(2*d.maxBatch))
	}
	// Order this batch after the previous ones: submissions on one queue may
	// overlap, and hazards are tracked only within a batch.
	globalBarrier(s.cmd, stageCompute|stageTransfer, accessWrites, stageCompute|stageTransfer, accessAll)
	r.cur = s
	r.count = 0
	r.stagedB = 0
	return nil
}

// submit ends and submits the recording batch, if any, without waiting.
func (d *Device) submit() error {
	r := &d.rec
	s := r.cur
	if s == nil {
		return nil
	}
	r.cur = nil
	for _, b := range r.touched {
		b.hzWrite, b.hzRead = 0, 0
	}
	r.touched = r.touched[:0]
	// Make every device write visible to the host once the fence signals.
	globalBarrier(s.cmd, stageCompute|stageTransfer, accessWrites, stageHost, vk.AccessFlags(vk.AccessHostReadBit))
	if res := vk.EndCommandBuffer(s.cmd); res != vk.Success {
		return d.fail(resultErr("vkEndCommandBuffer", res))
	}
	if res := submitOne(d.queue, s.cmd, s.fence); res != vk.Success {
		return d.fail(resultErr("vkQueueSubmit", res))
	}
	s.inFlight = true
	return nil
}

// waitAll submits the recording batch and waits for every batch.
func (d *Device) waitAll() error {
	if d.lost != nil {
		return d.lost
	}
	if err := d.submit(); err != nil {
		return err
	}
	if err := d.completeUpTo(d.rec.serial); err != nil {
		return err
	}
	d.mem.trim(1)
	d.staging.trim(1)
	return nil
}

// completeUpTo waits, oldest first, for every in-flight batch with a serial
// up to serial, then collects its timestamps and frees its transient memory.
func (d *Device) completeUpTo(serial uint64) error {
	r := &d.rec
	for {
		var oldest *slot
		for _, s := range r.slots {
			if s.inFlight && s.serial <= serial && (oldest == nil || s.serial < oldest.serial) {
				oldest = s
			}
		}
		if oldest == nil {
			return nil
		}
		if err := d.complete(oldest); err != nil {
			return err
		}
	}
}

func (d *Device) complete(s *slot) error {
	res := waitForFences(d.dev, 1, []vk.Fence{s.fence}, vk.True, uint64(d.fenceTimeout().Nanoseconds()))
	switch res {
	case vk.Success:
	case vk.Timeout:
		return d.fail(backend.WithKind(backend.ErrStalled, fmt.Errorf("a submission did not finish within %v", d.fenceTimeout())))
	default:
		return d.fail(resultErr("vkWaitForFences", res))
	}
	s.inFlight = false
	r := &d.rec
	if s.serial > r.completed {
		r.completed = s.serial
	}
	if err := d.collectTimes(s); err != nil {
		return d.fail(err)
	}
	for _, st := range s.staging {
		d.staging.release(st.blk, st.off, st.size)
	}
	s.staging = s.staging[:0]
	kept := r.deferred[:0]
	for _, b := range r.deferred {
		if b.lastUse <= r.completed {
			d.freeRange(b)
		} else {
			kept = append(kept, b)
		}
	}
	r.deferred = kept
	return nil
}

// collectTimes adds the batch's per-dispatch device times to d.times.
func (d *Device) collectTimes(s *slot) error {
	if s.query == nil || len(s.timed) == 0 {
		return nil
	}
	n := 2 * len(s.timed)
	ts := make([]uint64, n)
	res := vk.GetQueryPoolResults(d.dev, s.query, 0, uint32(n), uint(8*n), unsafe.Pointer(&ts[0]), 8,
		vk.QueryResultFlags(vk.QueryResult64Bit|vk.QueryResultWaitBit))
	if res != vk.Success {
		return resultErr("vkGetQueryPoolResults", res)
	}
	mask := d.rec.tsMask
	for _, t := range s.timed {
		ticks := (ts[t.q+1] - ts[t.q]) & mask
		kt := d.times[t.kernel]
		kt.Nanos += int64(float64(ticks) * d.rec.tsPeriod)
		kt.Count++
		d.times[t.kernel] = kt
	}
	s.timed = s.timed[:0]
	return nil
}

// fail marks the device lost (backend.ErrDeviceLost) and returns the error
// every later call returns.
func (d *Device) fail(err error) error {
	d.lost = backend.WithKind(backend.ErrDeviceLost, fmt.Errorf("vulkan: device %s unusable: %w", d.info.ID(), err))
	return d.lost
}

// KernelTimes implements backend.KernelTimer: it waits for queued work and
// returns the device time per kernel (timestamp queries around each
// dispatch) since the previous call. The map is owned by the caller.
func (d *Device) KernelTimes() (map[backend.Kernel]backend.KernelTime, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if err := d.usable(); err != nil {
		return nil, err
	}
	if d.rec.tsMask == 0 {
		return nil, fmt.Errorf("vulkan: %s has no timestamp support on its compute queue: %w", d.info.Name, backend.ErrUnsupported)
	}
	if err := d.waitAll(); err != nil {
		return nil, err
	}
	out := d.times
	d.times = map[backend.Kernel]backend.KernelTime{}
	return out, nil
}
