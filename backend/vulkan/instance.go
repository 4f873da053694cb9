package vulkan

import (
	"fmt"
	"log"
	"strings"
	"sync"
	"unsafe"

	vk "github.com/vulkan-go/vulkan"

	"github.com/crossgrad/crossgrad/backend"
)

// validationLayer is the Khronos validation layer (Debian package
// vulkan-validationlayers).
const validationLayer = "VK_LAYER_KHRONOS_validation"

// instMu serialises instance creation and destruction: vulkan-go keeps the
// instance-level entry points in process globals that vk.InitInstance
// overwrites. The loader returns trampolines that dispatch on the handle, so
// the entry points of any live instance serve every instance.
var instMu sync.Mutex

// instance is one VkInstance without surface extensions, optionally with the
// validation layer and a debug-report callback feeding sink.
type instance struct {
	handle vk.Instance
	dbg    vk.DebugReportCallback
	sinkID unsafe.Pointer // C memory holding the sink's id (the callback's user data)
	sink   *ValidationLog
}

// ValidationLog collects the validation layer's messages of one device.
// Errors (VK_DEBUG_REPORT_ERROR_BIT_EXT and WARNING_BIT_EXT, which reports
// undefined behaviour) make the device's next Dispatch, Sync, Read or Close
// fail; performance warnings are only logged.
type ValidationLog struct {
	mu       sync.Mutex
	errs     []string
	reported int
	perf     []string
}

