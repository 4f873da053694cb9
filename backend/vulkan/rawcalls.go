package vulkan

/*
#include <dlfcn.h>
#include <stdint.h>
#include <vulkan/vulkan.h>

// vulkan-go converts slice arguments (barriers, descriptor writes, submit
// infos, copy regions, pipeline create infos) into C memory whose only owner
// is a finalizer on a variable that is unreachable while the C call runs: a
// garbage collection during the call frees memory the driver is reading
// (seen as SIGSEGV in vkCreateComputePipelines under load). These five calls
// therefore build their structs on the C stack and call the loader directly,
// as do the buffer-view calls of the texel variants.

static PFN_vkCmdPipelineBarrier cg_barrier_fn;
static PFN_vkUpdateDescriptorSets cg_update_fn;
static PFN_vkQueueSubmit cg_submit_fn;
static PFN_vkCmdCopyBuffer cg_copy_fn;
static PFN_vkCreateComputePipelines cg_pipelines_fn;
static PFN_vkCreateBufferView cg_view_fn;
static PFN_vkDestroyBufferView cg_view_destroy_fn;

static const char* cg_raw_load(void* lib) {
	cg_barrier_fn = (PFN_vkCmdPipelineBarrier)dlsym(lib, "vkCmdPipelineBarrier");
	if (!cg_barrier_fn) return "vkCmdPipelineBarrier";
	cg_update_fn = (PFN_vkUpdateDescriptorSets)dlsym(lib, "vkUpdateDescriptorSets");
	if (!cg_update_fn) return "vkUpdateDescriptorSets";
	cg_submit_fn = (PFN_vkQueueSubmit)dlsym(lib, "vkQueueSubmit");
	if (!cg_submit_fn) return "vkQueueSubmit";
	cg_copy_fn = (PFN_vkCmdCopyBuffer)dlsym(lib, "vkCmdCopyBuffer");
	if (!cg_copy_fn) return "vkCmdCopyBuffer";
	cg_pipelines_fn = (PFN_vkCreateComputePipelines)dlsym(lib, "vkCreateComputePipelines");
	if (!cg_pipelines_fn) return "vkCreateComputePipelines";
	cg_view_fn = (PFN_vkCreateBufferView)dlsym(lib, "vkCreateBufferView");
	if (!cg_view_fn) return "vkCreateBufferView";
	cg_view_destroy_fn = (PFN_vkDestroyBufferView)dlsym(lib, "vkDestroyBufferView");
	if (!cg_view_destroy_fn) return "vkDestroyBufferView";
	return NULL;
}

#define CG_H(T, x) ((T)(uintptr_t)(x))

static void cg_buffer_barriers(VkCommandBuffer cmd, uint32_t src, uint32_t dst, uint32_t n,
		const uint64_t* bufs, const uint64_t* offs, const uint64_t* sizes,
		const uint32_t* srcAcc, const uint32_t* dstAcc) {
	VkBufferMemoryBarrier b[16];
	uint32_t done = 0;
	do {
		uint32_t k = n - done < 16 ? n - done : 16;
		for (uint32_t i = 0; i < k; i++) {
			VkBufferMemoryBarrier* x = &b[i];
			x->sType = VK_STRUCTURE_TYPE_BUFFER_MEMORY_BARRIER;
			x->pNext = NULL;
			x->srcAccessMask = srcAcc[done + i];
			x->dstAccessMask = dstAcc[done + i];
			x->srcQueueFamilyIndex = VK_QUEUE_FAMILY_IGNORED;
			x->dstQueueFamilyIndex = VK_QUEUE_FAMILY_IGNORED;
			x->buffer = CG_H(VkBuffer, bufs[done + i]);
			x->offset = offs[done + i];
			x->size = sizes[done + i];
		}
		cg_barrier_fn(cmd, src, dst, 0, 0, NULL, k, b, 0, NULL);
		done += k;
	} while (done < n);
}

static void cg_memory_barrier(VkCommandBuffer cmd, uint32_t src, uint32_t dst, uint32_t srcAcc, uint32_t dstAcc) {
	VkMemoryBarrier m = {VK_STRUCTURE_TYPE_MEMORY_BARRIER, NULL, srcAcc, dstAcc};
	cg_barrier_fn(cmd, src, dst, 0, 1, &m, 0, NULL, 0, NULL);
}

// Binding i is a storage buffer, or the uniform texel buffer views[i] when
// that is not 0.
static int cg_update_storage_set(VkDevice dev, uint64_t set, uint32_t n,
		const uint64_t* bufs, const uint64_t* offs, const uint64_t* ranges, const uint64_t* views) {
	VkDescriptorBufferInfo info[16];
	VkBufferView vs[16];
	VkWriteDescriptorSet w[16];
	if (n > 16) return -1;
	for (uint32_t i = 0; i < n; i++) {
		info[i].buffer = CG_H(VkBuffer, bufs[i]);
		info[i].offset = offs[i];
		info[i].range = ranges[i];
		w[i].sType = VK_STRUCTURE_TYPE_WRITE_DESCRIPTOR_SET;
		w[i].pNext = NULL;
		w[i].dstSet = CG_H(VkDescriptorSet, set);
		w[i].dstBinding = i;
		w[i].dstArrayElement = 0;
		w[i].descriptorCount = 1;
		w[i].descriptorType = VK_DESCRIPTOR_TYPE_STORAGE_BUFFER;
		w[i].pImageInfo = NULL;
		w[i].pBufferInfo = &info[i];
		w[i].pTexelBufferView = NULL;
		if (views[i] != 0) {
			vs[i] = CG_H(VkBufferView, views[i]);
			w[i].descriptorType = VK_DESCRIPTOR_TYPE_UNIFORM_TEXEL_BUFFER;
			w[i].pBufferInfo = NULL;
			w[i].pTexelBufferView = &vs[i];
		}
	}
	cg_update_fn(dev, n, w, 0, NULL);
	return 0;
}

static VkResult cg_create_view(VkDevice dev, uint64_t buf, uint32_t format, uint64_t off, uint64_t rng, VkBufferView* out) {
	VkBufferViewCreateInfo ci = {VK_STRUCTURE_TYPE_BUFFER_VIEW_CREATE_INFO, NULL, 0, CG_H(VkBuffer, buf), (VkFormat)format, off, rng};
	return cg_view_fn(dev, &ci, NULL, out);
}

static void cg_destroy_view(VkDevice dev, uint64_t view) {
	cg_view_destroy_fn(dev, CG_H(VkBufferView, view), NULL);
}

static VkResult cg_submit(VkQueue q, VkCommandBuffer cmd, uint64_t fence) {
	VkSubmitInfo si = {VK_STRUCTURE_TYPE_SUBMIT_INFO, NULL, 0, NULL, NULL, 1, &cmd, 0, NULL};
	return cg_submit_fn(q, 1, &si, CG_H(VkFence, fence));
}

static void cg_copy(VkCommandBuffer cmd, uint64_t src, uint64_t dst, uint64_t srcOff, uint64_t dstOff, uint64_t size) {
	VkBufferCopy r = {srcOff, dstOff, size};
	cg_copy_fn(cmd, CG_H(VkBuffer, src), CG_H(VkBuffer, dst), 1, &r);
}

static VkResult cg_create_pipeline(VkDevice dev, uint64_t cache, uint64_t module, uint64_t layout,
		const uint32_t* spec, uint32_t nspec, VkPipeline* out) {
	VkSpecializationMapEntry e[16];
	uint32_t data[16];
	if (nspec > 16) return VK_ERROR_INITIALIZATION_FAILED;
	for (uint32_t i = 0; i < nspec; i++) {
		e[i].constantID = i;
		e[i].offset = 4 * i;
		e[i].size = 4;
		data[i] = spec[i];
	}
	VkSpecializationInfo si = {nspec, e, 4 * (size_t)nspec, data};
	VkComputePipelineCreateInfo ci = {0};
	ci.sType = VK_STRUCTURE_TYPE_COMPUTE_PIPELINE_CREATE_INFO;
	ci.stage.sType = VK_STRUCTURE_TYPE_PIPELINE_SHADER_STAGE_CREATE_INFO;
	ci.stage.stage = VK_SHADER_STAGE_COMPUTE_BIT;
	ci.stage.module = CG_H(VkShaderModule, module);
	ci.stage.pName = "main";
	ci.stage.pSpecializationInfo = nspec > 0 ? &si : NULL;
	ci.layout = CG_H(VkPipelineLayout, layout);
	ci.basePipelineIndex = -1;
	return cg_pipelines_fn(dev, CG_H(VkPipelineCache, cache), 1, &ci, NULL, out);
}
*/
import "C"

