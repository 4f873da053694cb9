package bench

import (
	"fmt"
	"time"

	"github.com/crossgrad/crossgrad/parallel"
)

// ParallelReport is the outcome of RunParallel: each device alone, the
// devices of this process together and, with a Reducer, every rank
// together.
type ParallelReport struct {
	Stamp    Stamp    `json:"stamp"`
	Settings Settings `json:"settings"`
	// Ranks is the number of processes (1 without MPI).
	Ranks int           `json:"ranks"`
	Runs  []ParallelRun `json:"runs"`
	// Note says why a comparison is skewed (every replica on the same CPU
	// cores), "" otherwise.
	Note string `json:"note,omitempty"`
}

// ParallelRun is one configuration's training steps at the global batch.
type ParallelRun struct {
	// Label names the run: "opencl:0 alone", "2 devices", "rank 0 alone",
	// "2 ranks".
	Label   string   `json:"label"`
	Devices []string `json:"devices"` // this rank's replicas
	Ranks   int      `json:"ranks"`
	Batch   int      `json:"batch"` // global batch
	// Wall is the host time per step (ms); ImagesPerSec the global batch
	// over it; SpeedUp the ratio to the run it is compared with (the best
	// device alone, or rank 0 alone); 0 when there is none.
	Wall         Stat    `json:"wall_ms"`
	ImagesPerSec Stat    `json:"images_per_sec"`
	SpeedUp      float64 `json:"speed_up,omitempty"`
	// Replicas, Reduce, Allreduce, Update and the ratios come from
	// parallel.Timing; a device alone (graph.Plan.TrainStep) has none.
	Replicas  []ReplicaResult `json:"replicas,omitempty"`
	Reduce    Stat            `json:"reduce_ms"`
	Allreduce Stat            `json:"allreduce_ms"`
	Update    Stat            `json:"update_ms"`
	// GradBytes are the gradient bytes of one replica per step;
	// ReduceGBPS is GradBytes over the median Reduce and AllreduceBusGBPS
	// 2(N-1)/N GradBytes over the median Allreduce (N ranks: the bus
	// bandwidth of a ring allreduce).
	GradBytes        int64   `json:"grad_bytes,omitempty"`
	ReduceGBPS       float64 `json:"reduce_gbps,omitempty"`
	AllreduceBusGBPS float64 `json:"allreduce_bus_gbps,omitempty"`
	// Overhead is ReduceOverhead and Balance is Balance of each timed step.
	Overhead Stat `json:"overhead"`
	Balance  Stat `json:"balance"`
	// RankCompute is each rank's median slowest-replica Compute (ms), in
	// rank order (runs over several ranks only).
	RankCompute []float64 `json:"rank_compute_ms,omitempty"`
	Err         string    `json:"error,omitempty"`
}

// ReplicaResult is one replica of a run: its share after balancing, its
// images and its Compute time per step (ms).
type ReplicaResult struct {
	Device  string  `json:"device"`
	Share   float64 `json:"share"`
	Images  int     `json:"images"`
	Compute Stat    `json:"compute_ms"`
}

// ReduceOverhead is t.Reduce over the slowest replica's Compute: what the
// host-staged reduction adds to a step (NaN when nothing computed).
func ReduceOverhead(t parallel.Timing) float64 {
	slowest := maxCompute(t)
	if slowest <= 0 {
		return nanf()
	}
	return float64(t.Reduce) / float64(slowest)
}

// Balance is (max - min) / max of the Compute times of the replicas that
// had images: |tA - tB| / max(tA, tB) for two; 0 for one, NaN for none.
func Balance(t parallel.Timing) float64 {
	var lo, hi time.Duration
	n := 0
	for i, c := range t.Compute {
		if i < len(t.Images) && t.Images[i] == 0 {
			continue
		}
		if n == 0 || c < lo {
			lo = c
		}
		if n == 0 || c > hi {
			hi = c
		}
		n++
	}
	if n == 0 || hi <= 0 {
		return nanf()
	}
	return float64(hi-lo) / float64(hi)
}

func maxCompute(t parallel.Timing) time.Duration {
	var m time.Duration
	for _, c := range t.Compute {
		m = max(m, c)
	}
	return m
}

// setWall fills Wall and ImagesPerSec from the per-step wall times (ms).
func (r *ParallelRun) setWall(walls []float64) {
	r.Wall = Summarize(walls)
	r.ImagesPerSec = r.Wall.Map(func(m float64) float64 { return float64(r.Batch) / (m / 1e3) })
}

// setTimings fills the figures of parallel.Timing from the timed steps and
// the replicas' final shares.
func (r *ParallelRun) setTimings(ts []parallel.Timing, shares []float64) {
	if len(ts) == 0 {
		return
	}
	last := ts[len(ts)-1]
	var reduce, allreduce, update, over, bal []float64
	for _, t := range ts {
		reduce = append(reduce, ms(t.Reduce))
		allreduce = append(allreduce, ms(t.Allreduce))
		update = append(update, ms(t.Update))
		over = append(over, ReduceOverhead(t))
		bal = append(bal, Balance(t))
	}
	r.Reduce, r.Allreduce, r.Update = Summarize(reduce), Summarize(allreduce), Summarize(update)
	r.Overhead, r.Balance = Summarize(over), Summarize(bal)
	r.GradBytes = last.Bytes
	if r.Reduce.Median > 0 {
		r.ReduceGBPS = float64(last.Bytes) / (r.Reduce.Median / 1e3) / 1e9
	}
	if r.Ranks > 1 && r.Allreduce.Median > 0 {
		n := float64(r.Ranks)
		r.AllreduceBusGBPS = 2 * (n - 1) / n * float64(last.Bytes) / (r.Allreduce.Median / 1e3) / 1e9
	}
	r.Replicas = make([]ReplicaResult, len(last.Compute))
	for i := range last.Compute {
		rr := ReplicaResult{Device: fmt.Sprintf("replica %d", i)}
		if i < len(r.Devices) {
			rr.Device = r.Devices[i]
		}
		if i < len(shares) {
			rr.Share = shares[i]
		}
		if i < len(last.Images) {
			rr.Images = last.Images[i]
		}
		cs := make([]float64, 0, len(ts))
		for _, t := range ts {
			if i < len(t.Compute) {
				cs = append(cs, ms(t.Compute[i]))
			}
		}
		rr.Compute = Summarize(cs)
		r.Replicas[i] = rr
	}
}

func ratio(a, b float64) float64 {
	if a <= 0 || b <= 0 {
		return 0
	}
	return a / b
}
