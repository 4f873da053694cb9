package checkpoint

import (
	"fmt"
	"math"
	"strings"
)

// CheckFinite returns an error naming path and every tensor of ts that
// holds a NaN or infinite value (how many of each and the first index), or
// nil when all values are finite. LoadCheckpoint applies it to the model and
// state files, so that a damaged or diverged checkpoint is refused instead
// of silently spreading NaN through training.
func CheckFinite(path string, ts []Tensor) error {
	return checkFinite(path, "", ts)
}

// checkFinite is CheckFinite with prefix prepended to the tensor names (the
// state file stores the moments as "m.<param>" and "v.<param>").
func checkFinite(path, prefix string, ts []Tensor) error {
	var bad []string
	for _, t := range ts {
		nan, inf, first := 0, 0, -1
		for i, v := range t.Data {
			x := float64(v)
			switch {
			case math.IsNaN(x):
				nan++
			case math.IsInf(x, 0):
				inf++
			default:
				continue
			}
			if first < 0 {
				first = i
			}
		}
		if first >= 0 {
			bad = append(bad, fmt.Sprintf("%s%s (%d NaN, %d infinite of %d values, the first at index %d)",
				prefix, t.Name, nan, inf, len(t.Data), first))
		}
	}
	if len(bad) == 0 {
		return nil
	}
	return fmt.Errorf("checkpoint: %s holds non-finite values in %s; it was saved from a diverged run or damaged: use an earlier checkpoint",
		path, strings.Join(bad, ", "))
}
