package train

import (
	"bytes"
	"fmt"
	"image/color"
	"math"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"

	"github.com/crossgrad/crossgrad/config"
)

// Plot colours: training blue (its per-step curve light blue), test orange.
var (
	colorTrain = color.RGBA{R: 31, G: 119, B: 180, A: 255}
	colorSteps = color.RGBA{R: 120, G: 170, B: 215, A: 255}
	colorTest  = color.RGBA{R: 255, G: 127, B: 14, A: 255}
)

// StepLoss is the training loss of one optimizer step.
type StepLoss struct {
	Step int     // global step, 1-based
	Loss float64 // the step's mean batch loss
}

// PlotData is what metrics.png shows.
type PlotData struct {
	Title   string         // model, settings and device (PlotTitle)
	History []EpochMetrics // one point per epoch
	Steps   []StepLoss     // every step's training loss, in step order
}

// PlotTitle is the title of a run's plot: the model, its settings and the
// device, e.g. "alexnet, input 65, width 0.5, batch 128, lr 0.001 on ...".
func PlotTitle(c config.Config, device string) string {
	return fmt.Sprintf("%s, input %d, width %g, batch %d, lr %g on %s", c.Model, c.InputSize, c.Width, c.BatchSize, c.LR, device)
}

// plotSeries are PlotData turned into the lines and axis ranges drawn.
type plotSeries struct {
	window         int         // steps averaged per point of smooth
	smooth         plotter.XYs // trailing mean of the step losses, x = step
	epochLoss      plotter.XYs // mean training loss per epoch, x = its last step
	testLoss       plotter.XYs // test loss per epoch (when recorded), x = its last step
	trainAcc       plotter.XYs // x = epoch
	testAcc        plotter.XYs // x = epoch
	stepMax        float64     // loss panel x range: 0 .. stepMax
	lossMax        float64     // loss panel y range: 0 .. lossMax
	accMin, accMax float64     // accuracy panel y range, fitted to the data
}

// smoothWindow is the number of steps averaged per point for n steps: a
// twentieth of the run, between 1 and 100.
func smoothWindow(n int) int { return max(1, min(n/20, 100)) }

// smoothed returns the trailing mean of the last window finite losses at
// each step (fewer at the start); non-finite losses are skipped.
func smoothed(steps []StepLoss, window int) plotter.XYs {
	out := make(plotter.XYs, 0, len(steps))
	var ring []float64
	sum := 0.0
	for _, s := range steps {
		if !finite(s.Loss) {
			continue
		}
		ring = append(ring, s.Loss)
		sum += s.Loss
		if len(ring) > window {
			sum -= ring[0]
			ring = ring[1:]
		}
		out = append(out, plotter.XY{X: float64(s.Step), Y: sum / float64(len(ring))})
	}
	return out
}

// preparePlot computes the series and axis ranges of d.
func preparePlot(d PlotData) plotSeries {
	s := plotSeries{window: smoothWindow(len(d.Steps))}
	s.smooth = smoothed(d.Steps, s.window)
	for _, p := range s.smooth {
		s.lossMax = math.Max(s.lossMax, p.Y)
		s.stepMax = math.Max(s.stepMax, p.X)
	}
	accLo, accHi := math.Inf(1), math.Inf(-1)
	for _, e := range d.History {
		x, step := float64(e.Epoch), float64(e.Step)
		s.stepMax = math.Max(s.stepMax, step)
		if finite(e.Loss) {
			s.epochLoss = append(s.epochLoss, plotter.XY{X: step, Y: e.Loss})
			s.lossMax = math.Max(s.lossMax, e.Loss)
		}
		if e.TestLoss > 0 && finite(e.TestLoss) { // 0: not recorded (older runs)
			s.testLoss = append(s.testLoss, plotter.XY{X: step, Y: e.TestLoss})
			s.lossMax = math.Max(s.lossMax, e.TestLoss)
		}
		s.trainAcc = append(s.trainAcc, plotter.XY{X: x, Y: e.TrainAcc})
		s.testAcc = append(s.testAcc, plotter.XY{X: x, Y: e.TestAcc})
		accLo = math.Min(accLo, math.Min(e.TrainAcc, e.TestAcc))
		accHi = math.Max(accHi, math.Max(e.TrainAcc, e.TestAcc))
	}
	s.lossMax = math.Max(s.lossMax*1.1, 0.1)
	s.stepMax = math.Max(s.stepMax, 1)
	s.accMin, s.accMax = 0, 1
	if accLo <= accHi {
		pad := math.Max((accHi-accLo)*0.1, 0.01)
		s.accMin, s.accMax = math.Max(0, accLo-pad), math.Min(1, accHi+pad)
	}
	return s
}

