package opencl

import (
	"fmt"
	"reflect"
	"unsafe"

	"github.com/jgillich/go-opencl/cl"

	"github.com/crossgrad/crossgrad/backend"
)

// launcher queues kernel p.Kernel() on d; bufs are already checked by
// backend.CheckDispatch and belong to d.
type launcher func(d *Device, p backend.Params, bufs []*Buffer) error

// launchers holds one launcher per kernel; init functions in launch_*.go
// files fill it.
var launchers = map[backend.Kernel]launcher{}

// registerLauncher installs the launcher of kernel k. It panics when k is
// registered twice or is not in the closed kernel list (programmer errors).
func registerLauncher(k backend.Kernel, l launcher) {
	if backend.ParamsFor(k) == nil {
		panic("opencl: launcher for unknown kernel " + string(k))
	}
	if _, dup := launchers[k]; dup {
		panic("opencl: launcher registered twice for " + string(k))
	}
	launchers[k] = l
}

// enqueue runs the OpenCL kernel function name of the device's program over
// the global range (each dimension rounded up to a multiple of local when
// local is not nil; nil lets the driver choose the work-group size). args
// are set in order and may be: a flat params struct by value (uint32 and
// float32 fields only, passed whole), *Buffer, *cl.MemObject (a
// device-internal buffer), uint32, int32, float32 or cl.LocalBuffer (bytes
// of local memory). timedAs is the backend kernel the device time is
// accounted to by KernelTimes. Errors name the kernel and the native code.
func (d *Device) enqueue(timedAs backend.Kernel, name string, global, local []int, args ...any) error {
	if err := d.usable(); err != nil {
		return err
	}
	k, ok := d.kernels[name]
	if !ok {
		return fmt.Errorf("opencl: %s: program has no kernel function %q", timedAs, name)
	}
	if len(global) == 0 || len(global) > 3 || (local != nil && len(local) != len(global)) {
		return fmt.Errorf("opencl: %s: kernel %s: bad work size global=%v local=%v", timedAs, name, global, local)
	}
	g := make([]int, len(global))
	for i, n := range global {
		if n <= 0 {
			return fmt.Errorf("opencl: %s: kernel %s: global size %v must be positive", timedAs, name, global)
		}
		g[i] = n
		if local != nil {
			if local[i] <= 0 {
				return fmt.Errorf("opencl: %s: kernel %s: local size %v must be positive", timedAs, name, local)
			}
			g[i] = (n + local[i] - 1) / local[i] * local[i]
		}
	}
	for i, a := range args {
		if err := setArg(k, i, a); err != nil {
			return fmt.Errorf("opencl: %s: kernel %s argument %d (%T): %w", timedAs, name, i, a, err)
		}
	}
	ev, err := d.queue.EnqueueNDRangeKernel(k, nil, g, local, nil)
	if err != nil {
		ev.Release()
		return fmt.Errorf("opencl: %s: kernel %s global=%v local=%v: %w", timedAs, name, g, local, wrapCL("clEnqueueNDRangeKernel", err))
	}
	d.track(timedAs, ev)
	if d.trace != nil {
		d.trace(name, g, local)
	}
	return nil
}

// setArg sets argument i of k from one of the value kinds enqueue accepts.
func setArg(k *cl.Kernel, i int, a any) error {
	switch v := a.(type) {
	case *Buffer:
		if v == nil || v.mem == nil {
			return fmt.Errorf("released or nil buffer")
		}
		return wrapCL("clSetKernelArg", k.SetArgBuffer(i, v.mem))
	case *cl.MemObject:
		if v == nil {
			return fmt.Errorf("nil buffer")
		}
		return wrapCL("clSetKernelArg", k.SetArgBuffer(i, v))
	case uint32, int32, float32, cl.LocalBuffer:
		return wrapCL("clSetKernelArg", k.SetArg(i, v))
	}
	rv := reflect.ValueOf(a)
	if rv.Kind() != reflect.Struct || !flatStruct(rv.Type()) {
		return fmt.Errorf("unsupported argument type %T (want a flat params struct, *Buffer, uint32, int32, float32 or cl.LocalBuffer)", a)
	}
	// A fresh copy of the struct: C reads it during the call only, and it
	// holds no Go pointers.
	p := reflect.New(rv.Type())
	p.Elem().Set(rv)
	return wrapCL("clSetKernelArg", k.SetArgUnsafe(i, int(rv.Type().Size()), unsafe.Pointer(p.Pointer())))
}

// flatStruct reports whether t holds only uint32 and float32 fields (nested
// structs inlined), so its Go layout equals the OpenCL C struct's.
func flatStruct(t reflect.Type) bool {
	for i := 0; i < t.NumField(); i++ {
		switch f := t.Field(i).Type; f.Kind() {
		case reflect.Uint32, reflect.Float32:
		case reflect.Struct:
			if !flatStruct(f) {
				return false
			}
		default:
			return false
		}
	}
	return true
}
