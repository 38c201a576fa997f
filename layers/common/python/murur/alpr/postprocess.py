"""Turning network outputs into plates: heatmap peaks, non-maximum suppression, CTC decoding.

Pure numpy, shared by the reader and the training code (which checks the same decoding it ships).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, replace

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


# Most plates reported in one frame: an enforcement camera frames a lane or two.
MAX_PLATES = 8


def decode_detector(
    output: np.ndarray, stride: int, scale: float, threshold: float, max_plates: int = MAX_PLATES
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
    # Characters replaced, added or dropped to fit a plate layout (see apply_layout_prior).
    layout_substitutions: int = 0
    # Per character, at its frame: log-odds of its class over the likeliest other character (see char_log_margins).
    char_log_margins: tuple[float, ...] = ()


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


def settle_looks(reads: Sequence[CtcRead]) -> tuple[CtcRead, float]:
    """The read that most looks at one plate agree on, the likeliest path among equals, and the share of
    the other looks that read the same text (the calibration's `rectification_agreement`).

    Each look is a cut of the same plate with other margins (murur.alpr.imaging.CHECK_MARGINS): a
    character misread or invented at a crop's edge in one cut is outvoted by the cuts that read it right.
    """
    if not reads:
        raise ValueError("no reads to settle")
    votes = Counter(read.text for read in reads)
    best = max(reads, key=lambda read: (votes[read.text], read.path_log_probability))
    agreement = (votes[best.text] - 1) / (len(reads) - 1) if len(reads) > 1 else 1.0
    return best, agreement


def looks_disagree(reads: Sequence[CtcRead]) -> bool:
    """Whether the looks read so far leave the text open (the reader then reads the other looks)."""
    return len({read.text for read in reads}) > 1


def wants_more_looks(reads: Sequence[CtcRead]) -> bool:
    """Whether a cut's looks so far call for its next batch of looks (murur.alpr.imaging.LOOK_BATCHES).

    A main look that reads nothing ends the cut: on real photos a third of the cuts are detections of no
    plate, and their other looks never read a plate right (docs/BENCHMARKS.md). After that, only looks
    that disagree are read on."""
    if len(reads) == 1:
        return bool(reads[0].text)
    return looks_disagree(reads)


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


def decode_plate_text(probs: np.ndarray) -> CtcRead:
    """Greedy CTC decoding, then the plate layouts' priors: wrong character classes, then a length one off."""
    read = apply_layout_length_prior(apply_layout_prior(ctc_greedy_decode(probs), probs), probs)
    return replace(read, char_log_margins=char_log_margins(probs, read))


def char_log_margins(probs: np.ndarray, read: CtcRead, alphabet: str = ALPHABET) -> tuple[float, ...]:
    """For each character of `read`, log p(its class) - log p(the likeliest other character) at its frame.

    A look-alike read with confidence (0 for 8 at p 0.9 against 0.08) keeps a high character probability
    but a small margin; the calibration uses the smallest (docs/BENCHMARKS.md: it halves the confident
    mistakes). Negative where a layout prior chose a class that is not the frame's likeliest character.
    """
    if not read.text:
        return ()
    rows = np.arange(len(read.text))
    characters = np.array([alphabet.index(ch) for ch in read.text])
    at_frames = probs[list(read.char_frames), 1:]  # characters only: the blank is not a rival reading
    own = at_frames[rows, characters]
    rivals = at_frames.copy()
    rivals[rows, characters] = -np.inf
    rival = rivals.max(axis=1)
    margins = (np.log(np.maximum(own, 1e-12)) - np.log(np.maximum(rival, 1e-12))).tolist()
    # Where a probability is under the floor, the floor is a float64: computed as the committed figures were.
    for i in np.flatnonzero((own < 1e-12) | (rival < 1e-12)).tolist():
        margins[i] = float(np.log(max(own[i], 1e-12)) - np.log(max(rival[i], 1e-12)))
    return tuple(margins)


# How much less likely than the best path a layout-constrained path may be and still replace it when
# the read is one character too long or too short (nats; measured on held-out crops, docs/BENCHMARKS.md).
LAYOUT_LENGTH_MARGIN = 4.0


def apply_layout_length_prior(read: CtcRead, probs: np.ndarray, margin: float = LAYOUT_LENGTH_MARGIN,
                              alphabet: str = ALPHABET) -> CtcRead:
    """A read one character longer or shorter than a fixed plate layout (a doubled `9` merged into one, a
    frame edge read as `1`) becomes the likeliest path that spells a text of that layout, when that path
    is at most `margin` nats less likely than the best path; otherwise the read is returned unchanged."""
    if not read.text or any(layout.pattern.fullmatch(read.text) for layout in _PRIOR_LAYOUTS):
        return read
    best: CtcRead | None = None
    for layout in _PRIOR_LAYOUTS:
        if abs(len(read.text) - layout.length) != 1:
            continue
        allowed = layout.allowed_chars()
        # The decoder costs about 1 ms a call: only reads one edit (and a wrong character class) away try it.
        if edit_distance(read.text, allowed) > 2:
            continue
        constrained = constrained_ctc_decode(probs, allowed, alphabet)
        if (constrained is None or not layout.pattern.fullmatch(constrained.text)
                or constrained.path_log_probability < read.path_log_probability - margin):
            continue
        if best is None or constrained.path_log_probability > best.path_log_probability:
            best = replace(constrained, layout_substitutions=edit_distance(read.text, constrained.text))
    return best or read


def constrained_ctc_decode(probs: np.ndarray, allowed: tuple[str, ...], alphabet: str = ALPHABET) -> CtcRead | None:
    """The most probable CTC path (Viterbi) whose text has exactly one character from allowed[i] at each
    position i; None when no path of that length fits in the frames.

    Written here because the CTC decoders on the package indexes search free text or a word list, not
    a per-position character class; T x positions x classes is tiny (40 x 8 x 37). Between ways into
    a state, ties go to staying, then to coming from a blank.
    """
    frames, classes = probs.shape
    length = len(allowed)
    log_p = np.log(np.maximum(probs, 1e-12)).astype(np.float64)
    mask = np.full((length, classes), -np.inf)
    for i, chars in enumerate(allowed):
        mask[i, [alphabet.index(ch) + 1 for ch in chars]] = 0.0
    emit = log_p[:, None, :] + mask  # (frames, positions, classes): writing character k as class c at frame t
    positions, before = np.arange(length), np.arange(length - 1)
    blank = np.full(length + 1, -np.inf)  # blank[k]: k characters written, now on a blank
    blank[0] = 0.0
    char = np.full((length, classes), -np.inf)  # char[k, c]: writing character k (0-based) as class c
    # What the walk back needs, frame by frame: whether each state stayed, else whether it came from the
    # blank (or from the previous character), which class a blank came from (-1: stayed), and the
    # previous position's best and runner-up classes (a repeated class needs a blank in between).
    stayed = np.zeros((frames, length, classes), bool)
    from_the_blank = np.zeros((frames, length, classes), bool)
    blank_from = np.full((frames, length + 1), -1, np.int64)
    top_class = np.zeros((frames, length), np.int64)
    second_class = np.zeros((frames, length), np.int64)
    for t in range(frames):
        # Ties are frequent (the quantised recogniser's probabilities take few values): they are broken as
        # they were when the committed figures were measured, argsort's order here and argmax's for the blank.
        top, second = np.argsort(-char, axis=1)[:, :2].T
        top_score = char[positions, top]
        previous = np.full((length, classes), -np.inf)
        previous[1:] = top_score[:-1, None]
        previous[before + 1, top[:-1]] = char[before, second[:-1]]
        from_blank = blank[:length, None]
        way_in = np.maximum(from_blank, previous)
        np.greater_equal(char, way_in, out=stayed[t])
        np.greater_equal(from_blank, previous, out=from_the_blank[t])
        top_class[t], second_class[t] = top, second
        use_char = top_score > blank[1:]
        blank_from[t, 1:] = np.where(use_char, char.argmax(axis=1), -1)
        new_blank = np.empty_like(blank)
        new_blank[0] = blank[0]
        np.maximum(top_score, blank[1:], out=new_blank[1:])
        blank = new_blank + log_p[t, 0]
        char = np.maximum(char, way_in) + emit[t]
    end_char = int(char[length - 1].argmax())
    if max(blank[length], char[length - 1, end_char]) == -np.inf:
        return None
    # Walk back: the state (characters written so far incl. the current one, class; 0 = blank) at every frame.
    states: list[tuple[int, int]] = []
    if blank[length] >= char[length - 1, end_char]:
        k, cls, score = length, 0, float(blank[length])
    else:
        k, cls, score = length, end_char, float(char[length - 1, end_char])
    for t in range(frames - 1, -1, -1):
        states.append((k, cls))
        if cls == 0:
            source = int(blank_from[t, k])
            if source >= 0:
                cls = source
            continue
        if stayed[t, k - 1, cls]:
            continue
        if from_the_blank[t, k - 1, cls]:
            cls, k = 0, k - 1
        else:
            best_before = int(top_class[t, k - 2])
            cls, k = (best_before if best_before != cls else int(second_class[t, k - 2])), k - 1
    states.reverse()
    chars: list[str] = []
    confidences: list[float] = []
    char_frames: list[int] = []
    written = 0
    for t, (k, c) in enumerate(states):
        if c == 0:
            continue
        if k > written:
            written = k
            chars.append(alphabet[c - 1])
            confidences.append(float(probs[t, c]))
            char_frames.append(t)
        elif probs[t, c] > confidences[-1]:
            confidences[-1] = float(probs[t, c])
            char_frames[-1] = t
    return CtcRead(text="".join(chars), char_confidences=tuple(confidences), path_log_probability=score,
                   char_frames=tuple(char_frames))


def edit_distance(text: str, target: Sequence[str]) -> int:
    """Levenshtein distance from `text` to `target`, whose positions are strings of allowed characters: a
    plain string is the usual distance, a layout's `allowed_chars()` counts wrong character classes."""
    previous = list(range(len(target) + 1))
    for i, ch in enumerate(text, 1):
        current = [i]
        for j, allowed in enumerate(target, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ch not in allowed)))
        previous = current
    return previous[-1]
