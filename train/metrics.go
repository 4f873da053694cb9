package train

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/crossgrad/crossgrad/checkpoint"
)

// StepRecord is one training step in the JSON-lines metrics file.
type StepRecord struct {
	Kind    string  `json:"kind"`  // "step"
	Step    int     `json:"step"`  // global step, 1-based
	Epoch   int     `json:"epoch"` // 1-based
	Batch   int     `json:"batch"` // 0-based within the epoch
	Images  int     `json:"images"`
	Loss    float64 `json:"loss"`
	Correct int     `json:"correct"`
	Seconds float64 `json:"seconds"`
}

// epochRecord is an epoch in the JSON-lines file.
type epochRecord struct {
	Kind string `json:"kind"` // "epoch"
	EpochMetrics
}

// CSVHeader is the first line of the per-epoch CSV file.
var CSVHeader = []string{"epoch", "step", "loss", "train_acc", "test_loss", "test_acc", "seconds", "images_per_sec"}

// MetricsFiles are the metric outputs of a run; an empty path is disabled.
type MetricsFiles struct {
	JSONL string // per-step and per-epoch records, appended
	CSV   string // per-epoch table, rewritten atomically each epoch
	JSON  string // per-epoch array, rewritten atomically each epoch
	PNG   string // plot of loss (per step and per epoch) and accuracy, rewritten each epoch
}

// MetricsPaths derives the outputs from the configuration's metrics_jsonl
// and metrics_csv: JSON and PNG lie beside the CSV (metrics.csv ->
// metrics.json, metrics.png) and are off with it.
func MetricsPaths(jsonl, csvPath string) MetricsFiles {
	f := MetricsFiles{JSONL: jsonl, CSV: csvPath}
	if csvPath != "" {
		base := strings.TrimSuffix(csvPath, filepath.Ext(csvPath))
		f.JSON, f.PNG = base+".json", base+".png"
	}
	return f
}

// metricsWriter appends JSON lines and rewrites the per-epoch files. It
// keeps every step's loss for the plot, those of an earlier process of a
// resumed run read back from the JSON-lines file.
type metricsWriter struct {
	files  MetricsFiles
	title  string // the plot's title (PlotTitle)
	f      *os.File
	w      *bufio.Writer
	steps  []StepLoss
	loaded bool // the earlier steps were read from the JSON-lines file
}

func (m *metricsWriter) line(v any) error {
	if m.files.JSONL == "" {
		return nil
	}
	if m.f == nil {
		if err := os.MkdirAll(filepath.Dir(m.files.JSONL), 0o755); err != nil {
			return fmt.Errorf("train: metrics: %w", err)
		}
		f, err := os.OpenFile(m.files.JSONL, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
		if err != nil {
			return fmt.Errorf("train: metrics: %w", err)
		}
		m.f, m.w = f, bufio.NewWriter(f)
	}
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("train: metrics: %w", err)
	}
	m.w.Write(b)
	return m.w.WriteByte('\n')
}

// step appends one step record.
func (m *metricsWriter) step(r StepRecord) error {
	if err := m.loadSteps(r.Step); err != nil {
		return err
	}
	r.Kind = "step"
	if err := m.line(r); err != nil {
		return err
	}
	m.steps = append(m.steps, StepLoss{Step: r.Step, Loss: r.Loss})
	return nil
}

// loadSteps reads, once, the losses of the steps before step from the
// JSON-lines file: those a resumed run did in an earlier process (the
// file was trimmed to the checkpoint by trimJSONL).
func (m *metricsWriter) loadSteps(before int) error {
	if m.loaded {
		return nil
	}
	m.loaded = true
	prior, err := readStepLosses(m.files.JSONL, before)
	m.steps = append(prior, m.steps...)
	return err
}

// epoch appends the epoch record, flushes the JSON lines and rewrites the
// CSV, JSON and PNG files from the whole history and every step's loss.
func (m *metricsWriter) epoch(e EpochMetrics, history []EpochMetrics) error {
	if err := m.loadSteps(e.Step + 1); err != nil {
		return err
	}
	if err := m.line(epochRecord{Kind: "epoch", EpochMetrics: e}); err != nil {
		return err
	}
	if err := m.flush(); err != nil {
		return err
	}
	return WriteEpochFiles(m.files, m.plotData(history))
}

// plotData is what the plot of history shows: the title and every step's
// loss.
func (m *metricsWriter) plotData(history []EpochMetrics) PlotData {
	return PlotData{Title: m.title, History: history, Steps: m.steps}
}

