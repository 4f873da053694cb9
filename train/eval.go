package train

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/crossgrad/crossgrad/config"
	"github.com/crossgrad/crossgrad/data"
	"github.com/crossgrad/crossgrad/graph"
)

// EvalResult is an evaluation over a test set.
type EvalResult struct {
	N       int     // images evaluated
	Correct int     // images whose first maximal logit is the label
	Loss    float64 // mean cross-entropy
	Seconds float64 // wall time of the evaluation
	// Confusion[t][p] counts images of true class t predicted as p (only
	// filled when requested).
	Confusion [data.NumClasses][data.NumClasses]int
}

// Accuracy is Correct / N (0 for an empty set).
func (r EvalResult) Accuracy() float64 {
	if r.N == 0 {
		return 0
	}
	return float64(r.Correct) / float64(r.N)
}

// EvalProgress shows the progress of an evaluation (a terminal bar or log
// lines). All calls come from the goroutine running Evaluate.
type EvalProgress interface {
	// StartEval begins an evaluation of batches batches, images images in
	// all.
	StartEval(batches, images int)
	// EvalStep reports done finished batches, n images evaluated so far and
	// how many of them were predicted correctly.
	EvalStep(done, n, correct int)
	// EndEval removes the progress display.
	EndEval()
}

// Evaluate runs the forward pass without dropout over every batch of b on
// p and counts correct predictions; with confusion it reads the logits back
// to fill the confusion matrix. prog, when not nil, is told about every
// batch. It stops with ctx's error between batches.
func Evaluate(ctx context.Context, p *graph.Plan, b *data.Batcher, confusion bool, prog EvalProgress) (EvalResult, error) {
	var r EvalResult
	var onBatch func(bt data.Batch) error
	if confusion {
		onBatch = func(bt data.Batch) error {
			logits, err := p.ReadLogits(bt.N)
			if err != nil {
				return err
			}
			classes := len(logits) / bt.N
			for i := range bt.N {
				row := logits[i*classes : (i+1)*classes]
				best := 0
				for c, v := range row {
					if v > row[best] {
						best = c
					}
				}
				t := int(bt.Labels[i])
				if t < data.NumClasses && best < data.NumClasses {
					r.Confusion[t][best]++
				}
			}
			return nil
		}
	}
	res, err := evaluate(ctx, b, prog, func(bt data.Batch) (graph.Stats, error) {
		if err := p.UploadPacked(bt.Images, bt.Labels); err != nil {
			return graph.Stats{}, err
		}
		return p.EvalStep(bt.N)
	}, onBatch)
	res.Confusion = r.Confusion
	return res, err
}

// evaluate runs step on every batch of b and sums the statistics; onBatch,
// when not nil, runs after each step. prog, when not nil, is told about
// every batch. It stops with ctx's error between batches.
func evaluate(ctx context.Context, b *data.Batcher, prog EvalProgress, step func(data.Batch) (graph.Stats, error), onBatch func(data.Batch) error) (EvalResult, error) {
	var r EvalResult
	start := time.Now()
	it, err := b.Iter(0, 0)
	if err != nil {
		return r, err
	}
	defer it.Close()
	if prog != nil {
		prog.StartEval(b.NumBatches(), b.Len())
		defer prog.EndEval()
	}
	done := 0
	var lossSum float64
	for {
		if err := ctx.Err(); err != nil {
			return r, err
		}
		bt, ok := it.Next()
		if !ok {
			break
		}
		st, err := step(bt)
		if err != nil {
			return r, fmt.Errorf("train: evaluation batch %d: %w", bt.Index, err)
		}
		r.N += bt.N
		r.Correct += st.Correct
		lossSum += float64(st.Loss) * float64(bt.N)
		done++
		if prog != nil {
			prog.EvalStep(done, r.N, r.Correct)
		}
		if onBatch == nil {
			continue
		}
		if err := onBatch(bt); err != nil {
			return r, fmt.Errorf("train: evaluation batch %d: %w", bt.Index, err)
		}
	}
	if r.N > 0 {
		r.Loss = lossSum / float64(r.N)
	}
	r.Seconds = time.Since(start).Seconds()
	return r, nil
}

