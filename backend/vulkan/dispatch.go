package vulkan

import (
	"fmt"
	"unsafe"

	vk "github.com/vulkan-go/vulkan"

	"github.com/crossgrad/crossgrad/backend"
)

// binding is one buffer of a pass: elements [off, off+elems) of b are
// accessed (the shader sees element off as index 0); write marks buffers
// the pass writes; texel 1 or 4 binds it as a uniform texel buffer of that
// many floats per texel (a read-only binding of a texel variant) instead of
// a storage buffer.
type binding struct {
	b     *Buffer
	elems int
	write bool
	off   int
	texel uint8
	// words makes a texel binding R32_UINT (32-bit words) instead of floats.
	words bool
}

// texelMask is the mask of binds' texel bindings (bit i: binding i).
func texelMask(binds []binding) uint8 {
	var m uint8
	for i, b := range binds {
		if b.texel != 0 {
			m |= 1 << i
		}
	}
	return m
}

// pass is one vkCmdDispatch of a kernel's implementation.
type pass struct {
	module string
	spec   []uint32 // specialization constants 0..len-1
	groups [3]uint32
	push   []byte
	binds  []binding
}

// pushBytes copies the memory of a params struct (flat uint32/float32
// fields, the layout of the std430 push-constant block).
func pushBytes[T any](v T) []byte {
	n := unsafe.Sizeof(v)
	out := make([]byte, n)
	copy(out, unsafe.Slice((*byte)(unsafe.Pointer(&v)), n))
	return out
}

// Dispatch implements backend.Device: it checks p and bufs with
// backend.CheckDispatch, then records the kernel's passes with the barriers
// they need into the current command buffer. Work is submitted at Sync, Read,
// KernelTimes or when MaxBatch dispatches are recorded.
func (d *Device) Dispatch(p backend.Params, bufs ...backend.Buffer) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.dispatchLocked(p, bufs)
}

// dispatchLocked is Dispatch with d.mu held.
func (d *Device) dispatchLocked(p backend.Params, bufs []backend.Buffer) error {
	if err := d.usable(); err != nil {
		return err
	}
	if err := backend.CheckDispatch(p, bufs); err != nil {
		return err
	}
	k := p.Kernel()
	vb := make([]*Buffer, len(bufs))
	for i, b := range bufs {
		own, err := d.own("dispatch "+string(k), b)
		if err != nil {
			return fmt.Errorf("%w (buffer %d)", err, i)
		}
		vb[i] = own
	}
	passes, err := d.plan(p, vb)
	if err != nil {
		return fmt.Errorf("vulkan dispatch %s: %w", k, err)
	}
	return d.record(k, passes)
}

// prepared is a pass with its native objects.
type prepared struct {
	*pass
	pipe   vk.Pipeline
	layout vk.PipelineLayout
	set    vk.DescriptorSet
}

// record creates (or finds) the pipelines and descriptor sets of passes,
// then records them, timed as one dispatch of kernel k.
func (d *Device) record(k backend.Kernel, passes []*pass) error {
	prep := make([]prepared, len(passes))
	for i, ps := range passes {
		pl, layout, err := d.pipes.pipeline(ps.module, ps.spec, len(ps.binds), texelMask(ps.binds))
		if err != nil {
			return fmt.Errorf("vulkan dispatch %s: %w", k, err)
		}
		prep[i] = prepared{pass: ps, pipe: pl, layout: layout}
	}
	// Descriptor sets come before recording: a full pool makes the device
	// wait for idle and reset it, which would also drop sets taken earlier
	// in this loop, so start over then.
	for attempt := 0; ; attempt++ {
		gen := d.descs.gen
		for i := range prep {
			key, err := d.descKey(prep[i].binds)
			if err != nil {
				return fmt.Errorf("vulkan dispatch %s: %w", k, err)
			}
			set, err := d.descriptorSet(key)
			if err != nil {
				return fmt.Errorf("vulkan dispatch %s: %w", k, err)
			}
			prep[i].set = set
		}
		if d.descs.gen == gen || attempt > 0 {
			break
		}
	}
	if err := d.begin(); err != nil {
		return err
	}
	s := d.rec.cur
	timed := s.query != nil
	q := uint32(2 * len(s.timed))
	if timed {
		vk.CmdWriteTimestamp(s.cmd, vk.PipelineStageTopOfPipeBit, s.query, q)
	}
	uses := make([]use, 0, maxBindings)
	for _, ps := range prep {
		uses = uses[:0]
		for _, b := range ps.binds {
			uses = append(uses, use{b.b, b.write})
		}
		d.guard(uses, stageCompute)
		vk.CmdBindPipeline(s.cmd, vk.PipelineBindPointCompute, ps.pipe)
		vk.CmdBindDescriptorSets(s.cmd, vk.PipelineBindPointCompute, ps.layout, 0, 1, []vk.DescriptorSet{ps.set}, 0, nil)
		if len(ps.push) > 0 {
			vk.CmdPushConstants(s.cmd, ps.layout, vk.ShaderStageFlags(vk.ShaderStageComputeBit), 0, uint32(len(ps.push)), unsafe.Pointer(&ps.push[0]))
		}
		vk.CmdDispatch(s.cmd, ps.groups[0], ps.groups[1], ps.groups[2])
	}
	if timed {
		vk.CmdWriteTimestamp(s.cmd, vk.PipelineStageBottomOfPipeBit, s.query, q+1)
		s.timed = append(s.timed, timedDispatch{kernel: k, q: q})
	}
	d.rec.count++
	if d.rec.count >= d.maxBatch {
		return d.submit()
	}
	return nil
}

// descKey binds each buffer's whole range when the binding starts at the
// buffer's first element and the buffer fits the binding's range limit
// (maxStorageBufferRange, or maxTexelBufferElements for a texel binding) so
// that all dispatches on it share descriptor sets, else just its window.
func (d *Device) descKey(binds []binding) (descKey, error) {
	key := descKey{n: len(binds)}
	for i, b := range binds {
		maxRange, align, what := d.maxRange(), uint64(d.limits.MinStorageBufferOffsetAlignment), "maxStorageBufferRange"
		if b.texel != 0 {
			maxRange, align, what = d.maxTexelRange(b.texel), uint64(d.limits.MinTexelBufferOffsetAlignment), "maxTexelBufferElements"
		}
		off, rng := b.b.off, b.b.size
		if b.off != 0 || rng > maxRange {
			off += uint64(b.off) * 4
			rng = uint64(max(b.elems, 1)) * 4
			if rng > maxRange {
				return key, fmt.Errorf("buffer %d: %d bytes accessed exceed the device's %s (%d bytes)", i, rng, what, maxRange)
			}
			if align > 1 && off%align != 0 {
				return key, fmt.Errorf("buffer %d: window offset %d is not a multiple of the device's offset alignment %d", i, off, align)
			}
		}
		if b.texel != 0 {
			rng -= rng % (4 * uint64(b.texel)) // whole texels: the accessed elements are
		}
		key.e[i] = descEntry{buf: b.b.blk.buf, off: off, rng: rng, texel: b.texel, words: b.words}
	}
	return key, nil
}
