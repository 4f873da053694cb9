package bench

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
)

// Comparison is several saved reports side by side (crossgrad bench
// --from A.json --from B.json): one column per device of every report.
type Comparison struct {
	Reports []ComparedReport `json:"reports"`
	Devices []ComparedDevice `json:"devices"`
	Kernels []ComparedKernel `json:"kernels"`
	// Notes say where the reports' settings differ.
	Notes []string `json:"notes,omitempty"`
}

// ComparedReport is one input report's file, stamp and settings.
type ComparedReport struct {
	File     string   `json:"file"`
	Stamp    Stamp    `json:"stamp"`
	Settings Settings `json:"settings"`
}

// ComparedDevice is one column: a device of one report with its headline
// figures.
type ComparedDevice struct {
	Column    string  `json:"column"` // "[1] vulkan:0"
	Report    int     `json:"report"` // index into Comparison.Reports
	ID        string  `json:"id"`
	Name      string  `json:"name"`
	Type      string  `json:"type"`
	Vendor    string  `json:"vendor"`
	Driver    string  `json:"driver"`
	Batch     int     `json:"batch"`
	InputSize int     `json:"input_size"`
	Width     float64 `json:"width"`
	// ImagesPerSec is the training step's rate at Batch (zero: not
	// measured).
	ImagesPerSec Stat `json:"images_per_sec"`
	// FMA and Copy are the device's ceilings (zero: none measured).
	FMA  Stat `json:"fma_gflops"`
	Copy Stat `json:"copy_gbps"`
	// VsTorch and TorchImagesPerSec are the PyTorch comparison, when the
	// report has one.
	VsTorch           *TorchRatio `json:"vs_pytorch,omitempty"`
	TorchImagesPerSec float64     `json:"pytorch_images_per_sec,omitempty"`
	Err               string      `json:"error,omitempty"`
}

// ComparedKernel is one kernel at one place of the step across the
// columns.
type ComparedKernel struct {
	Kernel  string `json:"kernel"`
	Where   string `json:"where"`
	Compute bool   `json:"compute"`
	// Pct holds, per column, the kernel's % of that device's FMA ceiling
	// (Compute) or copy ceiling; null where not measured or the device has
	// no ceilings.
	Pct []*float64 `json:"pct"`
}

// ReadJSONFile reads a report saved with crossgrad bench --json; the
// error names the file.
func ReadJSONFile(path string) (*Report, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("bench: %w", err)
	}
	defer f.Close()
	rep, err := ReadJSON(f)
	if err != nil {
		return nil, fmt.Errorf("bench: %s is not a report saved with crossgrad bench --json: %w", path, err)
	}
	return rep, nil
}

// Compare lays reports (read from files, same order) side by side.
func Compare(files []string, reports []*Report) (*Comparison, error) {
	if len(files) != len(reports) {
		return nil, fmt.Errorf("bench: compare: %d files for %d reports", len(files), len(reports))
	}
	c := &Comparison{}
	kernelAt := map[string]int{}
	var batches, inputs []string
	for ri, r := range reports {
		c.Reports = append(c.Reports, ComparedReport{File: files[ri], Stamp: r.Stamp, Settings: r.Settings})
		inputs = appendNew(inputs, fmt.Sprintf("input %d width %g", r.Settings.InputSize, r.Settings.Width))
		for _, d := range r.Devices {
			col := len(c.Devices)
			cd := ComparedDevice{Column: fmt.Sprintf("[%d] %s", col+1, d.ID), Report: ri, ID: d.ID, Name: d.Name, Type: d.Type,
				Vendor: d.Vendor, Driver: d.Driver, Batch: d.Batch, InputSize: r.Settings.InputSize, Width: r.Settings.Width,
				VsTorch: d.VsTorch, Err: d.Err}
			batches = appendNew(batches, fmt.Sprint(d.Batch))
			if d.Step != nil {
				cd.ImagesPerSec = d.Step.ImagesPerSec
				cd.Err = joinErr(cd.Err, d.Step.Err)
			}
			if d.Ceilings != nil && d.Ceilings.Err == "" {
				cd.FMA, cd.Copy = d.Ceilings.FMA, d.Ceilings.Copy
			}
			if d.VsTorch != nil {
				for _, p := range r.PyTorch {
					if p.Label == d.VsTorch.Against && p.Batch == d.Batch {
						cd.TorchImagesPerSec = p.ImagesPerSec.Median
					}
				}
			}
			c.Devices = append(c.Devices, cd)
			for _, k := range d.Kernels {
				key := k.Kernel + "\x00" + k.Where
				i, ok := kernelAt[key]
				if !ok {
					i = len(c.Kernels)
					kernelAt[key] = i
					c.Kernels = append(c.Kernels, ComparedKernel{Kernel: k.Kernel, Where: k.Where, Compute: k.Compute})
				}
				ck := &c.Kernels[i]
				for len(ck.Pct) <= col {
					ck.Pct = append(ck.Pct, nil)
				}
				pct := k.PctCopy
				if k.Compute {
					pct = k.PctFMA
				}
				if k.Err == "" && pct > 0 {
					ck.Pct[col] = &pct
				}
			}
		}
	}
	for i := range c.Kernels {
		for len(c.Kernels[i].Pct) < len(c.Devices) {
			c.Kernels[i].Pct = append(c.Kernels[i].Pct, nil)
		}
	}
	if len(batches) > 1 {
		c.Notes = append(c.Notes, fmt.Sprintf("the devices ran different batches (%s): their images/s and kernel shapes differ",
			strings.Join(batches, ", ")))
	}
	if len(inputs) > 1 {
		c.Notes = append(c.Notes, fmt.Sprintf("the reports benchmarked different models (%s): their figures do not compare",
			strings.Join(inputs, "; ")))
	}
	return c, nil
}

