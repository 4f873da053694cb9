package bench

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/crossgrad/crossgrad/backend/ref"
	"github.com/crossgrad/crossgrad/data"
	"github.com/crossgrad/crossgrad/graph"
	"github.com/crossgrad/crossgrad/train"
)

// TestImageSideHasOneSource checks that the stored image size comes from
// data.ImageSide: the planner's default input stage is that square, the
// benchmark uploads images of the plan's own input stage, and neither the
// planner, the trainer (prediction's image side) nor the benchmark writes
// the side (28) or the image size (784) as a number.
func TestImageSideHasOneSource(t *testing.T) {
	side := data.ImageSide
	for _, dir := range []string{".", "../graph", "../train"} {
		ents, err := os.ReadDir(dir)
		require.NoError(t, err)
		for _, e := range ents {
			name := e.Name()
			if !strings.HasSuffix(name, ".go") || strings.HasSuffix(name, "_test.go") {
				continue
			}
			for _, at := range intLiterals(t, filepath.Join(dir, name), side, side*side) {
				t.Errorf("%s: the stored image size is written as a number; use data.ImageSide (or the plan's input stage)", at)
			}
		}
	}

	dev := ref.New()
	defer dev.Close()
	c := tinyConfig()
	plan, err := NewPlan(dev, c, 2)
	require.NoError(t, err)
	defer plan.Close()
	assert.Equal(t, graph.ResizeInput{SrcH: side, SrcW: side}, plan.Layout().Config().Input)

	m, err := train.NewModel(c)
	require.NoError(t, err)
	lo, err := graph.NewLayout(m.Sequential, m.InputShape(2), graph.Config{})
	require.NoError(t, err)
	assert.Equal(t, graph.ResizeInput{SrcH: side, SrcW: side}, lo.Config().Input, "the default input stage")
}

// intLiterals lists the positions of the integer literals of the Go file
// path whose value is one of values.
func intLiterals(t *testing.T, path string, values ...int) []string {
	t.Helper()
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, path, nil, 0)
	require.NoError(t, err)
	var out []string
	ast.Inspect(f, func(n ast.Node) bool {
		lit, ok := n.(*ast.BasicLit)
		if !ok || lit.Kind != token.INT {
			return true
		}
		v, err := strconv.ParseInt(lit.Value, 0, 64)
		if err != nil {
			return true
		}
		for _, want := range values {
			if v == int64(want) {
				out = append(out, fset.Position(lit.Pos()).String())
			}
		}
		return true
	})
	return out
}