// readStepLosses returns the losses of the step records before step in the
// JSON-lines file at path, in file order; a missing file or path "" has
// none, and lines that do not parse are skipped.
func readStepLosses(path string, before int) ([]StepLoss, error) {
	if path == "" {
		return nil, nil
	}
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("train: metrics: %w", err)
	}
	defer f.Close()
	var out []StepLoss
	br := bufio.NewReader(f)
	for {
		ln, err := br.ReadBytes('\n')
		var rec StepRecord
		if json.Unmarshal(ln, &rec) == nil && rec.Kind == "step" && rec.Step < before {
			out = append(out, StepLoss{Step: rec.Step, Loss: rec.Loss})
		}
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return out, fmt.Errorf("train: metrics: %w", err)
		}
	}
}

func (m *metricsWriter) flush() error {
	if m.w == nil {
		return nil
	}
	if err := m.w.Flush(); err != nil {
		return fmt.Errorf("train: metrics %s: %w", m.files.JSONL, err)
	}
	return nil
}

// sync flushes the JSON lines and fsyncs the file, so that the records of
// every step a checkpoint covers survive a crash with it.
func (m *metricsWriter) sync() error {
	if err := m.flush(); err != nil || m.f == nil {
		return err
	}
	if err := m.f.Sync(); err != nil {
		return fmt.Errorf("train: metrics %s: %w", m.files.JSONL, err)
	}
	return nil
}

// close flushes and closes the JSON-lines file.
func (m *metricsWriter) close() error {
	if m.f == nil {
		return nil
	}
	err := errors.Join(m.flush(), m.f.Close())
	m.f, m.w = nil, nil
	return err
}

// WriteEpochFiles writes d.History as CSV and JSON and plots d as PNG
// (PlotPNG) to the non-empty paths of files, each atomically.
func WriteEpochFiles(files MetricsFiles, d PlotData) error {
	history := d.History
	if files.CSV != "" {
		if err := checkpoint.WriteFile(files.CSV, EpochCSV(history)); err != nil {
			return fmt.Errorf("train: metrics: %w", err)
		}
	}
	if files.JSON != "" {
		b, err := json.MarshalIndent(history, "", "  ")
		if err != nil {
			return fmt.Errorf("train: metrics: %w", err)
		}
		if err := checkpoint.WriteFile(files.JSON, append(b, '\n')); err != nil {
			return fmt.Errorf("train: metrics: %w", err)
		}
	}
	if files.PNG != "" {
		b, err := PlotPNG(d)
		if err != nil {
			return err
		}
		if err := checkpoint.WriteFile(files.PNG, b); err != nil {
			return fmt.Errorf("train: metrics plot: %w", err)
		}
	}
	return nil
}

// EpochCSV formats history as CSV with CSVHeader.
func EpochCSV(history []EpochMetrics) []byte {
	var b bytes.Buffer
	w := csv.NewWriter(&b)
	_ = w.Write(CSVHeader)
	f := func(x float64) string { return strconv.FormatFloat(x, 'g', 8, 64) }
	for _, e := range history {
		_ = w.Write([]string{strconv.Itoa(e.Epoch), strconv.Itoa(e.Step), f(e.Loss), f(e.TrainAcc), f(e.TestLoss), f(e.TestAcc), f(e.Seconds), f(e.ImagesPerSec)})
	}
	w.Flush()
	return b.Bytes()
}

// trimJSONL rewrites the JSON-lines file at path, when it exists, keeping
// only the step records up to step and the epoch records up to epochs (a
// resumed run drops what the abandoned continuation wrote, and a partial
// last line left by a crash).
func trimJSONL(path string, step, epochs int) error {
	if path == "" {
		return nil
	}
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("train: metrics: %w", err)
	}
	var keep bytes.Buffer
	for _, ln := range bytes.SplitAfter(b, []byte("\n")) {
		var rec struct {
			Kind        string
			Step, Epoch int
		}
		if len(ln) == 0 || ln[len(ln)-1] != '\n' || json.Unmarshal(ln, &rec) != nil {
			continue
		}
		if (rec.Kind == "step" && rec.Step <= step) || (rec.Kind == "epoch" && rec.Epoch <= epochs) {
			keep.Write(ln)
		}
	}
	if keep.Len() == len(b) {
		return nil
	}
	if err := checkpoint.WriteFile(path, keep.Bytes()); err != nil {
		return fmt.Errorf("train: metrics: %w", err)
	}
	return nil
}
