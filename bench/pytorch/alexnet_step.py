#!/usr/bin/env python3
"""One AlexNet training step in PyTorch, timed: the side-by-side figure of
`crossgrad bench --compare pytorch`.

The model is the seed's AlexNet (single-channel input, conv channels
96/256/384/384/256 and fc 4096/4096/10, times --width as crossgrad's
alexnet.Scaled rounds them), trained as the seed does: CrossEntropyLoss,
torch.optim.Adam(lr=1e-3), zero_grad, backward, step, and the loss read back
to the host once per step (crossgrad reads its loss and correct count once
per step too). Inputs are random tensors already at --input-size on the
device: the resize that crossgrad does on the device is not timed here (it is
under 1% of crossgrad's step).

Prints one JSON object on stdout: torch version, device, threads, batch,
input size, width, and the wall time of every timed step in milliseconds.
Exit status 3 when the device is not available (e.g. --device cuda without
a CUDA build or GPU).
"""
import argparse
import json
import os
import sys
import time


def scaled(c, width):
    # alexnet.Scaled: round(c*width), at least 1 (Go's math.Round: half away from zero).
    v = c * width
    return max(1, int(v + 0.5) if v >= 0 else int(v - 0.5))


def build(torch, nn, size, width, classes=10, dropout=0.5):
    c1, c2, c3, c4, c5 = (scaled(c, width) for c in (96, 256, 384, 384, 256))
    hidden = scaled(4096, width)
    conv = nn.Sequential(
        nn.Conv2d(1, c1, kernel_size=11, stride=4, padding=1), nn.ReLU(),
        nn.MaxPool2d(kernel_size=3, stride=2),
        nn.Conv2d(c1, c2, kernel_size=5, stride=1, padding=2), nn.ReLU(),
        nn.MaxPool2d(kernel_size=3, stride=2),
        nn.Conv2d(c2, c3, kernel_size=3, stride=1, padding=1), nn.ReLU(),
        nn.Conv2d(c3, c4, kernel_size=3, stride=1, padding=1), nn.ReLU(),
        nn.Conv2d(c4, c5, kernel_size=3, stride=1, padding=1), nn.ReLU(),
        nn.MaxPool2d(kernel_size=3, stride=2),
    )
    with torch.no_grad():
        flat = conv(torch.zeros(1, 1, size, size)).numel()

    class AlexNet(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = conv
            self.fc = nn.Sequential(
                nn.Linear(flat, hidden), nn.ReLU(), nn.Dropout(p=dropout),
                nn.Linear(hidden, hidden), nn.ReLU(), nn.Dropout(p=dropout),
                nn.Linear(hidden, classes),
            )

        def forward(self, img):
            feature = self.conv(img)
            return self.fc(feature.view(img.shape[0], -1))

    return AlexNet()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--device", default="cpu", help="cpu or cuda")
    ap.add_argument("--batch", type=int, default=128)
    ap.add_argument("--input-size", type=int, default=224)
    ap.add_argument("--width", type=float, default=1.0)
    ap.add_argument("--runs", type=int, default=5, help="timed steps")
    ap.add_argument("--warmup", type=int, default=1, help="untimed steps first")
    ap.add_argument("--threads", type=int, default=0, help="CPU threads (0: every core)")
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--seed", type=int, default=1)
    a = ap.parse_args()

    import torch
    from torch import nn

    if a.device.startswith("cuda") and not torch.cuda.is_available():
        print(json.dumps({"error": "torch.cuda.is_available() is False", "torch": torch.__version__}))
        return 3
    threads = a.threads if a.threads > 0 else (os.cpu_count() or 1)
    torch.set_num_threads(threads)
    torch.manual_seed(a.seed)
    dev = torch.device(a.device)
    net = build(torch, nn, a.input_size, a.width).to(dev)
    net.train()
    opt = torch.optim.Adam(net.parameters(), lr=a.lr)
    loss_fn = nn.CrossEntropyLoss()
    x = torch.rand(a.batch, 1, a.input_size, a.input_size, device=dev)
    y = torch.randint(0, 10, (a.batch,), device=dev)

    def sync():
        if dev.type == "cuda":
            torch.cuda.synchronize()

    def step():
        out = net(x)
        loss = loss_fn(out, y)
        opt.zero_grad()
        loss.backward()
        opt.step()
        return loss.item()

    for _ in range(max(0, a.warmup)):
        step()
    sync()
    times = []
    for _ in range(max(1, a.runs)):
        t0 = time.perf_counter()
        step()
        sync()
        times.append((time.perf_counter() - t0) * 1e3)

    name = "cpu"
    if dev.type == "cuda":
        name = torch.cuda.get_device_name(dev)
    else:
        try:
            with open("/proc/cpuinfo") as f:
                for line in f:
                    if line.startswith("model name"):
                        name = line.split(":", 1)[1].strip()
                        break
        except OSError:
            pass
    print(json.dumps({
        "torch": torch.__version__,
        "python": sys.version.split()[0],
        "device": dev.type,
        "device_name": name,
        "threads": torch.get_num_threads(),
        "batch": a.batch,
        "input_size": a.input_size,
        "width": a.width,
        "step_ms": times,
    }))
    return 0


if __name__ == "__main__":
    sys.exit(main())
