package config

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"
)

// YAML returns c as a configuration file that Load reads back to the same
// values: every key in declaration order with its help text as a comment,
// disabled metric files as "off". Strings and lists are written as JSON,
// which YAML reads as double-quoted scalars and flow sequences.
func (c Config) YAML() []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "# crossgrad configuration (source: %s); load it with --config <this file>\n", c.Source)
	v := reflect.ValueOf(c)
	for _, f := range fields() {
		fv := v.Field(f.index)
		val := fv.Interface()
		if fv.Kind() == reflect.Slice && fv.Len() == 0 {
			val = []string{}
		}
		if (f.key == "metrics_jsonl" || f.key == "metrics_csv") && val == "" {
			val = "off"
		}
		text, err := json.Marshal(val)
		if err != nil { // cannot happen: plain fields only
			text = []byte(`""`)
		}
		fmt.Fprintf(&b, "%s: %s  # %s\n", f.key, text, help[f.key])
	}
	return b.Bytes()
}
