package bench

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"strings"
)

// ParallelColumns are the columns of the data-parallel table, in order.
var ParallelColumns = []string{"run", "devices", "ranks", "batch", "images/s", "speed-up", "step ms", "reduce ms",
	"allreduce ms", "update ms", "grad MB", "reduce GB/s", "allreduce bus GB/s", "reduce overhead", "balance", "error"}

// ReplicaColumns are the columns of the per-replica table of a run.
var ReplicaColumns = []string{"run", "replica", "share", "images", "compute ms"}

// WriteJSON writes r as indented JSON.
func (r *ParallelReport) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}

// WriteText writes r as plain-text tables for a terminal.
func (r *ParallelReport) WriteText(w io.Writer) error { return writeText(w, r.blocks()) }

// WriteMarkdown writes r as Markdown, as Report.WriteMarkdown does.
func (r *ParallelReport) WriteMarkdown(w io.Writer) error { return writeMarkdown(w, r.blocks()) }

func (r *ParallelReport) blocks() []block {
	var bs []block
	text := func(f string, a ...any) { bs = append(bs, block{text: fmt.Sprintf(f, a...)}) }
	s, st := r.Settings, r.Stamp
	bs = append(bs, block{heading: "crossgrad bench (data-parallel) " + st.Version + ", " + st.Date.Format("2006-01-02 15:04 UTC"), top: true})
	text("host %s (%s), CPU %s x%d, %s; load average %s at start, %s at end",
		orDash(st.Host), st.OS, orDash(st.CPU), st.Cores, st.GoVersion, fmtLoad(st.LoadBefore), fmtLoad(st.LoadAfter))
	if st.Command != "" {
		text("command: %s", st.Command)
	}
	text("%s input %d, width %g; global batch %d over %d rank(s); each figure: median [min-max] of %d steps after %d warm-up%s",
		s.modelTitle(), s.InputSize, s.Width, s.GPUBatch, r.Ranks, s.Runs, s.Warmup, s.tuneText())
	t := block{head: ParallelColumns}
	for _, p := range r.Runs {
		t.rows = append(t.rows, p.row())
	}
	bs = append(bs, t)
	rt := block{head: ReplicaColumns}
	for _, p := range r.Runs {
		for _, rr := range p.Replicas {
			rt.rows = append(rt.rows, []string{p.Label, rr.Device, fmtPct(rr.Share), itoa(rr.Images), fmtStat(rr.Compute, 1)})
		}
	}
	if len(rt.rows) > 0 {
		text("each replica's share of its rank's images (after balancing, or device_shares) and its own time per step:")
		bs = append(bs, rt)
	}
	for _, p := range r.Runs {
		if len(p.RankCompute) > 0 {
			parts := make([]string, len(p.RankCompute))
			for i, c := range p.RankCompute {
				parts[i] = fmt.Sprintf("rank %d %s ms", i, fmtNum(c, 1))
			}
			text("%s: slowest replica compute per rank: %s; balance across the ranks %s", p.Label, strings.Join(parts, ", "), fmtPct(rankBalance(p.RankCompute)))
		}
	}
	for _, p := range r.Runs {
		bs = append(bs, p.goalLines()...)
	}
	if r.Note != "" {
		text("note: %s", r.Note)
	}
	return append(bs, parallelLegend()...)
}

// row is the run's line of the data-parallel table.
func (p ParallelRun) row() []string {
	row := []string{p.Label, strings.Join(p.Devices, ","), itoa(p.Ranks), itoa(p.Batch), fmtStat(p.ImagesPerSec, 1), "",
		fmtStat(p.Wall, 1), "", "", "", "", "", "", "", "", p.Err}
	if p.SpeedUp > 0 {
		row[5] = fmt.Sprintf("%.2fx", p.SpeedUp)
	}
	if p.Replicas != nil {
		row[7], row[8], row[9] = fmtStat(p.Reduce, 2), fmtStat(p.Allreduce, 2), fmtStat(p.Update, 2)
		row[10] = fmtNum(float64(p.GradBytes)/1e6, 1)
		row[11], row[12] = fmtNum(p.ReduceGBPS, 2), fmtNum(p.AllreduceBusGBPS, 2)
		row[13] = fmtPct(p.Overhead.Median)
		if len(p.Replicas) > 1 {
			row[14] = fmtPct(p.Balance.Median)
		}
	}
	return row
}

