package config

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/crossgrad/crossgrad/backend"
)

// standIn is a registered backend without devices. The crossgrad binary
// registers the real opencl, vulkan and ref backends (which need cgo and
// drivers); config's tests register stand-ins under those names, and one
// more to show that the registry, not config, owns the names.
type standIn struct{}

func (standIn) Devices() ([]backend.Info, error) { return nil, nil }

func (standIn) Open(int) (backend.Device, error) { return nil, errors.New("stand-in") }

func init() {
	for rank, name := range []string{"opencl", "vulkan", "ref", "metal"} {
		backend.Register(name, rank, standIn{})
	}
}

func TestBackendNamesComeFromTheRegistry(t *testing.T) {
	require.NoError(t, ValidateBackends([]string{"metal:0", "gpu", "opencl"}), "a registered backend is valid")
	err := ValidateBackends([]string{"vulkan", "cuda:1"})
	assert.EqualError(t, err, `config: backend entry "cuda:1": unknown backend "cuda"; allowed: a comma-separated list (brackets allowed) of `+
		`auto, all, gpu, opencl, vulkan, ref or metal, each backend optionally with :index or :word (e.g. vulkan:0,opencl,ref or [vulkan:0, opencl, ref])`)
	assert.ErrorContains(t, ValidateBackends([]string{"all:x"}), `backend entry "all:x": all takes no selector`)
	assert.ErrorContains(t, ValidateBackends([]string{"metal:"}), `backend entry "metal:": empty selector after ':'`)

	c := Default()
	c.Backend = []string{"metal"}
	assert.NoError(t, c.Validate())
}
