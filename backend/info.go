package backend

import (
	"fmt"
	"strings"
)

// DeviceType classifies a device; auto-selection prefers lower values.
type DeviceType int

// Device types, in order of auto-selection preference.
const (
	DiscreteGPU DeviceType = iota
	IntegratedGPU
	CPUDevice
	OtherDevice
	Reference
)

// String is the type as `crossgrad devices` prints it ("discrete-gpu", "cpu", ...).
func (t DeviceType) String() string {
	switch t {
	case DiscreteGPU:
		return "discrete-gpu"
	case IntegratedGPU:
		return "integrated-gpu"
	case CPUDevice:
		return "cpu"
	case Reference:
		return "reference"
	default:
		return "other"
	}
}

// PCI vendor IDs of the GPU vendors crossgrad knows by number.
const (
	VendorNVIDIA uint32 = 0x10DE
	VendorAMD    uint32 = 0x1002
	VendorIntel  uint32 = 0x8086
)

// Info describes one device of one backend.
type Info struct {
	Backend          string // registered backend name, e.g. "opencl"
	Index            int    // index of the device within its backend
	Vendor           string // "nvidia", "amd", "intel" or the driver's vendor string
	VendorID         uint32 // PCI vendor ID when known, else 0
	Type             DeviceType
	Name             string
	DriverVersion    string
	GlobalMemory     uint64 // bytes
	MaxAlloc         uint64 // bytes of the largest single buffer
	ComputeUnits     int
	MaxWorkGroupSize int
	LocalMemory      uint64 // bytes of work-group local/shared memory
	// MaxBinding is the most bytes one dispatch of a kernel that cannot be
	// split into windows may address in one buffer (Vulkan's
	// maxStorageBufferRange); 0: MaxAlloc.
	MaxBinding uint64
}

// ID is the selection string that opens exactly this device, e.g. "opencl:0".
func (i Info) ID() string { return fmt.Sprintf("%s:%d", i.Backend, i.Index) }

// String describes the device in one line: ID, name, vendor, type, driver, memory.
func (i Info) String() string {
	return fmt.Sprintf("%s %s (%s, %s, driver %s, %d MiB)", i.ID(), i.Name, i.Vendor, i.Type, i.DriverVersion, i.GlobalMemory>>20)
}

// VendorName maps a PCI vendor ID, or failing that a vendor string reported
// by a driver, to a short lower-case vendor name.
func VendorName(id uint32, reported string) string {
	switch id {
	case VendorNVIDIA:
		return "nvidia"
	case VendorAMD:
		return "amd"
	case VendorIntel:
		return "intel"
	}
	r := strings.ToLower(reported)
	for _, v := range []string{"nvidia", "amd", "intel", "apple", "arm", "qualcomm", "mesa", "pocl"} {
		if strings.Contains(r, v) {
			return v
		}
	}
	if strings.Contains(r, "advanced micro devices") {
		return "amd"
	}
	if strings.Contains(r, "portable computing language") {
		return "pocl"
	}
	if r == "" {
		return "unknown"
	}
	return r
}
