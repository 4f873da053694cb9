package shaders

import (
	"go/parser"
	"go/token"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestEmbedsOnly checks that package shaders depends on no package of this
// module (the params-header generator, which reads package backend, lives
// in shaders/internal/genparams): it embeds the kernel sources and reads
// them, nothing more.
func TestEmbedsOnly(t *testing.T) {
	files, err := filepath.Glob("*.go")
	require.NoError(t, err)
	fset := token.NewFileSet()
	n := 0
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		n++
		ast, err := parser.ParseFile(fset, f, nil, parser.ImportsOnly)
		require.NoError(t, err)
		for _, imp := range ast.Imports {
			path, err := strconv.Unquote(imp.Path.Value)
			require.NoError(t, err)
			assert.NotContains(t, path, "github.com/crossgrad/crossgrad", "%s imports %s", f, path)
		}
	}
	assert.NotZero(t, n)
}
