package vulkan

import (
	"fmt"
	"unsafe"

	vk "github.com/vulkan-go/vulkan"

	"github.com/crossgrad/crossgrad/shaders"
)

// maxBindings is the largest number of storage buffers a shader binds.
const maxBindings = 6

// maxSpec is the largest number of specialization constants (ids 0..).
const maxSpec = 8

// pushSize is the push-constant range of every pipeline layout (the
// guaranteed minimum of maxPushConstantsSize).
const pushSize = 128

// layoutKey identifies a descriptor set layout: n bindings, those of mask
// texel (bit i: binding i) uniform texel buffers, the others storage
// buffers.
type layoutKey struct {
	n     int
	texel uint8
}

// pipeKey identifies one pipeline: a module and its specialization.
type pipeKey struct {
	module string
	texel  uint8
	nspec  int
	spec   [maxSpec]uint32
}

// pipelines owns the shader modules, layouts and pipelines of a device and
// the VkPipelineCache they are created through.
type pipelines struct {
	dev        vk.Device
	cache      vk.PipelineCache
	cacheFile  string // "" when persistence is off
	dirty      bool
	setLayouts map[layoutKey]vk.DescriptorSetLayout
	layouts    map[layoutKey]vk.PipelineLayout
	modules    map[string]vk.ShaderModule
	pipes      map[pipeKey]vk.Pipeline
}

func newPipelines(d *Device) (*pipelines, error) {
	p := &pipelines{dev: d.dev, modules: map[string]vk.ShaderModule{}, pipes: map[pipeKey]vk.Pipeline{},
		setLayouts: map[layoutKey]vk.DescriptorSetLayout{}, layouts: map[layoutKey]vk.PipelineLayout{}}
	p.cacheFile = cachePath(d.opts.CacheDir, &d.phys.props)
	initial := loadCache(p.cacheFile, &d.phys.props)
	ci := vk.PipelineCacheCreateInfo{SType: vk.StructureTypePipelineCacheCreateInfo}
	var cdata unsafe.Pointer
	if len(initial) > 0 {
		cdata = cBytes(initial)
		ci.InitialDataSize = uint(len(initial))
		ci.PInitialData = cdata
	}
	var pc vk.PipelineCache
	r := vk.CreatePipelineCache(d.dev, &ci, nil, &pc)
	ci.Free()
	if cdata != nil {
		freeC(cdata)
	}
	if r != vk.Success {
		return nil, resultErr("vkCreatePipelineCache", r)
	}
	p.cache = pc
	return p, nil
}

// layout returns the set and pipeline layouts of k, creating them on first
// use.
func (p *pipelines) layout(k layoutKey) (vk.DescriptorSetLayout, vk.PipelineLayout, error) {
	if pl, ok := p.layouts[k]; ok {
		return p.setLayouts[k], pl, nil
	}
	bindings := make([]vk.DescriptorSetLayoutBinding, k.n)
	for i := range bindings {
		t := vk.DescriptorTypeStorageBuffer
		if k.texel&(1<<i) != 0 {
			t = vk.DescriptorTypeUniformTexelBuffer
		}
		bindings[i] = vk.DescriptorSetLayoutBinding{
			Binding:         uint32(i),
			DescriptorType:  t,
			DescriptorCount: 1,
			StageFlags:      vk.ShaderStageFlags(vk.ShaderStageComputeBit),
		}
	}
	lci := vk.DescriptorSetLayoutCreateInfo{
		SType:        vk.StructureTypeDescriptorSetLayoutCreateInfo,
		BindingCount: uint32(k.n),
		PBindings:    bindings,
	}
	var sl vk.DescriptorSetLayout
	r := vk.CreateDescriptorSetLayout(p.dev, &lci, nil, &sl)
	lci.Free()
	if r != vk.Success {
		return nil, nil, resultErr("vkCreateDescriptorSetLayout", r)
	}
	plci := vk.PipelineLayoutCreateInfo{
		SType:                  vk.StructureTypePipelineLayoutCreateInfo,
		SetLayoutCount:         1,
		PSetLayouts:            []vk.DescriptorSetLayout{sl},
		PushConstantRangeCount: 1,
		PPushConstantRanges: []vk.PushConstantRange{{
			StageFlags: vk.ShaderStageFlags(vk.ShaderStageComputeBit), Offset: 0, Size: pushSize,
		}},
	}
	var pl vk.PipelineLayout
	r = vk.CreatePipelineLayout(p.dev, &plci, nil, &pl)
	plci.Free()
	if r != vk.Success {
		vk.DestroyDescriptorSetLayout(p.dev, sl, nil)
		return nil, nil, resultErr("vkCreatePipelineLayout", r)
	}
	p.setLayouts[k], p.layouts[k] = sl, pl
	return sl, pl, nil
}

