package backendtest

import (
	"fmt"
	"sync"
	"time"

	"github.com/crossgrad/crossgrad/backend"
)

// TileVariant is one configuration of a tiled kernel to put through the
// suite.
type TileVariant struct {
	Kernel backend.Kernel
	Config backend.TileConfig
}

// VariantReport is what RunTileVariants found: one message per failing
// case, the number of case runs and each kernel's summed device-side wall
// time.
type VariantReport struct {
	Failures []string
	Runs     int
	Spent    map[backend.Kernel]time.Duration
}

// RunTileVariants runs the conformance cases (Large ones left out) of each
// variant's kernel with the device forced to the variant's configuration
// (backend.WithTile), skipping the cases whose dispatch the device refuses
// for that configuration (backend.Tuner.CheckTile). The variants are dealt
// out to devs in turn, one goroutine per device (each device is used by
// its goroutine only), and each device computes every case's reference
// once (Runner.For). devs stay owned by the caller and must implement
// backend.Tuner.
func RunTileVariants(devs []backend.Device, vs []TileVariant) VariantReport {
	reps := make([]VariantReport, len(devs))
	var wg sync.WaitGroup
	for w, dev := range devs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rep := &reps[w]
			rep.Spent = map[backend.Kernel]time.Duration{}
			tuner := dev.(backend.Tuner)
			base := NewRunner(dev)
			defer base.Close()
			for i := w; i < len(vs); i += len(devs) {
				v := vs[i]
				r := base.For(backend.WithTile(dev, v.Config))
				for _, cs := range CasesOf(v.Kernel) {
					if cs.Large || tuner.CheckTile(cs.Params, v.Config) != nil {
						continue
					}
					st := time.Now()
					res := r.RunCase(cs)
					rep.Spent[v.Kernel] += time.Since(st)
					rep.Runs++
					if res.Err != nil || !res.Pass {
						rep.Failures = append(rep.Failures, fmt.Sprintf("%s with %q: %v %s", res.Name(), v.Config, res.Err, res.Detail()))
					}
				}
			}
		}()
	}
	wg.Wait()
	out := VariantReport{Spent: map[backend.Kernel]time.Duration{}}
	for _, r := range reps {
		out.Failures = append(out.Failures, r.Failures...)
		out.Runs += r.Runs
		for k, d := range r.Spent {
			out.Spent[k] += d
		}
	}
	return out
}
