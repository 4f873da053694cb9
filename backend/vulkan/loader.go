package vulkan

/*
#cgo LDFLAGS: -ldl
#include <dlfcn.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

typedef void* (*cg_gipa_fn)(void* instance, const char* name);
typedef int32_t (*cg_instance_version_fn)(uint32_t* version);
typedef void (*cg_props2_fn)(void* phys, void* props);

static void* cg_lib;
static cg_gipa_fn cg_gipa;

// cg_open loads the Vulkan loader and its vkGetInstanceProcAddr.
static const char* cg_open(const char* name) {
	cg_lib = dlopen(name, RTLD_NOW | RTLD_LOCAL);
	if (cg_lib == NULL) {
		return dlerror();
	}
	cg_gipa = (cg_gipa_fn)dlsym(cg_lib, "vkGetInstanceProcAddr");
	if (cg_gipa == NULL) {
		return "vkGetInstanceProcAddr not found in the Vulkan loader";
	}
	return NULL;
}

static void* cg_gipa_ptr(void) { return (void*)cg_gipa; }
static void* cg_lib_handle(void) { return cg_lib; }

// cg_instance_version is vkEnumerateInstanceVersion, or 1.0 for a Vulkan 1.0
// loader without it.
static uint32_t cg_instance_version(void) {
	cg_instance_version_fn f = (cg_instance_version_fn)cg_gipa(NULL, "vkEnumerateInstanceVersion");
	uint32_t v = 1u << 22;
	if (f != NULL && f(&v) != 0) {
		v = 1u << 22;
	}
	return v;
}

// VkPhysicalDeviceMaintenance3Properties.
typedef struct {
	uint32_t sType;
	void* pNext;
	uint32_t maxPerSetDescriptors;
	uint64_t maxMemoryAllocationSize;
} cg_maint3;

// cg_max_alloc is maxMemoryAllocationSize from vkGetPhysicalDeviceProperties2
// (Vulkan 1.1 core), or 0 when unavailable.
static uint64_t cg_max_alloc(void* instance, void* phys) {
	cg_props2_fn f = (cg_props2_fn)cg_gipa(instance, "vkGetPhysicalDeviceProperties2");
	if (f == NULL) {
		return 0;
	}
	cg_maint3 m3;
	memset(&m3, 0, sizeof m3);
	m3.sType = 1000168000u;
	// VkPhysicalDeviceProperties2: sType, pNext, then the 1.0 properties
	// (under 1 KiB); 4 KiB of 8-aligned storage covers it.
	uint64_t p2[512];
	memset(p2, 0, sizeof p2);
	*(uint32_t*)&p2[0] = 1000059001u;
	*(void**)&p2[1] = &m3;
	f(phys, p2);
	return m3.maxMemoryAllocationSize;
}

// VkPhysicalDeviceSubgroupProperties.
typedef struct {
	uint32_t sType;
	void* pNext;
	uint32_t subgroupSize;
	uint32_t supportedStages;
	uint32_t supportedOperations;
	uint32_t quadOperationsInAllStages;
} cg_subgroup_props;

// cg_subgroup fills out with the subgroup properties from
// vkGetPhysicalDeviceProperties2 (Vulkan 1.1 core), or leaves it zero.
static void cg_subgroup(void* instance, void* phys, cg_subgroup_props* out) {
	memset(out, 0, sizeof *out);
	cg_props2_fn f = (cg_props2_fn)cg_gipa(instance, "vkGetPhysicalDeviceProperties2");
	if (f == NULL) {
		return;
	}
	out->sType = 1000094000u;
	uint64_t p2[512];
	memset(p2, 0, sizeof p2);
	*(uint32_t*)&p2[0] = 1000059001u;
	*(void**)&p2[1] = out;
	f(phys, p2);
	out->sType = 1000094000u;
	out->pNext = NULL;
}

// VkValidationFeaturesEXT enabling synchronization validation (static: it
// outlives every instance creation that points at it).
typedef struct {
	uint32_t sType;
	const void* pNext;
	uint32_t enabledCount;
	const int32_t* pEnabled;
	uint32_t disabledCount;
	const int32_t* pDisabled;
} cg_validation_features;

static const int32_t cg_sync_validation[1] = {4}; // VK_VALIDATION_FEATURE_ENABLE_SYNCHRONIZATION_VALIDATION_EXT
static const cg_validation_features cg_features = {1000247000u, NULL, 1, cg_sync_validation, 0, NULL};

static const void* cg_validation_features_ptr(void) { return &cg_features; }
*/
import "C"

