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

	"github.com/crossgrad/crossgrad/presets"
)

// ConfigFlag is the flag (and CROSSGRAD_CONFIG the variable) naming the
// configuration file.
const ConfigFlag = "config"

// DeviceFlag is the flag of the backend key, and BackendAlias the other name
// it is accepted under (the key's own name).
const (
	DeviceFlag   = "device"
	BackendAlias = "backend"
)

// keyAliases maps other accepted names of keys, in files and as
// CROSSGRAD_<NAME> variables, to the key.
var keyAliases = map[string]string{"device": "backend"}

// NonKeyEnv lists the CROSSGRAD_* variables that are no configuration key
// but are read elsewhere: the configuration file, Vulkan validation, and the
// switches of tests and benchmarks. A name ending in '*' is a
// prefix. Load refuses every other CROSSGRAD_* variable it does not know.
var NonKeyEnv = []string{
	EnvPrefix + "CONFIG",
	EnvPrefix + "VK_VALIDATION",
	EnvPrefix + "BENCH_*",
	EnvPrefix + "TEST_*",
}

// isNonKeyEnv reports whether name is listed in NonKeyEnv.
func isNonKeyEnv(name string) bool {
	for _, n := range NonKeyEnv {
		if p, ok := strings.CutSuffix(n, "*"); ok && strings.HasPrefix(name, p) || name == n {
			return true
		}
	}
	return false
}

// EnvKey is the configuration key a CROSSGRAD_<KEY> variable sets (aliases
// such as CROSSGRAD_DEVICE included), and whether name is one.
func EnvKey(name string) (string, bool) {
	k, ok := strings.CutPrefix(name, EnvPrefix)
	if !ok {
		return "", false
	}
	k = strings.ToLower(k)
	if a, ok := keyAliases[k]; ok {
		k = a
	}
	for _, known := range Keys() {
		if k == known {
			return k, true
		}
	}
	return "", false
}

