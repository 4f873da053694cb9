package vulkan

import (
	"errors"
	"fmt"
	"sync"

	vk "github.com/vulkan-go/vulkan"

	"github.com/crossgrad/crossgrad/backend"
)

// minAPI is the Vulkan version crossgrad needs (core 1.1, no extensions).
var minAPI = vk.MakeVersion(1, 1, 0)

// Device is one opened Vulkan device with one compute queue. It implements
// backend.Device, backend.KernelTimer and backend.BufferCounter. Its methods
// are serialised by a mutex; dispatches execute in submission order.
type Device struct {
	mu     sync.Mutex
	info   backend.Info
	opts   Options
	inst   *instance
	phys   *physical
	dev    vk.Device
	queue  vk.Queue
	family uint32
	limits vk.PhysicalDeviceLimits

	direct  bool  // buffers live in host-visible memory: Write/Read copy directly
	mem     *pool // buffers
	staging *pool // host-visible transfer memory

	pipes *pipelines
	descs *descriptors
	rec   recorder

	live     map[*Buffer]struct{}
	scratch  map[string]*Buffer // internal buffers by purpose
	tables   map[resizeKey]*Buffer
	times    map[backend.Kernel]backend.KernelTime
	lost     error // sticky: the device is unusable
	closed   bool
	maxBatch int

	tiles  map[backend.TuneKey]tileCfg // SetTile's table
	forced *tileCfg                    // DispatchTile's configuration while it plans
	cur    *tileCfg                    // the tiling of the dispatch being planned; nil: default
}

var _ interface {
	backend.Device
	backend.KernelTimer
	backend.BufferCounter
} = (*Device)(nil)

// errClosed is returned by every call on a closed device.
var errClosed = fmt.Errorf("vulkan: %w", backend.ErrClosed)

// waitForFences is vkWaitForFences for the waits on submitted work; tests
// replace it to make the driver report a lost device.
var waitForFences = vk.WaitForFences

// OpenDevice opens device index of the registered backend's Devices() with
// opts. The caller owns the device and must Close it.
func OpenDevice(index int, opts Options) (*Device, error) {
	defer withoutGC()()
	in, err := newInstance(opts.Validation)
	if err != nil {
		return nil, err
	}
	phys, err := in.physicalDevices()
	if err != nil {
		in.destroy()
		return nil, err
	}
	if index < 0 || index >= len(phys) {
		in.destroy()
		if len(phys) == 0 {
			return nil, backend.WithKind(backend.ErrNoDriver, fmt.Errorf("vulkan: no physical device; %s", installHint))
		}
		return nil, fmt.Errorf("vulkan: no device %d (%d physical devices)", index, len(phys))
	}
	d := &Device{inst: in, opts: opts, live: map[*Buffer]struct{}{}, scratch: map[string]*Buffer{},
		tables: map[resizeKey]*Buffer{}, times: map[backend.Kernel]backend.KernelTime{}}
	d.phys = queryPhysical(in, phys[index])
	d.info = d.phys.info(index)
	d.limits = d.phys.props.Limits
	if r := opts.maxRange; r > 0 && r < d.limits.MaxStorageBufferRange {
		d.limits.MaxStorageBufferRange = r
		d.info.MaxBinding = uint64(r)
	}
	if err := d.init(); err != nil {
		d.destroy()
		in.destroy()
		return nil, fmt.Errorf("vulkan: open %s (%s): %w", d.info.ID(), d.info.Name, err)
	}
	return d, nil
}

// init creates the logical device, queue, memory pools, pipelines and the
// command recorder.
func (d *Device) init() error {
	if d.phys.props.ApiVersion < minAPI {
		return fmt.Errorf("device supports Vulkan %s, crossgrad needs 1.1", vk.Version(d.phys.props.ApiVersion))
	}
	fam := d.phys.computeFamily()
	if fam < 0 {
		return errors.New("device has no compute queue")
	}
	d.family = uint32(fam)
	qci := []vk.DeviceQueueCreateInfo{{
		SType:            vk.StructureTypeDeviceQueueCreateInfo,
		QueueFamilyIndex: d.family,
		QueueCount:       1,
		PQueuePriorities: []float32{1},
	}}
	dci := vk.DeviceCreateInfo{
		SType:                vk.StructureTypeDeviceCreateInfo,
		QueueCreateInfoCount: 1,
		PQueueCreateInfos:    qci,
	}
	var dev vk.Device
	r := vk.CreateDevice(d.phys.handle, &dci, nil, &dev)
	dci.Free()
	if r != vk.Success {
		return resultErr("vkCreateDevice", r)
	}
	d.dev = dev
	var q vk.Queue
	vk.GetDeviceQueue(dev, d.family, 0, &q)
	d.queue = q

	d.maxBatch = d.opts.MaxBatch
	if d.maxBatch <= 0 {
		d.maxBatch = 256
	}
	if err := d.initMemory(); err != nil {
		return err
	}
	d.descs = newDescriptors(d.dev)
	pp, err := newPipelines(d)
	if err != nil {
		return err
	}
	d.pipes = pp
	if err := d.descs.init(); err != nil {
		return err
	}
	return d.rec.init(d)
}

