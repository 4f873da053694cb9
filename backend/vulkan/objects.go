package vulkan

// LiveObjects is the number of Vulkan objects d holds that can grow with
// use: buffers (allocated and internal), memory blocks of both pools, cached
// descriptor sets and texel buffer views, shader modules and pipelines. It is 0 after Close. Tests
// use it, with LiveBuffers, to prove nothing leaks.
func (d *Device) LiveObjects() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.closed {
		return 0
	}
	n := len(d.live) + len(d.scratch) + len(d.tables)
	for _, p := range []*pool{d.mem, d.staging} {
		if p != nil {
			n += len(p.blocks)
		}
	}
	if d.descs != nil {
		n += len(d.descs.sets) + len(d.descs.views)
	}
	if d.pipes != nil {
		n += len(d.pipes.modules) + len(d.pipes.pipes)
	}
	return n
}
