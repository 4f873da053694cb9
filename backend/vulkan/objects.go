package vulkan

import vk "github.com/vulkan-go/vulkan"

// LiveObjects is the number of Vulkan objects d holds that can grow with
// use: buffers (allocated and internal), memory blocks of both pools, cached
// descriptor sets, shader modules and pipelines. It is 0 after Close. Tests
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
		n += len(d.descs.sets)
	}
	if d.pipes != nil {
		n += len(d.pipes.modules) + len(d.pipes.pipes)
	}
	return n
}

// outOfMemory is the type of errOutOfMemory: its OutOfMemory method lets
// callers outside the package (the trainer) recognise an exhausted device.
type outOfMemory struct{}

func (outOfMemory) Error() string { return "out of device memory" }

// OutOfMemory reports true.
func (outOfMemory) OutOfMemory() bool { return true }

// OutOfMemory reports whether the call failed with
// VK_ERROR_OUT_OF_DEVICE_MEMORY or VK_ERROR_OUT_OF_HOST_MEMORY.
func (e *ResultError) OutOfMemory() bool {
	return e.Result == vk.ErrorOutOfDeviceMemory || e.Result == vk.ErrorOutOfHostMemory
}
