package tune

import (
	"fmt"

	"github.com/crossgrad/crossgrad/backend"
	"github.com/crossgrad/crossgrad/backend/backendtest"
)

// check runs backendtest.CheckCases(p) on dev forced to configuration c
// and returns the first failure, naming the case and the configuration.
func check(dev backend.Device, p backend.Params, c backend.TileConfig) error {
	if _, ok := dev.(backend.Tuner); !ok {
		return fmt.Errorf("tune: %T has no tile engine to check configuration %q on", dev, c)
	}
	cases := backendtest.CheckCases(p)
	if len(cases) == 0 {
		return fmt.Errorf("tune: %s is not a tiled kernel: no check cases for configuration %q", p.Kernel(), c)
	}
	r := backendtest.NewRunner(backend.WithTile(dev, c))
	defer r.Close()
	for _, cs := range cases {
		res := r.RunCase(cs)
		if res.Pass {
			continue
		}
		if res.Err != nil {
			return fmt.Errorf("configuration %q fails check case %s: %w", c, cs.FullName(), res.Err)
		}
		return fmt.Errorf("configuration %q fails check case %s: %s", c, cs.FullName(), res.Detail())
	}
	return nil
}
