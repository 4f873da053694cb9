package vulkan

import (
	"testing"

	vk "github.com/vulkan-go/vulkan"

	"github.com/crossgrad/crossgrad/backend"
	"github.com/crossgrad/crossgrad/backend/backendtest"
)

// TestContract runs backendtest's failure contract and ability checks on
// device 0 with 1 MiB blocks (so that the contract's 4 MiB Alloc needs a new
// one): vkAllocateMemory fails with VK_ERROR_OUT_OF_DEVICE_MEMORY,
// vkWaitForFences with VK_ERROR_DEVICE_LOST.
func TestContract(t *testing.T) {
	open := func() (backend.Device, error) { return OpenDevice(0, Options{CacheDir: "-", BlockSize: 1 << 20}) }
	backendtest.RunContractTest(t, open, backendtest.Faults{
		FailAllocs: func(backend.Device) func() {
			orig := allocateMemory
			allocateMemory = func(vk.Device, *vk.MemoryAllocateInfo, *vk.AllocationCallbacks, *vk.DeviceMemory) vk.Result {
				return vk.ErrorOutOfDeviceMemory
			}
			return func() { allocateMemory = orig }
		},
		Lose: func(backend.Device) func() {
			orig := waitForFences
			waitForFences = func(vk.Device, uint32, []vk.Fence, vk.Bool32, uint64) vk.Result { return vk.ErrorDeviceLost }
			return func() { waitForFences = orig }
		},
	})
}
