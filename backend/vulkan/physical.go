package vulkan

import (
	"fmt"
	"runtime"

	vk "github.com/vulkan-go/vulkan"

	"github.com/crossgrad/crossgrad/backend"
)

// physical is what crossgrad reads of one VkPhysicalDevice.
type physical struct {
	handle   vk.PhysicalDevice
	props    vk.PhysicalDeviceProperties // Limits dereferenced
	mem      vk.PhysicalDeviceMemoryProperties
	families []vk.QueueFamilyProperties
	maxAlloc uint64 // maxMemoryAllocationSize, 0 if unknown
	subgroup subgroupProps
	name     string
}

// queryPhysical reads the properties, memory heaps and queue families.
func queryPhysical(in *instance, h vk.PhysicalDevice) *physical {
	p := &physical{handle: h}
	vk.GetPhysicalDeviceProperties(h, &p.props)
	p.props.Deref()
	p.props.Limits.Deref()
	p.name = vk.ToString(p.props.DeviceName[:])
	vk.GetPhysicalDeviceMemoryProperties(h, &p.mem)
	p.mem.Deref()
	for i := range p.mem.MemoryTypes[:p.mem.MemoryTypeCount] {
		p.mem.MemoryTypes[i].Deref()
	}
	for i := range p.mem.MemoryHeaps[:p.mem.MemoryHeapCount] {
		p.mem.MemoryHeaps[i].Deref()
	}
	var n uint32
	vk.GetPhysicalDeviceQueueFamilyProperties(h, &n, nil)
	p.families = make([]vk.QueueFamilyProperties, n)
	vk.GetPhysicalDeviceQueueFamilyProperties(h, &n, p.families)
	for i := range p.families {
		p.families[i].Deref()
		p.families[i].MinImageTransferGranularity.Deref()
	}
	if p.props.ApiVersion >= vk.MakeVersion(1, 1, 0) {
		p.maxAlloc = maxAllocation(in.handle, h)
		p.subgroup = subgroupProperties(in.handle, h)
	}
	return p
}

// computeFamily picks the queue family for the one compute queue: a family
// with compute and timestamps, else any compute family; -1 if none.
func (p *physical) computeFamily() int {
	best := -1
	for i, f := range p.families {
		if f.QueueCount == 0 || f.QueueFlags&vk.QueueFlags(vk.QueueComputeBit) == 0 {
			continue
		}
		if f.TimestampValidBits > 0 {
			return i
		}
		if best < 0 {
			best = i
		}
	}
	return best
}

// deviceType maps VkPhysicalDeviceType.
func (p *physical) deviceType() backend.DeviceType {
	switch p.props.DeviceType {
	case vk.PhysicalDeviceTypeDiscreteGpu:
		return backend.DiscreteGPU
	case vk.PhysicalDeviceTypeIntegratedGpu:
		return backend.IntegratedGPU
	case vk.PhysicalDeviceTypeCpu:
		return backend.CPUDevice
	}
	return backend.OtherDevice
}

// vendorIDMesa is the Khronos vendor ID of Mesa (lavapipe reports it).
const vendorIDMesa = 0x10005

// vendorString names vendors whose IDs are not PCI IDs.
func (p *physical) vendorString() string {
	switch p.props.VendorID {
	case vendorIDMesa:
		return "mesa"
	case 0x10002:
		return "amd" // Khronos ID of AMD's AMDVLK software devices
	case 0x13B5:
		return "arm"
	case 0x5143:
		return "qualcomm"
	case 0x106B:
		return "apple"
	}
	return p.name
}

// driverVersion decodes driverVersion as the vendors pack it.
func (p *physical) driverVersion() string {
	v := p.props.DriverVersion
	switch p.props.VendorID {
	case backend.VendorNVIDIA:
		return fmt.Sprintf("%d.%d.%d.%d", v>>22, (v>>14)&0xFF, (v>>6)&0xFF, v&0x3F)
	case backend.VendorIntel:
		if runtime.GOOS == "windows" {
			return fmt.Sprintf("%d.%d", v>>14, v&0x3FFF)
		}
	}
	return vk.Version(v).String()
}

// info describes the device as backend.Info (Backend and Index set by the
// caller).
func (p *physical) info(index int) backend.Info {
	var local uint64
	for i := range p.mem.MemoryHeaps[:p.mem.MemoryHeapCount] {
		h := p.mem.MemoryHeaps[i]
		if h.Flags&vk.MemoryHeapFlags(vk.MemoryHeapDeviceLocalBit) != 0 {
			local += uint64(h.Size)
		}
	}
	if local == 0 && p.mem.MemoryHeapCount > 0 {
		local = uint64(p.mem.MemoryHeaps[0].Size)
	}
	maxAlloc := p.maxAlloc
	if maxAlloc == 0 || maxAlloc > local {
		maxAlloc = local
	}
	cus := 0
	if p.deviceType() == backend.CPUDevice {
		cus = runtime.NumCPU()
	}
	l := p.props.Limits
	return backend.Info{
		Backend:          "vulkan",
		Index:            index,
		Vendor:           backend.VendorName(p.props.VendorID, p.vendorString()),
		VendorID:         pciVendor(p.props.VendorID),
		Type:             p.deviceType(),
		Name:             p.name,
		DriverVersion:    p.driverVersion(),
		GlobalMemory:     local,
		MaxAlloc:         maxAlloc,
		ComputeUnits:     cus,
		MaxWorkGroupSize: int(l.MaxComputeWorkGroupInvocations),
		LocalMemory:      uint64(l.MaxComputeSharedMemorySize),
		MaxBinding:       uint64(l.MaxStorageBufferRange),
	}
}

// pciVendor is the vendor ID when it is a PCI ID (below 0x10000), else 0.
func pciVendor(id uint32) uint32 {
	if id >= 0x10000 {
		return 0
	}
	return id
}
