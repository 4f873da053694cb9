package train

import (
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gonum.org/v1/plot/plotter"

	"github.com/crossgrad/crossgrad/config"
)

func TestEpochCSVHasTestLoss(t *testing.T) {
	csv := string(EpochCSV([]EpochMetrics{
		{Epoch: 1, Step: 8, Loss: 0.5, TrainAcc: 0.8, TestLoss: 0.625, TestAcc: 0.75, Seconds: 2, ImagesPerSec: 128},
	}))
	assert.Equal(t, "epoch,step,loss,train_acc,test_loss,test_acc,seconds,images_per_sec\n1,8,0.5,0.8,0.625,0.75,2,128\n", csv)
}

func TestPlotTitle(t *testing.T) {
	c := config.Default()
	c.InputSize, c.Width, c.BatchSize, c.LR = 65, 0.5, 128, 0.001
	assert.Equal(t, "alexnet, input 65, width 0.5, batch 128, lr 0.001 on cpu (opencl:0)", PlotTitle(c, "cpu (opencl:0)"))
}

func TestSmoothedStepLoss(t *testing.T) {
	assert.Equal(t, 1, smoothWindow(16))
	assert.Equal(t, 5, smoothWindow(100))
	assert.Equal(t, 100, smoothWindow(4690))

	steps := []StepLoss{{1, 6}, {2, 3}, {3, math.NaN()}, {4, 0}, {5, 9}, {6, 3}}
	assert.Equal(t, plotter.XYs{{X: 1, Y: 6}, {X: 2, Y: 4.5}, {X: 4, Y: 3}, {X: 5, Y: 4}, {X: 6, Y: 4}}, smoothed(steps, 3))
}

func TestPreparePlot(t *testing.T) {
	var steps []StepLoss
	for i := 1; i <= 100; i++ {
		steps = append(steps, StepLoss{Step: i, Loss: 2 - float64(i)/100})
	}
	steps[0].Loss = 50 // one spike, averaged over 5 steps
	d := PlotData{Steps: steps, History: []EpochMetrics{
		{Epoch: 1, Step: 50, Loss: 1.8, TrainAcc: 0.6, TestLoss: 1.5, TestAcc: 0.7},
		{Epoch: 2, Step: 100, Loss: 1.2, TrainAcc: 0.8, TestLoss: 1.1, TestAcc: 0.75},
	}}
	s := preparePlot(d)
	assert.Equal(t, 5, s.window)
	require.Len(t, s.smooth, 100)
	assert.Equal(t, plotter.XY{X: 1, Y: 50}, s.smooth[0])
	assert.InDelta(t, (2-0.96)+(2-0.97)+(2-0.98)+(2-0.99)+(2-1.0), 5*s.smooth[99].Y, 1e-12)
	assert.Equal(t, plotter.XYs{{X: 50, Y: 1.8}, {X: 100, Y: 1.2}}, s.epochLoss)
	assert.Equal(t, plotter.XYs{{X: 50, Y: 1.5}, {X: 100, Y: 1.1}}, s.testLoss)
	assert.Equal(t, plotter.XYs{{X: 1, Y: 0.6}, {X: 2, Y: 0.8}}, s.trainAcc)
	assert.Equal(t, plotter.XYs{{X: 1, Y: 0.7}, {X: 2, Y: 0.75}}, s.testAcc)
	assert.Equal(t, 100.0, s.stepMax)
	assert.InDelta(t, 55, s.lossMax, 1e-12) // the smoothed spike, plus 10%
	// Accuracy 0.6..0.8 padded by a tenth of its range, not 0..1.
	assert.InDelta(t, 0.58, s.accMin, 1e-12)
	assert.InDelta(t, 0.82, s.accMax, 1e-12)

	// Near 1 the axis stops at 1; an old run without test loss has no
	// test-loss points.
	s = preparePlot(PlotData{History: []EpochMetrics{{Epoch: 1, Step: 4, Loss: 0.1, TrainAcc: 0.995, TestAcc: 0.999}}})
	assert.InDelta(t, 0.985, s.accMin, 1e-12)
	assert.Equal(t, 1.0, s.accMax)
	assert.Empty(t, s.testLoss)
	assert.Empty(t, s.smooth)

	png, err := PlotPNG(PlotData{Title: "alexnet, input 65 on test", Steps: steps, History: d.History})
	require.NoError(t, err)
	assert.Equal(t, "\x89PNG", string(png[:4]))
	_, err = PlotPNG(PlotData{})
	require.NoError(t, err)
}

// TestMetricsWriterStepsAcrossResume: the writer of a resumed run reads the
// earlier process's step losses from the JSON-lines file, so the plot
// covers every step, and passes them with the title to the plot.
func TestMetricsWriterStepsAcrossResume(t *testing.T) {
	dir := t.TempDir()
	files := MetricsPaths(filepath.Join(dir, "metrics.jsonl"), filepath.Join(dir, "metrics.csv"))

	first := &metricsWriter{files: files, title: "run title"}
	for s := 1; s <= 3; s++ {
		require.NoError(t, first.step(StepRecord{Step: s, Epoch: 1, Batch: s - 1, Images: 4, Loss: float64(s)}))
	}
	require.NoError(t, first.close())
	f, err := os.OpenFile(files.JSONL, os.O_APPEND|os.O_WRONLY, 0)
	require.NoError(t, err)
	_, err = f.WriteString(`{"kind":"epoch","epoch":9}` + "\n" + "not json\n" + `{"kind":"step","step":5,"loss":9}` + "\n")
	require.NoError(t, err)
	require.NoError(t, f.Close())

	second := &metricsWriter{files: files, title: "run title"}
	require.NoError(t, second.step(StepRecord{Step: 4, Epoch: 1, Batch: 3, Images: 4, Loss: 4}))
	hist := []EpochMetrics{{Epoch: 1, Step: 4, Loss: 2.5, TrainAcc: 0.5, TestLoss: 2.25, TestAcc: 0.5}}
	want := PlotData{Title: "run title", History: hist, Steps: []StepLoss{{1, 1}, {2, 2}, {3, 3}, {4, 4}}}
	assert.Equal(t, want, second.plotData(hist))
	require.NoError(t, second.epoch(hist[0], hist))
	require.NoError(t, second.close())
	csv, err := os.ReadFile(files.CSV)
	require.NoError(t, err)
	assert.Equal(t, "1,4,2.5,0.5,2.25,0.5,0,0", strings.Split(string(csv), "\n")[1])
	_, err = os.Stat(files.PNG)
	require.NoError(t, err)

	// Without a JSON-lines file the writer keeps this process's steps.
	mem := &metricsWriter{files: MetricsFiles{}}
	require.NoError(t, mem.step(StepRecord{Step: 7, Loss: 0.5}))
	assert.Equal(t, []StepLoss{{7, 0.5}}, mem.plotData(nil).Steps)
}
