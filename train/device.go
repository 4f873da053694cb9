package train

import (
	"errors"
	"fmt"
	"log/slog"

	_ "github.com/crossgrad/crossgrad/alexnet" // registers model "alexnet"
	"github.com/crossgrad/crossgrad/backend"
	"github.com/crossgrad/crossgrad/config"
	"github.com/crossgrad/crossgrad/data"
	"github.com/crossgrad/crossgrad/graph"
	"github.com/crossgrad/crossgrad/model"
	_ "github.com/crossgrad/crossgrad/vgg" // registers model "vgg11"
)

// DeviceName formats a device for the seed's lines: "name (backend:index)".
func DeviceName(info backend.Info) string { return fmt.Sprintf("%s (%s)", info.Name, info.ID()) }

// IsCPU reports whether a device computes on the host CPU (an OpenCL or
// Vulkan CPU driver, or the reference backend).
func IsCPU(info backend.Info) bool {
	return info.Type == backend.CPUDevice || info.Type == backend.Reference
}

// NewModel builds the model of c (train, eval, predict, bench and summary
// all build it here): the architecture named by the key model, validated
// and built by it for ModelOptions(c). An unknown name is an error listing
// the known ones.
func NewModel(c config.Config) (*model.Model, error) {
	return model.New(c.Model, ModelOptions(c))
}

// ModelOptions are the model options of c: input size, width and dropout,
// the dropout masks keyed by the low 32 bits of the seed.
func ModelOptions(c config.Config) model.Options {
	o := model.DefaultOptions()
	o.InputSize, o.Width, o.Dropout, o.Seed = c.InputSize, c.Width, float32(c.Dropout), uint32(c.Seed)
	return o
}

// GraphConfig is the plan configuration of c: the input stage for the data
// set's stored images (data.ImageSide square), Adam's hyper-parameters,
// the initialisation seed, the convolution algorithm (conv_algo; with
// tune other than off, the tuner may choose Winograd for kernels over
// 3x3) and fusion (fuse).
func GraphConfig(c config.Config) graph.Config {
	return graph.Config{Input: graph.ResizeInput{SrcH: data.ImageSide, SrcW: data.ImageSide},
		LR: c.LR, Beta1: c.AdamBeta1, Beta2: c.AdamBeta2, Eps: c.AdamEps, Seed: uint64(c.Seed),
		ConvAlgo: c.ConvAlgo, TunedAlgos: c.Tune != "off", NoFuse: !c.Fuse}
}

// Opened is a device with the model planned on it. Close releases both.
type Opened struct {
	Dev   backend.Device
	Plan  *graph.Plan
	probe *recorder
	raw   backend.Device // Dev as backend.Open returned it, before Options.WrapDevice (the backend.Tuner, if any)
}

// Close releases the plan and closes the device.
func (o *Opened) Close() error {
	var errs []error
	if o.Plan != nil {
		errs = append(errs, o.Plan.Close())
	}
	if o.Dev != nil {
		errs = append(errs, o.Dev.Close())
	}
	return errors.Join(errs...)
}

// Open tries the entries of c.Backend in order, and within an entry the
// devices it selects best first (backend.Select: "auto" lists every device,
// the reference last), and returns the first device that opens and on which
// the model, planned for c.BatchSize images, fits and allocates. Every
// device or entry skipped is logged with the reason; when none works the
// error lists them all.
func Open(c config.Config, m *model.Model, log *slog.Logger) (*Opened, error) {
	return openWrapped(c, c.Backend, c.BatchSize, m, log, nil)
}

// openWrapped is Open of the fallback list specs, with the model planned
// for batch images and Options.WrapDevice applied to every device opened.
func openWrapped(c config.Config, specs []string, batch int, m *model.Model, log *slog.Logger, wrap func(backend.Device) (backend.Device, error)) (*Opened, error) {
	log = orDiscard(log)
	var errs []error
	var skipped []func() // warnings, logged only when a later device works (else the error says it all)
	for _, spec := range specs {
		cands, err := backend.Select(spec)
		if err != nil {
			errs = append(errs, fmt.Errorf("backend %q: %w", spec, err))
			skipped = append(skipped, func() { log.Warn(fmt.Sprintf("backend %q skipped", spec), "reason", err) })
			continue
		}
		for _, cand := range cands {
			o, err := openOne(cand.ID(), batch, c, m, wrap)
			if err == nil {
				for _, warn := range skipped {
					warn()
				}
				if len(skipped) > 0 {
					log.Info("using fallback device", "entry", spec, "device", DeviceName(o.Dev.Info()))
				}
				return o, nil
			}
			errs = append(errs, fmt.Errorf("backend %q: %s: %w", spec, DeviceName(cand), err))
			skipped = append(skipped, func() {
				log.Warn(fmt.Sprintf("device %s of backend %q skipped", DeviceName(cand), spec), "reason", err)
			})
		}
	}
	return nil, fmt.Errorf("train: no backend of %v could run the model (run `crossgrad devices` to see what is installed): %w", specs, errors.Join(errs...))
}

// openOne opens the device spec names and plans m on it for batch images.
func openOne(spec string, batch int, c config.Config, m *model.Model, wrap func(backend.Device) (backend.Device, error)) (*Opened, error) {
	dev, err := backend.Open(spec)
	if err != nil {
		return nil, err
	}
	raw := dev
	if wrap != nil {
		w, err := wrap(dev)
		if err != nil {
			_ = dev.Close()
			return nil, err
		}
		dev = w
	}
	rec := &recorder{Device: dev}
	plan, err := graph.New(rec, m.Sequential, m.InputShape(batch), GraphConfig(c))
	if err != nil {
		_ = dev.Close()
		return nil, err
	}
	return &Opened{Dev: dev, Plan: plan, probe: rec, raw: raw}, nil
}

// recorder passes every call to Device and watches the calls for the fault
// report and the stall watchdog (see guard.go).
type recorder struct {
	backend.Device
	calls
}

// Alloc implements backend.Device.
func (r *recorder) Alloc(n int) (backend.Buffer, error) {
	if err := r.begin("alloc", ""); err != nil {
		return nil, err
	}
	b, err := r.Device.Alloc(n)
	if err = r.end(err); err != nil {
		return nil, err
	}
	return b, nil
}

// Write implements backend.Device.
func (r *recorder) Write(dst backend.Buffer, offset int, src []float32) error {
	if err := r.begin("write", ""); err != nil {
		return err
	}
	return r.end(r.Device.Write(dst, offset, src))
}

// Read implements backend.Device.
func (r *recorder) Read(src backend.Buffer, offset int, dst []float32) error {
	if err := r.begin("read", ""); err != nil {
		return err
	}
	return r.end(r.Device.Read(src, offset, dst))
}

// Dispatch implements backend.Device.
func (r *recorder) Dispatch(p backend.Params, bufs ...backend.Buffer) error {
	if err := r.begin("dispatch", p.Kernel()); err != nil {
		return err
	}
	return r.end(r.Device.Dispatch(p, bufs...))
}

// Sync implements backend.Device.
func (r *recorder) Sync() error {
	if err := r.begin("sync", ""); err != nil {
		return err
	}
	return r.end(r.Device.Sync())
}

func orDiscard(l *slog.Logger) *slog.Logger {
	if l == nil {
		return slog.New(slog.DiscardHandler)
	}
	return l
}
