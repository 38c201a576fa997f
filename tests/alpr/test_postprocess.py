"""Decoding of the networks' outputs: CTC, heatmap peaks, non-maximum suppression, box mapping."""

import numpy as np
import pytest
from murur.alpr.formats import ALPHABET
from murur.alpr.postprocess import (
    DETECTOR_CHANNELS,
    OFFSET_SCALE,
    CtcRead,
    Detection,
    apply_layout_length_prior,
    apply_layout_prior,
    box_iou,
    char_log_margins,
    constrained_ctc_decode,
    corners_to_box,
    ctc_greedy_decode,
    decode_detector,
    decode_plate_text,
    edit_distance,
    heatmap_peaks,
    looks_disagree,
    non_maximum_suppression,
    settle_looks,
    wants_more_looks,
)


def one_hot_path(path: str, p: float = 0.9) -> np.ndarray:
    """Probabilities whose best path is `path` ('-' = blank), each frame's winner at probability p."""
    classes = 1 + len(ALPHABET)
    probs = np.full((len(path), classes), (1 - p) / (classes - 1))
    for t, ch in enumerate(path):
        probs[t, 0 if ch == "-" else ALPHABET.index(ch) + 1] = p
    return probs


def test_ctc_collapses_repeats_and_drops_blanks():
    read = ctc_greedy_decode(one_hot_path("--11-1--AA-B0--"))
    assert read.text == "11AB0"


def test_ctc_blank_separates_a_doubled_character():
    assert ctc_greedy_decode(one_hot_path("3-3")).text == "33"
    assert ctc_greedy_decode(one_hot_path("33")).text == "3"


def test_ctc_char_confidence_is_the_best_frame_of_the_character():
    probs = one_hot_path("-AA-B-", p=0.9)
    probs[1, ALPHABET.index("A") + 1] = 0.6
    read = ctc_greedy_decode(probs)
    assert read.text == "AB"
    assert read.char_confidences == pytest.approx((0.9, 0.9))
    assert read.path_log_probability == pytest.approx(5 * np.log(0.9) + np.log(0.6))


def test_ctc_empty_when_only_blanks():
    read = ctc_greedy_decode(one_hot_path("-----"))
    assert read.text == "" and read.char_confidences == ()


def test_heatmap_peaks_are_local_maxima_above_threshold_best_first():
    heat = np.zeros((10, 12))
    heat[2, 3], heat[2, 4] = 0.9, 0.5  # a neighbour of a stronger peak is not a peak
    heat[7, 9] = 0.95
    heat[5, 1] = 0.2  # below the threshold
    assert heatmap_peaks(heat, threshold=0.3, max_peaks=5) == [(7, 9, 0.95), (2, 3, 0.9)]
    assert heatmap_peaks(heat, threshold=0.3, max_peaks=1) == [(7, 9, 0.95)]


def square(x, y, size):
    return np.array([[x, y], [x + size, y], [x + size, y + size], [x, y + size]], float)


def test_non_maximum_suppression_keeps_the_best_of_overlapping_boxes():
    a = Detection(0.9, square(0, 0, 10), 0.0)
    b = Detection(0.8, square(1, 1, 10), 0.0)
    c = Detection(0.7, square(50, 50, 10), 0.0)
    kept = non_maximum_suppression([b, c, a])
    assert kept == [a, c]


def test_box_iou_and_corner_box():
    assert corners_to_box(np.array([[1.2, 2.7], [9.5, 2.0], [9.9, 6.1], [0.8, 6.0]])) == (0, 2, 10, 7)
    assert box_iou((0, 0, 10, 10), (0, 0, 10, 10)) == 1.0
    assert box_iou((0, 0, 10, 10), (5, 0, 15, 10)) == pytest.approx(50 / 150)
    assert box_iou((0, 0, 10, 10), (20, 20, 30, 30)) == 0.0


def test_decode_detector_maps_corners_back_to_the_source_image():
    stride, scale = 8, 0.5  # the source image was shrunk by half before detection
    output = np.zeros((DETECTOR_CHANNELS, 6, 8), np.float32)
    row, col = 3, 5
    output[0, row, col] = 0.8
    centre = np.array([(col + 0.5) * stride, (row + 0.5) * stride])
    corners_in_input = centre + np.array([[-12, -3], [12, -3], [12, 3], [-12, 3]], float)
    output[1:9, row, col] = ((corners_in_input - centre) / OFFSET_SCALE).reshape(-1)
    output[9, row, col] = 0.9
    (det,) = decode_detector(output, stride, scale, threshold=0.3)
    assert det.score == pytest.approx(0.8)
    assert det.two_rows_probability == pytest.approx(0.9)
    np.testing.assert_allclose(det.corners, corners_in_input / scale, atol=1e-4)
    assert det.box == corners_to_box(corners_in_input / scale)


