package backend

import (
	"errors"
	"fmt"
	"io/fs"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestWithKindKeepsMessageAndChain(t *testing.T) {
	native := fmt.Errorf("clCreateBuffer failed: %w", fs.ErrInvalid)
	err := fmt.Errorf("opencl: alloc: %w", WithKind(ErrOutOfMemory, native))
	assert.EqualError(t, err, "opencl: alloc: clCreateBuffer failed: invalid argument")
	assert.ErrorIs(t, err, ErrOutOfMemory)
	assert.ErrorIs(t, err, fs.ErrInvalid, "the driver's own error stays in the chain")
	assert.NotErrorIs(t, err, ErrDeviceLost)
	assert.NotErrorIs(t, err, ErrNoDriver)

	both := WithKind(ErrDeviceLost, err)
	assert.ErrorIs(t, both, ErrDeviceLost)
	assert.ErrorIs(t, both, ErrOutOfMemory)
	assert.NoError(t, WithKind(ErrDeviceLost, nil))
}

func TestKindsAreDistinct(t *testing.T) {
	kinds := []error{ErrNoDriver, ErrOutOfMemory, ErrDeviceLost, ErrStalled, ErrClosed, ErrUnsupported}
	for i, a := range kinds {
		for j, b := range kinds {
			assert.Equal(t, i == j, errors.Is(a, b), "%v is %v", a, b)
		}
	}
	assert.ErrorIs(t, ErrUnsupported, errors.ErrUnsupported)
}