// module returns the shader module of name, creating it on first use.
func (p *pipelines) module(name string) (vk.ShaderModule, error) {
	if m, ok := p.modules[name]; ok {
		return m, nil
	}
	code, err := shaders.VulkanSPIRV(name)
	if err != nil {
		return nil, err
	}
	ci := vk.ShaderModuleCreateInfo{
		SType:    vk.StructureTypeShaderModuleCreateInfo,
		CodeSize: uint(4 * len(code)),
		PCode:    code,
	}
	var m vk.ShaderModule
	r := vk.CreateShaderModule(p.dev, &ci, nil, &m)
	ci.Free()
	if r != vk.Success {
		return nil, fmt.Errorf("shader %s: %w", name, resultErr("vkCreateShaderModule", r))
	}
	p.modules[name] = m
	return m, nil
}

// pipeline returns the compute pipeline of module with spec constants
// 0..len(spec)-1 over nbind buffers (those of mask texel uniform texel
// buffers, the others storage buffers), creating it once.
func (p *pipelines) pipeline(module string, spec []uint32, nbind int, texel uint8) (vk.Pipeline, vk.PipelineLayout, error) {
	if nbind < 1 || nbind > maxBindings || len(spec) > maxSpec {
		return nil, nil, fmt.Errorf("vulkan: pipeline %s: %d bindings, %d spec constants out of range", module, nbind, len(spec))
	}
	key := pipeKey{module: module, texel: texel, nspec: len(spec)}
	copy(key.spec[:], spec)
	_, layout, err := p.layout(layoutKey{n: nbind, texel: texel})
	if err != nil {
		return nil, nil, err
	}
	if pl, ok := p.pipes[key]; ok {
		return pl, layout, nil
	}
	m, err := p.module(module)
	if err != nil {
		return nil, nil, err
	}
	pl, r := createPipeline(p.dev, p.cache, m, layout, spec)
	if r != vk.Success {
		return nil, nil, fmt.Errorf("pipeline %s %v: %w", module, spec, resultErr("vkCreateComputePipelines", r))
	}
	p.pipes[key] = pl
	p.dirty = true
	return pl, layout, nil
}

// setLayout is the descriptor set layout of nbind buffers, those of mask
// texel uniform texel buffers.
func (p *pipelines) setLayout(nbind int, texel uint8) (vk.DescriptorSetLayout, error) {
	sl, _, err := p.layout(layoutKey{n: nbind, texel: texel})
	return sl, err
}

// destroy destroys pipelines, modules, layouts and the cache.
func (p *pipelines) destroy() {
	for _, pl := range p.pipes {
		vk.DestroyPipeline(p.dev, pl, nil)
	}
	clear(p.pipes)
	for _, m := range p.modules {
		vk.DestroyShaderModule(p.dev, m, nil)
	}
	clear(p.modules)
	for k, pl := range p.layouts {
		vk.DestroyPipelineLayout(p.dev, pl, nil)
		vk.DestroyDescriptorSetLayout(p.dev, p.setLayouts[k], nil)
	}
	clear(p.layouts)
	clear(p.setLayouts)
	if p.cache != nil {
		vk.DestroyPipelineCache(p.dev, p.cache, nil)
		p.cache = nil
	}
}

// save writes the pipeline cache when pipelines were created since it was
// loaded. Failures are logged, not returned: the cache is an optimisation.
func (p *pipelines) save() error {
	if !p.dirty || p.cacheFile == "" || p.cache == nil {
		return nil
	}
	var size uint
	if r := vk.GetPipelineCacheData(p.dev, p.cache, &size, nil); r != vk.Success || size == 0 {
		return nil
	}
	data := make([]byte, size)
	if r := vk.GetPipelineCacheData(p.dev, p.cache, &size, unsafe.Pointer(&data[0])); r != vk.Success {
		return nil
	}
	storeCache(p.cacheFile, data[:size])
	p.dirty = false
	return nil
}
