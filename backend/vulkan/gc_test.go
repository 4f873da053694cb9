package vulkan

import (
	"runtime"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/crossgrad/crossgrad/backend/backendtest"
)

// TestCollectionDuringCalls creates pipelines and records descriptor
// updates, barriers, copies and submits while the garbage collector runs
// continuously: none of the C structs the driver reads may be freed under it
// (vulkan-go's own conversions of these calls crashed this test at once).
// Device open runs before the collector loop: it only holds off automatic
// collections (see withoutGC).
func TestCollectionDuringCalls(t *testing.T) {
	d := openOrSkip(t, Options{CacheDir: "-"})
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			select {
			case <-stop:
				return
			default:
				runtime.GC()
			}
		}
	}()
	rep := backendtest.Run(d, backendtest.Options{Short: true, Filter: "conv2d"})
	close(stop)
	wg.Wait()
	require.NoError(t, d.Close())
	require.False(t, rep.Failed(), "conformance under continuous GC failed")
	require.NotEmpty(t, rep.Results)
}
