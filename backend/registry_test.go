package backend

import (
	"errors"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// listBackend is a backend with fixed devices (or err) that opens none.
type listBackend struct {
	devs []Info
	err  error
}

func (b listBackend) Devices() ([]Info, error) { return b.devs, b.err }

func (b listBackend) Open(int) (Device, error) { return nil, errors.New("not openable") }

func init() {
	Register("fakecl", 2, listBackend{devs: []Info{
		{Backend: "fakecl", Index: 0, Type: CPUDevice, Name: "host cpu"},
		{Backend: "fakecl", Index: 1, Type: DiscreteGPU, Name: "big gpu", Vendor: "amd"},
	}})
	Register("fakevk", 1, listBackend{err: WithKind(ErrNoDriver, errors.New("no loader: install libvulkan1"))})
	Register("fakefast", 0, listBackend{devs: []Info{{Backend: "fakefast", Index: 0, Type: CPUDevice, Name: "fast cpu"}}})
}

// ids lists the IDs of the fake backends' devices (the package's external
// tests register ref as well).
func ids(infos []Info) []string {
	var out []string
	for _, i := range infos {
		if strings.HasPrefix(i.Backend, "fake") {
			out = append(out, i.ID())
		}
	}
	return out
}

func TestSelectGPUAndAll(t *testing.T) {
	auto, err := Select("auto")
	require.NoError(t, err)
	assert.Equal(t, []string{"fakecl:1", "fakefast:0", "fakecl:0"}, ids(auto), "GPU first, then CPUs by rank")

	all, err := Select("ALL")
	require.NoError(t, err)
	assert.Equal(t, ids(auto), ids(all), "all is auto")

	gpu, err := Select(" gpu ")
	require.NoError(t, err)
	assert.Equal(t, []string{"fakecl:1"}, ids(gpu), "only GPUs")

	_, err = Select("gpu:0")
	require.ErrorContains(t, err, "gpu takes no selector")
	_, err = Select("fakecl:7")
	require.ErrorContains(t, err, `device "fakecl:7": no such device`)
	assert.ErrorContains(t, err, "fakevk: unavailable (no loader: install libvulkan1)")
}

func TestRegistryOwnsNamesAndRanks(t *testing.T) {
	var fakes []string // the package's external tests may register ref too
	for _, n := range Names() {
		if strings.HasPrefix(n, "fake") {
			fakes = append(fakes, n)
		}
	}
	assert.Equal(t, []string{"fakefast", "fakevk", "fakecl"}, fakes, "by rank, not by registration order")
	assert.Equal(t, []string{"auto", "all", "gpu"}, Keywords())

	for _, ok := range []string{"auto", "all", "gpu", "fakecl", "fakecl:1", "fakevk:amd"} {
		assert.NoError(t, CheckSelection(ok), ok)
	}
	assert.EqualError(t, CheckSelection("cuda:0"), `unknown backend "cuda"`)
	assert.EqualError(t, CheckSelection("all:1"), "all takes no selector")
	assert.EqualError(t, CheckSelection("fakecl:"), "empty selector after ':'")

	_, err := Select("cuda")
	assert.ErrorContains(t, err, `device "cuda": unknown backend "cuda"; registered backends: fakefast, fakevk, fakecl`)
	assert.ErrorContains(t, err, " (or auto, all, gpu)")
	_, err = Select("fakevk")
	assert.ErrorIs(t, err, ErrNoDriver, "a backend's failure kind survives selection")

	assert.PanicsWithValue(t, "backend: Register called twice for fakecl", func() { Register("fakecl", 0, listBackend{}) })
	assert.Panics(t, func() { Register("gpu", 0, listBackend{}) }, "a keyword is no backend name")
	assert.Panics(t, func() { Register("a:b", 0, listBackend{}) })
}
