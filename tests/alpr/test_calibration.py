"""Confidence calibration and the auto-issue threshold."""

import numpy as np
import pytest

from murur.alpr.calibration import FEATURE_NAMES, Calibrator, auto_issue_threshold, read_features, threshold_on_every_set


def test_fit_learns_that_likelier_paths_are_more_often_right():
    rng = np.random.default_rng(0)
    path = rng.uniform(-8, 0, 4000)
    correct = rng.random(4000) < 1 / (1 + np.exp(-(2.0 * path + 6)))
    features = np.zeros((4000, len(FEATURE_NAMES)))
    features[:, 0] = path
    calibrator = Calibrator.fit(features, correct)
    assert calibrator.weights[0] == pytest.approx(2.0, abs=0.4)
    high, low = features[path > -1], features[path < -5]
    assert np.mean([calibrator.confidence(f) for f in high]) > 0.95
    assert np.mean([calibrator.confidence(f) for f in low]) < 0.05


def test_json_round_trip_and_feature_check():
    calibrator = Calibrator(weights=(1.0, 0.5, 0.1, 2.0, -1.0, -0.5, 1.5, 0.4), bias=0.3)
    assert len(calibrator.weights) == len(FEATURE_NAMES)
    assert Calibrator.from_json(calibrator.to_json()) == calibrator
    # A card fitted before the last feature existed gives that feature no weight.
    older = Calibrator.from_json({"features": list(FEATURE_NAMES[:-1]), "weights": [1.0] * (len(FEATURE_NAMES) - 1),
                                  "bias": 0.0})
    assert older.weights[-1] == 0.0 and len(older.weights) == len(FEATURE_NAMES)
    with pytest.raises(ValueError):
        Calibrator.from_json({**calibrator.to_json(), "features": ["something_else"]})


def test_features_know_the_layouts():
    civil = read_features(-0.1, [0.99] * 8, 0.9, "1234AB00")
    foreign = read_features(-0.1, [0.99] * 6, 0.9, "ABC123")
    odd = read_features(-0.1, [0.99] * 2, 0.9, "AB")
    assert civil[3] == 1 and civil[4] == 0
    assert foreign[3] == 0 and foreign[4] == 0
    assert odd[4] == 1
    assert civil[FEATURE_NAMES.index("rectification_agreement")] == 1.0
    agreement = FEATURE_NAMES.index("rectification_agreement")
    assert read_features(-0.1, [0.99] * 8, 0.9, "1234AB00", rectification_agreement=0.5)[agreement] == 0.5


def test_the_smallest_character_margin_counts_clipped():
    margin = FEATURE_NAMES.index("min_char_log_margin")
    assert read_features(-0.1, [0.99] * 4, 0.9, "AB12", char_log_margins=(6.0, 1.5, 9.0, 3.0))[margin] == 1.5
    assert read_features(-0.1, [0.99] * 4, 0.9, "AB12", char_log_margins=(40.0,) * 4)[margin] == 15.0
    assert read_features(-0.1, [0.99] * 4, 0.9, "AB12", char_log_margins=(-30.0, 2.0, 2.0, 2.0))[margin] == -5.0
    assert read_features(-0.1, [0.99] * 4, 0.9, "AB12")[margin] == 0.0  # no margins given: no information


def test_a_smaller_margin_lowers_the_confidence_when_the_calibration_weighs_it():
    weights = [0.0] * len(FEATURE_NAMES)
    weights[FEATURE_NAMES.index("min_char_log_margin")] = 0.8
    calibrator = Calibrator(weights=tuple(weights), bias=0.0)
    sure = calibrator.confidence(read_features(-0.1, [0.99] * 4, 0.9, "AB12", char_log_margins=(8.0,) * 4))
    look_alike = calibrator.confidence(read_features(-0.1, [0.99] * 4, 0.9, "AB12", char_log_margins=(8.0, 0.5, 8.0, 8.0)))
    assert look_alike < 0.7 < 0.99 < sure


def test_threshold_meets_the_precision_target():
    confidences = np.linspace(0, 1, 5001)
    correct = confidences > 0.3  # every read below 0.3 is wrong
    correct[[4000, 4500]] = False  # two confident mistakes
    threshold = auto_issue_threshold(confidences, correct, 0.999)
    accepted = confidences >= threshold
    assert (correct[accepted]).mean() >= 0.999
    assert threshold < 0.35  # two errors among thousands do not push it to the top


def test_threshold_is_one_when_nothing_is_precise_enough():
    assert auto_issue_threshold(np.array([0.9, 0.8]), np.array([False, True]), 0.999) == 1.0


def test_too_few_reads_cannot_prove_the_target():
    confidences = np.linspace(0.5, 1, 200)
    assert auto_issue_threshold(confidences, np.ones(200, bool), 0.999) == 1.0
    assert auto_issue_threshold(np.linspace(0.5, 1, 2000), np.ones(2000, bool), 0.999) < 1.0


def test_the_threshold_on_every_set_is_the_strictest_that_each_set_needs():
    confidences = np.linspace(0.5, 1, 4001)
    lenient = np.ones(4001, bool)
    strict = lenient.copy()
    strict[[500, 600, 700, 800, 900]] = False  # mistakes in the middle: this set needs a higher threshold
    together = threshold_on_every_set([(confidences, lenient), (confidences, strict)], 0.999)
    assert together == auto_issue_threshold(confidences, strict, 0.999) > auto_issue_threshold(confidences, lenient, 0.999)
    for correct in (lenient, strict):
        taken = confidences >= together
        assert (~correct[taken]).sum() + 1 <= 0.001 * taken.sum()
    assert threshold_on_every_set([(confidences, strict), (np.array([0.99]), np.array([False]))], 0.999) == 1.0


def test_reads_tied_at_the_threshold_are_accepted_together():
    confidences = np.concatenate([np.linspace(0.5, 0.9, 2000), np.full(1500, 0.95), np.linspace(0.96, 1, 1500)])
    correct = np.ones(len(confidences), bool)
    correct[2000:2010] = False  # ten wrong among the tied reads: accepting the tie breaks 99.9 %
    threshold = auto_issue_threshold(confidences, correct, 0.999)
    assert threshold > 0.95
    assert threshold_on_every_set([(confidences, correct)], 0.999) == threshold


def test_the_rule_counts_one_wrong_read_more_than_observed():
    from murur.alpr.calibration import rule_holds

    assert rule_holds(0, 1000) and not rule_holds(0, 999)
    assert rule_holds(1, 2000) and not rule_holds(1, 1999)
    assert list(rule_holds(np.array([0, 1, 2]), np.array([1000, 1000, 3000]))) == [True, False, True]