def test_layout_prior_fixes_a_letter_read_where_a_digit_must_be():
    probs = one_hot_path("1-2-3-4-A-B-O-O", p=0.6)
    zero = ALPHABET.index("0") + 1
    probs[14, zero] = 0.3  # the last O could also be a 0
    probs[12, zero] = 0.35
    read = apply_layout_prior(ctc_greedy_decode(probs), probs)
    assert read.text == "1234AB00"
    assert read.layout_substitutions == 2
    assert read.char_confidences[-2:] == pytest.approx((0.35, 0.3))


def test_char_margins_are_the_log_odds_over_the_likeliest_other_character():
    probs = one_hot_path("-A-8-", p=0.9)
    zero = ALPHABET.index("0") + 1
    probs[3, zero] = 0.08  # the 8 could be a 0
    probs[3, 0] = 0.01  # the blank is no rival reading, however likely
    read = ctc_greedy_decode(probs)
    margins = char_log_margins(probs, read)
    assert read.text == "A8"
    assert margins[0] == pytest.approx(np.log(0.9) - np.log(0.1 / len(ALPHABET)))
    assert margins[1] == pytest.approx(np.log(0.9 / 0.08))


def test_decoded_plates_carry_their_margins_also_where_a_prior_changed_a_character():
    probs = one_hot_path("1-2-3-4-A-B-O-O", p=0.6)
    zero = ALPHABET.index("0") + 1
    probs[14, zero] = 0.3
    probs[12, zero] = 0.35
    read = decode_plate_text(probs)
    assert read.text == "1234AB00"
    assert len(read.char_log_margins) == 8
    # The prior chose 0 where O was likelier: those characters' margins are negative.
    assert read.char_log_margins[-2:] == pytest.approx((np.log(0.35 / 0.6), np.log(0.3 / 0.6)))
    assert min(read.char_log_margins[:6]) > 2


def test_layout_prior_leaves_other_texts_alone():
    for path in ("A-B-C-1-2-3", "1-2-3-4-A-B-0-0", "A-B-C-D-E-F-G-H"):  # foreign, already civil, too far
        probs = one_hot_path(path)
        read = ctc_greedy_decode(probs)
        assert apply_layout_prior(read, probs) == read


def test_constrained_decoding_finds_the_likeliest_path_of_the_layout():
    # A doubled 9 with no clear blank between: the best path says "869YF06", one digit short.
    probs = one_hot_path("8-6-999-Y-F-0-6", p=0.7)
    blank = 0
    probs[5, blank] = 0.25  # a blank between the two 9s is second choice
    allowed = ("0123456789",) * 4 + ("ABCDEFGHIJKLMNOPQRSTUVWXYZ",) * 2 + ("01", "0123456789")
    read = constrained_ctc_decode(probs, allowed)
    assert ctc_greedy_decode(probs).text == "869YF06"
    assert read.text == "8699YF06"
    assert len(read.char_confidences) == len(read.char_frames) == 8
    assert read.char_frames[2:4] == (4, 6)  # the two 9s sit on either side of the blank
    # Its log-probability is that of the path: every frame's chosen class.
    chosen = [0.7] * 15
    chosen[5] = 0.25
    assert read.path_log_probability == pytest.approx(float(np.sum(np.log(chosen))))


def test_constrained_decoding_needs_room_for_every_character():
    assert constrained_ctc_decode(one_hot_path("1-2"), ("0123456789",) * 4) is None
    # a doubled character needs a blank frame between its two copies
    assert constrained_ctc_decode(one_hot_path("77"), ("7", "7")) is None
    assert constrained_ctc_decode(one_hot_path("7-7"), ("7", "7")).text == "77"


def _best_path_by_enumeration(probs: np.ndarray, allowed: tuple[str, ...], alphabet: str) -> tuple[str, float] | None:
    """Every CTC path of the frames, collapsed: the likeliest one that spells a text of `allowed`."""
    import itertools

    log_p = np.log(probs)
    best = None
    for path in itertools.product(range(probs.shape[1]), repeat=probs.shape[0]):
        collapsed = [c for i, c in enumerate(path) if c != 0 and (i == 0 or path[i - 1] != c)]
        text = "".join(alphabet[c - 1] for c in collapsed)
        if len(text) != len(allowed) or any(ch not in chars for ch, chars in zip(text, allowed)):
            continue
        score = float(log_p[np.arange(len(path)), path].sum())
        if best is None or score > best[1]:
            best = (text, score)
    return best


@pytest.mark.parametrize("seed", range(12))
def test_constrained_decoding_agrees_with_every_path_enumerated(seed):
    # Small enough to try all 4^7 paths: three characters, a repeat allowed (it needs a blank between).
    rng = np.random.default_rng(seed)
    alphabet = "AB7"
    allowed = [("AB", "7", "AB7"), ("A7", "A7", "B"), ("7", "7"), ("AB7",) * 4][seed % 4]
    probs = rng.dirichlet(np.full(1 + len(alphabet), 0.6), size=7)
    expected = _best_path_by_enumeration(probs, allowed, alphabet)
    read = constrained_ctc_decode(probs, allowed, alphabet)
    if expected is None:
        assert read is None
    else:
        assert read is not None and read.text == expected[0]
        assert read.path_log_probability == pytest.approx(expected[1])
        assert len(read.char_frames) == len(allowed)


