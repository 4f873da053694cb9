package config

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestFileSizeIsBounded(t *testing.T) {
	ok := "epochs: 2\n#" + strings.Repeat("x", MaxFileBytes-12) + "\n"
	require.Len(t, ok, MaxFileBytes)
	c, err := Load(writeYAML(t, ok), nil, nil)
	require.NoError(t, err)
	assert.Equal(t, 2, c.Epochs)

	p := writeYAML(t, ok+"#")
	_, err = Load(p, nil, nil)
	require.Error(t, err)
	assert.Contains(t, err.Error(), p+" is larger than 1048576 bytes")
}
