"""The shipped recogniser in int8: onnxruntime's static post-training quantisation of the float export.

The recogniser is most of a frame's time (every plate costs three to seven crops), and its full 3 x 3
convolutions run 1.6 to 2 times as fast in int8 on one CPU thread, reading as many plates right
(docs/BENCHMARKS.md). The detector stays float: its depthwise convolutions ran slower in int8.

The activations' ranges are measured on crops cut exactly as the reader cuts them (the first looks'
margins around the true corners of generated frames), from a seed that no training, calibration or
evaluation set uses; the quantised file is a deterministic function of the float file and the recipe
(quantising the shipped recogniser's float export again gives the same bytes).
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from murur.alpr.imaging import FIRST_LOOKS, LOOK_MARGINS, rectify_plate

# Weights int8 per output channel, activations uint8 per tensor, their ranges the min and max seen.
# The weights use 7 of their 8 bits (reduce_range): x86 CPUs without VNNI multiply uint8 by int8 in pairs
# summed into int16, which can saturate with full-range weights, and Lambda does not promise VNNI.
SCHEME = "onnxruntime static QDQ: int8 weights per channel (7-bit range), uint8 activations, min-max ranges"
_BATCH = 16


def calibration_crops(seed: int, frames: int) -> np.ndarray:
    """float32 (N, 1, CROP_HEIGHT, CROP_WIDTH) in [0, 1]: each plate of `frames` generated frames, cut with
    the first looks' margins, as the reader feeds the recogniser."""
    from murur.alpr.evaluate import synthetic_frames
    from murur.alpr.imaging import decode_grey
    from training.data import TWO_ROW_KINDS

    crops = []
    for frame in synthetic_frames(seed, frames):
        grey = decode_grey(frame.image)
        for truth in frame.truths:
            for margins in LOOK_MARGINS[:FIRST_LOOKS]:
                crops.append(rectify_plate(grey, np.asarray(truth.corners), truth.kind in TWO_ROW_KINDS, margins))
    if not crops:
        raise ValueError(f"{frames} generated frames from seed {seed} hold no plate to calibrate on")
    return (np.stack(crops).astype(np.float32) / 255.0)[:, None]


def quantize_recognizer(float_model: Path, int8_model: Path, crops: np.ndarray) -> None:
    from onnxruntime.quantization import (
        CalibrationDataReader,
        CalibrationMethod,
        QuantFormat,
        QuantType,
        quantize_static,
    )
    from onnxruntime.quantization.shape_inference import quant_pre_process

    class Crops(CalibrationDataReader):
        def __init__(self) -> None:
            self._batches: Iterator[np.ndarray] = (crops[i:i + _BATCH] for i in range(0, len(crops), _BATCH))

        def get_next(self) -> dict | None:
            batch = next(self._batches, None)
            return None if batch is None else {"crop": batch}

    with tempfile.TemporaryDirectory() as tmp:
        # Shape inference and batch-norm folding first, so that each convolution is quantised once.
        prepared = Path(tmp) / "prepared.onnx"
        quant_pre_process(str(float_model), str(prepared))
        quantize_static(str(prepared), str(int8_model), Crops(), quant_format=QuantFormat.QDQ, per_channel=True,
                        reduce_range=True, activation_type=QuantType.QUInt8, weight_type=QuantType.QInt8,
                        calibrate_method=CalibrationMethod.MinMax)