// PlotPNG draws d as a PNG image: the title above two panels side by side,
// the training loss (every step's, smoothed, with the epoch means and the
// test loss as points at each epoch's last step) and the train and test
// accuracy per epoch on an axis fitted to the data.
func PlotPNG(d PlotData) ([]byte, error) {
	s := preparePlot(d)
	n := len(d.History)
	xmin, xmax := 0.5, 1.5
	if n > 0 {
		xmin, xmax = float64(d.History[0].Epoch)-0.5, float64(d.History[n-1].Epoch)+0.5
	}

	lp := plot.New()
	lp.Title.Text = "loss"
	lp.X.Label.Text, lp.Y.Label.Text = "step", "loss"
	lp.X.Min, lp.X.Max = 0, s.stepMax
	lp.Y.Min, lp.Y.Max = 0, s.lossMax
	lp.Add(plotter.NewGrid())
	lp.Legend.Top = true

	ap := plot.New()
	ap.Title.Text = "accuracy"
	ap.X.Label.Text, ap.Y.Label.Text = "epoch", "accuracy"
	ap.X.Min, ap.X.Max = xmin, xmax
	ap.Y.Min, ap.Y.Max = s.accMin, s.accMax
	ap.Add(plotter.NewGrid())
	ap.Legend.Top, ap.Legend.Left = false, false

	if len(s.smooth) > 0 {
		if err := addLine(lp, fmt.Sprintf("train loss, mean of %d steps", s.window), s.smooth, colorSteps); err != nil {
			return nil, err
		}
	}
	for _, l := range []struct {
		p    *plot.Plot
		name string
		xys  plotter.XYs
		c    color.Color
	}{
		{lp, "train loss, epoch mean", s.epochLoss, colorTrain},
		{lp, "test loss", s.testLoss, colorTest},
		{ap, "train acc", s.trainAcc, colorTrain},
		{ap, "test acc", s.testAcc, colorTest},
	} {
		if len(l.xys) == 0 {
			continue
		}
		if err := addSeries(l.p, l.name, l.xys, l.c); err != nil {
			return nil, err
		}
	}
	integerTicks(ap, d.History)

	img := vgimg.New(10*vg.Inch, 4.4*vg.Inch)
	dc := draw.New(img)
	if d.Title != "" {
		sty := lp.Title.TextStyle
		top := dc.Max.Y - 2*vg.Millimeter
		dc.FillText(sty, vg.Point{X: dc.Center().X, Y: top}, d.Title)
		dc = draw.Crop(dc, 0, 0, 0, -(sty.Height(d.Title) + 4*vg.Millimeter))
	}
	tiles := draw.Tiles{Rows: 1, Cols: 2, PadX: vg.Centimeter, PadTop: vg.Millimeter * 2,
		PadBottom: vg.Millimeter * 2, PadLeft: vg.Millimeter * 2, PadRight: vg.Millimeter * 4}
	cs := plot.Align([][]*plot.Plot{{lp, ap}}, tiles, dc)
	lp.Draw(cs[0][0])
	ap.Draw(cs[0][1])
	var b bytes.Buffer
	if _, err := (vgimg.PngCanvas{Canvas: img}).WriteTo(&b); err != nil {
		return nil, fmt.Errorf("train: metrics plot: %w", err)
	}
	return b.Bytes(), nil
}

// addLine adds a line without markers named name in the legend.
func addLine(p *plot.Plot, name string, xys plotter.XYs, c color.Color) error {
	l, err := plotter.NewLine(xys)
	if err != nil {
		return fmt.Errorf("train: metrics plot %s: %w", name, err)
	}
	l.Color, l.Width = c, vg.Points(1)
	p.Add(l)
	p.Legend.Add(name, l)
	return nil
}

// addSeries adds a line with point markers named name in legend.
func addSeries(p *plot.Plot, name string, xys plotter.XYs, c color.Color) error {
	l, s, err := plotter.NewLinePoints(xys)
	if err != nil {
		return fmt.Errorf("train: metrics plot %s: %w", name, err)
	}
	l.Color, s.Color = c, c
	l.Width = vg.Points(1.5)
	s.Shape = draw.CircleGlyph{}
	p.Add(l, s)
	p.Legend.Add(name, l, s)
	return nil
}

// integerTicks labels the x axis with whole epochs only (at most about ten).
func integerTicks(p *plot.Plot, history []EpochMetrics) {
	if len(history) == 0 {
		p.X.Tick.Marker = plot.ConstantTicks([]plot.Tick{{Value: 1, Label: "1"}})
		return
	}
	first, last := history[0].Epoch, history[len(history)-1].Epoch
	step := max(1, (last-first+1+9)/10)
	var ticks []plot.Tick
	for e := first; e <= last; e += step {
		ticks = append(ticks, plot.Tick{Value: float64(e), Label: fmt.Sprint(e)})
	}
	p.X.Tick.Marker = plot.ConstantTicks(ticks)
}