// Errors returns every error-class message received so far (nil for a
// device opened without validation).
func (v *ValidationLog) Errors() []string {
	if v == nil {
		return nil
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	return append([]string(nil), v.errs...)
}

// Warnings returns the performance warnings received so far.
func (v *ValidationLog) Warnings() []string {
	if v == nil {
		return nil
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	return append([]string(nil), v.perf...)
}

// take returns an error for messages not yet reported, or nil.
func (v *ValidationLog) take() error {
	if v == nil {
		return nil
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.reported == len(v.errs) {
		return nil
	}
	msgs := v.errs[v.reported:]
	v.reported = len(v.errs)
	return fmt.Errorf("vulkan validation: %d error(s): %s", len(msgs), strings.Join(msgs, "; "))
}

var (
	sinkMu   sync.Mutex
	sinks    = map[uint32]*ValidationLog{}
	nextSink uint32
)

// debugCallback receives every validation message of every instance (vulkan-go
// calls only the first Go callback registered in a process, so there is one
// for all) and routes it by the id in the user data.
func debugCallback(flags vk.DebugReportFlags, _ vk.DebugReportObjectType, _ uint64, _ uint, _ int32, prefix, msg string, user unsafe.Pointer) vk.Bool32 {
	if user == nil {
		return vk.False
	}
	id := *(*uint32)(user)
	sinkMu.Lock()
	s := sinks[id]
	sinkMu.Unlock()
	text := strings.Clone(prefix) + ": " + strings.Clone(msg) // C memory, valid only during the call
	if s == nil {
		log.Printf("vulkan validation (device closed): %s", text)
		return vk.False
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if flags&vk.DebugReportFlags(vk.DebugReportErrorBit|vk.DebugReportWarningBit) != 0 {
		s.errs = append(s.errs, text)
	} else {
		s.perf = append(s.perf, text)
	}
	return vk.False
}

// newInstance creates a Vulkan 1.1 instance. With validation it enables
// VK_LAYER_KHRONOS_validation and VK_EXT_debug_report.
func newInstance(validation bool) (*instance, error) {
	if err := load(); err != nil {
		return nil, err
	}
	instMu.Lock()
	defer instMu.Unlock()
	app := &vk.ApplicationInfo{
		SType:            vk.StructureTypeApplicationInfo,
		PApplicationName: "crossgrad\x00",
		PEngineName:      "crossgrad\x00",
		ApiVersion:       vk.MakeVersion(1, 1, 0),
	}
	ci := vk.InstanceCreateInfo{SType: vk.StructureTypeInstanceCreateInfo, PApplicationInfo: app}
	if validation {
		if !hasInstanceLayer(validationLayer) {
			return nil, fmt.Errorf("vulkan: validation requested but %s is not installed (Debian package vulkan-validationlayers)", validationLayer)
		}
		ci.EnabledLayerCount = 1
		ci.PpEnabledLayerNames = []string{validationLayer + "\x00"}
		ci.EnabledExtensionCount = 1
		ci.PpEnabledExtensionNames = []string{"VK_EXT_debug_report\x00"}
		if hasLayerExtension(validationLayer, "VK_EXT_validation_features") {
			// Also check barriers (synchronization validation).
			ci.EnabledExtensionCount = 2
			ci.PpEnabledExtensionNames = append(ci.PpEnabledExtensionNames, "VK_EXT_validation_features\x00")
			ci.PNext = syncValidationFeatures()
		}
	}
	var h vk.Instance
	r := vk.CreateInstance(&ci, nil, &h)
	ci.Free()
	if r != vk.Success {
		err := resultErr("vkCreateInstance", r)
		if r == vk.ErrorIncompatibleDriver || r == vk.ErrorInitializationFailed {
			return nil, backend.WithKind(backend.ErrNoDriver, fmt.Errorf("%w; no Vulkan 1.1 driver found: %s", err, installHint))
		}
		return nil, err
	}
	if err := vk.InitInstance(h); err != nil {
		vk.DestroyInstance(h, nil)
		return nil, fmt.Errorf("vulkan: %w", err)
	}
	in := &instance{handle: h}
	if validation {
		if err := in.attachLog(); err != nil {
			vk.DestroyInstance(h, nil)
			return nil, err
		}
	}
	return in, nil
}

// attachLog registers a debug-report callback routed to a new ValidationLog.
// instMu must be held.
func (in *instance) attachLog() error {
	sinkMu.Lock()
	nextSink++
	id := nextSink
	in.sink = &ValidationLog{}
	sinks[id] = in.sink
	sinkMu.Unlock()
	idBytes := []byte{byte(id), byte(id >> 8), byte(id >> 16), byte(id >> 24)}
	in.sinkID = cBytes(idBytes)
	dci := vk.DebugReportCallbackCreateInfo{
		SType:       vk.StructureTypeDebugReportCallbackCreateInfo,
		Flags:       vk.DebugReportFlags(vk.DebugReportErrorBit | vk.DebugReportWarningBit | vk.DebugReportPerformanceWarningBit),
		PfnCallback: debugCallback,
		PUserData:   in.sinkID,
	}
	var cb vk.DebugReportCallback
	r := vk.CreateDebugReportCallback(in.handle, &dci, nil, &cb)
	dci.Free()
	if r != vk.Success {
		in.dropLog()
		return resultErr("vkCreateDebugReportCallbackEXT", r)
	}
	in.dbg = cb
	return nil
}

func (in *instance) dropLog() {
	if in.sinkID == nil {
		return
	}
	sinkMu.Lock()
	delete(sinks, *(*uint32)(in.sinkID))
	sinkMu.Unlock()
	freeC(in.sinkID)
	in.sinkID = nil
}

// destroy destroys the callback and the instance. Every device of the
// instance must be destroyed first.
func (in *instance) destroy() {
	if in == nil || in.handle == nil {
		return
	}
	instMu.Lock()
	defer instMu.Unlock()
	// Reload the entry points from this instance: another instance without
	// debug_report may have replaced the extension's entry points.
	if err := vk.InitInstance(in.handle); err == nil && in.dbg != nil {
		vk.DestroyDebugReportCallback(in.handle, in.dbg, nil)
	}
	vk.DestroyInstance(in.handle, nil)
	in.dropLog()
	in.handle = nil
}

// physicalDevices lists the instance's physical devices in loader order.
func (in *instance) physicalDevices() ([]vk.PhysicalDevice, error) {
	var n uint32
	if r := vk.EnumeratePhysicalDevices(in.handle, &n, nil); r != vk.Success {
		return nil, resultErr("vkEnumeratePhysicalDevices", r)
	}
	if n == 0 {
		return nil, nil
	}
	devs := make([]vk.PhysicalDevice, n)
	if r := vk.EnumeratePhysicalDevices(in.handle, &n, devs); r != vk.Success && r != vk.Incomplete {
		return nil, resultErr("vkEnumeratePhysicalDevices", r)
	}
	return devs[:n], nil
}

// hasInstanceLayer reports whether the loader knows layer name.
func hasInstanceLayer(name string) bool {
	var n uint32
	if vk.EnumerateInstanceLayerProperties(&n, nil) != vk.Success || n == 0 {
		return false
	}
	props := make([]vk.LayerProperties, n)
	if r := vk.EnumerateInstanceLayerProperties(&n, props); r != vk.Success && r != vk.Incomplete {
		return false
	}
	for i := range props[:n] {
		props[i].Deref()
		if vk.ToString(props[i].LayerName[:]) == name {
			return true
		}
	}
	return false
}

// hasLayerExtension reports whether layer provides instance extension ext.
func hasLayerExtension(layer, ext string) bool {
	var n uint32
	name := layer + "\x00"
	if vk.EnumerateInstanceExtensionProperties(name, &n, nil) != vk.Success || n == 0 {
		return false
	}
	props := make([]vk.ExtensionProperties, n)
	if r := vk.EnumerateInstanceExtensionProperties(name, &n, props); r != vk.Success && r != vk.Incomplete {
		return false
	}
	for i := range props[:n] {
		props[i].Deref()
		if vk.ToString(props[i].ExtensionName[:]) == ext {
			return true
		}
	}
	return false
}

// ValidationAvailable reports whether the Vulkan loader can be loaded and
// offers VK_LAYER_KHRONOS_validation.
func ValidationAvailable() bool {
	if load() != nil {
		return false
	}
	instMu.Lock()
	defer instMu.Unlock()
	return hasInstanceLayer(validationLayer)
}

// ResultError is a failed Vulkan call: the call's name and its VkResult.
type ResultError struct {
	Op     string
	Result vk.Result
}

// Error names the call and the result.
func (e *ResultError) Error() string {
	return fmt.Sprintf("vulkan: %s failed: %v (VkResult %d)", e.Op, vk.Error(e.Result), int32(e.Result))
}

// Unwrap returns vulkan-go's error value for the result and the result's
// failure kind, if any: VK_ERROR_OUT_OF_DEVICE_MEMORY and
// VK_ERROR_OUT_OF_HOST_MEMORY are backend.ErrOutOfMemory,
// VK_ERROR_DEVICE_LOST is backend.ErrDeviceLost and
// VK_ERROR_INCOMPATIBLE_DRIVER is backend.ErrNoDriver.
func (e *ResultError) Unwrap() []error {
	var kind error
	switch e.Result {
	case vk.ErrorOutOfDeviceMemory, vk.ErrorOutOfHostMemory:
		kind = backend.ErrOutOfMemory
	case vk.ErrorDeviceLost:
		kind = backend.ErrDeviceLost
	case vk.ErrorIncompatibleDriver:
		kind = backend.ErrNoDriver
	default:
		return []error{vk.Error(e.Result)}
	}
	return []error{vk.Error(e.Result), kind}
}

func resultErr(op string, r vk.Result) error { return &ResultError{op, r} }