import (
	"fmt"
	"sync"
	"unsafe"

	vk "github.com/vulkan-go/vulkan"

	"github.com/crossgrad/crossgrad/backend"
)

// loaderNames are tried in order; the runtime package (libvulkan1) ships only
// the versioned name.
var loaderNames = []string{"libvulkan.so.1", "libvulkan.so"}

var (
	loadOnce sync.Once
	loadErr  error
)

// installHint names what to install when no Vulkan driver can be used.
const installHint = "install the Vulkan loader (Debian/Ubuntu package libvulkan1) and a driver: mesa-vulkan-drivers (lavapipe on the CPU, AMD, Intel) or the GPU vendor's driver"

// load opens the Vulkan loader once per process, hands its
// vkGetInstanceProcAddr to vulkan-go and loads the global entry points. Its
// errors wrap backend.ErrNoDriver.
func load() error {
	loadOnce.Do(func() {
		var errs []string
		for _, name := range loaderNames {
			cname := C.CString(name)
			msg := C.cg_open(cname)
			C.free(unsafe.Pointer(cname))
			if msg == nil {
				errs = nil
				break
			}
			errs = append(errs, C.GoString(msg))
		}
		if errs != nil {
			loadErr = fmt.Errorf("vulkan: cannot load the Vulkan loader (%v); %s", errs, installHint)
			return
		}
		if err := loadRawCalls(C.cg_lib_handle()); err != nil {
			loadErr = err
			return
		}
		vk.SetGetInstanceProcAddr(C.cg_gipa_ptr())
		if err := vk.Init(); err != nil {
			loadErr = fmt.Errorf("vulkan: loader initialisation failed: %w; %s", err, installHint)
			return
		}
		if v := uint32(C.cg_instance_version()); v < vk.MakeVersion(1, 1, 0) {
			loadErr = fmt.Errorf("vulkan: the Vulkan loader supports only version %s, crossgrad needs 1.1; update libvulkan1", vk.Version(v))
		}
	})
	return backend.WithKind(backend.ErrNoDriver, loadErr)
}

// maxAllocation is the device's maxMemoryAllocationSize (Vulkan 1.1
// maintenance3 property), or 0 when the query is unavailable.
func maxAllocation(inst vk.Instance, phys vk.PhysicalDevice) uint64 {
	return uint64(C.cg_max_alloc(*(*unsafe.Pointer)(unsafe.Pointer(&inst)), *(*unsafe.Pointer)(unsafe.Pointer(&phys))))
}

// subgroupProps is what crossgrad reads of VkPhysicalDeviceSubgroupProperties
// (all zero when the query is unavailable).
type subgroupProps struct {
	size, stages, ops uint32
}

// subgroupProperties queries the subgroup size and the stages and
// operations subgroups support.
func subgroupProperties(inst vk.Instance, phys vk.PhysicalDevice) subgroupProps {
	var out C.cg_subgroup_props
	C.cg_subgroup(*(*unsafe.Pointer)(unsafe.Pointer(&inst)), *(*unsafe.Pointer)(unsafe.Pointer(&phys)), &out)
	return subgroupProps{size: uint32(out.subgroupSize), stages: uint32(out.supportedStages), ops: uint32(out.supportedOperations)}
}

// syncValidationFeatures is a VkValidationFeaturesEXT (C memory) that
// enables the validation layer's synchronization checks.
func syncValidationFeatures() unsafe.Pointer { return unsafe.Pointer(C.cg_validation_features_ptr()) }

// cBytes copies b into C memory (for data that vulkan-go would otherwise
// keep as a Go pointer inside C structs). Free it with freeC.
func cBytes(b []byte) unsafe.Pointer { return C.CBytes(b) }

// freeC frees memory from cBytes.
func freeC(p unsafe.Pointer) { C.free(p) }
