// Package opencl is the OpenCL 1.2 backend of crossgrad, over
// github.com/jgillich/go-opencl. It registers itself as "opencl" in package
// backend: import it for its side effect. Every kernel of the closed list is
// an OpenCL C file of shaders.OpenCL; all of them are built into one program
// when a device opens, but the tiled kernels (gemm, conv2d_*), built when
// first launched with a tiling (see tiledKernel).
package opencl

import (
	"fmt"
	"io/fs"
	"strings"

	"github.com/jgillich/go-opencl/cl"

	"github.com/crossgrad/crossgrad/backend"
	"github.com/crossgrad/crossgrad/shaders"
)

func init() { backend.Register("opencl", 0, clBackend{}) }

// clBackend enumerates and opens the devices of every OpenCL platform.
type clBackend struct{}

// installHint names the packages that provide OpenCL on Debian/Ubuntu.
const installHint = "install an OpenCL driver (ICD): pocl-opencl-icd for CPUs, your GPU vendor's ICD " +
	"(nvidia-opencl-icd, mesa-opencl-icd, intel-opencl-icd or AMD's ROCm OpenCL) for GPUs, " +
	"and the ICD loader ocl-icd-libopencl1"

// Devices lists every device of every platform, numbered across platforms.
func (clBackend) Devices() ([]backend.Info, error) {
	devs, err := listDevices()
	if err != nil {
		return nil, err
	}
	infos := make([]backend.Info, len(devs))
	for i, d := range devs {
		infos[i], err = deviceInfo(d, i)
		if err != nil {
			return nil, err
		}
	}
	return infos, nil
}

// Open opens device index of Devices(): a context, an in-order profiling
// queue and the program with every kernel.
func (clBackend) Open(index int) (backend.Device, error) { return Open(index) }

// Open opens OpenCL device index (numbered as backend "opencl" lists them).
// The caller owns the returned Device and must Close it.
func Open(index int) (*Device, error) {
	devs, err := listDevices()
	if err != nil {
		return nil, err
	}
	if index < 0 || index >= len(devs) {
		return nil, fmt.Errorf("opencl: no device %d (%d devices)", index, len(devs))
	}
	info, err := deviceInfo(devs[index], index)
	if err != nil {
		return nil, err
	}
	src, err := programSource(openCLSources())
	if err != nil {
		return nil, err
	}
	return openWith(devs[index], info, src)
}

// openWith opens dev with the program built from src.
func openWith(dev *cl.Device, info backend.Info, src string) (_ *Device, err error) {
	d := &Device{info: info, dev: dev, buffers: map[*Buffer]struct{}{}}
	d.vecFloats = nativeFloatWidth(dev)
	defer func() {
		if err != nil {
			d.releaseNative()
		}
	}()
	if d.ctx, err = cl.CreateContext([]*cl.Device{dev}); err != nil {
		return nil, fmt.Errorf("opencl: creating a context on %s: %w", info.Name, wrapCL("clCreateContext", err))
	}
	if d.queue, err = d.ctx.CreateCommandQueue(dev, cl.CommandQueueProfilingEnable); err != nil {
		return nil, fmt.Errorf("opencl: creating a command queue on %s: %w", info.Name, wrapCL("clCreateCommandQueue", err))
	}
	if d.program, err = buildProgram(d.ctx, dev, info.Name, src, optionsFor(dev)); err != nil {
		return nil, err
	}
	if d.kernels, err = createKernels(d.program, src); err != nil {
		return nil, err
	}
	d.maxWG = kernelWorkGroupSizes(d.kernels, dev, max(info.MaxWorkGroupSize, 1))
	d.maxItems = maxWorkItemSizes(dev)
	return d, nil
}

// openCLSources is the embedded kernel source folder.
func openCLSources() fs.FS {
	sub, err := fs.Sub(shaders.OpenCL, "opencl")
	if err != nil {
		panic(err) // the embed pattern guarantees the folder exists
	}
	return sub
}

// listDevices returns every device of every platform, or an error wrapping
// backend.ErrNoDriver and naming the packages to install when there is none.
func listDevices() (devs []*cl.Device, err error) {
	defer func() {
		if r := recover(); r != nil {
			devs, err = nil, fmt.Errorf("opencl: enumerating devices: %v", r)
		}
	}()
	plats, err := cl.GetPlatforms()
	if err != nil {
		return nil, backend.WithKind(backend.ErrNoDriver, fmt.Errorf("opencl: no OpenCL platform (%w); %s", wrapCL("clGetPlatformIDs", err), installHint))
	}
	var errs []string
	for i, p := range plats {
		ds, err := p.GetDevices(cl.DeviceTypeAll)
		if err != nil {
			if err != cl.ErrDeviceNotFound {
				errs = append(errs, fmt.Sprintf("platform %d: %v", i, wrapCL("clGetDeviceIDs", err)))
			}
			continue
		}
		devs = append(devs, ds...)
	}
	if len(devs) == 0 {
		msg := fmt.Sprintf("opencl: %d OpenCL platforms but no device", len(plats))
		if len(errs) > 0 {
			msg += " (" + strings.Join(errs, "; ") + ")"
		}
		return nil, backend.WithKind(backend.ErrNoDriver, fmt.Errorf("%s; %s", msg, installHint))
	}
	return devs, nil
}

