"""The corner refiner: a small network that moves a detected plate's four corners onto the plate,
looking at the plate's own neighbourhood at camera resolution (the detector sees the whole frame at a
fifth of it, so a corner it places one cell off is 3-5 % of a small plate's width off).

    .venv/bin/python -m training.refiner --out training/runs/refiner [--samples 30000] [--steps 6000]

`make train` trains it as its third model (training.train: Hyper.ref_*), with the same defaults as this
command, which trains it alone. Training samples are `random_plate_view` patches with the true corners
jittered as the installed detector misplaces them (docs/BENCHMARKS.md measures it: per corner about
4.5 % of the plate's width along it and 8 % of its height across, in heavy tails). The reader runs its
ONNX export (murur.alpr.reader.PlateReader.refine); `bench.alpr_refiner` measures what refined corners read."""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
import torch
from PIL import Image
from torch import nn

from murur.alpr.imaging import (
    REFINER_HEIGHT,
    REFINER_MARGINS,
    REFINER_WIDTH,
    apply_homography,
    plate_axes,
    refiner_neighbourhood,
)
from training.models import conv_bn

# The detector's corner errors (fractions of the plate's width along, height across), drawn for training.
JITTER_ALONG, JITTER_ACROSS = 0.045, 0.085


class CornerRefiner(nn.Module):
    """Grey 48 x 160 neighbourhood of a plate -> its four corners in that neighbourhood's unit square."""

    def __init__(self, width: int = 16):
        super().__init__()
        self.features = nn.Sequential(
            conv_bn(1, width, 2),                                             # 24 x 80
            conv_bn(width, 2 * width, 2), conv_bn(2 * width, 2 * width),      # 12 x 40
            conv_bn(2 * width, 4 * width, 2), conv_bn(4 * width, 4 * width),  # 6 x 20
            conv_bn(4 * width, 6 * width, 2),                                 # 3 x 10
        )
        self.head = nn.Sequential(nn.Flatten(), nn.Linear(6 * width * 3 * 10, 128), nn.ReLU(inplace=True), nn.Linear(128, 8))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # Predicts the offset from where the crop says the corners are (the inner rectangle).
        return self.head(self.features(x)).view(-1, 4, 2) * 0.1 + torch.as_tensor(_inner_corners(), dtype=x.dtype)


def _inner_corners() -> np.ndarray:
    """Where the input corners lie in the neighbourhood's unit square."""
    margin_x, margin_y = REFINER_MARGINS
    mx, my = margin_x / (1 + 2 * margin_x), margin_y / (1 + 2 * margin_y)
    return np.float32([[mx, my], [1 - mx, my], [1 - mx, 1 - my], [mx, 1 - my]])


def to_unit_square(corners: np.ndarray, to_frame: np.ndarray) -> np.ndarray:
    """Frame points in the unit square of a neighbourhood whose homography to the frame is `to_frame`."""
    return apply_homography(np.linalg.inv(to_frame), corners).astype(np.float32)


def jitter(rng: np.random.Generator, corners: np.ndarray, scale: float = 1.0) -> np.ndarray:
    """`corners` misplaced as the detector misplaces them: each corner on its own plus a shared shift,
    one in ten twice as far."""
    c = np.asarray(corners, np.float64)
    along, across = plate_axes(c)
    spread = scale * (2.0 if rng.random() < 0.1 else 1.0)
    own = rng.normal(0, 1, (4, 2)) * [JITTER_ALONG * 0.8, JITTER_ACROSS * 0.8]
    shared = rng.normal(0, 1, 2) * [JITTER_ALONG * 0.6, JITTER_ACROSS * 0.6]
    offsets = (own + shared) * spread
    return c + offsets[:, :1] * along + offsets[:, 1:] * across


def make_samples(rng: np.random.Generator, count: int) -> tuple[np.ndarray, np.ndarray]:
    """`count` (input, target) pairs: uint8 (count, 48, 160) and float32 (count, 4, 2) unit-square corners."""
    from murur.alpr.synth import random_plate_view

    inputs = np.empty((count, REFINER_HEIGHT, REFINER_WIDTH), np.uint8)
    targets = np.empty((count, 4, 2), np.float32)
    for i in range(count):
        view = random_plate_view(rng)
        grey = Image.fromarray(view.image).convert("L")
        crop, to_frame = refiner_neighbourhood(grey, jitter(rng, view.corners))
        inputs[i], targets[i] = crop, to_unit_square(view.corners, to_frame)
    return inputs, targets


def as_tensor(crops: np.ndarray) -> torch.Tensor:
    """uint8 crops -> the network's input, each crop standardised (exposure varies)."""
    return _standardised(torch.tensor(crops, dtype=torch.float32).unsqueeze(1) / 255.0)  # a copy: crops may be read-only


