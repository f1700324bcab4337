"""PyTorch's side of scripts/gpu-check.sh: torchvision ResNet50 on CUDA, the same cases as Kiln's ResNetBench.

Prints one JSON line per case: images/s of the full training step (fwd, CE, bwd, Adam 1e-3) and of the frozen phase
(backbone in eval mode without gradients + Flatten-Dense(1024)-Dense(10) head, Adam 1e-3), at batch 64 and 128,
in fp32 and TF32. Random init and random inputs, as the CPU yardstick script does.
"""
import json
import time

import torch
import torch.nn as nn
import torchvision


def median_step_seconds(step, warmup=2, steps=5):
    for _ in range(warmup):
        step()
    torch.cuda.synchronize()
    times = []
    for _ in range(steps):
        start = time.perf_counter()
        step()
        torch.cuda.synchronize()
        times.append(time.perf_counter() - start)
    times.sort()
    return times[len(times) // 2]


def train_case(batch):
    model = torchvision.models.resnet50().cuda().train()
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    x = torch.randn(batch, 3, 224, 224, device="cuda")
    y = torch.randint(0, 1000, (batch,), device="cuda")

    def step():
        opt.zero_grad()
        nn.functional.cross_entropy(model(x), y).backward()
        opt.step()
    return batch / median_step_seconds(step)


def frozen_case(batch):
    backbone = nn.Sequential(*list(torchvision.models.resnet50().children())[:-2]).cuda().eval()
    for p in backbone.parameters():
        p.requires_grad_(False)
    head = nn.Sequential(nn.Flatten(), nn.Linear(2048 * 7 * 7, 1024), nn.ReLU(), nn.Linear(1024, 10)).cuda()
    opt = torch.optim.Adam(head.parameters(), lr=1e-3)
    x = torch.randn(batch, 3, 224, 224, device="cuda")
    y = torch.randint(0, 10, (batch,), device="cuda")

    def step():
        opt.zero_grad()
        with torch.no_grad():
            features = backbone(x)
        nn.functional.cross_entropy(head(features), y).backward()
        opt.step()
    return batch / median_step_seconds(step)


def report(tf32, batch, case, images_per_second):
    """One JSON line per case, flushed at once: a run cut short keeps the cases it finished."""
    print(json.dumps({"torch": torch.__version__, "device": torch.cuda.get_device_name(0), "tf32": tf32,
                      "batch": batch, "case": case, "images_per_second": images_per_second}), flush=True)


for tf32 in (False, True):
    torch.backends.cuda.matmul.allow_tf32 = tf32
    torch.backends.cudnn.allow_tf32 = tf32
    torch.backends.cudnn.benchmark = True
    for batch in (64, 128):
        report(tf32, batch, "train", train_case(batch))
        report(tf32, batch, "frozen", frozen_case(batch))
