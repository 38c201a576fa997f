"""Train the plate detector, corner refiner and recogniser, export them to ONNX, calibrate, and (optionally) install.

    python -m training.train --out training/runs/latest --install    # what `make train` runs
    python -m training.train --out /tmp/smoke --tiny                  # one tiny epoch end to end
    python -m training.train --out training/runs/warm --init-from training/checkpoints \
        --det-steps 3000 --det-lr 5e-4 --rec-steps 1200 --rec-lr 3e-4 --rec-easy-crops 0   # warm start

Everything that decides the result is in the recipe written next to the checkpoints (`recipe.json`):
seeds, data recipe, hyper-parameters. Training runs on the CPU, one torch thread per model; with
`--jobs 2` data generation and the two models' training run in two processes side by side.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import multiprocessing
import shlex
import shutil
import subprocess
import sys
import time
from dataclasses import asdict, dataclass, replace
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import torch
from PIL import Image
from torch.nn import functional as F
from torch.optim.swa_utils import AveragedModel, get_ema_multi_avg_fn

from murur.alpr.formats import ALPHABET
from murur.alpr.imaging import CROP_HEIGHT, CROP_WIDTH
from murur.alpr.postprocess import OFFSET_SCALE
from murur.alpr.reader import MODEL_CARD, MODELS_DIR
from training.data import DataRecipe, build_pools, easy_crop, encode_text, single_threaded
from training.models import PlateDetector, PlateRecognizer

OPSET = 17
DETECTOR_FILE = "detector.onnx"
RECOGNIZER_FILE = "recognizer.onnx"  # what ships: int8 unless Hyper.rec_quantization is "none"
REFINER_FILE = "refiner.onnx"  # shipped when the run has a refiner.pt (float32: 2 MB)
CALIBRATION_READS = "calibration_reads.npz"  # the calibration draws' features and rightness, per seed
RECOGNIZER_FLOAT_FILE = "recognizer.float.onnx"  # the float export it is quantised from (kept in the run)
QUANTIZATIONS = ("int8", "none")


@dataclass(frozen=True)
class Hyper:
    seed: int = 7
    det_steps: int = 8000
    det_batch: int = 16
    det_crop: tuple[int, int] = (384, 256)  # training window (w, h) cut from the letterboxed frame
    det_lr: float = 2e-3
    det_plate_windows: float = 0.75  # share of training windows centred near a plate
    det_corner_weight: float = 2.0  # weight of the corner offsets' loss against the heatmap's
    # The frame size the exported detector reads. It is fully convolutional: trained on frames letterboxed
    # to the recipe's 640 x 384, it finds small and distant plates far better when it reads 960 x 576.
    det_input: tuple[int, int] = (960, 576)
    # Windows magnified by a factor drawn from det_zoom (for det_zoom_share of them), so that plates 1.5 x
    # bigger than in the 640 x 384 training frames, as at det_input, are still found and cornered well.
    det_zoom: tuple[float, float] = (1.0, 1.7)
    det_zoom_share: float = 0.5
    rec_steps: int = 2600
    rec_batch: int = 64
    rec_lr: float = 1e-3
    rec_input_norm: str = "per_crop"  # see PlateRecognizer; "fixed" before murur-alpr-20261129-7dd0271a
    rec_easy_crops: int = 6000  # clean front-on plates mixed into the first batches (curriculum)
    rec_easy_until: float = 0.25  # share of the steps during which half of each batch is easy
    # Share of training crops re-cut as if the detector's corners were a little off (see recut_crops):
    # on real photos the box is often a few percent too wide or shifted, and edge clutter becomes a character.
    rec_recut_share: float = 0.0
    # Decay of an exponential moving average of the recogniser's weights (0: off). What is saved and shipped
    # is then the average: it steps over the noise of small CPU batches at the end of a run.
    rec_ema: float = 0.0
    # The shipped recogniser (training.quantize): "int8", its activation ranges measured on the plates of
    # quantization_frames generated frames of quantization_seed, or "none" to ship the float export.
    rec_quantization: str = "int8"
    quantization_seed: int = 98
    quantization_frames: int = 150
    # The corner refiner (training.refiner): samples drawn with ref_seed, training steps (0: keep the
    # refiner.pt of --init-from, if it has one).
    ref_samples: int = 30000
    ref_steps: int = 6000
    ref_seed: int = 2040
    weight_decay: float = 1e-4
    detector_threshold: float = 0.3
    calibration_frames: int = 2000
    calibration_seed: int = 99
    # The auto-issue threshold must meet the rule on a second draw the calibration was not fitted on, and on
    # the fit draw too: picked on one draw alone it met 99.9 % there and fell short on the other (2 wrong of
    # 1 006 held-out reads; 3 of 2 280 fit reads for s17). 0 frames: the fit draw alone, as before.
    threshold_frames: int = 2000
    threshold_seed: int = 100
    target_precision: float = 0.999


# Command-line options that set a DataRecipe field: option -> (field, help).
DATA_OPTIONS = {
    "scenes": ("scenes", None),
    "generator_crops": ("generator_crops", None),
    "data_seed": ("seed", "seed of the generated data: a new seed draws a fresh pool of the same recipe"),
}
TINY = dict(det_steps=2, det_batch=2, rec_steps=2, rec_batch=4, rec_easy_crops=8, calibration_frames=3,
            threshold_frames=3, quantization_frames=4, ref_samples=8, ref_steps=2)
TINY_DATA = dict(scenes=4, generator_crops=16, scene_crop_jitters=1)


def training_device() -> torch.device:
    """A GPU when one is there (the same code and recipe, only faster); the CPU otherwise."""
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def log(message: str) -> None:
    print(f"[{datetime.now(UTC):%H:%M:%S}] {message}", flush=True)


# ----------------------------------------------------------------------------- detector


def detector_targets(plates, width: int, height: int, stride: int):
    """Heatmap, corner offsets, row flags and regression weights for one training window."""
    gh, gw = height // stride, width // stride
    heat = np.zeros((gh, gw), np.float32)
    offsets = np.zeros((8, gh, gw), np.float32)
    rows = np.zeros((gh, gw), np.float32)
    weight = np.zeros((gh, gw), np.float32)
    ys, xs = (np.arange(gh) + 0.5) * stride, (np.arange(gw) + 0.5) * stride
    for corners, two_rows in plates:
        cx, cy = corners.mean(axis=0)
        if not (0 <= cx < width and 0 <= cy < height):
            continue
        w = float(np.linalg.norm(corners[1] - corners[0]))
        h = float(np.linalg.norm(corners[3] - corners[0]))
        sx, sy = max(0.6 * stride, 0.12 * w), max(0.6 * stride, 0.2 * h)
        g = np.exp(-((xs[None, :] - cx) ** 2) / (2 * sx * sx) - ((ys[:, None] - cy) ** 2) / (2 * sy * sy))
        heat = np.maximum(heat, g.astype(np.float32))
        ci, cj = int(cy // stride), int(cx // stride)
        for di in (-1, 0, 1):
            for dj in (-1, 0, 1):
                i, j = ci + di, cj + dj
                if 0 <= i < gh and 0 <= j < gw:
                    w_ij = 1.0 if (di, dj) == (0, 0) else 0.3
                    if w_ij > weight[i, j]:
                        centre = np.array([xs[j], ys[i]])
                        offsets[:, i, j] = ((corners - centre) / OFFSET_SCALE).reshape(-1)
                        rows[i, j] = float(two_rows)
                        weight[i, j] = w_ij
        heat[ci, cj] = 1.0
    return heat, offsets, rows, weight


def detector_batch(rng, frames, frame_plates, hyper: Hyper, stride: int):
    win_w, win_h = hyper.det_crop
    full_h, full_w = frames.shape[1:]
    images, heats, offs, rows, weights = [], [], [], [], []
    with_plates = [i for i, plates in enumerate(frame_plates) if plates]
    for _ in range(hyper.det_batch):
        zoom = rng.uniform(*hyper.det_zoom) if rng.random() < hyper.det_zoom_share else 1.0
        src_w, src_h = round(win_w / zoom), round(win_h / zoom)  # the frame region the window shows
        if with_plates and rng.random() < hyper.det_plate_windows:
            # A window around one plate's centre: most random windows would hold no plate at all.
            k = with_plates[int(rng.integers(len(with_plates)))]
            cx, cy = frame_plates[k][int(rng.integers(len(frame_plates[k])))][0].mean(axis=0)
            x0 = int(np.clip(cx - rng.uniform(0.1, 0.9) * src_w, 0, full_w - src_w))
            y0 = int(np.clip(cy - rng.uniform(0.1, 0.9) * src_h, 0, full_h - src_h))
        else:
            k = int(rng.integers(len(frames)))
            x0 = int(rng.integers(0, full_w - src_w + 1))
            y0 = int(rng.integers(0, full_h - src_h + 1))
        region = frames[k, y0 : y0 + src_h, x0 : x0 + src_w]
        if (src_w, src_h) != (win_w, win_h):
            region = np.asarray(Image.fromarray(region).resize((win_w, win_h), Image.Resampling.BILINEAR))
        image = region.astype(np.float32) / 255.0
        magnify = np.array([win_w / src_w, win_h / src_h], np.float32)
        plates = [((c - np.array([x0, y0], np.float32)) * magnify, two) for c, two in frame_plates[k]]
        if rng.random() < 0.5:  # mirror: still a plate to find (the corners swap sides)
            image = image[:, ::-1]
            plates = [(np.stack([[win_w - c[1, 0], c[1, 1]], [win_w - c[0, 0], c[0, 1]],
                                 [win_w - c[3, 0], c[3, 1]], [win_w - c[2, 0], c[2, 1]]]), two) for c, two in plates]
        if rng.random() < 0.5:  # exposure and contrast
            image = np.clip((image - 0.5) * rng.uniform(0.6, 1.4) + 0.5 + rng.uniform(-0.2, 0.2), 0, 1)
        heat, off, row, weight = detector_targets(plates, win_w, win_h, stride)
        images.append(np.ascontiguousarray(image))
        heats.append(heat)
        offs.append(off)
        rows.append(row)
        weights.append(weight)
    t = lambda a: torch.from_numpy(np.stack(a))  # noqa: E731
    return t(images)[:, None], t(heats)[:, None], t(offs), t(rows)[:, None], t(weights)[:, None]


def focal_loss(logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """CenterNet's penalty-reduced focal loss on the heatmap."""
    p = torch.sigmoid(logits).clamp(1e-4, 1 - 1e-4)
    positive = target.eq(1).float()
    pos_loss = -torch.log(p) * (1 - p) ** 2 * positive
    neg_loss = -torch.log(1 - p) * p**2 * (1 - target) ** 4 * (1 - positive)
    return (pos_loss.sum() + neg_loss.sum()) / positive.sum().clamp(min=1)


