package vulkan

import (
	vk "github.com/vulkan-go/vulkan"
)

// descMaxSets is the capacity of the descriptor pool; when the cache reaches
// it, the device waits for idle and starts over with an empty pool.
const descMaxSets = 4096

// descEntry is one binding: a block buffer range, bound as a storage buffer
// or, when texel is 1 or 4, as a uniform texel buffer of that many floats
// per texel (R32_SFLOAT, R32G32B32A32_SFLOAT), or with words of 32-bit
// words (R32_UINT, texel 1).
type descEntry struct {
	buf      vk.Buffer
	off, rng uint64
	texel    uint8
	words    bool
}

// descKey identifies a descriptor set by its bindings.
type descKey struct {
	n int
	e [maxBindings]descEntry
}

// texel is the mask of k's texel-buffer bindings (bit i: binding i).
func (k descKey) texel() uint8 {
	var m uint8
	for i, e := range k.e[:k.n] {
		if e.texel != 0 {
			m |= 1 << i
		}
	}
	return m
}

// descriptors caches one descriptor set per distinct list of bindings, so a
// training loop that repeats the same dispatches allocates no sets after its
// first step.
type descriptors struct {
	dev  vk.Device
	pool vk.DescriptorPool
	sets map[descKey]vk.DescriptorSet
	// views are the texel buffer views of the texel entries, kept until
	// their block is destroyed.
	views map[descEntry]vk.BufferView
	gen   uint64 // incremented by every pool reset
}

func newDescriptors(dev vk.Device) *descriptors {
	return &descriptors{dev: dev, sets: map[descKey]vk.DescriptorSet{}, views: map[descEntry]vk.BufferView{}}
}

func (ds *descriptors) init() error {
	ci := vk.DescriptorPoolCreateInfo{
		SType:         vk.StructureTypeDescriptorPoolCreateInfo,
		Flags:         vk.DescriptorPoolCreateFlags(vk.DescriptorPoolCreateFreeDescriptorSetBit),
		MaxSets:       descMaxSets,
		PoolSizeCount: 2,
		PPoolSizes: []vk.DescriptorPoolSize{
			{Type: vk.DescriptorTypeStorageBuffer, DescriptorCount: descMaxSets * maxBindings},
			{Type: vk.DescriptorTypeUniformTexelBuffer, DescriptorCount: descMaxSets * maxBindings},
		},
	}
	var p vk.DescriptorPool
	r := vk.CreateDescriptorPool(ds.dev, &ci, nil, &p)
	ci.Free()
	if r != vk.Success {
		return resultErr("vkCreateDescriptorPool", r)
	}
	ds.pool = p
	return nil
}

// forget frees the cached sets and views that bind buf (its block is being
// destroyed; the device is idle).
func (ds *descriptors) forget(buf vk.Buffer) {
	for e, v := range ds.views {
		if e.buf == buf {
			destroyTexelView(ds.dev, v)
			delete(ds.views, e)
		}
	}
	for k, s := range ds.sets {
		for _, e := range k.e[:k.n] {
			if e.buf == buf {
				set := s
				vk.FreeDescriptorSets(ds.dev, ds.pool, 1, &set)
				delete(ds.sets, k)
				break
			}
		}
	}
}

func (ds *descriptors) destroy() {
	if ds.pool != nil {
		vk.DestroyDescriptorPool(ds.dev, ds.pool, nil)
		ds.pool = nil
	}
	clear(ds.sets)
	for _, v := range ds.views {
		destroyTexelView(ds.dev, v)
	}
	clear(ds.views)
}

// view returns the texel buffer view of entry e, creating it on first use.
func (ds *descriptors) view(e descEntry) (vk.BufferView, error) {
	if v, ok := ds.views[e]; ok {
		return v, nil
	}
	v, err := createTexelView(ds.dev, e.buf, e.off, e.rng, e.texel, e.words)
	if err != nil {
		return nil, err
	}
	ds.views[e] = v
	return v, nil
}

// descriptorSet returns the cached set for key, allocating and writing it
// when new. It must be called before the dispatch's commands are recorded:
// when the pool is full it waits for idle and resets the pool.
func (d *Device) descriptorSet(key descKey) (vk.DescriptorSet, error) {
	ds := d.descs
	if s, ok := ds.sets[key]; ok {
		return s, nil
	}
	if len(ds.sets) >= descMaxSets {
		if err := d.resetDescriptors(); err != nil {
			return nil, err
		}
	}
	layout, err := d.pipes.setLayout(key.n, key.texel())
	if err != nil {
		return nil, err
	}
	set, r := ds.allocate(layout)
	if r == vk.ErrorOutOfPoolMemory || r == vk.ErrorFragmentedPool {
		if err := d.resetDescriptors(); err != nil {
			return nil, err
		}
		set, r = ds.allocate(layout)
	}
	if r != vk.Success {
		return nil, resultErr("vkAllocateDescriptorSets", r)
	}
	binds := make([]storageBinding, key.n)
	for i, e := range key.e[:key.n] {
		binds[i] = storageBinding{buf: e.buf, off: e.off, rng: e.rng}
		if e.texel != 0 {
			v, err := ds.view(e)
			if err != nil {
				return nil, err
			}
			binds[i].view = v
		}
	}
	if err := writeStorageSet(d.dev, set, binds); err != nil {
		return nil, err
	}
	ds.sets[key] = set
	return set, nil
}

func (ds *descriptors) allocate(layout vk.DescriptorSetLayout) (vk.DescriptorSet, vk.Result) {
	ai := vk.DescriptorSetAllocateInfo{
		SType:              vk.StructureTypeDescriptorSetAllocateInfo,
		DescriptorPool:     ds.pool,
		DescriptorSetCount: 1,
		PSetLayouts:        []vk.DescriptorSetLayout{layout},
	}
	var set vk.DescriptorSet
	r := vk.AllocateDescriptorSets(ds.dev, &ai, &set)
	ai.Free()
	return set, r
}

// resetDescriptors waits until no recorded work can use a cached set, then
// empties the pool.
func (d *Device) resetDescriptors() error {
	if err := d.waitAll(); err != nil {
		return err
	}
	if r := vk.ResetDescriptorPool(d.dev, d.descs.pool, 0); r != vk.Success {
		return resultErr("vkResetDescriptorPool", r)
	}
	clear(d.descs.sets)
	d.descs.gen++
	return nil
}
