package parallel

import (
	"fmt"
	"runtime"
	"sync"
	"time"

	"github.com/crossgrad/crossgrad/graph"
)

// phase names a step for errors; 0 is evaluation.
func phase(step int) string {
	if step == 0 {
		return "evaluation"
	}
	return fmt.Sprintf("step %d", step)
}

// trainStep is TrainStep. One replica without a Reducer runs the plan's own
// step (UploadPacked, TrainStep: no gradient crosses to the host) and
// returns the plan's errors as they are.
func (g *Group) trainStep(step int, images, labels []float32) (graph.Stats, error) {
	if step < 1 {
		return graph.Stats{}, fmt.Errorf("parallel: step %d: steps count from 1", step)
	}
	words, err := g.layout(step, images, labels)
	if err != nil {
		return graph.Stats{}, err
	}
	b := len(labels)
	if g.single() {
		return g.singleStep(step, images, labels)
	}
	g.place(b)
	if g.grads[0] == nil {
		for r := range g.grads {
			g.grads[r] = make([]float32, g.plans[0].GradLen())
		}
		g.acc = make([]float32, g.plans[0].GradLen()+2)
	}
	t := &g.timing
	err = g.each(func(r int) error {
		start := time.Now()
		defer func() { t.Compute[r] = time.Since(start) }()
		n, off := g.counts[r], g.offsets[r]
		if n == 0 {
			return nil
		}
		p := g.plans[r]
		if err := p.UploadPacked(images[off*words:(off+n)*words], labels[off:off+n]); err != nil {
			return err
		}
		var err error
		if g.stats[r], err = p.TrainShard(step, graph.Shard{Offset: off, N: n, Global: b}); err != nil {
			return err
		}
		return p.ReadGrads(g.grads[r])
	}, step)
	copy(t.Images, g.counts)
	t.Bytes = 4 * int64(len(g.grads[0]))
	if err != nil {
		return graph.Stats{}, err
	}

	start := time.Now()
	gl := len(g.grads[0])
	g.sum(b)
	t.Allreduce = 0
	if red := g.opts.Reducer; red != nil {
		at := time.Now()
		if err := red.AllreduceSum(g.acc); err != nil {
			return graph.Stats{}, fmt.Errorf("parallel: step %d: summing gradients across ranks: %w", step, err)
		}
		t.Allreduce = time.Since(at)
	}
	if err := g.each(func(r int) error { return g.plans[r].WriteGrads(g.acc[:gl]) }, step); err != nil {
		return graph.Stats{}, err
	}
	t.Reduce = time.Since(start)

	start = time.Now()
	err = g.each(func(r int) error {
		p := g.plans[r]
		if err := p.Update(step); err != nil {
			return err
		}
		return p.Device().Sync()
	}, step)
	t.Update = time.Since(start)
	if err != nil {
		return graph.Stats{}, err
	}
	st := graph.Stats{Loss: g.acc[gl] / float32(b), Correct: int(g.acc[gl+1]), N: b}
	g.balance()
	if every := g.opts.ChecksumEvery; every > 0 && step%every == 0 {
		if err := g.check(); err != nil {
			return graph.Stats{}, err
		}
	}
	return st, nil
}

func (g *Group) singleStep(step int, images, labels []float32) (graph.Stats, error) {
	p, b, start := g.plans[0], len(labels), time.Now()
	g.timing = Timing{Images: g.timing.Images, Compute: g.timing.Compute}
	g.timing.Images[0] = b
	defer func() { g.timing.Compute[0] = time.Since(start) }()
	if err := p.UploadPacked(images, labels); err != nil {
		return graph.Stats{}, err
	}
	return p.TrainStep(step, b)
}