def _standardised(crops: torch.Tensor) -> torch.Tensor:
    """Each (N, 1, H, W) crop in 0..1 to zero mean and unit spread."""
    mean = crops.mean(dim=(2, 3), keepdim=True)
    std = crops.std(dim=(2, 3), keepdim=True).clamp_min(0.02)
    return (crops - mean) / std


def train(inputs: np.ndarray, targets: np.ndarray, steps: int, batch: int = 64, lr: float = 2e-3, seed: int = 7,
          log_every: int = 250) -> CornerRefiner:
    torch.manual_seed(seed)
    model = CornerRefiner()
    optimiser = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=1e-4)
    schedule = torch.optim.lr_scheduler.OneCycleLR(optimiser, max_lr=lr, total_steps=max(steps, 1))
    order = np.random.default_rng(seed)
    target_tensor = torch.as_tensor(targets)
    model.train()
    for step in range(steps):
        pick = order.integers(0, len(inputs), batch)
        x = as_tensor(inputs[pick])
        if order.random() < 0.5:  # a mirrored plate is still a plate: corners swap left for right
            x = torch.flip(x, dims=[3])
            y = target_tensor[pick][:, [1, 0, 3, 2]].clone()
            y[..., 0] = 1 - y[..., 0]
        else:
            y = target_tensor[pick]
        loss = nn.functional.smooth_l1_loss(model(x), y, beta=0.01)
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()
        schedule.step()
        if log_every and (step + 1) % log_every == 0:
            print(json.dumps({"step": step + 1, "loss": round(float(loss), 5)}), flush=True)
    model.eval()
    return model


class _ExportRefiner(nn.Module):
    """The refiner with its input normalisation inside: the ONNX model takes crops scaled to 0..1."""

    def __init__(self, model: CornerRefiner):
        super().__init__()
        self.model = model

    def forward(self, crop: torch.Tensor) -> torch.Tensor:
        return self.model(_standardised(crop))


def export_onnx(model: CornerRefiner, path: Path) -> None:
    """`model` as ONNX (the reader's opset): float (N, 1, 48, 160) crops in 0..1 -> (N, 4, 2) unit-square corners."""
    from training.train import OPSET

    # Exporting puts the wrapper back in its mode afterwards, and a wrapper in training mode would take the
    # model with it: both stay in eval mode.
    wrapper = _ExportRefiner(model).eval()
    torch.onnx.export(wrapper, (torch.zeros(1, 1, REFINER_HEIGHT, REFINER_WIDTH),), str(path),
                      input_names=["crop"], output_names=["corners"], opset_version=OPSET, dynamo=False,
                      dynamic_axes={"crop": {0: "batch"}, "corners": {0: "batch"}})


def refine(model: CornerRefiner, grey: Image.Image, corners: np.ndarray) -> np.ndarray:
    """`corners` moved by the refiner, in frame pixels."""
    crop, to_frame = refiner_neighbourhood(grey, corners)
    with torch.no_grad():
        unit = model(as_tensor(crop[None]))[0].numpy()
    return apply_homography(to_frame, unit)


def corner_error(predicted: np.ndarray, truth: np.ndarray) -> tuple[float, float]:
    """Mean corner error as fractions of the true plate's width (along) and height (across)."""
    t = np.asarray(truth, np.float64)
    along, across = plate_axes(t)
    basis = np.linalg.inv(np.stack([along, across], axis=1))
    local = (np.asarray(predicted, np.float64) - t) @ basis.T
    return float(np.abs(local[:, 0]).mean()), float(np.abs(local[:, 1]).mean())


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, required=True)
    from training.train import Hyper  # its defaults are `make train`'s

    parser.add_argument("--samples", type=int, default=Hyper().ref_samples)
    parser.add_argument("--steps", type=int, default=Hyper().ref_steps)
    parser.add_argument("--seed", type=int, default=Hyper().ref_seed, help="data seed (training and evaluation use others)")
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    args.out.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    inputs, targets = make_samples(np.random.default_rng(args.seed), args.samples)
    generated = time.perf_counter() - started
    model = train(inputs, targets, args.steps)
    held_in, held_targets = make_samples(np.random.default_rng(args.seed + 1), 500)
    with torch.no_grad():
        predicted = model(as_tensor(held_in)).numpy()
    before = np.abs(_inner_corners()[None] - held_targets).mean(axis=(0, 1))
    after = np.abs(predicted - held_targets).mean(axis=(0, 1))
    torch.save(model.state_dict(), args.out / "refiner.pt")
    export_onnx(model, args.out / "refiner.onnx")
    report = {"samples": args.samples, "steps": args.steps, "seed": args.seed, "generate_s": round(generated, 1),
              "train_s": round(time.perf_counter() - started - generated, 1),
              "unit_square_error_before": before.round(4).tolist(), "unit_square_error_after": after.round(4).tolist()}
    (args.out / "refiner.json").write_text(json.dumps(report, indent=2) + "\n")
    print(json.dumps(report), flush=True)


if __name__ == "__main__":
    main()
