package bench

import (
	"fmt"
	"io"
	"math"
	"strings"
	"text/tabwriter"
)

// block is a piece of a rendered report: a heading, a line of text or a
// table.
type block struct {
	heading string
	top     bool // the document's title (a level-1 heading in Markdown)
	text    string
	head    []string
	rows    [][]string
}

// WriteText writes the report as plain-text tables for a terminal.
func (r *Report) WriteText(w io.Writer) error { return writeText(w, r.blocks()) }

// WriteMarkdown writes the report as Markdown: a level-1 title, level-2
// sections, paragraphs and pipe tables.
func (r *Report) WriteMarkdown(w io.Writer) error { return writeMarkdown(w, r.blocks()) }

func writeText(w io.Writer, bs []block) error {
	for _, b := range bs {
		switch {
		case b.heading != "":
			fmt.Fprintf(w, "\n== %s ==\n", b.heading)
		case b.head != nil:
			tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
			fmt.Fprintln(tw, strings.Join(b.head, "\t"))
			for _, row := range b.rows {
				fmt.Fprintln(tw, strings.Join(row, "\t"))
			}
			if err := tw.Flush(); err != nil {
				return err
			}
		default:
			fmt.Fprintln(w, b.text)
		}
	}
	return nil
}

func writeMarkdown(w io.Writer, bs []block) error {
	for i, b := range bs {
		switch {
		case b.heading != "":
			level := "##"
			if b.top {
				level = "#"
			}
			nl := "\n"
			if i == 0 {
				nl = ""
			}
			fmt.Fprintf(w, "%s%s %s\n\n", nl, level, b.heading)
		case b.head != nil:
			fmt.Fprintf(w, "\n| %s |\n|", strings.Join(mdCells(b.head), " | "))
			for range b.head {
				fmt.Fprint(w, "---|")
			}
			fmt.Fprintln(w)
			for _, row := range b.rows {
				fmt.Fprintf(w, "| %s |\n", strings.Join(mdCells(row), " | "))
			}
			fmt.Fprintln(w)
		default:
			fmt.Fprintf(w, "%s  \n", b.text)
		}
	}
	return nil
}

func mdCells(cells []string) []string {
	out := make([]string, len(cells))
	for i, c := range cells {
		out[i] = strings.ReplaceAll(c, "|", "\\|")
		if out[i] == "" {
			out[i] = " "
		}
	}
	return out
}

// blocks lays the report out once for both renderers.
func (r *Report) blocks() []block {
	var bs []block
	text := func(f string, a ...any) { bs = append(bs, block{text: fmt.Sprintf(f, a...)}) }
	s, st := r.Settings, r.Stamp
	bs = append(bs, block{heading: "crossgrad bench " + st.Version + ", " + st.Date.Format("2006-01-02 15:04 UTC"), top: true})
	text("host %s (%s), CPU %s x%d, %s; load average %s at start, %s at end",
		orDash(st.Host), st.OS, orDash(st.CPU), st.Cores, st.GoVersion, fmtLoad(st.LoadBefore), fmtLoad(st.LoadAfter))
	if st.Command != "" {
		text("command: %s", st.Command)
	}
	text("%s input %d, width %g; %s; each figure: median [min-max] of %d runs after %d warm-up%s",
		s.modelTitle(), s.InputSize, s.Width, s.batchText(), s.Runs, s.Warmup, s.tuneText())
	bs = append(bs, r.summaryBlock())
	for _, d := range r.Devices {
		bs = append(bs, d.blocks()...)
	}
	if len(r.PyTorch) > 0 || r.PyTorchNote != "" {
		bs = append(bs, block{heading: "PyTorch side by side"})
		if r.PyTorchNote != "" {
			text("%s", r.PyTorchNote)
		}
		if len(r.PyTorch) > 0 {
			t := block{head: []string{"run", "device", "torch", "threads", "batch", "input", "step ms", "images/s", "error"}}
			for _, p := range r.PyTorch {
				dev := p.Device
				if p.DeviceName != "" {
					dev += " (" + p.DeviceName + ")"
				}
				t.rows = append(t.rows, []string{p.Label, dev, p.Torch, itoa(p.Threads), itoa(p.Batch), itoa(p.InputSize),
					fmtStat(p.Step, 0), fmtStat(p.ImagesPerSec, 1), p.Err})
			}
			bs = append(bs, t)
			for _, p := range r.PyTorch {
				if p.Env != "" {
					text("%q ran with %s", p.Label, p.Env)
				}
			}
		}
	}
	return append(bs, r.legend()...)
}