def test_length_prior_adds_a_missing_character_when_the_path_allows_it():
    probs = one_hot_path("4-2-9-3-L-J-0-8", p=0.8)
    greedy = ctc_greedy_decode(probs)
    assert apply_layout_length_prior(greedy, probs) == greedy  # already a civil plate: unchanged
    probs = one_hot_path("8-6-999-Y-F-0-6", p=0.7)
    probs[5, 0] = 0.25
    read = apply_layout_length_prior(ctc_greedy_decode(probs), probs)
    assert read.text == "8699YF06"
    assert read.layout_substitutions == 1


def test_length_prior_drops_an_extra_character():
    probs = one_hot_path("1-4-2-8-6-J-A-0-7", p=0.8)  # an edge read as a leading 1
    probs[0, 0] = 0.15
    read = apply_layout_length_prior(ctc_greedy_decode(probs), probs)
    assert read.text == "4286JA07"
    assert read.layout_substitutions == 1


def test_length_prior_keeps_a_read_the_layout_would_have_to_force():
    # A clear 7-character foreign plate: making it civil would need an unlikely path.
    for path in ("A-B-C-1-2-3-4", "1-2-3-4-5-6-7", "A-B-C-D-E-F-G-H-I"):
        probs = one_hot_path(path, p=0.95)
        read = ctc_greedy_decode(probs)
        assert apply_layout_length_prior(read, probs) == read


def test_edit_distance():
    assert edit_distance("8699YF06", "869YF06") == 1
    assert edit_distance("ABC", "ABC") == 0
    assert edit_distance("", "AB") == 2
    assert edit_distance("KITTEN", "SITTING") == 3


def test_class_edit_distance_counts_only_wrong_classes_and_lengths():
    civil = ("0123456789",) * 4 + ("ABCDEFGHIJKLMNOPQRSTUVWXYZ",) * 2 + ("01", "0123456789")
    assert edit_distance("1234AB00", civil) == 0
    assert edit_distance("123AB00", civil) == 1  # a digit missing
    assert edit_distance("1234AB0O", civil) == 1  # a letter where a digit must be
    assert edit_distance("ABCDEFG", civil) >= 3  # nothing like a civil plate: not worth decoding


def look(text: str, log_probability: float) -> CtcRead:
    return CtcRead(text, (0.9,) * len(text), log_probability)


def test_looks_settle_on_the_text_most_of_them_read():
    edge_char = look("71234AB00", -0.2)  # the likeliest path, but the other two cuts agree without the edge
    read, agreement = settle_looks([edge_char, look("1234AB00", -0.5), look("1234AB00", -0.4)])
    assert (read.text, read.path_log_probability, agreement) == ("1234AB00", -0.4, 0.5)


def test_looks_that_all_differ_keep_the_likeliest_path_and_no_agreement():
    read, agreement = settle_looks([look("1234AB00", -0.9), look("1234A800", -0.3), look("1284AB00", -0.6)])
    assert (read.text, agreement) == ("1234A800", 0.0)


def test_looks_that_agree_fully():
    read, agreement = settle_looks([look("CD1234", -0.1)] * 3)
    assert (read.text, agreement) == ("CD1234", 1.0)
    assert settle_looks([look("CD1234", -0.1)]) == (look("CD1234", -0.1), 1.0)
    with pytest.raises(ValueError):
        settle_looks([])


def test_first_looks_leave_the_text_open_unless_all_read_the_same():
    assert not looks_disagree([look("CD1234", -0.1), look("CD1234", -0.5), look("CD1234", -0.2)])
    assert looks_disagree([look("CD1234", -0.1), look("CD1234", -0.5), look("CD1284", -0.2)])
    assert looks_disagree([look("CD1234", -0.1), look("", -0.5)])  # a look that read nothing counts too


def test_a_main_look_that_reads_nothing_ends_the_cut_and_one_that_reads_text_asks_for_more():
    assert not wants_more_looks([look("", -0.1)])
    assert wants_more_looks([look("CD1234", -0.1)])


def test_later_looks_ask_for_more_only_when_they_disagree():
    assert not wants_more_looks([look("CD1234", -0.1), look("CD1234", -0.5), look("CD1234", -0.2)])
    assert wants_more_looks([look("CD1234", -0.1), look("CD1284", -0.5), look("CD1234", -0.2)])
    assert wants_more_looks([look("CD1234", -0.1), look("", -0.5), look("CD1234", -0.2)])
    assert not wants_more_looks([look("", -0.1), look("", -0.5), look("", -0.2)])


def test_the_look_batches_cover_every_look_once_in_order():
    from murur.alpr.imaging import FIRST_LOOKS, LOOK_BATCHES, LOOK_MARGINS

    assert LOOK_BATCHES[0] == (0, 1)  # the main cut alone first: it decides whether the cut is read on
    assert [start for start, _ in LOOK_BATCHES[1:]] == [end for _, end in LOOK_BATCHES[:-1]]
    assert LOOK_BATCHES[-1][1] == len(LOOK_MARGINS) and (1, FIRST_LOOKS) in LOOK_BATCHES
