// Package config loads the training configuration from a YAML file (or an
// embedded preset of package presets), CROSSGRAD_<KEY> environment variables and command-line
// flags, in increasing precedence, and validates every value. It is the only
// package that imports viper.
package config

import (
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
)

// Config is one training run's configuration. Field tags give the key used in
// files (key), in the environment (CROSSGRAD_ + upper-case key) and as a flag
// (--key with '_' replaced by '-').
type Config struct {
	// Backend lists device selections tried in order, e.g. [vulkan, opencl,
	// ref]; each is "auto" or backend[:selector] as backend.Open takes it.
	Backend []string `key:"backend" json:"backend"`
	// Model names the network, a registered architecture (package model):
	// "alexnet" (the seed's) or "vgg11".
	Model string `key:"model" json:"model"`
	// InputSize is the side the 28x28 images are resized to; the model sets
	// the minimum.
	InputSize int `key:"input_size" json:"input_size"`
	// Width multiplies every conv channel count and hidden fc width.
	Width float64 `key:"width" json:"width"`
	// BatchSize is the mini-batch size (training and evaluation).
	BatchSize int `key:"batch_size" json:"batch_size"`
	// Epochs is the number of passes over the training set.
	Epochs int `key:"epochs" json:"epochs"`
	// LR is Adam's learning rate.
	LR float64 `key:"lr" json:"lr"`
	// AdamBeta1, AdamBeta2 and AdamEps are Adam's other hyper-parameters.
	AdamBeta1 float64 `key:"adam_beta1" json:"adam_beta1"`
	AdamBeta2 float64 `key:"adam_beta2" json:"adam_beta2"`
	AdamEps   float64 `key:"adam_eps" json:"adam_eps"`
	// Dropout is the drop probability of the two dropout layers.
	Dropout float64 `key:"dropout" json:"dropout"`
	// Seed selects weight init, shuffle order and dropout masks.
	Seed int64 `key:"seed" json:"seed"`
	// DataDir holds the Fashion-MNIST (or MNIST) IDX files.
	DataDir string `key:"data_dir" json:"data_dir"`
	// TrainLimit and TestLimit use only the first N images; 0 = all.
	TrainLimit int `key:"train_limit" json:"train_limit"`
	TestLimit  int `key:"test_limit" json:"test_limit"`
	// CheckpointDir receives checkpoints and metrics; Load fills an empty
	// value with a new folder runs/<date>-<time>-<pid>.
	CheckpointDir string `key:"checkpoint_dir" json:"checkpoint_dir"`
	// CheckpointEverySteps saves every N optimizer steps (0 = only at the
	// end of each epoch).
	CheckpointEverySteps int `key:"checkpoint_every_steps" json:"checkpoint_every_steps"`
	// CheckpointEveryMinutes saves when that much wall time has passed
	// since the last save (0 = off).
	CheckpointEveryMinutes float64 `key:"checkpoint_every_minutes" json:"checkpoint_every_minutes"`
	// KeepCheckpoints is how many of the newest checkpoints written inside
	// an epoch (step, minute or interrupt cadence) are kept besides every
	// end-of-epoch checkpoint, which is always kept; -1 keeps all.
	KeepCheckpoints int `key:"keep_checkpoints" json:"keep_checkpoints"`
	// Resume names a checkpoint file, or a run folder whose latest
	// checkpoint is used; "" starts fresh.
	Resume string `key:"resume" json:"resume"`
	// MetricsJSONL and MetricsCSV are metric output paths; Load turns ""
	// into a file in CheckpointDir and "off" into "" (disabled).
	MetricsJSONL string `key:"metrics_jsonl" json:"metrics_jsonl"`
	MetricsCSV   string `key:"metrics_csv" json:"metrics_csv"`
	// LogLevel is debug, info, warn or error.
	LogLevel string `key:"log_level" json:"log_level"`
	// Quiet prints only errors and the final summary.
	Quiet bool `key:"quiet" json:"quiet"`
	// Tune says which tile configurations the tiled kernels run with: off
	// (the backend's defaults), cached (the tuned ones of the cache where
	// present) or auto (also tune what the cache lacks before the first
	// step); see TuneModes.
	Tune string `key:"tune" json:"tune"`
	// TuneBudget bounds tune: auto's search, a Go duration such as 60s or
	// 2m (see Config.Budget).
	TuneBudget string `key:"tune_budget" json:"tune_budget"`
	// ConvAlgo is the algorithm of the convolutions that admit more than
	// one: auto (the tuner's choice, else the rule), gemm or winograd; see
	// ConvAlgos and graph.Config.ConvAlgo.
	ConvAlgo string `key:"conv_algo" json:"conv_algo"`
	// Fuse fuses bias and ReLU into the layers before them (false: every
	// layer its own passes, for debugging); graph.Config.NoFuse = !Fuse.
	Fuse bool `key:"fuse" json:"fuse"`
	// Devices lists the devices one run trains on at once, one replica of
	// the model each, as backend.Open takes them (e.g. [opencl:0,
	// vulkan:0]); the global batch is split across them. Empty trains on
	// the one device chosen from Backend.
	Devices []string `key:"devices" json:"devices"`
	// DeviceShares fixes each device's share of the batch (positive
	// weights, one per device); empty balances them from the measured step
	// times.
	DeviceShares []float64 `key:"device_shares" json:"device_shares"`
	// Distributed says whether this process is one rank of a run across
	// processes: off, mpi, or auto (mpi when an MPI launcher started the
	// process); see DistributedModes.
	Distributed string `key:"distributed" json:"distributed"`
	// ChecksumEvery compares the replicas' parameter checksums every that
	// many steps (0 = never).
	ChecksumEvery int `key:"checksum_every" json:"checksum_every"`

	// Source says where the file layer came from: a path or
	// "embedded:<name>". Not a key.
	Source string `json:"-"`
	// Warnings lists notes about the inputs for the caller to log. Not a
	// key.
	Warnings []string `json:"-"`
}