// initMemory chooses direct (host-visible) or staged buffers and sets up the
// pools.
func (d *Device) initMemory() error {
	const (
		local    = vk.MemoryPropertyFlags(vk.MemoryPropertyDeviceLocalBit)
		visible  = vk.MemoryPropertyFlags(vk.MemoryPropertyHostVisibleBit)
		coherent = vk.MemoryPropertyFlags(vk.MemoryPropertyHostCoherentBit)
		cached   = vk.MemoryPropertyFlags(vk.MemoryPropertyHostCachedBit)
	)
	usage := vk.BufferUsageFlags(vk.BufferUsageStorageBufferBit | vk.BufferUsageUniformTexelBufferBit | vk.BufferUsageTransferSrcBit | vk.BufferUsageTransferDstBit)
	align := max(uint64(d.limits.MinStorageBufferOffsetAlignment), uint64(d.limits.MinTexelBufferOffsetAlignment), 16)
	bs := d.opts.BlockSize
	if bs == 0 {
		bs = 256 << 20
	}
	maxAlloc := d.phys.maxAlloc
	if maxAlloc > 0 && bs > maxAlloc {
		bs = maxAlloc
	}
	t := d.info.Type
	hostType := pickMemoryType(&d.phys.mem, ^uint32(0), visible|coherent, local)
	d.direct = !d.opts.forceStaging && (t == backend.IntegratedGPU || t == backend.CPUDevice) && hostType >= 0 &&
		d.phys.mem.MemoryTypes[hostType].PropertyFlags&local != 0
	onDestroy := func(b *block) {
		if d.descs != nil {
			d.descs.forget(b.buf)
		}
	}
	d.mem = &pool{name: "device", dev: d.dev, mem: &d.phys.mem, usage: usage, want: local,
		blockSize: bs, maxAlloc: maxAlloc, align: align, onDestroy: onDestroy}
	if d.direct {
		d.mem.want, d.mem.prefer, d.mem.mapped = local|visible|coherent, cached, true
	}
	d.staging = &pool{name: "staging", dev: d.dev, mem: &d.phys.mem, usage: usage,
		want: visible | coherent, prefer: cached, mapped: true, blockSize: min(bs, 64<<20),
		maxAlloc: maxAlloc, align: align, onDestroy: onDestroy}
	return nil
}

// Info implements backend.Device.
func (d *Device) Info() backend.Info { return d.info }

// Validation returns the validation messages of a device opened with
// Options.Validation, or nil.
func (d *Device) Validation() *ValidationLog { return d.inst.sink }

// usable reports the sticky error of a closed or lost device, then any
// validation errors not yet reported. d.mu must be held.
func (d *Device) usable() error {
	if d.closed {
		return errClosed
	}
	if d.lost != nil {
		return d.lost
	}
	return d.inst.sink.take()
}

// Sync implements backend.Device: it submits the recorded work and waits for
// all of it.
func (d *Device) Sync() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if err := d.usable(); err != nil {
		return err
	}
	if err := d.waitAll(); err != nil {
		return err
	}
	return d.inst.sink.take()
}

// Close implements backend.Device: it waits for queued work (unless the
// device is lost), saves the pipeline cache and destroys every native object
// in reverse order of creation. It is idempotent. A validation error seen
// before closing is returned.
func (d *Device) Close() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.closed {
		return nil
	}
	var errs []error
	if d.lost == nil {
		if err := d.waitAll(); err != nil {
			errs = append(errs, err)
		}
	}
	if d.pipes != nil {
		if err := d.pipes.save(); err != nil {
			errs = append(errs, err)
		}
	}
	errs = append(errs, d.inst.sink.take())
	d.destroy()
	errs = append(errs, d.inst.sink.take())
	d.inst.destroy()
	d.closed = true
	return errors.Join(errs...)
}

// destroy releases every native object except the instance.
func (d *Device) destroy() {
	if d.dev != nil {
		vk.DeviceWaitIdle(d.dev)
	}
	for b := range d.live {
		b.released = true
	}
	clear(d.live)
	clear(d.scratch)
	clear(d.tables)
	d.rec.destroy(d)
	if d.descs != nil {
		d.descs.destroy()
		d.descs = nil
	}
	if d.pipes != nil {
		d.pipes.destroy()
	}
	if d.staging != nil {
		d.staging.destroy()
	}
	if d.mem != nil {
		d.mem.destroy()
	}
	if d.dev != nil {
		vk.DestroyDevice(d.dev, nil)
		d.dev = nil
	}
}

// LiveBuffers implements backend.BufferCounter: buffers allocated by Alloc
// and not yet released (internal scratch buffers are not counted).
func (d *Device) LiveBuffers() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return len(d.live)
}