def train_detector(pools: dict, hyper: Hyper, out: Path, init: Path | None = None) -> None:
    single_threaded()
    torch.manual_seed(hyper.seed)
    rng = np.random.default_rng([hyper.seed, 10])
    device = training_device()
    model = PlateDetector()
    if init is not None:
        model.load_state_dict(torch.load(init / "detector.pt", map_location="cpu"))
    model.to(device)
    opt = torch.optim.AdamW(model.parameters(), lr=hyper.det_lr, weight_decay=hyper.weight_decay)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, hyper.det_lr, total_steps=max(hyper.det_steps, 1), pct_start=0.1)
    model.train()
    started = time.time()
    for step in range(hyper.det_steps):
        images, heat, offsets, rows, weight = (tensor.to(device) for tensor in detector_batch(
            rng, pools["frames"], pools["frame_plates"], hyper, model.stride))
        out_t = model(images)
        loss_heat = focal_loss(out_t[:, :1], heat)
        norm = weight.sum().clamp(min=1)
        loss_off = (F.smooth_l1_loss(out_t[:, 1:9], offsets, reduction="none", beta=0.05) * weight).sum() / norm
        loss_rows = (F.binary_cross_entropy_with_logits(out_t[:, 9:10], rows, reduction="none") * weight).sum() / norm
        loss = loss_heat + hyper.det_corner_weight * loss_off + 0.5 * loss_rows
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 5.0)
        opt.step()
        sched.step()
        if step % 100 == 0 or step == hyper.det_steps - 1:
            log(f"detector step {step}/{hyper.det_steps} loss {loss.item():.3f} (heat {loss_heat.item():.3f} "
                f"corners {loss_off.item():.3f} rows {loss_rows.item():.3f}) {time.time() - started:.0f}s")
    torch.save(model.cpu().state_dict(), out / "detector.pt")