// goalLines compare the run's ratios with issue 12's goals.
func (p ParallelRun) goalLines() []block {
	if p.Replicas == nil || p.Err != "" {
		return nil
	}
	var bs []block
	if p.Overhead.Valid() {
		bs = append(bs, block{text: fmt.Sprintf("%s: reduction overhead (reduce / slowest replica compute) %s, goal <= %s at the cpu-quick shape (input 65, width 0.5, batch 128): %s",
			p.Label, fmtPct(p.Overhead.Median), fmtPct(OverheadGoal), metText(p.Overhead.Median <= OverheadGoal))})
	}
	if len(p.Replicas) > 1 && p.Balance.Valid() {
		bs = append(bs, block{text: fmt.Sprintf("%s: balance |tA - tB| / max(tA, tB) of the replicas' compute %s, goal <= %s: %s",
			p.Label, fmtPct(p.Balance.Median), fmtPct(BalanceGoal), metText(p.Balance.Median <= BalanceGoal))})
	}
	return bs
}

// rankBalance is (max - min) / max of the ranks' compute times.
func rankBalance(cs []float64) float64 {
	lo, hi := math.Inf(1), 0.0
	for _, c := range cs {
		lo, hi = math.Min(lo, c), math.Max(hi, c)
	}
	if hi <= 0 {
		return nanf()
	}
	return (hi - lo) / hi
}

func metText(ok bool) string {
	if ok {
		return "met"
	}
	return "NOT met"
}

// fmtPct is a fraction as a percentage with one decimal ("" for NaN).
func fmtPct(f float64) string {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return ""
	}
	return fmt.Sprintf("%.1f%%", 100*f)
}

func parallelLegend() []block {
	bs := []block{{heading: legendHeading}}
	item := func(term, meaning string) {
		bs = append(bs, block{text: fmt.Sprintf("- %s: %s", term, meaning)})
	}
	item("run", "DEVICE alone is the plain training step on one device (as train runs one device) at the global batch; "+
		"N devices is one parallel.Group over this process's devices; rank 0 alone is rank 0's devices while the other "+
		"ranks wait; N ranks is every rank together, the gradients summed with MPI_Allreduce")
	item("images/s, step ms", "the global batch over the host time of one step (every replica's forward, backward, the "+
		"reduction and the update), median [min-max] of the timed steps; the replicas' shares are balanced in untimed steps first")
	item("speed-up", "images/s over the best device alone (for N devices) or over rank 0 alone (for N ranks)")
	item("compute ms", "one replica's own upload, forward, backward and gradient read per step (parallel.Timing.Compute)")
	item("reduce ms, allreduce ms", "the host-side sum of the replicas' gradients, the allreduce across ranks and the "+
		"gradient writes back (parallel.Timing.Reduce), and the allreduce's part of it (Timing.Allreduce)")
	item("update ms", "the Adam update on every replica")
	item("grad MB", "the gradient bytes of one replica per step (fp32, every parameter)")
	item("reduce GB/s", "grad MB over reduce ms")
	item("allreduce bus GB/s", "2(N-1)/N x grad MB over allreduce ms for N ranks: the bus bandwidth of a ring allreduce, "+
		"comparable with the link's bandwidth. The allreduce starts when this rank's replicas are done, so its time also "+
		"holds the wait for a slower rank: the minimum is the closer figure for the transfer itself")
	item("reduce overhead", "reduce ms over the slowest replica's compute ms of the same step (median over steps); the "+
		"goal is <= 10% at the cpu-quick shape")
	item("balance", "(slowest - fastest) / slowest replica compute of the same step (|tA - tB| / max(tA, tB) for two), "+
		"median over steps; the goal is <= 15% after balancing")
	return bs
}