// modelTitle names the model benchmarked: "AlexNet" (also for reports
// that predate the choice), else its registered name.
func (s Settings) modelTitle() string {
	if s.Model == "" || s.Model == "alexnet" {
		return "AlexNet"
	}
	return s.Model
}

// tuneText is "; tune MODE", or "" for reports made before tuning existed.
func (s Settings) tuneText() string {
	if s.Tune == "" {
		return ""
	}
	return "; tune " + s.Tune
}

// batchText says which batch the devices ran: one batch everywhere, as
// train runs, unless CPU drivers were given their own.
func (s Settings) batchText() string {
	if s.CPUBatch == 0 || s.CPUBatch == s.GPUBatch {
		return fmt.Sprintf("batch %d on every device (batch_size, as train runs)", s.GPUBatch)
	}
	return fmt.Sprintf("batch %d on GPUs, %d on CPU drivers and ref (--cpu-batch: their images/s are not those of train at batch %d)",
		s.GPUBatch, s.CPUBatch, s.GPUBatch)
}

// summaryBlock is one line per device: the headline figures.
func (r *Report) summaryBlock() block {
	t := block{head: []string{"device", "name", "batch", "images/s", "vs PyTorch", "FMA GFLOP/s", "copy GB/s", "best conv %FMA", "cold start ms (cold/warm cache)", "error"}}
	for _, d := range r.Devices {
		row := []string{d.ID, d.Name, itoa(d.Batch), "", "", "", "", "", "", d.Err}
		if d.Step != nil {
			row[3] = fmtNum(d.Step.ImagesPerSec.Median, 2)
			if d.Step.Err != "" {
				row[9] = joinErr(row[9], "step: "+d.Step.Err)
			}
		}
		if d.VsTorch != nil {
			row[4] = fmt.Sprintf("%.2fx %s", d.VsTorch.Ratio, d.VsTorch.Against)
		}
		if c := d.Ceilings; c != nil {
			if c.Err != "" {
				row[5] = "n/a"
				row[6] = "n/a"
			} else {
				row[5] = fmtNum(c.FMA.Median, 1)
				row[6] = fmtNum(c.Copy.Median, 1)
			}
		}
		bestConv := 0.0
		for _, k := range d.Kernels {
			if strings.HasPrefix(k.Kernel, "conv2d") {
				bestConv = math.Max(bestConv, k.PctFMA)
			}
		}
		if bestConv > 0 {
			row[7] = fmtNum(bestConv, 1) + "%"
		}
		if c := d.Cold; c != nil {
			row[8] = fmtNum(c.Cold.TotalMs, 0) + " / " + fmtNum(c.Warm.TotalMs, 0)
		}
		t.rows = append(t.rows, row)
	}
	return t
}

