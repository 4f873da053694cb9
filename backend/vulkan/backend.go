// Package vulkan is crossgrad's Vulkan 1.1 compute backend over
// github.com/vulkan-go/vulkan. It opens a headless instance (no surface
// extensions) through the runtime loader libvulkan.so.1, one compute queue per
// device, and runs the SPIR-V kernels of package shaders. Buffers are
// sub-allocated from large device-local blocks (host-visible on integrated GPUs
// and CPU devices); dispatches are recorded into command buffers with the
// barriers they need and submitted in batches at Sync, Read or when a batch
// fills. Importing the package registers the backend as "vulkan".
package vulkan

import (
	"fmt"
	"os"
	"sync"

	"github.com/crossgrad/crossgrad/backend"
)

func init() { backend.Register("vulkan", 1, vulkanBackend{}) }

// EnvValidation, set to 1, enables VK_LAYER_KHRONOS_validation on every
// device the registered backend opens.
const EnvValidation = "CROSSGRAD_VK_VALIDATION"

// Options configure OpenDevice.
type Options struct {
	// Validation enables VK_LAYER_KHRONOS_validation with a debug-report
	// callback; error-class messages fail the next device call (see
	// ValidationLog). It needs the vulkan-validationlayers package.
	Validation bool
	// CacheDir holds the persistent pipeline cache; "" means
	// os.UserCacheDir()/crossgrad, and "-" disables persistence.
	CacheDir string
	// MaxBatch is the number of dispatches recorded before a command buffer
	// is submitted without waiting; 0 means 256.
	MaxBatch int
	// BlockSize is the size in bytes of the memory blocks buffers are
	// sub-allocated from; 0 means 256 MiB (less when the device allows less).
	BlockSize uint64

	// forceStaging makes a host-visible device use device-local buffers
	// with staging copies, the discrete-GPU path (tests).
	forceStaging bool
	// maxRange lowers maxStorageBufferRange (tests of split dispatches).
	maxRange uint32
	// storageReads makes a CPU device run the streaming kernels' GPU forms
	// (storage buffers, maxpool_bwd's gather, scalar adam and relu_bwd)
	// instead of its CPU forms (tests).
	storageReads bool
}

type vulkanBackend struct{}

var (
	devicesMu     sync.Mutex
	devicesCached []backend.Info
)

// Devices lists the physical devices that have a compute queue. The error
// wraps backend.ErrNoDriver and names the packages to install when there is
// no loader or no device.
func (vulkanBackend) Devices() ([]backend.Info, error) {
	defer withoutGC()()
	devicesMu.Lock()
	defer devicesMu.Unlock()
	if devicesCached != nil {
		return append([]backend.Info(nil), devicesCached...), nil
	}
	in, err := newInstance(false)
	if err != nil {
		return nil, err
	}
	defer in.destroy()
	phys, err := in.physicalDevices()
	if err != nil {
		return nil, err
	}
	var out []backend.Info
	for i, h := range phys {
		p := queryPhysical(in, h)
		if p.computeFamily() < 0 || p.props.ApiVersion < minAPI {
			continue
		}
		out = append(out, p.info(i))
	}
	if len(out) == 0 {
		return nil, backend.WithKind(backend.ErrNoDriver,
			fmt.Errorf("vulkan: no Vulkan 1.1 device with a compute queue (%d physical devices); %s", len(phys), installHint))
	}
	devicesCached = out
	return append([]backend.Info(nil), out...), nil
}

// Open opens device index of Devices(), with validation when the
// environment variable CROSSGRAD_VK_VALIDATION is 1.
func (vulkanBackend) Open(index int) (backend.Device, error) {
	return OpenDevice(index, Options{Validation: os.Getenv(EnvValidation) == "1"})
}
