//go:build !clblast

package opencl

import (
	"errors"

	"github.com/crossgrad/crossgrad/backend"
)

// clblastAvailable reports whether this build links CLBlast: only with the
// build tag clblast (see clblast.go).
const clblastAvailable = false

// clblastSgemm is absent without the build tag clblast.
func clblastSgemm(*Device, backend.Gemm, *Buffer, *Buffer, *Buffer) error {
	return errors.New("opencl: built without CLBlast (build tag clblast, package libclblast-dev)")
}
