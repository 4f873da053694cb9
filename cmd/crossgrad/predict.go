package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/crossgrad/crossgrad/data"
	"github.com/crossgrad/crossgrad/train"
)

// predictKeys are the configuration keys predict reads: the device, the
// batch, the model shape (when the checkpoint stores none) and the log.
var predictKeys = []string{"backend", "batch_size", "model", "input_size", "width", "log_level", "quiet"}

// predictFlags are the flags of predict besides the configuration's.
type predictFlags struct {
	ckpt    string
	idx     string
	indices []string
	top     int
	invert  string
	json    bool
}

func newPredictCmd() *cobra.Command {
	var f predictFlags
	cmd := &cobra.Command{
		Use:   "predict --checkpoint PATH [IMAGE...] [--idx FILE --index N...]",
		Short: "Classify PNG/JPEG images or IDX test images with a checkpoint: top classes and probabilities",
		Long: "predict loads a checkpoint (a file, or a run folder: its latest checkpoint), builds the model with the\n" +
			"model, input size and width stored in it, and classifies each image: PNG or JPEG files (converted to gray,\n" +
			"padded to a square with black and resized to 28x28 like Fashion-MNIST, then resized on the device as in\n" +
			"training), or images of an IDX file (--idx) picked by --index (N, A-B, comma-separated or repeated).\n" +
			"Fashion-MNIST shows a light object on black: --invert auto (the default) inverts an image whose border\n" +
			"is light on average, such as a photo on a white background; on and off force it.\n" +
			"Probabilities are the softmax of the logits.",
		Example: "  crossgrad predict --checkpoint runs/X shoe.png\n" +
			"  crossgrad predict --checkpoint runs/X --idx " + data.DefaultDir + "/t10k-images-idx3-ubyte.gz --index 0-4 --json",
		RunE: func(cmd *cobra.Command, args []string) error { return runPredict(cmd, args, f) },
	}
	fl := cmd.Flags()
	fl.StringVar(&f.ckpt, "checkpoint", "", "checkpoint file, or a run folder (its latest checkpoint)")
	fl.StringVar(&f.idx, "idx", "", "IDX image file to take images from (with --index), e.g. "+data.DefaultDir+"/t10k-images-idx3-ubyte.gz")
	fl.StringSliceVar(&f.indices, "index", nil, "images of --idx to classify: N or A-B (inclusive), comma-separated or repeated")
	fl.IntVar(&f.top, "top", 3, fmt.Sprintf("number of most probable classes shown per image (1 to %d)", data.NumClasses))
	fl.StringVar(&f.invert, "invert", string(train.InvertAuto), "invert gray levels: auto (when the image's border is light), on, off")
	fl.BoolVar(&f.json, "json", false, "print the predictions as JSON (every class's probability and logit included)")
	addConfigFlags(cmd, predictKeys...)
	return cmd
}

func runPredict(cmd *cobra.Command, args []string, f predictFlags) error {
	if f.ckpt == "" {
		return errors.New("predict: --checkpoint is required (a checkpoint file or a run folder)")
	}
	if f.top < 1 || f.top > data.NumClasses {
		return fmt.Errorf("predict: --top %d must be from 1 to %d", f.top, data.NumClasses)
	}
	inv, err := train.ParseInvert(f.invert)
	if err != nil {
		return fmt.Errorf("predict: --%w", err)
	}
	if (f.idx == "") != (len(f.indices) == 0) {
		return errors.New("predict: --idx and --index go together: --idx names an IDX image file, --index the images in it (N or A-B)")
	}
	if len(args) == 0 && f.idx == "" {
		return errors.New("predict: nothing to classify; give PNG or JPEG files, or --idx FILE --index N")
	}
	indices, err := parseIndices(f.indices)
	if err != nil {
		return err
	}
	cfg, explicit, err := loadConfig(cmd)
	if err != nil {
		return err
	}
	log := newLogger(cmd.ErrOrStderr(), cfg.LogLevel, cfg.Quiet, nil)
	for _, w := range cfg.Warnings {
		log.Warn(w)
	}
	var inputs []train.PredictInput
	for _, a := range args {
		in, err := train.ReadImageFile(a, inv)
		if err != nil {
			return err
		}
		inputs = append(inputs, in)
	}
	if f.idx != "" {
		ins, err := train.ReadIDXImages(f.idx, indices, inv)
		if err != nil {
			return err
		}
		inputs = append(inputs, ins...)
	}
	rep, err := train.PredictCheckpoint(cmd.Context(), train.PredictOptions{Config: cfg, Explicit: explicit, Checkpoint: f.ckpt, Log: log}, inputs)
	if err != nil {
		return err
	}
	log.Info("predicted", "checkpoint", rep.Checkpoint, "model", rep.Model, "device", rep.Device, "images", len(inputs))
	if f.json {
		return writePredictJSON(cmd.OutOrStdout(), rep, f.top)
	}
	return writePredictText(cmd.OutOrStdout(), rep, f.top)
}

