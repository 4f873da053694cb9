package train

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"sort"

	"github.com/crossgrad/crossgrad/config"
	"github.com/crossgrad/crossgrad/data"
)

// PredictOptions configure PredictCheckpoint.
type PredictOptions struct {
	// Config gives the backend list and batch size, and the model shape
	// when the checkpoint stores no configuration or input_size/width are
	// Explicit.
	Config   config.Config
	Explicit map[string]bool
	// Checkpoint is a checkpoint file or a run folder (its latest).
	Checkpoint string
	Log        *slog.Logger
}

// ClassProb is a class with its probability.
type ClassProb struct {
	Class int     `json:"class"`
	Name  string  `json:"name"`
	Prob  float64 `json:"probability"`
}

// Prediction is the model's output for one input.
type Prediction struct {
	Input  PredictInput
	Logits []float32
	Probs  []float64 // softmax of Logits
}

// Top returns the k most probable classes, most probable first (ties: the
// lower class first, as evaluation's first maximal logit).
func (p Prediction) Top(k int) []ClassProb {
	out := make([]ClassProb, len(p.Probs))
	for c, v := range p.Probs {
		out[c] = ClassProb{Class: c, Name: className(c), Prob: v}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Prob > out[j].Prob })
	return out[:max(0, min(k, len(out)))]
}

func className(c int) string {
	if c >= 0 && c < data.NumClasses {
		return data.ClassNames[c]
	}
	return fmt.Sprintf("class %d", c)
}

// PredictReport is the result of PredictCheckpoint.
type PredictReport struct {
	Checkpoint  string // file used
	Device      string // "name (backend:index)"
	Model       string // ModelDesc of the model
	Predictions []Prediction
}

// Softmax returns exp(l_i) / sum_j exp(l_j), computed in float64 with the
// maximum subtracted.
func Softmax(logits []float32) []float64 {
	out := make([]float64, len(logits))
	if len(logits) == 0 {
		return out
	}
	m := float64(logits[0])
	for _, v := range logits {
		m = max(m, float64(v))
	}
	var sum float64
	for i, v := range logits {
		out[i] = math.Exp(float64(v) - m)
		sum += out[i]
	}
	for i := range out {
		out[i] /= sum
	}
	return out
}

// PredictCheckpoint loads a checkpoint's model with the architecture stored
// in it, on the first configured device that runs it, and classifies inputs
// by the forward pass evaluation uses (device resize, no dropout).
func PredictCheckpoint(ctx context.Context, o PredictOptions, inputs []PredictInput) (*PredictReport, error) {
	if len(inputs) == 0 {
		return nil, errors.New("train: predict: no images to classify")
	}
	cfg := o.Config
	log := orDiscard(o.Log)
	path, model, ts, err := loadModel(&cfg, o.Checkpoint, o.Explicit, log, "predict")
	if err != nil {
		return nil, err
	}
	images := make([]byte, 0, len(inputs)*PredictSize*PredictSize)
	for _, in := range inputs {
		if len(in.Pixels) != PredictSize*PredictSize {
			return nil, fmt.Errorf("train: predict: %s has %d pixels, want %dx%d", in.Name, len(in.Pixels), PredictSize, PredictSize)
		}
		images = append(images, in.Pixels...)
	}
	cfg.BatchSize = max(1, min(cfg.BatchSize, len(inputs)))
	op, err := Open(cfg, model, log)
	if err != nil {
		return nil, err
	}
	defer op.Close()
	if err := loadModelTensors(op.Plan, ts); err != nil {
		return nil, fmt.Errorf("train: predict: %s: %w", path, err)
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	logits, err := op.Plan.Predict(images)
	if err != nil {
		return nil, err
	}
	classes := len(logits) / len(inputs)
	rep := &PredictReport{Checkpoint: path, Device: DeviceName(op.Dev.Info()), Model: ModelDesc(cfg)}
	for i, in := range inputs {
		l := logits[i*classes : (i+1)*classes]
		rep.Predictions = append(rep.Predictions, Prediction{Input: in, Logits: l, Probs: Softmax(l)})
	}
	return rep, nil
}
