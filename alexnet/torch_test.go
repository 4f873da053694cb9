package alexnet_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/crossgrad/crossgrad/alexnet"
	"github.com/crossgrad/crossgrad/internal/torchtest"
)

// seedModelPy is the seed tutorial's PyTorch AlexNet, verbatim in structure
// (torchtest.Logits loads the checkpoint into net and runs it).
const seedModelPy = `
import json, struct, sys
import torch
from torch import nn

class AlexNet(nn.Module):
    def __init__(self):
        super(AlexNet, self).__init__()
        self.conv = nn.Sequential(
            nn.Conv2d(in_channels=1, out_channels=96, kernel_size=11, stride=4, padding=1), nn.ReLU(),
            nn.MaxPool2d(kernel_size=3, stride=2),
            nn.Conv2d(in_channels=96, out_channels=256, kernel_size=5, stride=1, padding=2), nn.ReLU(),
            nn.MaxPool2d(kernel_size=3, stride=2),
            nn.Conv2d(in_channels=256, out_channels=384, kernel_size=3, stride=1, padding=1), nn.ReLU(),
            nn.Conv2d(in_channels=384, out_channels=384, kernel_size=3, stride=1, padding=1), nn.ReLU(),
            nn.Conv2d(in_channels=384, out_channels=256, kernel_size=3, stride=1, padding=1), nn.ReLU(),
            nn.MaxPool2d(kernel_size=3, stride=2))
        self.fc = nn.Sequential(
            nn.Linear(256 * 5 * 5, 4096), nn.ReLU(), nn.Dropout(p=0.5),
            nn.Linear(4096, 4096), nn.ReLU(), nn.Dropout(p=0.5),
            nn.Linear(4096, 10))

    def forward(self, img):
        feature = self.conv(img)
        return self.fc(feature.view(img.shape[0], -1))

net = AlexNet()
`

// TestTorchLoadsCheckpoint saves the seed-size model's initial weights as a
// crossgrad checkpoint, loads it into the seed's PyTorch model with
// load_state_dict(strict=True) and checks PyTorch's logits equal the
// reference backend's for the same resized images: names, shapes, layout
// and the forward pass all agree with PyTorch. Needs /usr/bin/python3 with
// torch (Debian python3-torch, installed by make setup); skipped without it
// unless CI=true.
func TestTorchLoadsCheckpoint(t *testing.T) {
	torchtest.RequireTorch(t)
	m, err := alexnet.New(alexnet.DefaultOptions())
	require.NoError(t, err)
	torchtest.Logits(t, m, seedModelPy, nil)
}