// parseIndices parses --index values: N or A-B (inclusive).
func parseIndices(vals []string) ([]int, error) {
	var out []int
	for _, v := range vals {
		a, b, isRange := strings.Cut(strings.TrimSpace(v), "-")
		lo, err1 := strconv.Atoi(a)
		hi, err2 := lo, error(nil)
		if isRange {
			hi, err2 = strconv.Atoi(b)
		}
		if err1 != nil || err2 != nil || lo < 0 || hi < lo {
			return nil, fmt.Errorf("predict: --index %q: want an image number N >= 0, or a range A-B with A <= B such as 0-9", v)
		}
		if hi-lo >= data.MaxImages {
			return nil, fmt.Errorf("predict: --index %q selects more than %d images", v, data.MaxImages)
		}
		for i := lo; i <= hi; i++ {
			out = append(out, i)
		}
	}
	return out, nil
}

// writePredictText writes one block per image: its name (with its label
// when known), then its top classes with their probabilities.
func writePredictText(w io.Writer, rep *train.PredictReport, top int) error {
	width := 0
	for _, n := range data.ClassNames {
		width = max(width, len(n))
	}
	var b strings.Builder
	for i, p := range rep.Predictions {
		if i > 0 {
			b.WriteByte('\n')
		}
		b.WriteString(p.Input.Name)
		var notes []string
		if p.Input.Label >= 0 && p.Input.Label < data.NumClasses {
			notes = append(notes, "label "+data.ClassNames[p.Input.Label])
		}
		if p.Input.Inverted {
			notes = append(notes, "inverted")
		}
		if len(notes) > 0 {
			fmt.Fprintf(&b, " (%s)", strings.Join(notes, ", "))
		}
		b.WriteByte('\n')
		for _, c := range p.Top(top) {
			fmt.Fprintf(&b, "  %-*s %5.1f%%\n", width, c.Name, 100*c.Prob)
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// predictionJSON is one image of predict --json.
type predictionJSON struct {
	Input         string            `json:"input"`
	Label         *train.ClassProb  `json:"label,omitempty"` // probability: the model's for the true class
	Inverted      bool              `json:"inverted"`
	Top           []train.ClassProb `json:"top"`
	Probabilities []float64         `json:"probabilities"`
	Logits        []float32         `json:"logits"`
}

func writePredictJSON(w io.Writer, rep *train.PredictReport, top int) error {
	out := struct {
		Checkpoint  string           `json:"checkpoint"`
		Model       string           `json:"model"`
		Device      string           `json:"device"`
		Predictions []predictionJSON `json:"predictions"`
	}{Checkpoint: rep.Checkpoint, Model: rep.Model, Device: rep.Device}
	for _, p := range rep.Predictions {
		pj := predictionJSON{Input: p.Input.Name, Inverted: p.Input.Inverted, Top: p.Top(top), Probabilities: p.Probs, Logits: p.Logits}
		if l := p.Input.Label; l >= 0 && l < len(p.Probs) && l < data.NumClasses {
			pj.Label = &train.ClassProb{Class: l, Name: data.ClassNames[l], Prob: p.Probs[l]}
		}
		out.Predictions = append(out.Predictions, pj)
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(out)
}
