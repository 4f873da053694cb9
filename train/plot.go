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
)

// Plot colours: loss and train accuracy blue, test accuracy orange.
var (
	colorTrain = color.RGBA{R: 31, G: 119, B: 180, A: 255}
	colorTest  = color.RGBA{R: 255, G: 127, B: 14, A: 255}
)

// PlotPNG draws history as a PNG image of two panels side by side: the
// training loss per epoch, and the train and test accuracy per epoch.
func PlotPNG(history []EpochMetrics) ([]byte, error) {
	n := len(history)
	loss := make(plotter.XYs, n)
	trainAcc := make(plotter.XYs, n)
	testAcc := make(plotter.XYs, n)
	maxLoss := 0.0
	for i, e := range history {
		x := float64(e.Epoch)
		loss[i] = plotter.XY{X: x, Y: e.Loss}
		trainAcc[i] = plotter.XY{X: x, Y: e.TrainAcc}
		testAcc[i] = plotter.XY{X: x, Y: e.TestAcc}
		if finite(e.Loss) {
			maxLoss = math.Max(maxLoss, e.Loss)
		}
	}
	xmin, xmax := 0.5, 1.5
	if n > 0 {
		xmin, xmax = float64(history[0].Epoch)-0.5, float64(history[n-1].Epoch)+0.5
	}

	lp := plot.New()
	lp.Title.Text = "training loss"
	lp.X.Label.Text, lp.Y.Label.Text = "epoch", "loss"
	lp.X.Min, lp.X.Max = xmin, xmax
	lp.Y.Min, lp.Y.Max = 0, math.Max(maxLoss*1.1, 0.1)
	lp.Add(plotter.NewGrid())

	ap := plot.New()
	ap.Title.Text = "accuracy"
	ap.X.Label.Text, ap.Y.Label.Text = "epoch", "accuracy"
	ap.X.Min, ap.X.Max = xmin, xmax
	ap.Y.Min, ap.Y.Max = 0, 1
	ap.Add(plotter.NewGrid())
	ap.Legend.Top, ap.Legend.Left = false, false
	lp.Legend.Top = true

	if n > 0 {
		if err := addSeries(lp, "loss", loss, colorTrain); err != nil {
			return nil, err
		}
		if err := addSeries(ap, "train acc", trainAcc, colorTrain); err != nil {
			return nil, err
		}
		if err := addSeries(ap, "test acc", testAcc, colorTest); err != nil {
			return nil, err
		}
	}
	integerTicks(lp, history)
	integerTicks(ap, history)

	img := vgimg.New(10*vg.Inch, 4*vg.Inch)
	dc := draw.New(img)
	tiles := draw.Tiles{Rows: 1, Cols: 2, PadX: vg.Centimeter, PadTop: vg.Millimeter * 2,
		PadBottom: vg.Millimeter * 2, PadLeft: vg.Millimeter * 2, PadRight: vg.Millimeter * 4}
	plots := [][]*plot.Plot{{lp, ap}}
	cs := plot.Align(plots, tiles, dc)
	lp.Draw(cs[0][0])
	ap.Draw(cs[0][1])
	var b bytes.Buffer
	if _, err := (vgimg.PngCanvas{Canvas: img}).WriteTo(&b); err != nil {
		return nil, fmt.Errorf("train: metrics plot: %w", err)
	}
	return b.Bytes(), nil
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
