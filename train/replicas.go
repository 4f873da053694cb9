package train

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/crossgrad/crossgrad/backend"
	"github.com/crossgrad/crossgrad/config"
	"github.com/crossgrad/crossgrad/data"
	"github.com/crossgrad/crossgrad/graph"
	"github.com/crossgrad/crossgrad/model"
	"github.com/crossgrad/crossgrad/parallel"
)

// openReplicas opens the devices of a data-parallel run, the model planned
// on each for batch images: one device per entry of c.Devices (each
// resolved to one device, none twice), or the one device of the backend
// fallback list when devices is empty. An entry that does not open is an
// error naming it; nothing falls back.
func openReplicas(c config.Config, batch int, m *model.Model, log *slog.Logger, wrap func(backend.Device) (backend.Device, error)) ([]*Opened, error) {
	if len(c.Devices) == 0 {
		op, err := openWrapped(c, c.Backend, batch, m, log, wrap)
		if err != nil {
			return nil, err
		}
		return []*Opened{op}, nil
	}
	ids, err := ResolveDevices(c.Devices)
	if err != nil {
		return nil, err
	}
	var ops []*Opened
	for i, id := range ids {
		op, err := openOne(id, batch, c, m, wrap)
		if err != nil {
			closeAll(ops)
			return nil, fmt.Errorf("train: devices entry %q (%s) could not run the model: %w; check it with crossgrad devices, or leave it out of devices", c.Devices[i], id, err)
		}
		ops = append(ops, op)
	}
	return ops, nil
}

// ResolveDevices resolves each entry of a devices list to one device ID
// (backend:index, the best match as backend.Open picks it) and refuses one
// device named twice (opencl and opencl:0 may be one device). The errors
// name the key and say that crossgrad devices lists the devices.
func ResolveDevices(list []string) ([]string, error) {
	ids := make([]string, len(list))
	for i, spec := range list {
		cands, err := backend.Select(spec)
		if err != nil {
			return nil, fmt.Errorf("train: devices entry %q is not a device of this machine: %w (crossgrad devices lists them)", spec, err)
		}
		ids[i] = cands[0].ID()
		if j := slices.Index(ids[:i], ids[i]); j >= 0 {
			return nil, fmt.Errorf("train: devices entries %q and %q are the same device %s; list every device once (crossgrad devices lists them)", list[j], spec, ids[i])
		}
	}
	return ids, nil
}

// closeAll closes every opened device.
func closeAll(ops []*Opened) error {
	var errs []error
	for _, op := range ops {
		errs = append(errs, op.Close())
	}
	return errors.Join(errs...)
}

// DevicesName names the devices of a run for the seed's lines: DeviceName
// of each, joined by " + ".
func DevicesName(infos []backend.Info) string {
	names := make([]string, len(infos))
	for i, d := range infos {
		names[i] = DeviceName(d)
	}
	return strings.Join(names, " + ")
}

// newGroup makes the replica group of a data-parallel run over r.ops:
// named by device ID, with device_shares (logged; shares measured instead
// are logged by the group once balanced), the run's communicator and
// checksum_every.
func (r *run) newGroup() error {
	plans := make([]*graph.Plan, len(r.ops))
	names := make([]string, len(r.ops))
	for i, op := range r.ops {
		plans[i], names[i] = op.Plan, op.Dev.Info().ID()
	}
	o := parallel.Options{Names: names, ChecksumEvery: r.cfg.ChecksumEvery, Log: r.log}
	if len(r.cfg.DeviceShares) > 0 {
		o.Shares = r.cfg.DeviceShares
	}
	if r.comm != nil {
		o.Reducer = r.comm
	}
	g, err := parallel.New(plans, o)
	if err != nil {
		return fmt.Errorf("train: %w", err)
	}
	r.group = g
	if o.Shares != nil && len(plans) > 1 {
		r.log.Info("device shares", "names", names, "shares", g.Shares(), "from", "device_shares")
	}
	return nil
}

// trainStep runs training step `step` on the batch: on the plan alone, or
// through the replica group (its per-step timing logged at debug).
func (r *run) trainStep(step int, bt data.Batch) (graph.Stats, error) {
	if r.group == nil {
		p := r.op.Plan
		if err := p.UploadPacked(bt.Images, bt.Labels); err != nil {
			return graph.Stats{}, err
		}
		return p.TrainStep(step, bt.N)
	}
	st, err := r.group.TrainStep(step, bt.Images, bt.Labels)
	if err != nil {
		return st, err
	}
	t := r.group.LastTiming()
	r.log.Debug("step timing", "step", step, "images", t.Images, "compute", t.Compute, "reduce", t.Reduce,
		"allreduce", t.Allreduce, "update", t.Update, "grad_bytes", t.Bytes)
	return st, nil
}

// replica0Images is how many images of the last step replica 0 trained on.
func (r *run) replica0Images(n int) int {
	if r.group == nil {
		return n
	}
	return r.group.LastTiming().Images[0]
}

// evaluate runs the test pass after an epoch: Evaluate on the plan alone,
// or through the replica group (sharded, summed). A distributed run does
// not stop inside it for a cancelled ctx: the ranks stop together before
// the next step.
func (r *run) evaluate(ctx context.Context) (EvalResult, error) {
	if r.group == nil {
		return Evaluate(ctx, r.op.Plan, r.testB, false, r.evalProgress())
	}
	if r.comm != nil {
		ctx = context.WithoutCancel(ctx)
	}
	g := r.group
	return evaluate(ctx, r.testB, r.evalProgress(), func(bt data.Batch) (graph.Stats, error) {
		return g.Eval(bt.Images, bt.Labels)
	}, nil)
}

// failedOp returns the first replica whose device call failed, and the
// failure.
func (r *run) failedOp() (*Opened, *callFailure) {
	for _, op := range r.ops {
		if f := op.probe.failure(); f != nil {
			return op, f
		}
	}
	return nil, nil
}

// longestCall is the longest device call of any replica.
func (r *run) longestCall() time.Duration {
	var d time.Duration
	for _, op := range r.ops {
		d = max(d, op.probe.longestCall())
	}
	return d
}
