package parallel

import (
	"errors"
	"fmt"
)

// ErrDiverged is wrapped by the error of a checksum comparison that found
// replicas or ranks holding different parameters; training stops on it.
var ErrDiverged = errors.New("replicas diverged")

func (g *Group) check() error {
	if g.single() {
		return nil
	}
	if err := g.checksums(); err != nil {
		return err
	}
	step := g.plans[0].Step()
	local := g.differing()
	ok, err := g.agree() // collective: called even when the replicas differ here
	switch {
	case err != nil:
		return err
	case local != "":
		return fmt.Errorf("parallel: %w after step %d (%s)", ErrDiverged, step, local)
	case !ok:
		return fmt.Errorf("parallel: %w after step %d (%s)", ErrDiverged, step, g.rankSum())
	}
	return nil
}