# ----------------------------------------------------------------------------- recogniser


# How far re-cut crops move: scale along and across the plate, then shift, as fractions of the crop.
# Zooming in stays under the crop's own margin (imaging.CROP_MARGIN_X = 4 %) so no character is cut.
RECUT_SCALE_X = (0.85, 1.03)
RECUT_SCALE_Y = (0.85, 1.05)
RECUT_SHIFT = (0.03, 0.05)


def recut_crops(rng, images: np.ndarray, share: float) -> np.ndarray:
    """`images` (N x H x W, float) with a random `share` of them resampled about their centre by a small
    scale and shift, edges replicated: the crops a detector with slightly wrong corners would cut."""
    import cv2

    out = images.copy()
    n, h, w = images.shape
    for i in np.nonzero(rng.random(n) < share)[0]:
        sx, sy = rng.uniform(*RECUT_SCALE_X), rng.uniform(*RECUT_SCALE_Y)
        tx, ty = rng.uniform(-1, 1) * RECUT_SHIFT[0] * w, rng.uniform(-1, 1) * RECUT_SHIFT[1] * h
        matrix = np.array([[sx, 0, (1 - sx) * w / 2 + tx], [0, sy, (1 - sy) * h / 2 + ty]], np.float32)
        out[i] = cv2.warpAffine(images[i], matrix, (w, h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    return out


def recogniser_batch(rng, crops, targets, hyper: Hyper):
    idx = rng.integers(0, len(crops), hyper.rec_batch)
    images = crops[idx].astype(np.float32) / 255.0
    if hyper.rec_recut_share > 0:
        images = recut_crops(rng, images, hyper.rec_recut_share)
    # Photometric jitter per sample; the generator already varies geometry and degradations.
    gain = rng.uniform(0.6, 1.4, (len(idx), 1, 1)).astype(np.float32)
    shift = rng.uniform(-0.2, 0.2, (len(idx), 1, 1)).astype(np.float32)
    images = np.clip((images - 0.5) * gain + 0.5 + shift, 0, 1)
    invert = rng.random(len(idx)) < 0.05
    images[invert] = 1.0 - images[invert]
    labels = [targets[i] for i in idx]
    flat = torch.tensor([c for lab in labels for c in lab], dtype=torch.long)
    lengths = torch.tensor([len(lab) for lab in labels], dtype=torch.long)
    return torch.from_numpy(images)[:, None], flat, lengths


def train_recogniser(pools: dict, hyper: Hyper, out: Path, init: Path | None = None) -> None:
    single_threaded()
    torch.manual_seed(hyper.seed + 1)
    rng = np.random.default_rng([hyper.seed, 20])
    crops, texts = pools["crops"], pools["texts"]
    targets = [encode_text(t) for t in texts]
    n_val = min(1000, len(crops) // 10)
    # Held-out crops: a spread sample, not the first block (the pool starts with the scene crops).
    val_idx = np.random.default_rng([hyper.seed, 21]).permutation(len(crops))[:n_val]
    train_idx = np.setdiff1d(np.arange(len(crops)), val_idx)
    device = training_device()
    model = PlateRecognizer(input_norm=hyper.rec_input_norm)
    if init is not None:
        model.load_state_dict(torch.load(init / "recognizer.pt", map_location="cpu"))
    model.to(device)
    opt = torch.optim.AdamW(model.parameters(), lr=hyper.rec_lr, weight_decay=hyper.weight_decay)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, hyper.rec_lr, total_steps=max(hyper.rec_steps, 1), pct_start=0.05)
    # use_buffers: batch-norm statistics are averaged with the weights, so the average is a model as it stands.
    average = (AveragedModel(model, multi_avg_fn=get_ema_multi_avg_fn(hyper.rec_ema), use_buffers=True)
               if hyper.rec_ema > 0 else None)
    started = time.time()
    train_crops, train_targets = crops[train_idx], [targets[i] for i in train_idx]
    easy_rng = np.random.default_rng([hyper.seed, 22])
    easy = [easy_crop(easy_rng) for _ in range(hyper.rec_easy_crops)]
    easy_crops, easy_targets = np.array([e[0] for e in easy]), [encode_text(e[1]) for e in easy]
    half = replace(hyper, rec_batch=max(1, hyper.rec_batch // 2))
    for step in range(hyper.rec_steps):
        model.train()
        if easy and step < hyper.rec_easy_until * hyper.rec_steps:
            parts = [recogniser_batch(rng, train_crops, train_targets, half),
                     recogniser_batch(rng, easy_crops, easy_targets, half)]
            images = torch.cat([p[0] for p in parts])
            flat = torch.cat([p[1] for p in parts])
            lengths = torch.cat([p[2] for p in parts])
        else:
            images, flat, lengths = recogniser_batch(rng, train_crops, train_targets, hyper)
        logits = model(images.to(device))
        log_probs = logits.log_softmax(2).permute(1, 0, 2)  # T x N x C
        input_lengths = torch.full((len(lengths),), log_probs.shape[0], dtype=torch.long)
        loss = F.ctc_loss(log_probs, flat.to(device), input_lengths.to(device), lengths.to(device), blank=0,
                          zero_infinity=True)
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 5.0)
        opt.step()
        sched.step()
        if average is not None:
            average.update_parameters(model)
        if step % 200 == 0 or step == hyper.rec_steps - 1:
            val_crops, val_texts = crops[val_idx], [texts[i] for i in val_idx]
            accuracy = recogniser_accuracy(model, val_crops, val_texts) if n_val else float("nan")
            averaged = (f", averaged {recogniser_accuracy(average.module, val_crops, val_texts):.3f}"
                        if average is not None and n_val else "")
            log(f"recogniser step {step}/{hyper.rec_steps} ctc {loss.item():.3f} "
                f"held-out crops exact {accuracy:.3f}{averaged} {time.time() - started:.0f}s")
    shipped = average.module if average is not None else model
    torch.save(shipped.cpu().state_dict(), out / "recognizer.pt")


@torch.no_grad()
def recogniser_accuracy(model: PlateRecognizer, crops: np.ndarray, texts: list[str]) -> float:
    from murur.alpr.postprocess import ctc_greedy_decode, softmax

    model.eval()
    right = 0
    for start in range(0, len(crops), 256):
        batch = torch.from_numpy(crops[start : start + 256].astype(np.float32) / 255.0)[:, None]
        logits = model(batch.to(next(model.parameters()).device)).cpu().numpy()
        right += sum(ctc_greedy_decode(softmax(seq)).text == t for seq, t in zip(logits, texts[start : start + 256]))
    return right / max(len(crops), 1)


# ----------------------------------------------------------------------------- export + calibration


class _ExportDetector(torch.nn.Module):
    def __init__(self, model: PlateDetector):
        super().__init__()
        self.model = model

    def forward(self, image: torch.Tensor) -> torch.Tensor:
        return self.model(image, probabilities=True)


def export_onnx(out: Path, hyper: Hyper) -> None:
    """The detector and the shipped recogniser (int8 or float, by hyper.rec_quantization) from the run's checkpoints."""
    if hyper.rec_quantization not in QUANTIZATIONS:
        raise SystemExit(f"rec_quantization must be one of {QUANTIZATIONS}, not {hyper.rec_quantization!r}")
    detector, recognizer = PlateDetector(), PlateRecognizer(input_norm=hyper.rec_input_norm)
    detector.load_state_dict(torch.load(out / "detector.pt"))
    recognizer.load_state_dict(torch.load(out / "recognizer.pt"))
    detector.eval()
    recognizer.eval()
    w, h = hyper.det_input
    torch.onnx.export(_ExportDetector(detector), (torch.zeros(1, 1, h, w),), str(out / DETECTOR_FILE),
                      input_names=["image"], output_names=["plates"], opset_version=OPSET, dynamo=False)
    torch.onnx.export(recognizer, (torch.zeros(1, 1, CROP_HEIGHT, CROP_WIDTH),), str(out / RECOGNIZER_FLOAT_FILE),
                      input_names=["crop"], output_names=["logits"], opset_version=OPSET, dynamo=False,
                      dynamic_axes={"crop": {0: "batch"}, "logits": {0: "batch"}})
    if hyper.rec_quantization == "none":
        shutil.copy2(out / RECOGNIZER_FLOAT_FILE, out / RECOGNIZER_FILE)
        return
    from training.quantize import calibration_crops, quantize_recognizer

    crops = calibration_crops(hyper.quantization_seed, hyper.quantization_frames)
    quantize_recognizer(out / RECOGNIZER_FLOAT_FILE, out / RECOGNIZER_FILE, crops)
    log(f"recogniser quantised to int8 on {len(crops)} crops of {hyper.quantization_frames} frames")
    export_refiner(out)


def export_refiner(out: Path) -> None:
    """refiner.onnx from the run's refiner.pt; a run without one ships no refiner."""
    from training.refiner import CornerRefiner, export_onnx as export_refiner_onnx

    (out / REFINER_FILE).unlink(missing_ok=True)
    if not (out / "refiner.pt").is_file():
        return
    refiner = CornerRefiner()
    refiner.load_state_dict(torch.load(out / "refiner.pt", weights_only=True))
    export_refiner_onnx(refiner, out / REFINER_FILE)


REFINER_RECORD = "refiner_record.json"
REFINER_TRAINING = ("samples", "steps", "data_seed", "trained_in")


def keep_refiner(init: Path | None, out: Path) -> None:
    """The refiner.pt of `init`, if it has one, as the run's own, with how it was trained: the card must
    say the kept model's samples and steps, not this run's (none)."""
    (out / REFINER_RECORD).unlink(missing_ok=True)
    if init is not None and (init / "refiner.pt").is_file():
        shutil.copy2(init / "refiner.pt", out / "refiner.pt")
        earlier = json.loads((init / MODEL_CARD).read_text()) if (init / MODEL_CARD).is_file() else {}
        # A base card that does not say how its refiner was trained leaves only where it came from.
        trained = {k: v for k, v in earlier.get("refiner", {}).items() if k in REFINER_TRAINING}
        trained.setdefault("trained_in", earlier.get("version"))
        (out / REFINER_RECORD).write_text(json.dumps(trained, indent=2) + "\n")
        log(f"refiner kept from {init}")


def refiner_training(out: Path, hyper: Hyper) -> dict:
    """How the run's refiner.pt was trained: the record of a kept one, else this run's hyper-parameters."""
    if (out / REFINER_RECORD).is_file():
        return json.loads((out / REFINER_RECORD).read_text())
    return {"samples": hyper.ref_samples, "steps": hyper.ref_steps, "data_seed": hyper.ref_seed}


def train_or_keep_refiner(hyper: Hyper, out: Path, init: Path | None = None) -> None:
    """The corner refiner: trained on its own samples (it needs neither pool), or with ref_steps 0 kept
    from `init`."""
    if hyper.ref_steps == 0:
        keep_refiner(init, out)
        return
    from training.refiner import make_samples, train as train_refiner

    started = time.perf_counter()
    inputs, targets = make_samples(np.random.default_rng(hyper.ref_seed), hyper.ref_samples)
    model = train_refiner(inputs, targets, hyper.ref_steps, seed=hyper.seed, log_every=0)
    torch.save(model.state_dict(), out / "refiner.pt")
    (out / REFINER_RECORD).unlink(missing_ok=True)  # trained here: the hyper-parameters say how
    log(f"refiner trained on {hyper.ref_samples} samples, {hyper.ref_steps} steps in {time.perf_counter() - started:.0f} s")


def recognizer_quantization(out: Path, hyper: Hyper) -> dict:
    """The card's account of how the shipped recogniser was made from the float export."""
    if hyper.rec_quantization == "none":
        return {"scheme": "none (float32)"}
    from training.quantize import SCHEME

    return {"scheme": SCHEME, "calibration": f"plates of {hyper.quantization_frames} generated frames, "
                                             f"seed {hyper.quantization_seed}, first looks' margins",
            "float_file": RECOGNIZER_FLOAT_FILE, "float_sha256": sha256_of(out / RECOGNIZER_FLOAT_FILE)}


def sha256_of(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def write_card(out: Path, recipe: DataRecipe, hyper: Hyper, calibration: dict, threshold: float, metrics: dict,
               extra: dict | None = None) -> dict:
    det_sha, rec_sha = sha256_of(out / DETECTOR_FILE), sha256_of(out / RECOGNIZER_FILE)
    refiner = ({"file": REFINER_FILE, "sha256": sha256_of(out / REFINER_FILE), "bytes": (out / REFINER_FILE).stat().st_size,
                **refiner_training(out, hyper)}
               if (out / REFINER_FILE).is_file() else None)
    # The version names the weights and the calibration together: all of them decide what a read says.
    digest = hashlib.sha256((det_sha + (refiner["sha256"] if refiner else "") + rec_sha
                             + json.dumps(calibration, sort_keys=True)).encode()).hexdigest()[:8]
    version = f"murur-alpr-{datetime.now(UTC):%Y%m%d}-{digest}"
    card = {
        "version": version,
        "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "opset": OPSET,
        "detector": {"file": DETECTOR_FILE, "sha256": det_sha, "bytes": (out / DETECTOR_FILE).stat().st_size,
                     "input_width": hyper.det_input[0], "input_height": hyper.det_input[1],
                     "stride": PlateDetector.stride, "threshold": hyper.detector_threshold},
        "recognizer": {"file": RECOGNIZER_FILE, "sha256": rec_sha, "bytes": (out / RECOGNIZER_FILE).stat().st_size,
                       "height": CROP_HEIGHT, "width": CROP_WIDTH, "alphabet": ALPHABET,
                       "quantization": recognizer_quantization(out, hyper)},
        **({"refiner": refiner} if refiner else {}),
        "calibration": calibration,
        "auto_issue_threshold": threshold,
        "target_precision": hyper.target_precision,
        "data_recipe": asdict(recipe),
        "hyperparameters": asdict(hyper),
        "calibration_metrics": metrics,
        **(extra or {}),
    }
    (out / MODEL_CARD).write_text(json.dumps(card, indent=2) + "\n")
    return card


def calibration_reads(models: Path, seed: int, frames: int) -> tuple[np.ndarray, np.ndarray]:
    """Calibration features and rightness of every read the reader in `models` makes on `frames`
    generated frames of `seed` (features do not depend on the card's calibration)."""
    from murur.alpr.calibration import FEATURE_NAMES
    from murur.alpr.evaluate import evaluate_frames, synthetic_frames
    from murur.alpr.reader import PlateReader

    single_threaded()
    records = evaluate_frames(PlateReader(models), synthetic_frames(seed, frames))
    reads = [r for r in records if r["features"] is not None]
    features = np.array([r["features"] for r in reads], np.float64).reshape(-1, len(FEATURE_NAMES))
    return features, np.array([r["correct"] for r in reads], bool)


def calibrate(out: Path, recipe: DataRecipe, hyper: Hyper, extra_card: dict | None = None, jobs: int = 1) -> None:
    from murur.alpr.calibration import FEATURE_NAMES, Calibrator, reliability_table, threshold_on_every_set

    # A provisional card (confidence = greedy-path probability) so the real reader can run.
    provisional = Calibrator(weights=(1.0,) + (0.0,) * (len(FEATURE_NAMES) - 1), bias=0.0)
    write_card(out, recipe, hyper, provisional.to_json(), 1.0, {})
    draws = [(hyper.calibration_seed, hyper.calibration_frames)]
    if hyper.threshold_frames > 0:
        draws.append((hyper.threshold_seed, hyper.threshold_frames))
    if jobs > 1 and len(draws) > 1:
        with multiprocessing.get_context("fork").Pool(len(draws)) as pool:
            results = pool.starmap(calibration_reads, [(out, seed, frames) for seed, frames in draws])
    else:
        results = [calibration_reads(out, seed, frames) for seed, frames in draws]
    # Kept beside the models so that a later threshold rule can be tried without reading the frames again.
    kept = {}
    for (seed, _), (draw_features, draw_correct) in zip(draws, results):
        kept[f"features_{seed}"], kept[f"correct_{seed}"] = draw_features, draw_correct
    np.savez_compressed(out / CALIBRATION_READS, **kept)
    features, correct = results[0]
    if len(correct) >= 10 and 0 < correct.sum() < len(correct):
        calibrator = Calibrator.fit(features, correct)
    else:  # degenerate (tiny runs): keep the provisional mapping
        calibrator = provisional
    scored = [(np.array([calibrator.confidence(f) for f in draw_features]), draw_correct)
              for draw_features, draw_correct in results]
    (confidences, _), (check_confidences, check_correct) = scored[0], scored[-1]
    # The rule must hold on the fit draw as well: a threshold met on one draw of frames can miss on another.
    threshold = threshold_on_every_set(scored, hyper.target_precision)
    metrics = {
        "frames": hyper.calibration_frames,
        "reads": int(len(correct)),
        "reads_correct": int(correct.sum()),
        "reliability": reliability_table(confidences, correct) if len(correct) else [],
        "threshold_chosen_on": ({"seed": hyper.threshold_seed, "frames": hyper.threshold_frames}
                                if hyper.threshold_frames > 0 else "the fit draw"),
        "threshold_rule_applied_to": ["threshold draw", "fit draw"] if hyper.threshold_frames > 0 else ["fit draw"],
        "threshold_reads": int(len(check_correct)),
        "threshold_reads_correct": int(check_correct.sum()),
    }
    for name, conf, ok in (("", check_confidences, check_correct), ("fit_", confidences, correct)):
        accepted = conf >= threshold
        metrics[f"{name}accepted"] = int(accepted.sum())
        metrics[f"{name}accepted_correct"] = int((accepted & ok).sum())
    if threshold >= 1.0:
        extra_card = {**(extra_card or {}), "auto_issue_threshold_note":
                      threshold_note(check_confidences, check_correct, hyper.target_precision)}
    card = write_card(out, recipe, hyper, calibrator.to_json(), threshold, metrics, extra_card)
    log(f"calibrated on {len(correct)} reads ({correct.mean() if len(correct) else 0:.3f} right); "
        f"auto-issue threshold {threshold:.4f} chosen on {len(check_correct)} reads accepts {metrics['accepted']} "
        f"({metrics['accepted_correct']} right) there and {metrics['fit_accepted']} "
        f"({metrics['fit_accepted_correct']} right) on the fit reads; version {card['version']}")


def threshold_note(confidences: np.ndarray, correct: np.ndarray, target_precision: float) -> str:
    """Why no threshold below 1 met the rule, in the calibration's own numbers."""
    top = confidences >= 0.99
    needed = round(1 / (1 - target_precision))
    return (f"The {target_precision:.1%} rule is not met on this calibration: {int((top & ~correct).sum())} of the "
            f"{int(top.sum())} reads scored 0.99 or more were wrong, and no threshold below 1 has the {needed} or "
            f"more error-free top reads the rule needs. Every read goes to an officer until a deployment validates "
            f"a threshold on its own photos (AutoIssueThreshold).")


CHECKPOINTS_DIR = Path(__file__).with_name("checkpoints")


def install(out: Path, destination: Path = MODELS_DIR, checkpoints: Path = CHECKPOINTS_DIR,
            command: str | None = None, note: str | None = None) -> None:
    """The ONNX models and card into the package; the torch checkpoints beside the training code
    (what `python -m training.finetune` starts from). The card carries the installed card's
    `training_chain` forward with one entry for this run, so the shipped card says how it was made."""
    card_path = out / MODEL_CARD
    card = json.loads(card_path.read_text())
    installed = destination / MODEL_CARD
    earlier = json.loads(installed.read_text()) if installed.is_file() else {}
    card["training_chain"] = [*earlier.get("training_chain", []), chain_entry(out, card, earlier.get("version"), command, note)]
    card_path.write_text(json.dumps(card, indent=2) + "\n")
    with_refiner = "refiner" in card
    for folder, names, refiner in ((destination, (DETECTOR_FILE, RECOGNIZER_FILE, MODEL_CARD), REFINER_FILE),
                                   (checkpoints, ("detector.pt", "recognizer.pt", MODEL_CARD), "refiner.pt")):
        folder.mkdir(parents=True, exist_ok=True)
        (folder / refiner).unlink(missing_ok=True)  # one left from an earlier version would not match the card
        for name in names + ((refiner,) if with_refiner else ()):
            shutil.copy2(out / name, folder / name)
    log(f"installed {card['version']} into {destination} and checkpoints into {checkpoints}")


def command_line(module: str, argv: list[str] | None) -> str:
    """How a training command was run (`argv` as given to its main, else the process's), for training_chain."""
    return shlex.join(["python", "-m", module, *(sys.argv[1:] if argv is None else argv)])


def chain_entry(out: Path, card: dict, started_from: str | None, command: str | None, note: str | None) -> dict:
    """One step of a card's training_chain: the run, the code and command that made it, what it kept."""
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], check=False, capture_output=True, text=True,
                            cwd=Path(__file__).parent).stdout.strip()
    return {
        "run": str(out),
        "code_commit": commit or None,
        "command": command,
        "started_from": started_from,
        "version": card["version"],
        "data_generator_commit": card.get("generator_commit"),
        "kept": {name: sha256_of(out / name) for name in ("detector.pt", "recognizer.pt", "refiner.pt")
                 if (out / name).is_file()},
        "note": note,
    }


# ----------------------------------------------------------------------------- main


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=Path("training/runs/latest"))
    parser.add_argument("--install", action="store_true", help="copy the models and card into murur/alpr/models")
    parser.add_argument("--note", help="with --install: why this run, for the card's training_chain")
    parser.add_argument("--tiny", action="store_true", help="a few samples and steps: checks the whole chain")
    parser.add_argument("--jobs", type=int, default=2, help="processes for data generation and training")
    parser.add_argument("--no-cache", action="store_true", help="regenerate the data even if cached")
    parser.add_argument("--calibrate-only", action="store_true",
                        help="keep the run's trained models; only redo the ONNX export and the calibration")
    parser.add_argument("--recogniser-from", type=Path, default=None,
                        help="reuse recognizer.pt of an earlier run of the same recipe instead of training it")
    parser.add_argument("--init-from", type=Path, default=None,
                        help="warm start: a folder with detector.pt and recognizer.pt (e.g. training/checkpoints) "
                             "that both models start from instead of random weights; the schedule restarts, "
                             "so pass smaller --det-lr / --rec-lr")
    for name, value in asdict(Hyper()).items():
        if isinstance(value, (int, float, str)):
            parser.add_argument(f"--{name.replace('_', '-')}", type=type(value), default=None)
    for option, (_, help_text) in DATA_OPTIONS.items():
        parser.add_argument(f"--{option.replace('_', '-')}", type=int, default=None, help=help_text)
    parser.add_argument("--crop-kind-weights", type=kind_weights, default=None, metavar="KIND=W,...",
                        help="weights that replace the generator's for the named plate kinds in the generator "
                             "crops, e.g. mr_diplomatic=0.15,mr_government=0.15")
    parser.add_argument("--small-crop-share", type=share, default=None, metavar="SHARE",
                        help="share of the generator crops drawn small in the camera frame (--small-crop-width)")
    parser.add_argument("--small-crop-width", type=width_range, default=None, metavar="LOW,HIGH",
                        help=f"their plate width in camera pixels, uniform (default "
                             f"{','.join(f'{w:g}' for w in DataRecipe().small_crop_width)})")
    parser.add_argument("--deep-recess-share", type=recess_share, default=None, metavar="SHARE",
                        help="share of the detector scenes' vehicles whose plate sits in a deep pocket")
    args = parser.parse_args(argv)
    command = command_line("training.train", argv)

    hyper_over = dict(TINY) if args.tiny else {}
    if args.calibrate_only:  # the card must record how the run's models were trained, not today's defaults
        hyper_over.update(_run_recorded(args.out, "hyperparameters", asdict(Hyper())))
    hyper_over.update({k: getattr(args, k) for k in asdict(Hyper()) if getattr(args, k, None) is not None})
    hyper = Hyper(**hyper_over)
    data_over = dict(TINY_DATA) if args.tiny else {}
    if args.calibrate_only:  # likewise the data they were trained on
        data_over.update(_run_recorded(args.out, "data", asdict(DataRecipe())))
    data_over.update({field: getattr(args, option) for option, (field, _) in DATA_OPTIONS.items()
                      if getattr(args, option) is not None})
    data_over.update({field: getattr(args, field) for field in ("crop_kind_weights", "small_crop_share", "small_crop_width",
                                                                "deep_recess_share") if getattr(args, field) is not None})
    recipe = DataRecipe(**data_over)

    out: Path = args.out
    init_note = _init_note(args.init_from)
    out.mkdir(parents=True, exist_ok=True)
    if not args.calibrate_only:
        (out / "recipe.json").write_text(json.dumps({"data": asdict(recipe), "hyperparameters": asdict(hyper),
                                                     **init_note}, indent=2) + "\n")
    single_threaded()
    if args.calibrate_only:
        earlier = json.loads((out / "model_card.json").read_text()) if (out / "model_card.json").exists() else {}
        export_onnx(out, hyper)
        kept = ("recognizer_trained_in", "generator_commit", "generator_note", "initialised_from")
        calibrate(out, recipe, hyper, extra_card={k: v for k, v in earlier.items() if k in kept}, jobs=args.jobs)
        if args.install:
            install(out, command=command, note=args.note)
        return
    log(f"data recipe {recipe.key()}: {recipe.scenes} scenes, {recipe.generator_crops} generator crops")
    pools = (build_pools if not (args.no_cache or args.tiny) else _fresh_pools)(recipe, log, args.jobs)

    # The generator the training data came from (the cache keeps it: the code may have moved on since).
    provenance = {"generator_commit": pools.get("generator_commit"), **_reuse_note(args.recogniser_from), **init_note}
    if args.recogniser_from is not None:
        train_detector(pools, hyper, out, args.init_from)
        shutil.copy2(args.recogniser_from / "recognizer.pt", out / "recognizer.pt")
        log(f"recogniser reused from {args.recogniser_from}")
    else:
        train_both(pools, hyper, out, args.jobs, args.init_from)
    del pools
    train_or_keep_refiner(hyper, out, args.init_from)
    export_onnx(out, hyper)
    calibrate(out, recipe, hyper, extra_card=provenance, jobs=args.jobs)
    if args.install:
        install(out, command=command, note=args.note)


def _run_recorded(run: Path, section: str, defaults: dict) -> dict:
    """What a run recorded in its recipe.json under `section` ("hyperparameters" or "data"), as fields of
    `defaults` (none when it has no recipe)."""
    recipe_file = run / "recipe.json"
    if not recipe_file.is_file():
        return {}
    recorded = json.loads(recipe_file.read_text()).get(section, {})
    return {k: _tuples(v) if isinstance(defaults[k], tuple) else v for k, v in recorded.items() if k in defaults}


def _tuples(value):
    """JSON's lists back into the tuples a frozen dataclass field holds, nested ones included."""
    return tuple(_tuples(v) for v in value) if isinstance(value, list) else value


def kind_weights(text: str) -> tuple[tuple[str, float], ...]:
    """`mr_diplomatic=0.15,mr_government=0.15` as DataRecipe.crop_kind_weights."""
    pairs = []
    for item in filter(None, (part.strip() for part in text.split(","))):
        kind, _, weight = item.partition("=")
        try:  # no "=" leaves weight empty, which float refuses too
            pairs.append((kind.strip(), float(weight)))
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected KIND=WEIGHT, got {item!r}") from None
    return _recipe_field(crop_kind_weights=tuple(pairs))


def share(text: str, field: str = "small_crop_share") -> float:
    """`0.3` as the DataRecipe share `field` (the recipe says which shares it takes)."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number within 0..1, got {text!r}") from None
    return _recipe_field(**{field: value})


def recess_share(text: str) -> float:
    """`0.5` as DataRecipe.deep_recess_share."""
    return share(text, "deep_recess_share")


def width_range(text: str) -> tuple[float, float]:
    """`48,100` as DataRecipe.small_crop_width (the recipe says which ranges it takes)."""
    try:
        low, high = (float(part) for part in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected LOW,HIGH in pixels, got {text!r}") from None
    return _recipe_field(small_crop_width=(low, high))


def _recipe_field(**field):
    """The one field's value as a DataRecipe takes it, or the recipe's refusal as a command-line error."""
    try:
        DataRecipe(**field)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None
    return next(iter(field.values()))


def _init_note(init: Path | None) -> dict:
    """Provenance of a warm start: the folder, its checkpoints' SHA-256 and the version they were shipped as."""
    if init is None:
        return {}
    missing = [name for name in ("detector.pt", "recognizer.pt") if not (init / name).is_file()]
    if missing:
        raise SystemExit(f"--init-from {init}: missing {', '.join(missing)}")
    card = init / MODEL_CARD
    earlier = json.loads(card.read_text()) if card.exists() else {}
    return {"initialised_from": {
        "dir": str(init),
        "detector_pt_sha256": sha256_of(init / "detector.pt"),
        "recognizer_pt_sha256": sha256_of(init / "recognizer.pt"),
        "version": earlier.get("version"),
        "generator_commit": earlier.get("generator_commit"),
    }}


def _reuse_note(run: Path | None) -> dict:
    if run is None:
        return {}
    earlier = json.loads((run / "recipe.json").read_text()) if (run / "recipe.json").exists() else {}
    return {"recognizer_trained_in": {"run": str(run), "recipe": earlier}}


def train_both(pools: dict, hyper: Hyper, out: Path, jobs: int, init: Path | None = None) -> None:
    """Detector and recogniser, side by side in two processes when jobs > 1."""
    if jobs > 1:
        context = multiprocessing.get_context("fork")
        workers = [context.Process(target=fn, args=(pools, hyper, out, init)) for fn in (train_detector, train_recogniser)]
        for w in workers:
            w.start()
        for w in workers:
            w.join()
        if any(w.exitcode != 0 for w in workers):
            raise SystemExit("training failed in a worker process")
    else:
        train_detector(pools, hyper, out, init)
        train_recogniser(pools, hyper, out, init)


def _fresh_pools(recipe: DataRecipe, log, jobs: int) -> dict:
    from training.data import generate_pools

    return generate_pools(recipe, log, jobs)


if __name__ == "__main__":
    main()
