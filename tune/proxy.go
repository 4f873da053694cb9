package tune

import (
	"errors"
	"fmt"

	"github.com/crossgrad/crossgrad/backend"
)

// Ranking at a smaller batch: a convolution (or a batched gemm, at fewer
// products) whose default takes more than
// proxyMinMs at the real shape (the seed's layers on a CPU driver take
// seconds) is searched at the batch that brings the default to about
// proxyTargetMs, and the proxy's winner then runs at the real shape, where
// it must match the default's output and beat its time to be chosen. A
// budget of minutes then covers many candidates instead of one or two.
// proxyTargetMs is longTotalMs, so that at the proxy too a candidate's
// warm-up run (or one more) is its timing, where 60 ms took four; at 60
// ms the seed's conv.3 was ranked at batch 2 or 3, and on PoCL those
// rankings' winners then lost at batch 128 in every run.
const (
	proxyMinMs    = 300.0
	proxyTargetMs = longTotalMs
)

// proxyOf is p at the smaller batch that brings defMs to about
// proxyTargetMs, or false when p is no convolution or batched gemm slow
// enough for one. A filter gradient whose reduction N*OH*OW 4 divides keeps
// that at the proxy, with a batch a little larger where needed: its forward
// form (the Vulkan fwd=1 configurations) loads dy four at a time along it.
func proxyOf(p backend.Params, defMs float64) (backend.Params, bool) {
	if defMs <= proxyMinMs {
		return nil, false
	}
	if q, ok := p.(backend.Gemm); ok {
		return gemmProxy(q, defMs)
	}
	g, ok := backend.ConvShapeOf(p)
	if !ok {
		return nil, false
	}
	n := max(1, int(float64(g.N)*proxyTargetMs/defMs+0.5))
	for p.Kernel() == backend.KConv2DBwdFilter && (g.N*g.OH*g.OW)%4 == 0 && (uint32(n)*g.OH*g.OW)%4 != 0 {
		n++
	}
	if n >= int(g.N) {
		return nil, false
	}
	g.N = uint32(n)
	q := backend.WithConvShape(p, g)
	if q.Validate() != nil {
		return nil, false
	}
	return q, true
}

// gemmProxy is batched gemm p (Winograd's products: Batch independent
// products of one shape, which every configuration tiles alike) with the
// fewer products that bring defMs to about proxyTargetMs, or false when p
// has one product or needs no proxy.
func gemmProxy(p backend.Gemm, defMs float64) (backend.Params, bool) {
	b := p.Batches()
	n := max(1, int(float64(b)*proxyTargetMs/defMs+0.5))
	if b <= 1 || n >= b {
		return nil, false
	}
	p.Batch = uint32(n)
	return p, p.Validate() == nil
}

// searchProxy runs s over cands at proxy shape q instead of the real one
// (real is the real shape's bench, with the default's output and time
// realMs), then confirms the proxy's winner at the real shape: s ends with
// the winner and its real time when it matches and beats the default
// there, else with the default.
func (s *search) searchProxy(q backend.Params, real *bench, def backend.TileConfig, realMs float64, cands []backend.TileConfig) error {
	pb, err := newBench(s.dev, s.t, q)
	if errors.Is(err, backend.ErrDeviceLost) {
		return fmt.Errorf("tune: %s: %w", s.what, err)
	}
	if err != nil {
		s.log.Info("tune: cannot rank at a smaller batch; searching at the real shape", "kernel", s.what, "reason", err.Error())
		return s.run(cands)
	}
	defer pb.release()
	out, warm, err := pb.run(def)
	var ms float64
	if err == nil {
		pb.want = out
		ms, err = pb.timeAfter(def, warm, s.deadline, s.hard, 0)
	}
	if errors.Is(err, backend.ErrDeviceLost) {
		return fmt.Errorf("tune: %s: default configuration %q at %s: %w", s.what, def, q.Shape(), err)
	}
	if err != nil {
		s.log.Info("tune: cannot rank at a smaller batch; searching at the real shape", "kernel", s.what, "reason", err.Error())
		return s.run(cands)
	}
	s.log.Info("tune: ranking at a smaller batch", "kernel", s.what, "proxy", q.Shape(), "default_ms", realMs, "proxy_default_ms", ms)
	s.b, s.bestMs = pb, ms
	s.restartShare()
	if err := s.run(cands); err != nil {
		return err
	}
	winner := s.best
	s.b, s.best, s.bestMs = real, def, realMs
	if winner == def {
		return nil
	}
	got, warm, err := real.run(winner)
	if err == nil {
		err = real.compare(got)
	}
	if err == nil {
		ms, err = real.timeAfter(winner, warm, s.deadline, s.hard, realMs)
	}
	if errors.Is(err, backend.ErrDeviceLost) {
		return fmt.Errorf("tune: %s: configuration %q at the real shape: %w", s.what, winner, err)
	}
	switch {
	case err != nil:
		s.log.Info("tune: the smaller batch's winner fails at the real shape; keeping the default", "kernel", s.what,
			"config", string(winner), "reason", err.Error())
	case s.faster(ms):
		s.best, s.bestMs = winner, ms
	default:
		s.log.Info("tune: the smaller batch's winner is not faster at the real shape; keeping the default", "kernel", s.what,
			"config", string(winner), "ms", ms, "default_ms", realMs)
	}
	return nil
}