import (
	"fmt"
	"runtime/debug"
	"sync"
	"unsafe"

	vk "github.com/vulkan-go/vulkan"
)

// loadRawCalls resolves the entry points of the raw calls from the loader
// library opened by load.
func loadRawCalls(lib unsafe.Pointer) error {
	if name := C.cg_raw_load(lib); name != nil {
		return fmt.Errorf("vulkan: %s not found in the Vulkan loader; %s", C.GoString(name), installHint)
	}
	return nil
}

// h64 is a non-dispatchable Vulkan handle (a pointer type in vulkan-go on
// 64-bit targets) as the integer C receives.
func h64(h unsafe.Pointer) C.uint64_t { return C.uint64_t(uintptr(h)) }

// bufferBarrier is one buffer memory barrier of recordBarriers.
type bufferBarrier struct {
	buf               vk.Buffer
	off, size         uint64
	srcAccess, dstAcc vk.AccessFlags
}

// recordBarriers records vkCmdPipelineBarrier with buffer memory barriers bs
// (none: an execution dependency only).
func recordBarriers(cmd vk.CommandBuffer, src, dst vk.PipelineStageFlags, bs []bufferBarrier) {
	n := len(bs)
	bufs, offs, sizes := make([]C.uint64_t, n+1), make([]C.uint64_t, n+1), make([]C.uint64_t, n+1)
	sa, da := make([]C.uint32_t, n+1), make([]C.uint32_t, n+1)
	for i, b := range bs {
		bufs[i], offs[i], sizes[i] = h64(unsafe.Pointer(b.buf)), C.uint64_t(b.off), C.uint64_t(b.size)
		sa[i], da[i] = C.uint32_t(b.srcAccess), C.uint32_t(b.dstAcc)
	}
	C.cg_buffer_barriers(C.VkCommandBuffer(unsafe.Pointer(cmd)), C.uint32_t(src), C.uint32_t(dst), C.uint32_t(n),
		&bufs[0], &offs[0], &sizes[0], &sa[0], &da[0])
}

