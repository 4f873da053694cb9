package vulkan

import (
	"errors"
	"fmt"
	"sort"
	"unsafe"

	vk "github.com/vulkan-go/vulkan"

	"github.com/crossgrad/crossgrad/backend"
)

// span is a free range of a block.
type span struct{ off, size uint64 }

// block is one VkDeviceMemory allocation with one VkBuffer spanning it;
// buffers are ranges of it (descriptor and copy offsets into buf).
type block struct {
	mem  vk.DeviceMemory
	buf  vk.Buffer
	size uint64
	ptr  unsafe.Pointer // persistent mapping, nil unless host-visible
	free []span         // sorted by offset, coalesced
	used int            // live ranges
}

// pool sub-allocates ranges from blocks of one memory type with a simple
// first-fit free list. Offsets respect align (minStorageBufferOffsetAlignment
// and the buffer's own requirement).
type pool struct {
	name      string
	dev       vk.Device
	mem       *vk.PhysicalDeviceMemoryProperties
	usage     vk.BufferUsageFlags
	want      vk.MemoryPropertyFlags // required memory property flags
	prefer    vk.MemoryPropertyFlags // preferred in addition
	mapped    bool
	blockSize uint64
	maxAlloc  uint64 // largest single allocation, 0 = unknown
	align     uint64
	blocks    []*block
	onDestroy func(*block) // called before a block's VkBuffer is destroyed
}

// allocateMemory is vkAllocateMemory for new blocks; tests replace it to
// make the driver run out of memory.
var allocateMemory = vk.AllocateMemory

// alloc returns a range of size bytes (rounded up to the alignment).
func (p *pool) alloc(size uint64) (*block, uint64, error) {
	size = alignUp(max(size, 4), p.align)
	for _, b := range p.blocks {
		if off, ok := b.take(size); ok {
			return b, off, nil
		}
	}
	bs := p.blockSize
	if size > bs {
		bs = size // a dedicated block for a large buffer
	}
	if p.maxAlloc > 0 && size > p.maxAlloc {
		return nil, 0, fmt.Errorf("vulkan: %s allocation of %d bytes exceeds the device's maxMemoryAllocationSize %d: %w", p.name, size, p.maxAlloc, backend.ErrOutOfMemory)
	}
	if p.maxAlloc > 0 && bs > p.maxAlloc {
		bs = p.maxAlloc
	}
	b, err := p.newBlock(bs)
	if err != nil && bs > size {
		b, err = p.newBlock(size) // no room for a full block: try just this buffer
	}
	if err != nil {
		return nil, 0, err
	}
	p.blocks = append(p.blocks, b)
	off, _ := b.take(size)
	return b, off, nil
}

// release returns a range to its block.
func (p *pool) release(b *block, off, size uint64) {
	size = alignUp(max(size, 4), p.align)
	b.used--
	b.free = append(b.free, span{off, size})
	sort.Slice(b.free, func(i, j int) bool { return b.free[i].off < b.free[j].off })
	merged := b.free[:1]
	for _, s := range b.free[1:] {
		last := &merged[len(merged)-1]
		if last.off+last.size == s.off {
			last.size += s.size
		} else {
			merged = append(merged, s)
		}
	}
	b.free = merged
}

// trim destroys empty blocks, keeping at most keep of them. The device must
// be idle (no pending work may reference an empty block, and the descriptor
// sets naming it are dropped by onDestroy).
func (p *pool) trim(keep int) {
	kept := p.blocks[:0]
	for _, b := range p.blocks {
		if b.used == 0 && keep <= 0 {
			p.destroyBlock(b)
			continue
		}
		if b.used == 0 {
			keep--
		}
		kept = append(kept, b)
	}
	for i := len(kept); i < len(p.blocks); i++ {
		p.blocks[i] = nil
	}
	p.blocks = kept
}

// destroy frees every block.
func (p *pool) destroy() {
	for i := len(p.blocks) - 1; i >= 0; i-- {
		p.destroyBlock(p.blocks[i])
	}
	p.blocks = nil
}

// take carves size bytes from the first free span that fits.
func (b *block) take(size uint64) (uint64, bool) {
	for i, s := range b.free {
		if s.size < size {
			continue
		}
		off := s.off
		if s.size == size {
			b.free = append(b.free[:i], b.free[i+1:]...)
		} else {
			b.free[i] = span{s.off + size, s.size - size}
		}
		b.used++
		return off, true
	}
	return 0, false
}

