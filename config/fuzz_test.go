package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/crossgrad/crossgrad/presets"
)

// FuzzLoad feeds arbitrary bytes as the YAML configuration file: Load must
// return an error or a configuration that passes Validate, never panic.
// Seeds: both embedded files, type confusion, YAML anchors and an alias
// bomb, binary junk and values at and past every limit.
func FuzzLoad(f *testing.F) {
	for _, n := range presets.Names() {
		b, _ := presets.Get(n)
		f.Add(b)
	}
	for _, s := range []string{
		"", "{}", "[]", "null", "~", "epochs: 2\nbogus_key: 1\n",
		"backend: [vulkan:0, OpenCL, ref]\nbatch_size: 64\n",
		"batch_size: 1e400\n", "batch_size: -1\n", "batch_size: 0x7fffffffffffffff\n",
		"lr: .nan\n", "lr: .inf\n", "width: 1e-320\n", "input_size: [1, 2]\n",
		"seed: {a: 1}\n", "backend: 7\n", "backend: [[ref]]\n", "quiet: maybe\n",
		"epochs: !!binary AAAA\n", "a: &a [1, 2]\nb: *a\n",
		"a: &a [x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]\nc: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]\nd: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c]\ne: [*d, *d, *d, *d, *d, *d, *d, *d, *d]\n",
		"data_dir: \"\\x00\"\n", "checkpoint_dir: \"\\xff\\xfe\"\n", "\xef\xbb\xbfepochs: 3\n", "\x00\x01\x02\xff",
		strings.Repeat("[", 10000), "epochs: 2\nepochs: 3\n", "Epochs: 2\n", "log_level: DEBUG\n",
	} {
		f.Add([]byte(s))
	}
	path := filepath.Join(f.TempDir(), "fuzz.yaml")
	f.Fuzz(func(t *testing.T, b []byte) {
		if err := os.WriteFile(path, b, 0o644); err != nil {
			t.Fatal(err)
		}
		c, err := Load(path, nil, nil)
		if err != nil {
			return
		}
		if err := c.Validate(); err != nil {
			t.Fatalf("Load accepted an invalid configuration: %v", err)
		}
		if _, err := FromJSON(c.JSON()); err != nil {
			t.Fatalf("the loaded configuration does not round-trip: %v", err)
		}
	})
}

// FuzzFromJSON feeds arbitrary text as the configuration stored in a
// checkpoint's metadata: an error or a valid configuration, never a panic.
func FuzzFromJSON(f *testing.F) {
	f.Add(Default().JSON())
	for _, s := range []string{"", "{}", "null", "[]", `{"batch_size":-1}`, `{"batch_size":1e400}`,
		`{"backend":"ref"}`, `{"backend":["ref"],"bogus":1}`, `{"lr":"0.1"}`, `{"epochs":2}{"epochs":3}`,
		`{"seed":9223372036854775808}`, strings.Repeat(`{"a":`, 5000)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		c, err := FromJSON(s)
		if err != nil {
			return
		}
		if err := c.Validate(); err != nil {
			t.Fatalf("FromJSON accepted an invalid configuration: %v", err)
		}
	})
}