// Default returns the built-in defaults, equal to presets/default.yaml.
func Default() Config {
	return Config{
		Backend:                []string{"auto"},
		Model:                  "alexnet",
		InputSize:              224,
		Width:                  1.0,
		BatchSize:              128,
		Epochs:                 10,
		LR:                     0.001,
		AdamBeta1:              0.9,
		AdamBeta2:              0.999,
		AdamEps:                1e-8,
		Dropout:                0.5,
		Seed:                   1,
		DataDir:                "/usr/share/datasets/fashion-mnist",
		CheckpointEveryMinutes: 10,
		KeepCheckpoints:        2,
		LogLevel:               "info",
		Tune:                   "cached",
		TuneBudget:             "60s",
		ConvAlgo:               "auto",
		Fuse:                   true,
		Distributed:            "auto",
		ChecksumEvery:          50,
	}
}

// help is each key's flag usage text.
var help = map[string]string{
	"backend":                  "devices tried in order, comma-separated, brackets allowed: auto, gpu, opencl, opencl:1, vulkan:nvidia, ref (alias --backend; key backend)",
	"model":                    "registered network, e.g. alexnet (the seed's) or vgg11 (d2l.ai's VGG-11, channel ratio 4); an unknown name lists the known ones",
	"input_size":               "side the 28x28 images are resized to (at most 1024; the model sets the minimum: crossgrad summary says)",
	"width":                    "channel multiplier for conv channels and hidden fc widths (0 < width <= 4)",
	"batch_size":               "mini-batch size (1..65536)",
	"epochs":                   "passes over the training set",
	"lr":                       "Adam learning rate (0 < lr <= 1)",
	"adam_beta1":               "Adam beta1 [0, 1)",
	"adam_beta2":               "Adam beta2 [0, 1)",
	"adam_eps":                 "Adam epsilon (0 < eps <= 1)",
	"dropout":                  "dropout probability [0, 1)",
	"seed":                     "seed of weight init, shuffle order and dropout masks (>= 0)",
	"data_dir":                 "folder with the Fashion-MNIST IDX files (Debian: dataset-fashion-mnist)",
	"train_limit":              "use only the first N training images (0 = all)",
	"test_limit":               "use only the first N test images (0 = all)",
	"checkpoint_dir":           "folder for checkpoints and metrics (\"\" = new runs/<date>-<time>-<pid>)",
	"checkpoint_every_steps":   "also save every N steps (0 = only at epoch ends)",
	"checkpoint_every_minutes": "also save after this many minutes (0 = off)",
	"keep_checkpoints":         "mid-epoch checkpoints kept (newest first) besides every end-of-epoch one, which is always kept (-1 = keep all)",
	"resume":                   "checkpoint file or run folder to resume from",
	"metrics_jsonl":            "per-step metrics as JSON lines (\"\" = <checkpoint_dir>/metrics.jsonl, off = none)",
	"metrics_csv":              "per-epoch metrics as CSV (\"\" = <checkpoint_dir>/metrics.csv, off = none)",
	"log_level":                "debug, info, warn or error",
	"quiet":                    "print only errors and the final summary",
	"tune":                     "tile configurations of the gemm and convolution kernels: off (the backend's defaults), cached (tuned ones from the cache where present), auto (tune what the cache lacks before the first step)",
	"tune_budget":              "time bound of tune: auto's search, a duration such as 60s or 2m (0 < budget <= 24h)",
	"conv_algo":                "convolution algorithm of the 3x3 stride-1 layers: auto (the tuner's timed choice, else Winograd on every device but ref), gemm (implicit GEMM everywhere), winograd (Winograd F(2x2,3x3) wherever a layer admits it)",
	"fuse":                     "fuse bias and ReLU into the layers before them (--fuse=false runs every layer's passes apart, for debugging)",
	"devices":                  "train on several devices at once, one replica each, comma-separated, brackets allowed: opencl:0,vulkan:0 (crossgrad devices lists them; empty = one device chosen from --device)",
	"device_shares":            "each device's share of the batch, one positive number per device, comma-separated: 0.8,0.2 (empty = balance from measured step times)",
	"distributed":              "off, mpi (one rank of a run under mpirun; gradients summed with MPI_Allreduce) or auto (mpi when an MPI launcher started the process)",
	"checksum_every":           "compare the replicas' parameter checksums every N steps (0 = never)",
}

