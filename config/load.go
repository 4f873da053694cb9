package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"time"

	"github.com/spf13/pflag"
	"github.com/spf13/viper"

	"github.com/crossgrad/crossgrad/configs"
)

// ConfigFlag is the flag (and CROSSGRAD_CONFIG the variable) naming the
// configuration file.
const ConfigFlag = "config"

// RegisterFlags defines --config and one flag per key (--batch-size, ...)
// on fs, with the built-in defaults shown in the usage text. Load only reads
// flags that were set on the command line.
func RegisterFlags(fs *pflag.FlagSet) {
	fs.String(ConfigFlag, "", "configuration file, or an embedded one: "+strings.Join(configs.Names(), ", ")+" (default: embedded default)")
	def := reflect.ValueOf(Default())
	for _, f := range fields() {
		name, usage, dv := FlagName(f.key), help[f.key], def.Field(f.index)
		switch f.typ.Kind() {
		case reflect.Slice:
			fs.String(name, strings.Join(dv.Interface().([]string), ","), usage)
		case reflect.Int, reflect.Int64:
			fs.Int64(name, dv.Int(), usage)
		case reflect.Float64:
			fs.Float64(name, dv.Float(), usage)
		case reflect.Bool:
			fs.Bool(name, dv.Bool(), usage)
		default:
			fs.String(name, dv.String(), usage)
		}
	}
}

// Load builds the configuration from, in increasing precedence: the
// built-in defaults, the YAML file, CROSSGRAD_<KEY> variables of env
// ("KEY=value" strings as os.Environ returns; nil reads none) and the flags
// of flags that were set (nil: none; only flags named as RegisterFlags names
// them are read). The file is --config if set, else CROSSGRAD_CONFIG, else
// path; "" means the embedded default.yaml, and "default" or "cpu-quick"
// (also as configs/<name>.yaml when no such file exists) the embedded ones.
//
// Unknown keys in the file and invalid values are errors naming the key and
// what is allowed. Unknown CROSSGRAD_* variables are reported in Warnings.
// An empty checkpoint_dir becomes runs/<date>-<time>-<pid>; empty metrics
// paths become files in it and "off" becomes "".
func Load(path string, env []string, flags *pflag.FlagSet) (Config, error) {
	envMap := map[string]string{}
	for _, kv := range env {
		if k, val, ok := strings.Cut(kv, "="); ok && strings.HasPrefix(k, EnvPrefix) {
			envMap[k] = val
		}
	}
	if v, ok := envMap[EnvName(ConfigFlag)]; ok {
		path = v
	}
	if flags != nil {
		if f := flags.Lookup(ConfigFlag); f != nil && f.Changed {
			path = f.Value.String()
		}
	}
	text, source, err := readSource(path)
	if err != nil {
		return Config{}, err
	}

	v := viper.New()
	v.SetConfigType("yaml")
	if err := v.ReadConfig(bytes.NewReader(text)); err != nil {
		return Config{}, fmt.Errorf("config: %s: not valid YAML: %w", source, err)
	}
	known := map[string]bool{}
	for _, k := range Keys() {
		known[k] = true
	}
	inFile := map[string]bool{}
	var unknown []string
	for _, k := range v.AllKeys() {
		inFile[k] = true
		if !known[k] {
			unknown = append(unknown, k)
		}
	}
	if len(unknown) > 0 {
		sort.Strings(unknown)
		return Config{}, fmt.Errorf("config: %s: unknown key(s) %s; known keys: %s", source, strings.Join(unknown, ", "), strings.Join(Keys(), ", "))
	}

	c := Config{Source: source}
	layer := map[string]any{}
	for name := range envMap {
		key := strings.ToLower(strings.TrimPrefix(name, EnvPrefix))
		if known[key] {
			layer[key] = envMap[name]
		} else if key != ConfigFlag {
			c.Warnings = append(c.Warnings, fmt.Sprintf("ignoring unknown environment variable %s (known: %s + one of %s)", name, EnvPrefix, strings.ToUpper(strings.Join(Keys(), ", "))))
		}
	}
	sort.Strings(c.Warnings)
	if err := v.MergeConfigMap(layer); err != nil {
		return Config{}, fmt.Errorf("config: environment: %w", err)
	}
	def := reflect.ValueOf(Default())
	changed := map[string]bool{}
	for _, f := range fields() {
		v.SetDefault(f.key, def.Field(f.index).Interface())
		if flags == nil {
			continue
		}
		if fl := flags.Lookup(FlagName(f.key)); fl != nil {
			if err := v.BindPFlag(f.key, fl); err != nil {
				return Config{}, fmt.Errorf("config: flag --%s: %w", fl.Name, err)
			}
			changed[f.key] = fl.Changed
		}
	}
	origin := func(key string) string {
		switch {
		case changed[key]:
			return "flag --" + FlagName(key)
		case layer[key] != nil:
			return "environment " + EnvName(key)
		case inFile[key]:
			return source
		}
		return "default"
	}

	out := reflect.ValueOf(&c).Elem()
	var errs []error
	for _, f := range fields() {
		val, err := convert(v.Get(f.key), f.typ)
		if err != nil {
			errs = append(errs, fmt.Errorf("config: %s (from %s): %w", f.key, origin(f.key), err))
			continue
		}
		out.Field(f.index).Set(val)
	}
	if err := errors.Join(errs...); err != nil {
		return Config{}, err
	}
	if err := c.Validate(); err != nil {
		return Config{}, annotate(err, origin)
	}
	c.fillDerived(time.Now(), os.Getpid())
	return c, nil
}

