package backend

import (
	"errors"
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
	Register("fakecl", listBackend{devs: []Info{
		{Backend: "fakecl", Index: 0, Type: CPUDevice, Name: "host cpu"},
		{Backend: "fakecl", Index: 1, Type: DiscreteGPU, Name: "big gpu", Vendor: "amd"},
	}})
	Register("fakevk", listBackend{err: errors.New("no loader: install libvulkan1")})
}

func ids(infos []Info) []string {
	var out []string
	for _, i := range infos {
		out = append(out, i.ID())
	}
	return out
}

func TestSelectGPUAndAll(t *testing.T) {
	auto, err := Select("auto")
	require.NoError(t, err)
	assert.Equal(t, []string{"fakecl:1", "fakecl:0"}, ids(auto))

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