// newBlock allocates size bytes of memory with a buffer bound over all of it.
func (p *pool) newBlock(size uint64) (*block, error) {
	ci := vk.BufferCreateInfo{
		SType:       vk.StructureTypeBufferCreateInfo,
		Size:        vk.DeviceSize(size),
		Usage:       p.usage,
		SharingMode: vk.SharingModeExclusive,
	}
	var buf vk.Buffer
	r := vk.CreateBuffer(p.dev, &ci, nil, &buf)
	ci.Free()
	if r != vk.Success {
		return nil, p.memErr("vkCreateBuffer", size, r)
	}
	var req vk.MemoryRequirements
	vk.GetBufferMemoryRequirements(p.dev, buf, &req)
	req.Deref()
	typ := p.memoryType(req.MemoryTypeBits)
	if typ < 0 {
		vk.DestroyBuffer(p.dev, buf, nil)
		return nil, fmt.Errorf("vulkan: no memory type for %s memory (flags %#x)", p.name, uint32(p.want))
	}
	ai := vk.MemoryAllocateInfo{
		SType:           vk.StructureTypeMemoryAllocateInfo,
		AllocationSize:  req.Size,
		MemoryTypeIndex: uint32(typ),
	}
	var mem vk.DeviceMemory
	r = allocateMemory(p.dev, &ai, nil, &mem)
	ai.Free()
	if r != vk.Success {
		vk.DestroyBuffer(p.dev, buf, nil)
		return nil, p.memErr("vkAllocateMemory", size, r)
	}
	if r := vk.BindBufferMemory(p.dev, buf, mem, 0); r != vk.Success {
		vk.DestroyBuffer(p.dev, buf, nil)
		vk.FreeMemory(p.dev, mem, nil)
		return nil, p.memErr("vkBindBufferMemory", size, r)
	}
	b := &block{mem: mem, buf: buf, size: size, free: []span{{0, size}}}
	if p.mapped {
		var ptr unsafe.Pointer
		if r := vk.MapMemory(p.dev, mem, 0, vk.DeviceSize(vk.WholeSize), 0, &ptr); r != vk.Success {
			vk.DestroyBuffer(p.dev, buf, nil)
			vk.FreeMemory(p.dev, mem, nil)
			return nil, p.memErr("vkMapMemory", size, r)
		}
		b.ptr = ptr
	}
	return b, nil
}

// memErr describes a failed block allocation; out-of-memory results wrap
// backend.ErrOutOfMemory (through ResultError) and say so.
func (p *pool) memErr(op string, size uint64, r vk.Result) error {
	err := resultErr(op, r)
	if errors.Is(err, backend.ErrOutOfMemory) {
		return fmt.Errorf("vulkan: %s block of %d bytes (%.1f MiB): %v: %w", p.name, size, float64(size)/(1<<20), backend.ErrOutOfMemory, err)
	}
	return fmt.Errorf("vulkan: %s block of %d bytes: %w", p.name, size, err)
}

func (p *pool) destroyBlock(b *block) {
	if p.onDestroy != nil {
		p.onDestroy(b)
	}
	if b.ptr != nil {
		vk.UnmapMemory(p.dev, b.mem)
	}
	vk.DestroyBuffer(p.dev, b.buf, nil)
	vk.FreeMemory(p.dev, b.mem, nil)
}

// memoryType picks a type allowed by bits with every want flag, preferring
// those that also have the prefer flags; -1 if none.
func (p *pool) memoryType(bits uint32) int {
	return pickMemoryType(p.mem, bits, p.want, p.prefer)
}

func pickMemoryType(mem *vk.PhysicalDeviceMemoryProperties, bits uint32, want, prefer vk.MemoryPropertyFlags) int {
	fallback := -1
	for i := 0; i < int(mem.MemoryTypeCount); i++ {
		if bits&(1<<uint(i)) == 0 {
			continue
		}
		f := mem.MemoryTypes[i].PropertyFlags
		if f&want != want {
			continue
		}
		if f&prefer == prefer {
			return i
		}
		if fallback < 0 {
			fallback = i
		}
	}
	return fallback
}

func alignUp(v, a uint64) uint64 {
	if a <= 1 {
		return v
	}
	return (v + a - 1) / a * a
}