func appendNew(xs []string, x string) []string {
	if slices.Contains(xs, x) {
		return xs
	}
	return append(xs, x)
}

// WriteJSON writes c as indented JSON.
func (c *Comparison) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(c)
}

// WriteText writes c as plain-text tables for a terminal.
func (c *Comparison) WriteText(w io.Writer) error { return writeText(w, c.blocks()) }

// WriteMarkdown writes c as Markdown with a level-1 title.
func (c *Comparison) WriteMarkdown(w io.Writer) error { return writeMarkdown(w, c.blocks()) }

func (c *Comparison) blocks() []block {
	bs := []block{{heading: fmt.Sprintf("crossgrad bench: %d reports side by side", len(c.Reports)), top: true}}
	text := func(f string, a ...any) { bs = append(bs, block{text: fmt.Sprintf(f, a...)}) }
	text("one column per device of every report; each report's stamp says where and when it was measured")
	stamps := block{head: []string{"column", "file", "device", "type", "driver", "crossgrad", "date", "host", "CPU"}}
	for _, d := range c.Devices {
		r := c.Reports[d.Report]
		stamps.rows = append(stamps.rows, []string{d.Column, r.File, d.Name, d.Type, orDash(d.Driver), r.Stamp.Version,
			r.Stamp.Date.Format("2006-01-02 15:04 UTC"), orDash(r.Stamp.Host), orDash(r.Stamp.CPU)})
	}
	bs = append(bs, stamps)
	for _, n := range c.Notes {
		text("note: %s", n)
	}

	bs = append(bs, block{heading: "Training step and ceilings"})
	step := block{head: []string{"column", "batch", "input", "images/s", "vs PyTorch", "PyTorch images/s", "FMA GFLOP/s", "copy GB/s", "error"}}
	for _, d := range c.Devices {
		row := []string{d.Column, itoa(d.Batch), fmt.Sprintf("%d, width %g", d.InputSize, d.Width), fmtStat(d.ImagesPerSec, 2), "", "",
			fmtNum(d.FMA.Median, 1), fmtNum(d.Copy.Median, 1), d.Err}
		if d.VsTorch != nil {
			row[4] = fmt.Sprintf("%.2fx %s", d.VsTorch.Ratio, d.VsTorch.Against)
			row[5] = fmtNum(d.TorchImagesPerSec, 2)
		}
		step.rows = append(step.rows, row)
	}
	bs = append(bs, step)

	if len(c.Kernels) > 0 {
		bs = append(bs, block{heading: "Kernels, % of each device's own ceilings"})
		text("FMA-bound kernels as %% of their device's FMA ceiling, the others as %% of its copy ceiling (above 100%%: the " +
			"kernel's data stays in cache); blank: not measured, failed, or no ceilings (the reference backend)")
		t := block{head: []string{"kernel", "where", "ceiling"}}
		for _, d := range c.Devices {
			t.head = append(t.head, d.Column)
		}
		for _, k := range c.Kernels {
			bound := "copy"
			if k.Compute {
				bound = "FMA"
			}
			row := []string{k.Kernel, k.Where, bound}
			for _, p := range k.Pct {
				cell := ""
				if p != nil {
					cell = fmtNum(*p, 1)
				}
				row = append(row, cell)
			}
			t.rows = append(t.rows, row)
		}
		bs = append(bs, t)
	}
	s := shown{kernels: len(c.Kernels) > 0}
	for _, d := range c.Devices {
		s.ceilings = s.ceilings || d.FMA.Valid()
		s.torch = s.torch || d.VsTorch != nil
		s.mallocKept = s.mallocKept || (d.VsTorch != nil && strings.Contains(d.VsTorch.Against, "malloc kept"))
	}
	return append(bs, s.legend()...)
}
