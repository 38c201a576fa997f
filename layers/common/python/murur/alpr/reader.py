"""The plate reader: finds number plates in a camera frame and reads them, on onnxruntime.

Runs with numpy, Pillow and onnxruntime only (no torch, no OpenCV), on one thread by default, as a
Lambda function does. The networks (detector, corner refiner when the card lists one, recogniser) and
their calibration come from `models/` (see its README).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from functools import lru_cache
from pathlib import Path

import numpy as np
from PIL import Image

from murur.alpr.calibration import Calibrator, read_features
from murur.alpr.formats import ALPHABET, match_layout
from murur.alpr.imaging import (
    LOOK_BATCHES,
    LOOK_MARGINS,
    InvalidImage,
    apply_homography,
    decode_grey,
    letterbox,
    rectify_plate,
    refiner_neighbourhood,
)
from murur.alpr.postprocess import (
    MAX_PLATES,
    CtcRead,
    Detection,
    decode_detector,
    decode_plate_text,
    non_maximum_suppression,
    settle_looks,
    softmax,
    wants_more_looks,
)

MODELS_DIR = Path(__file__).with_name("models")
MODEL_CARD = "model_card.json"

# Row-count decisions this close to even are settled by reading the plate both ways.
_ROWS_UNSURE = (0.25, 0.75)
# A frame where no detection scores this much is searched again with the frame shrunk to the size the
# detector was trained at (docs/BENCHMARKS.md: it finds plates the larger input misses, mostly on real photos).
_SURE_DETECTION = 0.6

__all__ = ["InvalidImage", "ModelNotAvailable", "PlateRead", "PlateReader"]


class ModelNotAvailable(RuntimeError):
    """The model files or their card are missing or unreadable."""


@dataclass(frozen=True)
class PlateRead:
    text: str  # normalised: upper case, no spaces or dashes
    confidence: float  # calibrated probability that `text` is exactly right
    char_confidences: tuple[float, ...]
    box: tuple[int, int, int, int]  # x1, y1, x2, y2 in the upright image's pixels, as the detector found it
    model_version: str
    corners: tuple[tuple[float, float], ...] | None = None  # TL, TR, BR, BL, refined: what the plate was read from
    layout: str | None = None  # formats layout id, None when the text fits no known layout
    detector_score: float = field(default=0.0, compare=False)
    two_rows: bool = False
    path_log_probability: float = field(default=0.0, compare=False, repr=False)
    layout_substitutions: int = field(default=0, compare=False)
    rectification_agreement: float = field(default=1.0, compare=False)
    char_log_margins: tuple[float, ...] = field(default=(), compare=False, repr=False)

    def features(self) -> np.ndarray:
        """What the calibration looks at (see murur.alpr.calibration)."""
        return read_features(self.path_log_probability, self.char_confidences, self.detector_score, self.text,
                             self.layout_substitutions, self.rectification_agreement, self.char_log_margins)

    def to_json(self) -> dict:
        return {
            "text": self.text,
            "confidence": round(self.confidence, 4),
            "char_confidences": [round(c, 4) for c in self.char_confidences],
            "box": list(self.box),
            "corners": [[round(x, 1), round(y, 1)] for x, y in self.corners] if self.corners else None,
            "layout": self.layout,
            "two_rows": self.two_rows,
            "model_version": self.model_version,
        }


def _session(path: Path, threads: int):
    import onnxruntime as ort  # imported here: importing murur.alpr stays cheap for code that only needs types

    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    return ort.InferenceSession(str(path), sess_options=options, providers=["CPUExecutionProvider"])


class PlateReader:
    """Detector + recogniser + calibration, loaded from a model directory holding a model card."""

    def __init__(self, model_dir: Path | str = MODELS_DIR, threads: int = 1):
        model_dir = Path(model_dir)
        card_path = model_dir / MODEL_CARD
        try:
            card = json.loads(card_path.read_text())
            detector_file = model_dir / card["detector"]["file"]
            recognizer_file = model_dir / card["recognizer"]["file"]
            refiner_file = model_dir / card["refiner"]["file"] if "refiner" in card else None
            if not all(f.is_file() for f in (detector_file, recognizer_file, refiner_file) if f is not None):
                raise FileNotFoundError(f"model files listed in {card_path} are missing")
        except (OSError, KeyError, ValueError) as exc:
            raise ModelNotAvailable(f"no usable plate models in {model_dir}: {exc}") from exc
        if card["recognizer"].get("alphabet", ALPHABET) != ALPHABET:
            raise ModelNotAvailable("the recogniser was trained for a different alphabet")
        self.card = card
        self.model_version: str = card["version"]
        self.auto_issue_threshold: float = float(card["auto_issue_threshold"])
        try:
            self.calibrator = Calibrator.from_json(card["calibration"])
        except (KeyError, ValueError) as exc:
            raise ModelNotAvailable(f"unusable calibration in {card_path}: {exc}") from exc
        det = card["detector"]
        self._det_size = (int(det["input_width"]), int(det["input_height"]))
        self._det_stride = int(det["stride"])
        self._det_threshold = float(det["threshold"])
        # The share of the input that the frames the detector was trained on filled (1.0: no second pass).
        trained_width = card.get("data_recipe", {}).get("detector_size", [self._det_size[0]])[0]
        self.second_scale = min(1.0, float(trained_width) / self._det_size[0])
        self._detector = _session(detector_file, threads)
        self._recognizer = _session(recognizer_file, threads)
        self._refiner = _session(refiner_file, threads) if refiner_file is not None else None

    @classmethod
    def default(cls) -> PlateReader:
        """The shipped models, loaded once per process."""
        return _default_reader()

    # ------------------------------------------------------------------ stages

    def detect(self, grey: Image.Image) -> list[Detection]:
        """The plates found at the detector's input size and, in a frame where none is sure, at its training size."""
        detections = self.detect_at(grey, 1.0)
        if self.second_scale < 1.0 and not any(d.score >= _SURE_DETECTION for d in detections):
            detections = non_maximum_suppression(detections + self.detect_at(grey, self.second_scale))[:MAX_PLATES]
        return detections

    def detect_at(self, grey: Image.Image, shrink: float) -> list[Detection]:
        """One detector pass over the frame letterboxed into `shrink` of the input, the rest left black."""
        canvas, scale = letterbox(grey, *self._det_size, fill=shrink)
        batch = (canvas.astype(np.float32) / 255.0)[None, None]
        (output,) = self._detector.run(None, {"image": batch})
        return decode_detector(output[0], self._det_stride, scale, self._det_threshold)

    def refine(self, grey: Image.Image, detections: list[Detection]) -> list[Detection]:
        """The detections with their corners moved onto the plate by the corner refiner, which looks at each
        plate's neighbourhood at the frame's own resolution (the detector sees the frame shrunk). Unchanged
        without a refiner."""
        if self._refiner is None or not detections:
            return detections
        views = [refiner_neighbourhood(grey, d.corners) for d in detections]
        batch = np.stack([crop for crop, _ in views]).astype(np.float32)[:, None] / 255.0
        (unit_corners,) = self._refiner.run(None, {"crop": batch})
        return [replace(d, corners=apply_homography(to_frame, unit)) if _inside_view(unit) else d
                for d, (_, to_frame), unit in zip(detections, views, unit_corners)]

    def recognise(self, crops: np.ndarray) -> list[CtcRead]:
        """Reads of N rectified crops (uint8 N x CROP_HEIGHT x CROP_WIDTH)."""
        if len(crops) == 0:
            return []
        batch = (crops.astype(np.float32) / 255.0)[:, None]
        (logits,) = self._recognizer.run(None, {"crop": batch})
        return [decode_plate_text(softmax(seq)) for seq in logits]

    def confidence(self, read: CtcRead, detector_score: float, agreement: float) -> float:
        return self.calibrator.confidence(
            read_features(read.path_log_probability, read.char_confidences, detector_score, read.text,
                          read.layout_substitutions, agreement, read.char_log_margins)
        )

    @staticmethod
    def _row_options(two_rows_probability: float) -> list[bool]:
        if _ROWS_UNSURE[0] < two_rows_probability < _ROWS_UNSURE[1]:
            return [False, True]
        return [two_rows_probability >= 0.5]

    def _read_looks(self, grey: Image.Image, detections: list[Detection], cuts: list[tuple[int, bool]],
                    margins: tuple[tuple[float, float], ...]) -> list[list[CtcRead]]:
        """For each cut, the reads of its crops with each of `margins`, all in one recogniser batch."""
        crops = [rectify_plate(grey, detections[index].corners, two_rows, m) for index, two_rows in cuts for m in margins]
        reads = self.recognise(np.stack(crops))
        n = len(margins)
        return [reads[i * n:(i + 1) * n] for i in range(len(cuts))]

    def _read_cuts(self, grey: Image.Image, detections: list[Detection], cuts: list[tuple[int, bool]]) -> list[list[CtcRead]]:
        """Each cut's looks, one recogniser batch per LOOK_BATCHES slice, for the cuts that want more looks."""
        return read_in_batches(len(cuts), lambda open_cuts, margins: self._read_looks(
            grey, detections, [cuts[cut] for cut in open_cuts], margins))

    # ------------------------------------------------------------------ whole frames

    def read(self, image_bytes: bytes) -> list[PlateRead]:
        """Every plate found in the encoded image, most confident first. Raises InvalidImage."""
        return self.read_image(decode_grey(image_bytes))

    def read_image(self, grey: Image.Image) -> list[PlateRead]:
        found = self.detect(grey)
        if not found:
            return []
        # Plates are read from the refined corners; the box stays the detector's, which fits labelled boxes
        # of real photos better (docs/BENCHMARKS.md: refined quads reach onto plate frames there).
        detections = self.refine(grey, found)
        # Each way of cutting a plate (detection, row count) is read in several looks (_read_cuts).
        cuts = [(index, two_rows) for index, det in enumerate(detections)
                for two_rows in self._row_options(det.two_rows_probability)]
        looks = self._read_cuts(grey, detections, cuts)
        best: dict[int, tuple[float, CtcRead, bool, float]] = {}
        for (index, two_rows), reads in zip(cuts, looks):
            read, agreement = settle_looks(reads)
            if not read.text:  # no plate in this cut: it must not outrank the other row count's read
                continue
            conf = self.confidence(read, detections[index].score, agreement)
            if index not in best or conf > best[index][0]:
                best[index] = (conf, read, two_rows, agreement)
        plates = []
        width, height = grey.size
        for index, (conf, read, two_rows, agreement) in best.items():
            det = detections[index]
            corners = np.clip(det.corners, 0, [width, height])
            layout = match_layout(read.text)
            x1, y1, x2, y2 = found[index].box
            plates.append(
                PlateRead(
                    text=read.text,
                    confidence=conf,
                    char_confidences=tuple(float(c) for c in read.char_confidences),
                    box=(max(0, x1), max(0, y1), min(width, x2), min(height, y2)),
                    corners=tuple((float(x), float(y)) for x, y in corners),
                    layout=layout.id if layout else None,
                    model_version=self.model_version,
                    detector_score=det.score,
                    two_rows=two_rows,
                    path_log_probability=read.path_log_probability,
                    layout_substitutions=read.layout_substitutions,
                    rectification_agreement=agreement,
                    char_log_margins=read.char_log_margins,
                )
            )
        return sorted(plates, key=lambda p: -p.confidence)


def read_in_batches(cut_count: int, read_batch) -> list[list[CtcRead]]:
    """The looks of `cut_count` cuts as the reader reads them: for each LOOK_BATCHES slice,
    `read_batch(open_cuts, margins)` reads those margins for the cuts whose looks so far want more
    (postprocess.wants_more_looks) and returns each one's reads."""
    looks: list[list[CtcRead]] = [[] for _ in range(cut_count)]
    for start, end in LOOK_BATCHES:
        open_cuts = [cut for cut, reads in enumerate(looks) if not reads or wants_more_looks(reads)]
        if open_cuts and end > start:
            for cut, reads in zip(open_cuts, read_batch(open_cuts, LOOK_MARGINS[start:end])):
                looks[cut] = looks[cut] + reads
    return looks


def _inside_view(unit_corners: np.ndarray) -> bool:
    """Whether refined corners lie in the neighbourhood the refiner saw: one placed outside it is a guess,
    and the detector's own corners are kept instead."""
    return bool(np.all((unit_corners >= 0.0) & (unit_corners <= 1.0)))


@lru_cache(maxsize=1)
def _default_reader() -> PlateReader:
    return PlateReader(MODELS_DIR)