// Format writes the test accuracy, the accuracy of every class with its
// Fashion-MNIST name, and the confusion matrix (rows: true class, columns:
// predicted class).
func (r EvalResult) Format(w io.Writer) error {
	var b strings.Builder
	fmt.Fprintf(&b, "test acc %.3f (%d/%d), loss %.3f\n\n", r.Accuracy(), r.Correct, r.N, r.Loss)
	tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(tw, "class\t%-*s\tcorrect\timages\taccuracy\t\n", nameWidth, "name")
	for t := range data.NumClasses {
		total := 0
		for p := range data.NumClasses {
			total += r.Confusion[t][p]
		}
		acc := "-"
		if total > 0 {
			acc = fmt.Sprintf("%.3f", float64(r.Confusion[t][t])/float64(total))
		}
		fmt.Fprintf(tw, "%d\t%-*s\t%d\t%d\t%s\t\n", t, nameWidth, data.ClassNames[t], r.Confusion[t][t], total, acc)
	}
	_ = tw.Flush()
	fmt.Fprintf(&b, "\nconfusion matrix (rows: true class, columns: predicted class)\n")
	tw = tabwriter.NewWriter(&b, 0, 0, 1, ' ', tabwriter.AlignRight)
	fmt.Fprint(tw, "\t")
	for p := range data.NumClasses {
		fmt.Fprintf(tw, "%d\t", p)
	}
	fmt.Fprintln(tw)
	for t := range data.NumClasses {
		fmt.Fprintf(tw, "%d %-*s\t", t, nameWidth, data.ClassNames[t])
		for p := range data.NumClasses {
			fmt.Fprintf(tw, "%d\t", r.Confusion[t][p])
		}
		fmt.Fprintln(tw)
	}
	_ = tw.Flush()
	_, err := io.WriteString(w, b.String())
	return err
}

// nameWidth is the width of the longest class name.
var nameWidth = func() int {
	w := 0
	for _, n := range data.ClassNames {
		w = max(w, len(n))
	}
	return w
}()

// EvalOptions configure EvalCheckpoint.
type EvalOptions struct {
	// Config gives the backend list, batch size, data folder and test limit,
	// and the model shape when the checkpoint stores no configuration or
	// input_size/width are Explicit.
	Config   config.Config
	Explicit map[string]bool
	// Checkpoint is a checkpoint file or a run folder (its latest).
	Checkpoint string
	// TestSet replaces loading Config.DataDir.
	TestSet *data.Set
	Log     *slog.Logger
	// Progress, when not nil, shows the evaluation's progress.
	Progress EvalProgress
}

// EvalReport is the result of EvalCheckpoint.
type EvalReport struct {
	EvalResult
	Checkpoint string // file evaluated
	Device     string // "name (backend:index)"
	Model      string // ModelDesc of the model
}

// EvalCheckpoint loads a checkpoint's model, checks it against the
// configured architecture, and evaluates it on the test set.
func EvalCheckpoint(ctx context.Context, o EvalOptions) (*EvalReport, error) {
	log := orDiscard(o.Log)
	cfg := o.Config
	path, model, ts, err := loadModel(&cfg, o.Checkpoint, o.Explicit, log, "eval")
	if err != nil {
		return nil, err
	}
	desc := ModelDesc(cfg)
	set := o.TestSet
	if set == nil {
		if set, err = data.Load(cfg.DataDir, false); err != nil {
			return nil, err
		}
	}
	// A plan larger than the (limited) test set is not needed.
	n := set.N
	if cfg.TestLimit > 0 {
		n = min(n, cfg.TestLimit)
	}
	cfg.BatchSize = max(1, min(cfg.BatchSize, n))
	b, err := data.NewBatcher(set, data.Options{BatchSize: cfg.BatchSize, Limit: cfg.TestLimit, Prefetch: 2})
	if err != nil {
		return nil, err
	}
	op, err := Open(cfg, model, log)
	if err != nil {
		return nil, err
	}
	defer op.Close()
	if err := loadModelTensors(op.Plan, ts); err != nil {
		return nil, fmt.Errorf("train: eval: %s: %w", path, err)
	}
	res, err := Evaluate(ctx, op.Plan, b, true, o.Progress)
	if err != nil {
		return nil, err
	}
	return &EvalReport{EvalResult: res, Checkpoint: path, Device: DeviceName(op.Dev.Info()), Model: desc}, nil
}

// BatchSizeProgress is implemented by a Progress that wants the images per
// training step (to show images/s): the run's batch size, after a resumed
// run's stored settings are applied.
type BatchSizeProgress interface {
	// SetBatchSize is called before every StartEpoch.
	SetBatchSize(n int)
}

// startEpoch tells prog that the epoch in progress starts, with the batch
// size first when prog wants it.
func (r *run) startEpoch(prog Progress, batches int) {
	if bs, ok := prog.(BatchSizeProgress); ok {
		bs.SetBatchSize(r.cfg.BatchSize)
	}
	prog.StartEpoch(r.epoch+1, r.cfg.Epochs, batches, r.batch)
}

// evalProgress is the run's Progress as an EvalProgress for the test pass
// after each epoch: nil when the run is quiet or its Progress shows no
// evaluations.
func (r *run) evalProgress() EvalProgress {
	if r.cfg.Quiet {
		return nil
	}
	ep, _ := r.opts.Progress.(EvalProgress)
	return ep
}
