// Package presets embeds the stock training configurations, the preset
// *.yaml files of this folder, so the binary runs without them on disk.
// Package config (which parses and validates any configuration) loads them
// by name: "default", "cpu-quick" or "vgg11-cpu-quick".
package presets

import (
	"embed"
	"sort"
	"strings"
)

//go:embed *.yaml
var files embed.FS

// Get returns the embedded YAML named name (with or without ".yaml") and
// whether it exists. The returned slice is a copy owned by the caller.
func Get(name string) ([]byte, bool) {
	name = strings.TrimSuffix(name, ".yaml") + ".yaml"
	b, err := files.ReadFile(name)
	if err != nil {
		return nil, false
	}
	return append([]byte(nil), b...), true
}

// Names lists the embedded configurations without the ".yaml" suffix, sorted.
func Names() []string {
	ents, _ := files.ReadDir(".")
	var out []string
	for _, e := range ents {
		out = append(out, strings.TrimSuffix(e.Name(), ".yaml"))
	}
	sort.Strings(out)
	return out
}