// blocks is the device's section.
func (d DeviceReport) blocks() []block {
	var bs []block
	text := func(f string, a ...any) { bs = append(bs, block{text: fmt.Sprintf(f, a...)}) }
	bs = append(bs, block{heading: fmt.Sprintf("%s %s", d.ID, d.Name)})
	timer := "device timers (OpenCL profiling events / Vulkan timestamps)"
	if d.Timer == "host" {
		timer = "host timers only"
	}
	text("backend %s, %s, vendor %s, driver %s; batch %d; %s; %.0f s", d.Backend, d.Type, d.Vendor, orDash(d.Driver), d.Batch, timer, d.Seconds)
	if d.Err != "" {
		text("ERROR: %s", d.Err)
	}
	if d.ConvAlgos != "" {
		text("convolutions (forward/backward-data/backward-filter): %s; %d dispatches per step", d.ConvAlgos, d.StepDispatches)
	}
	if line := d.tuneLine(); line != "" {
		text("%s", line)
	}
	if c := d.Ceilings; c != nil {
		if c.Err != "" {
			text("ceilings: %s", c.Err)
		} else {
			text("ceilings: FMA %s GFLOP/s, copy %s GB/s (peak kernels of the benchmark)", fmtStat(c.FMA, 1), fmtStat(c.Copy, 1))
		}
	}
	if c := d.Cold; c != nil {
		t := block{head: []string{"cold start", "open ms", "plan ms", "first step ms", "second step ms", "open+plan+first ms", "error"}}
		for i, run := range []ColdRun{c.Cold, c.Warm} {
			t.rows = append(t.rows, []string{[]string{"caches cold", "caches warm"}[i], fmtNum(run.OpenMs, 0), fmtNum(run.PlanMs, 0),
				fmtNum(run.FirstStepMs, 0), fmtNum(run.SecondStepMs, 0), fmtNum(run.TotalMs, 0), run.Err})
		}
		bs = append(bs, t)
		if c.Err != "" && c.Cold.Err == "" && c.Warm.Err == "" {
			text("cold start: %s", c.Err)
		}
	}
	if s := d.Step; s != nil {
		if s.Err != "" {
			text("training step: ERROR %s", s.Err)
		} else {
			line := fmt.Sprintf("training step (batch %d, input %d): %s images/s; %s ms wall, %s ms device; %s GFLOP per step = %s GFLOP/s",
				s.Batch, s.InputSize, fmtStat(s.ImagesPerSec, 2), fmtStat(s.Wall, 1), fmtStat(s.Device, 1), fmtNum(s.FLOP/1e9, 1), fmtNum(s.GFLOPS, 1))
			if d.VsTorch != nil {
				line += fmt.Sprintf("; %.2fx %s", d.VsTorch.Ratio, d.VsTorch.Against)
			}
			text("%s", line)
		}
	}
	if len(d.Kernels) > 0 {
		text("kernels at the shapes of a batch-%d training step:", d.Batch)
		tiled := d.hasTiles()
		t := block{head: []string{"kernel", "where", "shape", "calls", "device ms", "wall ms", "GFLOP/s", "GB/s", "% FMA", "% copy"}}
		if tiled {
			t.head = append(t.head, "default config", "chosen config")
		}
		t.head = append(t.head, "error")
		for _, k := range d.Kernels {
			row := []string{k.Kernel, k.Where, k.Shape, itoa(k.Calls), fmtStat(k.Device, 3), fmtNum(k.Wall.Median, 3),
				fmtNum(k.GFLOPS, 1), fmtNum(k.GBPS, 1), fmtNum(k.PctFMA, 1), fmtNum(k.PctCopy, 1)}
			if tiled {
				row = append(row, k.TileDefault, chosenTile(k))
			}
			t.rows = append(t.rows, append(row, k.Err))
		}
		bs = append(bs, t)
	}
	if len(d.Layers) > 0 {
		bs = append(bs, d.layerTable()...)
	}
	return bs
}

// tuneLine says how the device's tile engine was configured ("" for a
// device without one).
func (d DeviceReport) tuneLine() string {
	switch d.Tune {
	case "":
		return ""
	case "off":
		return "tuning: tune off (every tiled kernel runs the backend's default configuration)"
	}
	cache := d.TuneCache
	if cache == "" {
		cache = "none (in memory)"
	}
	return fmt.Sprintf("tuning: tune %s; %d of %d tiled shapes of the step run a tuned configuration; cache %s",
		d.Tune, d.TunedShapes, d.TiledShapes, cache)
}