// globalBarrier records a memory barrier over all memory.
func globalBarrier(cmd vk.CommandBuffer, src vk.PipelineStageFlags, srcAccess vk.AccessFlags, dst vk.PipelineStageFlags, dstAccess vk.AccessFlags) {
	C.cg_memory_barrier(C.VkCommandBuffer(unsafe.Pointer(cmd)), C.uint32_t(src), C.uint32_t(dst), C.uint32_t(srcAccess), C.uint32_t(dstAccess))
}

// storageBinding is one descriptor of writeStorageSet: a storage buffer
// range, or the uniform texel buffer view when view is not nil.
type storageBinding struct {
	buf      vk.Buffer
	off, rng uint64
	view     vk.BufferView
}

// writeStorageSet points bindings 0..len(bs)-1 of set at the buffer ranges
// and views.
func writeStorageSet(dev vk.Device, set vk.DescriptorSet, bs []storageBinding) error {
	n := len(bs)
	bufs, offs, rngs, views := make([]C.uint64_t, n+1), make([]C.uint64_t, n+1), make([]C.uint64_t, n+1), make([]C.uint64_t, n+1)
	for i, b := range bs {
		bufs[i], offs[i], rngs[i] = h64(unsafe.Pointer(b.buf)), C.uint64_t(b.off), C.uint64_t(b.rng)
		views[i] = h64(unsafe.Pointer(b.view))
	}
	if C.cg_update_storage_set(C.VkDevice(unsafe.Pointer(dev)), h64(unsafe.Pointer(set)), C.uint32_t(n), &bufs[0], &offs[0], &rngs[0], &views[0]) != 0 {
		return fmt.Errorf("vulkan: %d bindings in one descriptor set, at most 16", n)
	}
	return nil
}