// RegisterFlags defines --config and one flag per key of keys (all keys
// when none is given: --batch-size, ...) on fs, with the built-in defaults
// shown in the usage text. The backend key's flag is --device, also accepted
// as --backend. Load only reads flags that were set on the command line. An
// unknown key is a programming error and panics.
func RegisterFlags(fs *pflag.FlagSet, keys ...string) {
	want := map[string]bool{}
	for _, k := range keys {
		if !contains(Keys(), k) {
			panic("config: RegisterFlags: unknown key " + k)
		}
		want[k] = true
	}
	fs.String(ConfigFlag, "", "configuration file, or an embedded preset: "+strings.Join(presets.Names(), ", ")+" (default: embedded default)")
	def := reflect.ValueOf(Default())
	for _, f := range fields() {
		if len(keys) > 0 && !want[f.key] {
			continue
		}
		name, usage, dv := FlagName(f.key), help[f.key], def.Field(f.index)
		switch f.typ.Kind() {
		case reflect.Slice:
			fs.String(name, formatList(dv), usage)
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
	if fs.Lookup(DeviceFlag) != nil {
		AddFlagAlias(fs, BackendAlias, DeviceFlag)
	}
}

// AddFlagAlias makes fs accept --alias as another name of its flag --name
// (the help shows only --name).
func AddFlagAlias(fs *pflag.FlagSet, alias, name string) {
	prev := fs.GetNormalizeFunc()
	fs.SetNormalizeFunc(func(f *pflag.FlagSet, n string) pflag.NormalizedName {
		if n == alias {
			n = name
		}
		return prev(f, n)
	})
}

// Embedded returns the embedded configuration name ("default",
// "cpu-quick") over the built-in defaults, without environment or flags.
func Embedded(name string) (Config, error) {
	text, ok := presets.Get(name)
	if !ok {
		return Config{}, fmt.Errorf("config: no embedded preset %q; embedded presets: %s", name, strings.Join(presets.Names(), ", "))
	}
	return load(text, "embedded:"+name, nil, nil)
}

// Load builds the configuration from, in increasing precedence: the
// built-in defaults, the YAML file, CROSSGRAD_<KEY> variables of env
// ("KEY=value" strings as os.Environ returns; nil reads none) and the flags
// of flags that were set (nil: none; only flags named as RegisterFlags names
// them are read). The file is --config if set, else CROSSGRAD_CONFIG, else
// path; "" means the embedded default.yaml, and "default" or "cpu-quick"
// (also as presets/<name>.yaml, or the old spelling configs/<name>.yaml,
// when no such file exists) the embedded presets.
//
// Unknown keys in the file, unknown CROSSGRAD_* variables (other than those
// of NonKeyEnv) and invalid values are errors naming the key and what is
// allowed, with the likely meant name for a near miss. A key may be given
// under an alias (device for backend), but not under both names.
// An empty checkpoint_dir becomes runs/<date>-<time>-<pid>; empty metrics
// paths become files in it and "off" becomes "".
func Load(path string, env []string, flags *pflag.FlagSet) (Config, error) {
	for _, kv := range env {
		if k, val, ok := strings.Cut(kv, "="); ok && k == EnvName(ConfigFlag) {
			path = val
		}
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
	return load(text, source, env, flags)
}

// envLayer returns the CROSSGRAD_<KEY> values of env by key and the
// variable that set each, refusing unknown variables.
func envLayer(env []string) (map[string]any, map[string]string, error) {
	layer, from := map[string]any{}, map[string]string{}
	var unknown, errs []string
	for _, kv := range env {
		name, val, ok := strings.Cut(kv, "=")
		if !ok || !strings.HasPrefix(name, EnvPrefix) {
			continue
		}
		key, isKey := EnvKey(name)
		switch {
		case isKey && from[key] != "" && from[key] != name:
			both := []string{from[key], name}
			sort.Strings(both)
			errs = append(errs, fmt.Sprintf("config: %s and %s both set %s; unset one", both[0], both[1], key))
		case isKey:
			layer[key], from[key] = val, name
		case !isNonKeyEnv(name):
			unknown = append(unknown, name)
		}
	}
	if len(unknown) > 0 {
		var names []string
		for _, k := range Keys() {
			names = append(names, EnvName(k))
		}
		for a := range keyAliases {
			names = append(names, EnvName(a))
		}
		cands := append(append([]string(nil), names...), NonKeyEnv...)
		sort.Strings(unknown)
		for _, u := range unknown {
			errs = append(errs, fmt.Sprintf("config: unknown environment variable %s%s; unset it, or use one of %s (or %s)",
				u, didYouMean(u, cands, func(s string) string { return s }), strings.Join(names, ", "), strings.Join(NonKeyEnv, ", ")))
		}
	}
	if len(errs) > 0 {
		sort.Strings(errs)
		return nil, nil, errors.New(strings.Join(errs, "\n"))
	}
	return layer, from, nil
}

// fileLayer parses the YAML text, renames alias keys to their key and
// refuses unknown keys.
func fileLayer(text []byte, source string) (*viper.Viper, error) {
	v := viper.New()
	v.SetConfigType("yaml")
	if err := v.ReadConfig(bytes.NewReader(text)); err != nil {
		return nil, fmt.Errorf("config: %s: not valid YAML: %w", source, err)
	}
	settings := v.AllSettings()
	renamed := false
	for alias, key := range keyAliases {
		if val, ok := settings[alias]; ok {
			if _, both := settings[key]; both {
				return nil, fmt.Errorf("config: %s: %s and %s are the same key (%s is an alias); keep one", source, alias, key, alias)
			}
			delete(settings, alias)
			settings[key], renamed = val, true
		}
	}
	if renamed {
		v = viper.New()
		if err := v.MergeConfigMap(settings); err != nil {
			return nil, fmt.Errorf("config: %s: %w", source, err)
		}
	}
	var unknown, hints []string
	for _, k := range v.AllKeys() {
		if !contains(Keys(), k) {
			unknown = append(unknown, k)
			if s := Suggest(k, Keys()); s != "" {
				hints = append(hints, k+": did you mean "+s+"?")
			}
		}
	}
	if len(unknown) > 0 {
		sort.Strings(unknown)
		sort.Strings(hints)
		hint := ""
		if len(hints) > 0 {
			hint = " (" + strings.Join(hints, "; ") + ")"
		}
		return nil, fmt.Errorf("config: %s: unknown key(s) %s%s; known keys: %s", source, strings.Join(unknown, ", "), hint, strings.Join(Keys(), ", "))
	}
	return v, nil
}

// load is Load of the YAML text named source.
func load(text []byte, source string, env []string, flags *pflag.FlagSet) (Config, error) {
	v, err := fileLayer(text, source)
	if err != nil {
		return Config{}, err
	}
	inFile := map[string]bool{}
	for _, k := range v.AllKeys() {
		inFile[k] = true
	}
	layer, envFrom, err := envLayer(env)
	if err != nil {
		return Config{}, err
	}
	c := Config{Source: source}
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
		case envFrom[key] != "":
			return "environment " + envFrom[key]
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
		b, _ := presets.Get("default")
		return b, "embedded:default", nil
	}
	b, err := readBounded(path)
	if err == nil {
		return b, path, nil
	}
	if errors.Is(err, fs.ErrNotExist) {
		name := strings.TrimSuffix(path, ".yaml")
		name = strings.TrimPrefix(strings.TrimPrefix(name, "presets/"), "configs/")
		if !strings.ContainsAny(name, `/\`) {
			if e, ok := presets.Get(name); ok {
				return e, "embedded:" + name, nil
			}
		}
		return nil, "", fmt.Errorf("config: file %s not found; pass an existing YAML file with --config (or CROSSGRAD_CONFIG), or an embedded preset: %s", path, strings.Join(presets.Names(), ", "))
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
