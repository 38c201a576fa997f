"""Read confidence: a logistic model over what the networks and the plate formats say about a read.

Fitted on held-out synthetic frames by the training code and stored in the model card, so that a
confidence of 0.99 means the read is right about 99 % of the time on data like that held-out set.
Written out here (a dozen lines of Newton steps) rather than pulling scikit-learn into the Lambda.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from murur.alpr.formats import match_layout

FEATURE_NAMES = (
    "path_log_probability",
    "min_char_log_confidence",
    "detector_log_score",
    "specific_layout",
    "no_layout",
    "layout_substitutions",
    "rectification_agreement",
    "min_char_log_margin",
)
# The smallest character margin is clipped to this range: beyond it a margin says nothing more.
MARGIN_RANGE = (-5.0, 15.0)


def read_features(
    path_log_probability: float, char_confidences: Sequence[float], detector_score: float, text: str,
    layout_substitutions: int = 0, rectification_agreement: float = 1.0, char_log_margins: Sequence[float] = (),
) -> np.ndarray:
    """`rectification_agreement`: the share of the other looks read at the plate (murur.alpr.imaging.CHECK_MARGINS:
    all of them, or only the first FIRST_LOOKS when those agree, which gives 1.0) that read the same text
    (murur.alpr.postprocess.settle_looks). `char_log_margins`: murur.alpr.postprocess.char_log_margins."""
    layout = match_layout(text) if text else None
    min_char = min(char_confidences) if char_confidences else 1e-6
    return np.array(
        [
            max(path_log_probability, -30.0),
            float(np.log(max(min_char, 1e-6))),
            float(np.log(max(detector_score, 1e-6))),
            1.0 if layout is not None and layout.specificity > 0 else 0.0,
            1.0 if layout is None else 0.0,
            float(layout_substitutions),
            float(rectification_agreement),
            float(np.clip(min(char_log_margins), *MARGIN_RANGE)) if char_log_margins else 0.0,
        ]
    )


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-np.clip(z, -40, 40)))


@dataclass(frozen=True)
class Calibrator:
    weights: tuple[float, ...]
    bias: float

    def confidence(self, features: np.ndarray) -> float:
        return float(_sigmoid(np.dot(self.weights, features) + self.bias))

    @classmethod
    def fit(cls, features: np.ndarray, correct: np.ndarray, l2: float = 1e-3, steps: int = 50) -> Calibrator:
        """Logistic regression by Newton's method (small L2 penalty keeps it finite on separable data)."""
        x = np.hstack([features, np.ones((len(features), 1))])
        y = correct.astype(np.float64)
        w = np.zeros(x.shape[1])
        penalty = np.eye(x.shape[1]) * l2
        penalty[-1, -1] = 0.0
        for _ in range(steps):
            p = _sigmoid(x @ w)
            gradient = x.T @ (p - y) + penalty @ w
            hessian = (x * (p * (1 - p))[:, None]).T @ x + penalty + np.eye(x.shape[1]) * 1e-9
            w -= np.linalg.solve(hessian, gradient)
        return cls(weights=tuple(float(v) for v in w[:-1]), bias=float(w[-1]))

    def to_json(self) -> dict:
        return {"features": list(FEATURE_NAMES), "weights": list(self.weights), "bias": self.bias}

    @classmethod
    def from_json(cls, data: dict) -> Calibrator:
        names = list(data["features"])
        if names != list(FEATURE_NAMES[: len(names)]):
            raise ValueError("the model card's calibration uses different features than this reader")
        # A card from before a feature was added gives it no weight.
        weights = [float(v) for v in data["weights"]] + [0.0] * (len(FEATURE_NAMES) - len(names))
        return cls(weights=tuple(weights), bias=float(data["bias"]))


def auto_issue_threshold(confidences: np.ndarray, correct: np.ndarray, target_precision: float = 0.999) -> float:
    """Lowest confidence at which the reads at or above it are right at least `target_precision` of the time.

    Conservative on small sets: the count of wrong reads is taken as one more than observed, so the
    target needs at least 1 / (1 - target_precision) accepted reads; otherwise the threshold is 1.0
    (nothing is auto-issued).
    """
    return threshold_on_every_set([(confidences, correct)], target_precision)


def threshold_on_every_set(sets: Sequence[tuple[np.ndarray, np.ndarray]], target_precision: float = 0.999) -> float:
    """Lowest confidence that meets `auto_issue_threshold`'s rule on each of the (confidences, correct) sets
    at once; 1.0 when none does. Reads tied at the threshold are accepted together."""
    sets = [(np.asarray(conf, np.float64), np.asarray(correct, bool)) for conf, correct in sets]
    candidates = np.unique(np.concatenate([conf for conf, _ in sets] + [np.ones(0)]))
    valid = np.ones(len(candidates), bool)
    for confidences, correct in sets:
        order = np.argsort(confidences)
        conf, wrong = confidences[order], ~correct[order]
        first_taken = np.searchsorted(conf, candidates, side="left")
        accepted = len(conf) - first_taken
        wrong_above = np.concatenate([np.cumsum(wrong[::-1])[::-1], [0]])[first_taken]
        valid &= rule_holds(wrong_above, accepted, target_precision)
    return float(candidates[valid].min()) if valid.any() else 1.0


def rule_holds(wrong: np.ndarray | int, accepted: np.ndarray | int, target_precision: float = 0.999) -> np.ndarray | bool:
    """The auto-issue rule for `accepted` reads of which `wrong` are wrong (elementwise on arrays)."""
    # One wrong read more than observed: no mistakes among 50 reads do not prove 99.9 %.
    return np.asarray(wrong) + 1 <= (1 - target_precision) * np.asarray(accepted)


def reliability_table(confidences: np.ndarray, correct: np.ndarray, bins: Sequence[float] = (0, 0.5, 0.8, 0.9, 0.95, 0.99, 0.999, 1.0001)) -> list[dict]:
    rows = []
    for lo, hi in zip(bins[:-1], bins[1:]):
        mask = (confidences >= lo) & (confidences < hi)
        if mask.any():
            rows.append({"bin": f"[{lo:g}, {min(hi, 1):g}]", "count": int(mask.sum()),
                         "mean_confidence": float(confidences[mask].mean()), "accuracy": float(correct[mask].mean())})
    return rows