// createTexelView creates a view of bytes [off, off+rng) of buf with floats
// floats per texel: R32_SFLOAT (1) or R32G32B32A32_SFLOAT (4); with words,
// R32_UINT (32-bit words, floats 1).
func createTexelView(dev vk.Device, buf vk.Buffer, off, rng uint64, floats uint8, words bool) (vk.BufferView, error) {
	format := vk.FormatR32Sfloat
	switch {
	case words:
		format = vk.FormatR32Uint
	case floats == 4:
		format = vk.FormatR32g32b32a32Sfloat
	}
	var v C.VkBufferView
	r := vk.Result(C.cg_create_view(C.VkDevice(unsafe.Pointer(dev)), h64(unsafe.Pointer(buf)), C.uint32_t(format), C.uint64_t(off), C.uint64_t(rng), &v))
	if r != vk.Success {
		return nil, resultErr("vkCreateBufferView", r)
	}
	return vk.BufferView(unsafe.Pointer(v)), nil
}

// destroyTexelView destroys a view of createTexelView.
func destroyTexelView(dev vk.Device, v vk.BufferView) {
	C.cg_destroy_view(C.VkDevice(unsafe.Pointer(dev)), h64(unsafe.Pointer(v)))
}

// submitOne submits one command buffer signalling fence.
func submitOne(q vk.Queue, cmd vk.CommandBuffer, fence vk.Fence) vk.Result {
	return vk.Result(C.cg_submit(C.VkQueue(unsafe.Pointer(q)), C.VkCommandBuffer(unsafe.Pointer(cmd)), h64(unsafe.Pointer(fence))))
}

// copyBuffer records one buffer-to-buffer copy region.
func copyBuffer(cmd vk.CommandBuffer, src, dst vk.Buffer, srcOff, dstOff, size uint64) {
	C.cg_copy(C.VkCommandBuffer(unsafe.Pointer(cmd)), h64(unsafe.Pointer(src)), h64(unsafe.Pointer(dst)), C.uint64_t(srcOff), C.uint64_t(dstOff), C.uint64_t(size))
}

// createPipeline creates a compute pipeline of module's "main" with
// specialization constants 0..len(spec)-1.
func createPipeline(dev vk.Device, cache vk.PipelineCache, module vk.ShaderModule, layout vk.PipelineLayout, spec []uint32) (vk.Pipeline, vk.Result) {
	cs := make([]C.uint32_t, len(spec)+1)
	for i, v := range spec {
		cs[i] = C.uint32_t(v)
	}
	var pl vk.Pipeline
	r := C.cg_create_pipeline(C.VkDevice(unsafe.Pointer(dev)), h64(unsafe.Pointer(cache)), h64(unsafe.Pointer(module)),
		h64(unsafe.Pointer(layout)), &cs[0], C.uint32_t(len(spec)), (*C.VkPipeline)(unsafe.Pointer(&pl)))
	return pl, vk.Result(r)
}

// withoutGC stops garbage collection until the returned function runs. The
// one-time calls still made through vulkan-go (instance, device, layouts,
// pools) pass nested slices as C memory freed by a finalizer that a
// collection during the call could run early; device open and enumeration
// hold collection off instead of re-implementing each call.
// Nested holds (concurrent opens) restore the setting once, when the last
// one ends.
func withoutGC() (restore func()) {
	gcHold.Lock()
	if gcHold.n == 0 {
		gcHold.old = debug.SetGCPercent(-1)
	}
	gcHold.n++
	gcHold.Unlock()
	return func() {
		gcHold.Lock()
		gcHold.n--
		if gcHold.n == 0 {
			debug.SetGCPercent(gcHold.old)
		}
		gcHold.Unlock()
	}
}

var gcHold struct {
	sync.Mutex
	n   int
	old int
}