// hasTiles reports whether a kernel row of d has a tile configuration.
func (d DeviceReport) hasTiles() bool {
	for _, k := range d.Kernels {
		if k.TileDefault != "" {
			return true
		}
	}
	return false
}

// chosenTile is the chosen configuration of k, "(default)" when it is the
// default one.
func chosenTile(k KernelRow) string {
	if k.TileChosen == "" || k.TileChosen == k.TileDefault {
		if k.TileDefault == "" {
			return ""
		}
		return "(default)"
	}
	return k.TileChosen
}

// layerTable pivots the layer rows: one line per layer with its forward,
// backward and update time (device medians, wall medians without a
// timer) and share of the profiled step.
func (d DeviceReport) layerTable() []block {
	type agg struct {
		name, typ string
		ms        map[string]float64
		flop      float64
		err       string
	}
	var order []string
	by := map[string]*agg{}
	total := 0.0
	for _, l := range d.Layers {
		a, ok := by[l.Layer]
		if !ok {
			a = &agg{name: l.Layer, typ: l.Type, ms: map[string]float64{}}
			by[l.Layer] = a
			order = append(order, l.Layer)
		}
		v := l.Device.Median
		if !l.Device.Valid() {
			v = l.Wall.Median
		}
		a.ms[l.Phase] += v
		a.flop += l.FLOP
		total += v
		if l.Err != "" {
			a.err = joinErr(a.err, l.Phase+": "+l.Err)
		}
	}
	t := block{head: []string{"layer", "type", "forward ms", "backward ms", "update ms", "total ms", "% of step", "GFLOP/s", "error"}}
	for _, n := range order {
		a := by[n]
		sum := a.ms["forward"] + a.ms["backward"] + a.ms["update"]
		pct, rate := "", ""
		if total > 0 {
			pct = fmtNum(100*sum/total, 1)
		}
		if sum > 0 && a.flop > 0 {
			rate = fmtNum(a.flop/(sum/1e3)/1e9, 1)
		}
		t.rows = append(t.rows, []string{a.name, a.typ, fmtMs(a.ms, "forward"), fmtMs(a.ms, "backward"), fmtMs(a.ms, "update"),
			fmtNum(sum, 2), pct, rate, a.err})
	}
	t.rows = append(t.rows, []string{"total", "", "", "", "", fmtNum(total, 2), "100", "", ""})
	src := "device"
	if d.Timer == "host" {
		src = "host"
	}
	return []block{{text: fmt.Sprintf("per layer at batch %d (%s-time medians, a wait after every dispatch):", d.Batch, src)}, t}
}

func fmtMs(m map[string]float64, phase string) string {
	v, ok := m[phase]
	if !ok {
		return ""
	}
	return fmtNum(v, 2)
}

// fmtStat is "median [min-max]" with prec decimals ("" when not measured).
func fmtStat(s Stat, prec int) string {
	if !s.Valid() {
		return ""
	}
	if s.N == 1 || s.Min == s.Max {
		return fmtNum(s.Median, prec)
	}
	return fmt.Sprintf("%s [%s-%s]", fmtNum(s.Median, prec), fmtNum(s.Min, prec), fmtNum(s.Max, prec))
}

// fmtNum formats v with prec decimals, more for small values so that
// they keep two significant digits; "" for 0 and NaN.
func fmtNum(v float64, prec int) string {
	if v == 0 || math.IsNaN(v) || math.IsInf(v, 0) {
		return ""
	}
	a := math.Abs(v)
	for p := prec; p < 6 && a < 10/math.Pow(10, float64(p)); p++ {
		prec = p + 1
	}
	return fmt.Sprintf("%.*f", prec, v)
}

func fmtLoad(l float64) string {
	if l < 0 {
		return "?"
	}
	return fmt.Sprintf("%.2f", l)
}

func itoa(n int) string {
	if n == 0 {
		return ""
	}
	return fmt.Sprint(n)
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func joinErr(a, b string) string {
	if a == "" {
		return b
	}
	return a + "; " + b
}