// annotate appends the origin of each offending key to Validate's errors.
func annotate(err error, origin func(string) string) error {
	var joined interface{ Unwrap() []error }
	list := []error{err}
	if errors.As(err, &joined) {
		list = joined.Unwrap()
	}
	out := make([]error, 0, len(list))
	for _, e := range list {
		msg := e.Error()
		key, _, _ := strings.Cut(strings.TrimPrefix(msg, "config: "), " ")
		if strings.HasPrefix(msg, "config: backend") {
			key = "backend"
		}
		out = append(out, fmt.Errorf("%w (from %s)", e, origin(key)))
	}
	return errors.Join(out...)
}

// fillDerived resolves the empty-means-derived keys.
func (c *Config) fillDerived(now time.Time, pid int) {
	if c.CheckpointDir == "" {
		c.CheckpointDir = filepath.Join("runs", fmt.Sprintf("%s-%d", now.Format("20060102-150405"), pid))
	}
	for _, m := range []struct {
		p    *string
		file string
	}{{&c.MetricsJSONL, "metrics.jsonl"}, {&c.MetricsCSV, "metrics.csv"}} {
		switch strings.ToLower(*m.p) {
		case "":
			*m.p = filepath.Join(c.CheckpointDir, m.file)
		case "off", "none":
			*m.p = ""
		}
	}
}

// readSource returns the YAML text of path and a name for messages.
func readSource(path string) ([]byte, string, error) {
	if path == "" {
		b, _ := configs.Get("default")
		return b, "embedded:default", nil
	}
	b, err := readBounded(path)
	if err == nil {
		return b, path, nil
	}
	if errors.Is(err, fs.ErrNotExist) {
		name := strings.TrimSuffix(path, ".yaml")
		name = strings.TrimPrefix(name, "configs/")
		if !strings.ContainsAny(name, `/\`) {
			if e, ok := configs.Get(name); ok {
				return e, "embedded:" + name, nil
			}
		}
		return nil, "", fmt.Errorf("config: file %s not found; pass an existing YAML file with --config (or CROSSGRAD_CONFIG), or an embedded one: %s", path, strings.Join(configs.Names(), ", "))
	}
	return nil, "", fmt.Errorf("config: %w", err)
}

// MaxFileBytes bounds the size of a configuration file (or pipe): reading
// stops after MaxFileBytes+1 bytes and a larger input is rejected.
const MaxFileBytes = 1 << 20

// readBounded reads path when it holds at most MaxFileBytes.
func readBounded(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, MaxFileBytes+1))
	if err != nil {
		return nil, err
	}
	if len(b) > MaxFileBytes {
		return nil, fmt.Errorf("%s is larger than %d bytes; not a configuration file", path, MaxFileBytes)
	}
	return b, nil
}
