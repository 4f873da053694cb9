package vgg_test

import (
	"fmt"
	"math"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/crossgrad/crossgrad/graph"
	"github.com/crossgrad/crossgrad/internal/torchtest"
	"github.com/crossgrad/crossgrad/model"
	"github.com/crossgrad/crossgrad/vgg"
)

// d2lVGGPy is d2l.ai's VGG-11 (vgg_block, vgg, conv_arch and ratio = 4 as
// in the chapter), with the first Linear's in-features following the input
// side and a width multiplier (1: the chapter's model). It loads a
// crossgrad checkpoint through torchtest.Logits.
const d2lVGGPy = `
import json, struct, sys
import torch
from torch import nn

def vgg_block(num_convs, in_channels, out_channels):
    layers = []
    for _ in range(num_convs):
        layers.append(nn.Conv2d(in_channels, out_channels, kernel_size=3, padding=1))
        layers.append(nn.ReLU())
        in_channels = out_channels
    layers.append(nn.MaxPool2d(kernel_size=2, stride=2))
    return nn.Sequential(*layers)

def vgg(conv_arch, side, hidden):
    conv_blks = []
    in_channels = 1
    for (num_convs, out_channels) in conv_arch:
        conv_blks.append(vgg_block(num_convs, in_channels, out_channels))
        in_channels = out_channels
    return nn.Sequential(
        *conv_blks, nn.Flatten(),
        nn.Linear(out_channels * side * side, hidden), nn.ReLU(), nn.Dropout(0.5),
        nn.Linear(hidden, hidden), nn.ReLU(), nn.Dropout(0.5),
        nn.Linear(hidden, 10))

size, width = int(sys.argv[4]), float(sys.argv[5])
conv_arch = ((1, 64), (1, 128), (2, 256), (2, 512), (2, 512))
ratio = 4
small_conv_arch = [(pair[0], max(1, round(pair[1] // ratio * width))) for pair in conv_arch]
net = vgg(small_conv_arch, size // 32, max(1, round(4096 * width)))

`

// TestTorchLoadsCheckpoint saves VGG-11's initial weights as a crossgrad
// checkpoint, loads it into d2l.ai's PyTorch model with
// load_state_dict(strict=True) and checks PyTorch's logits equal the
// reference backend's for the same resized images: at the chapter's
// 224x224, width 1, and at 64x64, width 0.5 (the first Linear takes
// 64*2*2 features). Needs /usr/bin/python3 with torch; skipped without it
// unless CI=true.
func TestTorchLoadsCheckpoint(t *testing.T) {
	torchtest.RequireTorch(t)
	for _, c := range []struct {
		size  int
		width float64
	}{{224, 1}, {64, 0.5}} {
		t.Run(fmt.Sprintf("%d_w%g", c.size, c.width), func(t *testing.T) {
			o := model.DefaultOptions()
			o.InputSize, o.Width = c.size, c.width
			m, err := vgg.New(o)
			require.NoError(t, err)
			torchMatches(t, m, c.width)
		})
	}
}

func torchMatches(t *testing.T, m *vgg.Model, width float64) {
	// PyTorch's default init shrinks the signal of eleven layers without
	// normalisation to almost nothing (the logits are then the last bias
	// for any input); He-scaled weights (x sqrt(6)) keep it, so the logits
	// depend on every layer.
	heScale := func(params []graph.HostTensor) {
		for _, p := range params {
			if len(p.Shape) > 1 {
				for i := range p.Data {
					p.Data[i] *= float32(math.Sqrt(6))
				}
			}
		}
	}
	torchLogits := torchtest.Logits(t, m, d2lVGGPy, heScale, fmt.Sprint(width))
	var biggest float64
	for _, v := range torchLogits {
		biggest = max(biggest, math.Abs(v))
	}
	classes := len(torchLogits) / 2
	var apart float64
	for k := range classes {
		apart = max(apart, math.Abs(torchLogits[k]-torchLogits[classes+k]))
	}
	require.Greater(t, apart, 0.02*biggest, "the two images' logits must differ: the forward pass reaches the output")
}
