"""Turning network outputs into plates: heatmap peaks, non-maximum suppression, CTC decoding.

Pure numpy, shared by the reader and the training code (which checks the same decoding it ships).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from murur.alpr.formats import ALPHABET, LAYOUTS

# Detector output layout: channel 0 plate-centre heatmap (probability), 1..8 the four corners
# (TL, TR, BR, BL; x then y) relative to the cell centre in input pixels / OFFSET_SCALE,
# 9 the probability that the plate has two rows of characters.
DETECTOR_CHANNELS = 10
OFFSET_SCALE = 32.0


@dataclass(frozen=True)
class Detection:
    score: float
    corners: np.ndarray  # float (4, 2), TL, TR, BR, BL, in the coordinates of the source image
    two_rows_probability: float

    @property
    def box(self) -> tuple[int, int, int, int]:
        return corners_to_box(self.corners)


def corners_to_box(corners: np.ndarray) -> tuple[int, int, int, int]:
    x1, y1 = np.floor(corners.min(axis=0)).astype(int)
    x2, y2 = np.ceil(corners.max(axis=0)).astype(int)
    return int(x1), int(y1), int(x2), int(y2)


def box_iou(a: tuple[int, int, int, int], b: tuple[int, int, int, int]) -> float:
    ix = max(0, min(a[2], b[2]) - max(a[0], b[0]))
    iy = max(0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = ix * iy
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union > 0 else 0.0


def non_maximum_suppression(detections: list[Detection], iou_threshold: float = 0.3) -> list[Detection]:
    """Highest score first; drops any detection whose box overlaps a kept one above the threshold."""
    kept: list[Detection] = []
    for det in sorted(detections, key=lambda d: -d.score):
        if all(box_iou(det.box, k.box) <= iou_threshold for k in kept):
            kept.append(det)
    return kept


def heatmap_peaks(heat: np.ndarray, threshold: float, max_peaks: int) -> list[tuple[int, int, float]]:
    """(row, col, score) of the local 3x3 maxima of `heat` above `threshold`, best first."""
    padded = np.pad(heat, 1, constant_values=-np.inf)
    h, w = heat.shape
    neighbourhood = np.max(
        np.stack([padded[dy : dy + h, dx : dx + w] for dy in range(3) for dx in range(3)]), axis=0
    )
    rows, cols = np.nonzero((heat >= neighbourhood) & (heat >= threshold))
    scores = heat[rows, cols]
    order = np.argsort(-scores)[:max_peaks]
    return [(int(rows[i]), int(cols[i]), float(scores[i])) for i in order]


def decode_detector(
    output: np.ndarray, stride: int, scale: float, threshold: float, max_plates: int = 8
) -> list[Detection]:
    """Plates from one detector output (DETECTOR_CHANNELS x H x W) of an image letterboxed by `scale`."""
    heat = output[0]
    detections = []
    for row, col, score in heatmap_peaks(heat, threshold, max_plates * 2):
        centre = np.array([(col + 0.5) * stride, (row + 0.5) * stride])
        offsets = output[1:9, row, col].reshape(4, 2) * OFFSET_SCALE
        corners = (centre + offsets) / scale
        detections.append(Detection(score=score, corners=corners, two_rows_probability=float(output[9, row, col])))
    return non_maximum_suppression(detections)[:max_plates]


@dataclass(frozen=True)
class CtcRead:
    text: str
    char_confidences: tuple[float, ...]
    path_log_probability: float  # log-probability of the greedy path (blanks included)
    char_frames: tuple[int, ...] = ()  # the frame where each character is most probable
    layout_substitutions: int = 0  # characters replaced to fit a plate layout (see apply_layout_prior)


def softmax(logits: np.ndarray, axis: int = -1) -> np.ndarray:
    shifted = logits - logits.max(axis=axis, keepdims=True)
    exp = np.exp(shifted)
    return exp / exp.sum(axis=axis, keepdims=True)


def ctc_greedy_decode(probs: np.ndarray, alphabet: str = ALPHABET) -> CtcRead:
    """Best-path decoding of T x (1 + len(alphabet)) probabilities (class 0 is the blank).

    A character's confidence is the highest probability it reaches over the frames it spans.
    """
    best = probs.argmax(axis=1)
    best_p = probs[np.arange(len(best)), best]
    chars: list[str] = []
    confidences: list[float] = []
    frames: list[int] = []
    previous = 0
    for t, (cls, p) in enumerate(zip(best.tolist(), best_p.tolist())):
        if cls != 0:
            if cls != previous:
                chars.append(alphabet[cls - 1])
                confidences.append(p)
                frames.append(t)
            elif p > confidences[-1]:
                confidences[-1] = p
                frames[-1] = t
        previous = cls
    path = float(np.sum(np.log(np.maximum(best_p, 1e-12))))
    return CtcRead(text="".join(chars), char_confidences=tuple(confidences), path_log_probability=path,
                   char_frames=tuple(frames))


# Fixed-length layouts whose character classes are used as a prior when decoding.
_PRIOR_LAYOUTS = tuple(layout for layout in LAYOUTS if layout.length is not None and layout.specificity > 0)


def apply_layout_prior(read: CtcRead, probs: np.ndarray, max_substitutions: int = 2,
                       alphabet: str = ALPHABET) -> CtcRead:
    """Replace up to `max_substitutions` characters that a plate layout forbids at their position by
    the likeliest allowed character at the same frame (O->0 among the digits, 8->B among the letters).

    Only when the result satisfies the layout exactly; otherwise the read is returned unchanged.
    """
    best: CtcRead | None = None
    for layout in _PRIOR_LAYOUTS:
        if layout.length != len(read.text) or not read.char_frames:
            continue
        allowed = layout.allowed_chars()
        wrong = [i for i, ch in enumerate(read.text) if ch not in allowed[i]]
        if not wrong or len(wrong) > max_substitutions:
            continue
        chars, confidences = list(read.text), list(read.char_confidences)
        path = read.path_log_probability
        for i in wrong:
            frame = probs[read.char_frames[i]]
            classes = [alphabet.index(ch) + 1 for ch in allowed[i]]
            cls = max(classes, key=lambda c: frame[c])
            chars[i] = alphabet[cls - 1]
            path += float(np.log(max(frame[cls], 1e-12)) - np.log(max(confidences[i], 1e-12)))
            confidences[i] = float(frame[cls])
        text = "".join(chars)
        if layout.pattern.fullmatch(text) and (best is None or len(wrong) < best.layout_substitutions):
            best = CtcRead(text, tuple(confidences), path, read.char_frames, len(wrong))
    return best or read