// field is one key of Config.
type field struct {
	key   string
	index int
	typ   reflect.Type
}

// fields lists Config's keys in declaration order.
func fields() []field {
	t := reflect.TypeOf(Config{})
	var out []field
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		if k := f.Tag.Get("key"); k != "" {
			out = append(out, field{key: k, index: i, typ: f.Type})
		}
	}
	return out
}

// Keys lists every configuration key in declaration order.
func Keys() []string {
	var out []string
	for _, f := range fields() {
		out = append(out, f.key)
	}
	return out
}

// EnvName is the environment variable overriding key: CROSSGRAD_<KEY>.
func EnvName(key string) string { return EnvPrefix + strings.ToUpper(key) }

// FlagName is the flag overriding key: key with '_' replaced by '-', except
// backend, whose flag is --device (DeviceFlag; --backend is accepted too).
func FlagName(key string) string {
	if key == "backend" {
		return DeviceFlag
	}
	return strings.ReplaceAll(key, "_", "-")
}

// EnvPrefix starts every environment variable this package reads.
const EnvPrefix = "CROSSGRAD_"

// JSON returns the keys and values as a JSON object (for checkpoint
// metadata and logs).
func (c Config) JSON() string {
	b, err := json.Marshal(c)
	if err != nil { // cannot happen: plain fields only
		return fmt.Sprintf(`{"error":%q}`, err.Error())
	}
	return string(b)
}

// FromJSON parses Config.JSON output (as stored in a checkpoint) and
// validates it.
func FromJSON(s string) (Config, error) {
	c := Default()
	dec := json.NewDecoder(strings.NewReader(s))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&c); err != nil {
		return Config{}, fmt.Errorf("config: stored JSON: %w", err)
	}
	if err := c.Validate(); err != nil {
		return Config{}, err
	}
	return c, nil
}