// layout checks the global batch and returns its packed words per image.
// step is 0 for Eval.
func (g *Group) layout(step int, images, labels []float32) (int, error) {
	b := len(labels)
	if step < 0 {
		return 0, fmt.Errorf("parallel: step %d: steps count from 1", step)
	}
	if b < 1 {
		return 0, fmt.Errorf("parallel: %s: an empty batch (no labels)", phase(step))
	}
	if len(images)%b != 0 {
		return 0, fmt.Errorf("parallel: %s: %d packed image words do not divide into %d images: pack whole images (backend.PackBytes of a multiple of 4 bytes each)", phase(step), len(images), b)
	}
	return len(images) / b, nil
}

// place sets counts and offsets for a global batch of b images: this
// rank's contiguous slice, split over the replicas by their shares.
func (g *Group) place(b int) {
	rank, size := 0, 1
	if red := g.opts.Reducer; red != nil {
		rank, size = red.Rank(), red.Size()
	}
	lo, hi := rankSlice(rank, size, b)
	split(hi-lo, g.shares, g.counts, g.rem)
	off := lo
	for r, n := range g.counts {
		g.offsets[r] = off
		off += n
	}
}

// sum writes into acc the gradients of the replicas weighted by their
// share n_r/b of the global batch, in replica order, then sum(loss*n_r)
// and the correct count. Large gradients are summed in chunks on several
// cores; each element's order stays replica 0, 1, ...
func (g *Group) sum(b int) {
	gl := len(g.grads[0])
	workers := min(runtime.GOMAXPROCS(0), gl/sumChunk)
	if workers <= 1 {
		g.sumRange(b, 0, gl)
	} else {
		var wg sync.WaitGroup
		for w := range workers {
			wg.Go(func() { g.sumRange(b, w*gl/workers, (w+1)*gl/workers) })
		}
		wg.Wait()
	}
	g.acc[gl], g.acc[gl+1] = g.shardStats()
}

// shardStats sums the replicas' loss*n_r and correct counts in replica
// order.
func (g *Group) shardStats() (loss, correct float32) {
	for r, n := range g.counts {
		if n > 0 {
			loss += float32(g.stats[r].Loss * float32(n))
			correct += float32(g.stats[r].Correct)
		}
	}
	return loss, correct
}

// sumChunk is the fewest gradient values worth a core of their own.
const sumChunk = 1 << 18

func (g *Group) sumRange(b, lo, hi int) {
	acc := g.acc[lo:hi]
	clear(acc)
	for r, n := range g.counts {
		if n == 0 {
			continue
		}
		w := float32(n) / float32(b)
		for i, v := range g.grads[r][lo:hi] {
			acc[i] += float32(w * v) // the conversion forbids fusing into an FMA: the same bits on every machine
		}
	}
}

// eval is Eval.
func (g *Group) eval(images, labels []float32) (graph.Stats, error) {
	words, err := g.layout(0, images, labels)
	if err != nil {
		return graph.Stats{}, err
	}
	b := len(labels)
	if g.single() {
		p := g.plans[0]
		if err := p.UploadPacked(images, labels); err != nil {
			return graph.Stats{}, err
		}
		return p.EvalStep(b)
	}
	g.place(b)
	err = g.each(func(r int) error {
		n, off := g.counts[r], g.offsets[r]
		if n == 0 {
			return nil
		}
		p := g.plans[r]
		if err := p.UploadPacked(images[off*words:(off+n)*words], labels[off:off+n]); err != nil {
			return err
		}
		var err error
		g.stats[r], err = p.EvalStep(n)
		return err
	}, 0)
	if err != nil {
		return graph.Stats{}, err
	}
	g.evalAcc[0], g.evalAcc[1] = g.shardStats()
	if red := g.opts.Reducer; red != nil {
		if err := red.AllreduceSum(g.evalAcc); err != nil {
			return graph.Stats{}, fmt.Errorf("parallel: evaluation: summing statistics across ranks: %w", err)
		}
	}
	return graph.Stats{Loss: g.evalAcc[0] / float32(b), Correct: int(g.evalAcc[1]), N: b}, nil
}