// maxWorkItemSizes is CL_DEVICE_MAX_WORK_ITEM_SIZES, or nil when the
// query fails (the binding panics then).
func maxWorkItemSizes(dev *cl.Device) (sizes []int) {
	defer func() {
		if recover() != nil {
			sizes = nil
		}
	}()
	return dev.MaxWorkItemSizes()
}

// Raw clGetDeviceInfo parameters (the binding's getters panic on error).
// nativeFloatWidth is CL_DEVICE_NATIVE_VECTOR_WIDTH_FLOAT of dev, or 8
// (AVX2's) when the driver does not say.
func nativeFloatWidth(dev *cl.Device) int {
	if w, err := dev.GetInfoUint(infoNativeVectorWidthFloat); err == nil && w > 0 {
		return int(w)
	}
	return 8
}

const (
	infoNativeVectorWidthFloat = 0x103A
	infoType                   = 0x1000
	infoVendorID               = 0x1001
	infoMaxComputeUnits        = 0x1002
	infoMaxWorkGroupSize       = 0x1004
	infoMaxMemAllocSize        = 0x1010
	infoGlobalMemSize          = 0x101F
	infoLocalMemSize           = 0x1023
	infoName                   = 0x102B
	infoVendor                 = 0x102C
	infoDriverVersion          = 0x102D
	infoHostUnifiedMemory      = 0x1035
)

// deviceInfo describes dev as device index of the backend.
func deviceInfo(dev *cl.Device, index int) (info backend.Info, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("opencl: querying device %d: %v", index, r)
		}
	}()
	var q infoQuery
	info = backend.Info{Backend: "opencl", Index: index}
	info.Name = strings.TrimSpace(q.str(dev.GetInfoString(infoName)))
	vendor := strings.TrimSpace(q.str(dev.GetInfoString(infoVendor)))
	info.VendorID = uint32(q.uint(dev.GetInfoUint(infoVendorID)))
	info.DriverVersion = strings.TrimSpace(q.str(dev.GetInfoString(infoDriverVersion)))
	info.GlobalMemory = uint64(q.ulong(dev.GetInfoUlong(infoGlobalMemSize)))
	info.MaxAlloc = uint64(q.ulong(dev.GetInfoUlong(infoMaxMemAllocSize)))
	info.LocalMemory = uint64(q.ulong(dev.GetInfoUlong(infoLocalMemSize)))
	info.ComputeUnits = int(q.uint(dev.GetInfoUint(infoMaxComputeUnits)))
	info.MaxWorkGroupSize = q.size(dev.GetInfoSize(infoMaxWorkGroupSize))
	typ := cl.DeviceType(q.ulong(dev.GetInfoUlong(infoType)))
	switch {
	case typ&cl.DeviceTypeGPU != 0:
		info.Type = backend.DiscreteGPU
		if q.boolean(dev.GetInfoBool(infoHostUnifiedMemory)) {
			info.Type = backend.IntegratedGPU
		}
	case typ&cl.DeviceTypeCPU != 0:
		info.Type = backend.CPUDevice
		// CPU drivers report no PCI vendor (PoCL says 0x8086 on any CPU):
		// the vendor string (e.g. "AuthenticAMD") names the vendor.
		info.VendorID = 0
	default:
		info.Type = backend.OtherDevice
	}
	info.Vendor = backend.VendorName(info.VendorID, vendor)
	if q.err != nil {
		return info, fmt.Errorf("opencl: querying device %d (%s): %w", index, info.Name, q.err)
	}
	return info, nil
}

// infoQuery keeps the first error of a series of clGetDeviceInfo queries.
type infoQuery struct{ err error }

func (q *infoQuery) keep(err error) {
	if err != nil && q.err == nil {
		q.err = wrapCL("clGetDeviceInfo", err)
	}
}

func (q *infoQuery) str(v string, err error) string { q.keep(err); return v }
func (q *infoQuery) uint(v uint, err error) uint    { q.keep(err); return v }
func (q *infoQuery) ulong(v int64, err error) int64 { q.keep(err); return v }
func (q *infoQuery) size(v int, err error) int      { q.keep(err); return v }
func (q *infoQuery) boolean(v bool, err error) bool { q.keep(err); return v }
