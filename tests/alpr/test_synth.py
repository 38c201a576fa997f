import json

import cv2
import numpy as np
import pytest

from murur.alpr.formats import match_layout, normalise
from murur.alpr.synth import (
    KINDS,
    PlateSpec,
    compose_scene,
    random_plate,
    random_plate_crop,
    random_plate_view,
    render_plate,
)

SMALL = (512, 288)


def rng(seed=0):
    return np.random.default_rng(seed)


@pytest.mark.parametrize("kind", KINDS)
def test_random_plate_respects_kind_and_its_layout(kind):
    generator = rng(1)
    for _ in range(20):
        spec = random_plate(generator, kind)
        assert spec.kind == kind
        assert spec.text == normalise(spec.text)
        assert normalise("".join(spec.rows)) == spec.text
        layout = match_layout(spec.text)
        assert layout is not None
        if kind in ("mr_civil", "mr_government", "mr_two_row"):
            assert layout.id == "MR_CIVIL"
        elif kind == "mr_diplomatic":
            assert layout.id in ("MR_DIPLOMATIC", "MR_UN")
        else:
            assert 4 <= len(spec.text) <= 8


def test_two_row_kinds_have_two_rows():
    generator = rng(2)
    assert len(random_plate(generator, "mr_two_row").rows) == 2
    assert len(random_plate(generator, "foreign_two_row").rows) == 2
    assert len(random_plate(generator, "mr_civil").rows) == 1


def test_spec_for_text_normalises_and_picks_the_kind():
    assert PlateSpec.for_text("1234 ab 00").kind == "mr_civil"
    assert PlateSpec.for_text("1234 ab 00").text == "1234AB00"
    assert PlateSpec.for_text("12-CD-3456").kind == "mr_diplomatic"
    assert PlateSpec.for_text("ABC123").kind == "foreign_one_row"
    # A text that fits no layout can still be drawn.
    odd = PlateSpec.for_text("XY1")
    assert odd.layout is None
    assert render_plate(odd, rng()).text == "XY1"


def test_spec_rejects_bad_input():
    with pytest.raises(ValueError):
        PlateSpec(text="1234AB00", kind="bicycle")
    with pytest.raises(ValueError):
        PlateSpec(text=" - ")
    with pytest.raises(ValueError):
        PlateSpec(text="ÉCOLE1")
    with pytest.raises(ValueError):
        PlateSpec(text="1234AB00", kind="mr_two_row", rows=("1234", "AB 01"))


@pytest.mark.parametrize("kind", KINDS)
def test_render_plate_shape_and_ink(kind):
    spec = random_plate(rng(3), kind)
    plate = render_plate(spec, rng(4), scale=0.5)
    w_mm, h_mm = spec.size_mm
    h, w = plate.image.shape[:2]
    assert plate.image.dtype == np.uint8 and plate.image.shape[2] == 3
    assert plate.alpha.shape == (h, w)
    assert abs(h - h_mm * 0.5) <= 1
    if kind != "foreign_one_row":  # one-row foreign plates come in several widths
        assert abs(w - w_mm * 0.5) <= 1
    assert (plate.text, plate.kind, plate.rows) == (spec.text, spec.kind, spec.rows)
    # Characters are drawn: the plate is not a flat colour.
    assert plate.image.reshape(-1, 3).std(axis=0).max() > 20


def test_rendering_is_deterministic_by_seed():
    spec = random_plate(rng(5))
    a = render_plate(spec, rng(6))
    b = render_plate(spec, rng(6))
    c = render_plate(spec, rng(7))
    assert np.array_equal(a.image, b.image)
    assert a.image.shape != c.image.shape or not np.array_equal(a.image, c.image)


def test_scene_size_and_annotations_lie_inside():
    generator = rng(8)
    for _ in range(10):
        scene = compose_scene(generator, size=SMALL, max_plates=3)
        assert scene.image.shape == (SMALL[1], SMALL[0], 3)
        assert scene.image.dtype == np.uint8
        for ann in scene.annotations:
            corners = np.asarray(ann.corners)
            assert corners.shape == (4, 2)
            assert (corners[:, 0] >= 0).all() and (corners[:, 0] <= SMALL[0]).all()
            assert (corners[:, 1] >= 0).all() and (corners[:, 1] <= SMALL[1]).all()
            x1, y1, x2, y2 = ann.box
            assert 0 <= x1 < x2 <= SMALL[0] and 0 <= y1 < y2 <= SMALL[1]
            assert x1 <= corners[:, 0].min() and corners[:, 0].max() <= x2
            assert ann.text == normalise(ann.text) and ann.kind in KINDS
            assert normalise("".join(ann.rows)) == ann.text


def test_corners_are_clockwise_from_top_left():
    scene = compose_scene(rng(9), [PlateSpec.for_text("1234AB00")], size=(960, 540))
    (ann,) = scene.annotations
    tl, tr, br, bl = np.asarray(ann.corners)
    assert tl[0] < tr[0] and bl[0] < br[0]
    assert tl[1] < bl[1] and tr[1] < br[1]
    # Shoelace area is positive for clockwise order in image coordinates (y down).
    x, y = np.asarray(ann.corners).T
    assert 0.5 * np.sum(x * np.roll(y, -1) - np.roll(x, -1) * y) > 0


def test_annotated_quad_shows_the_plate():
    # A yellow government plate on a clean scene: its quad is mostly plate yellow, unlike the frame.
    spec = random_plate(rng(10), "mr_government")
    hits = 0
    for seed in range(6):
        scene = compose_scene(rng(seed), [spec], size=(960, 540), clean=True)
        if not scene.annotations:
            continue
        (ann,) = scene.annotations
        assert ann.text == spec.text and ann.kind == "mr_government"
        mask = np.zeros(scene.image.shape[:2], np.uint8)
        cv2.fillConvexPoly(mask, np.asarray(ann.corners).round().astype(np.int32), 1)
        mask = cv2.erode(mask, np.ones((3, 3), np.uint8))
        r, g, b = (scene.image[..., i].astype(int) for i in range(3))
        yellow = (r > 150) & (g > 110) & (b < 100)
        inside = yellow[mask > 0].mean()
        outside = yellow[mask == 0].mean()
        assert inside > 0.3 and inside > 3 * outside
        hits += 1
    assert hits >= 4


def test_requested_plates_are_annotated_with_their_text():
    specs = [PlateSpec.for_text("1234AB00"), PlateSpec.for_text("ABC123")]
    scene = compose_scene(rng(11), specs, size=(1280, 720))
    texts = [a.text for a in scene.annotations]
    assert set(texts) <= {"1234AB00", "ABC123"}
    assert len(texts) == len(set(texts)) >= 1


def test_scene_without_plates():
    scene = compose_scene(rng(12), [], size=SMALL)
    assert scene.annotations == []
    assert scene.image.std() > 1  # still a picture, with distractors


def test_random_scenes_sometimes_have_no_plate():
    generator = rng(13)
    counts = [len(compose_scene(generator, size=(256, 144)).annotations) for _ in range(40)]
    assert 0 in counts and max(counts) >= 2


def test_scene_deterministic_by_seed_and_jpeg():
    a = compose_scene(rng(14), size=SMALL)
    b = compose_scene(rng(14), size=SMALL)
    assert np.array_equal(a.image, b.image)
    assert [x.text for x in a.annotations] == [x.text for x in b.annotations]
    data = a.to_jpeg(quality=85)
    assert data[:2] == b"\xff\xd8"
    decoded = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
    assert decoded.shape == a.image.shape


def test_random_plate_crop():
    generator = rng(15)
    for kind in KINDS:
        spec = random_plate(generator, kind)
        image, text, got_kind = random_plate_crop(generator, spec, out_size=(96, 32))
        assert image.shape == (32, 96, 3) and image.dtype == np.uint8
        assert (text, got_kind) == (spec.text, kind)
    a = random_plate_crop(rng(16))
    b = random_plate_crop(rng(16))
    assert np.array_equal(a[0], b[0]) and a[1:] == b[1:]
    assert a[0].shape == (64, 128, 3)


def test_random_plate_view_corners_frame_the_plate():
    generator = rng(17)
    for kind in ("mr_government", "foreign_us", "mr_two_row"):
        spec = random_plate(generator, kind)
        view = random_plate_view(generator, spec, plate_width=120)
        h, w = view.image.shape[:2]
        corners = np.asarray(view.corners)
        assert corners.shape == (4, 2)
        assert (corners >= 0).all() and (corners[:, 0] <= w).all() and (corners[:, 1] <= h).all()
        # The plate is drawn at the requested camera width (perspective changes it only a little).
        top, bottom = np.linalg.norm(corners[1] - corners[0]), np.linalg.norm(corners[2] - corners[3])
        assert 80 < (top + bottom) / 2 < 160
        assert (view.text, view.kind, view.rows) == (spec.text, kind, spec.rows)
    a = random_plate_view(rng(18))
    b = random_plate_view(rng(18))
    assert np.array_equal(a.image, b.image) and np.array_equal(a.corners, b.corners)


def test_cli_writes_frames_labelled_like_real_photos(tmp_path):
    from murur.alpr.synth.__main__ import main

    main([str(tmp_path), "--count", "3", "--size", "320x180", "--seed", "4", "--kind", "mr_civil"])
    images = sorted(tmp_path.glob("*.jpg"))
    assert len(images) == 3
    records = [json.loads(line) for line in (tmp_path / "labels.jsonl").read_text().splitlines()]
    assert [r["image"] for r in records] == [p.name for p in images]
    for image, record in zip(images, records):
        decoded = cv2.imread(str(image))
        assert decoded.shape == (180, 320, 3)
        lines = image.with_suffix(".txt").read_text().splitlines()
        assert len(lines) == len(record["plates"])
        for line, plate in zip(lines, record["plates"]):
            name, x, y, w, h, text = line.split("\t")
            assert name == image.name and text == plate["text"]
            assert match_layout(text).id == "MR_CIVIL" and plate["kind"] == "mr_civil"
            assert [int(x), int(y), int(x) + int(w), int(y) + int(h)] == plate["box"]


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize(("text", "kind"), [("AB12CD", "foreign_one_row"), ("7KQ2M9", "foreign_us"),
                                           ("1234AB00", "mr_civil"), ("XY1234", "foreign_two_row")])
def test_plate_shows_one_ink_blob_per_character(seed, text, kind):
    # Plain rendering, a monospaced face: each character is one connected blob of ink inside the border.
    spec = PlateSpec(text=text, kind=kind, face="B612MonoBold")
    plate = render_plate(spec, rng(seed), scale=1.0, plain=True)
    image = plate.image.astype(int)
    h, w = image.shape[:2]
    background = np.median(image.reshape(-1, 3), axis=0)
    ink = (np.abs(image - background).sum(axis=2) > 120).astype(np.uint8)
    inner = ink[int(h * 0.08) : int(h * 0.92), int(w * 0.04) : int(w * 0.96)]
    count, _, stats, _ = cv2.connectedComponentsWithStats(inner)
    blobs = [s for s in stats[1:] if s[cv2.CC_STAT_AREA] > 0.002 * inner.size]
    assert len(blobs) == len(text)


def test_us_style_plates_have_no_letter_o_but_other_foreign_plates_may():
    generator = rng(3)
    us = "".join(random_plate(generator, "foreign_us").text for _ in range(400))
    other = "".join(random_plate(generator, "foreign_one_row").text for _ in range(400))
    assert "O" not in us and "0" in us
    assert "O" in other


def test_distractors_and_their_sign_boards_never_cover_a_plate():
    from murur.alpr.synth.scene import _distractors

    plate_boxes = [(200, 120, 320, 150), (4, 2, 70, 20)]  # the second where the camera's timestamp goes
    painted_elsewhere = 0
    for seed in range(150):
        img = np.full((288, 512, 3), 0.5, np.float32)
        _distractors(img, rng(seed), 6, plate_boxes)
        for x1, y1, x2, y2 in plate_boxes:
            assert np.all(img[y1:y2, x1:x2] == 0.5), f"seed {seed} painted over the plate at {(x1, y1)}"
        painted_elsewhere += bool(np.any(img != 0.5))
    assert painted_elsewhere > 100


def test_a_plate_in_the_dark_is_exposed_to_the_requested_level():
    from murur.alpr.synth.scene import _expose_plate

    # A dark-green diplomatic sheet with black lettering, dimmed with the rest of a night scene.
    img = np.full((100, 200, 3), 0.05, np.float32)
    img[40:60, 50:150] = np.float32([0.05, 0.45, 0.22]) * 0.2
    img[45:55, 60:140:10] = 0.03 * 0.2
    quad = np.float32([[50, 40], [149, 40], [149, 59], [50, 59]])
    _expose_plate(img, quad, 0.8)
    plate = img[41:59, 51:149].mean(axis=2)
    assert np.percentile(plate, 90) == pytest.approx(0.8, abs=0.02)
    assert plate.max() - plate.min() > 0.5  # the lettering stands out again
    assert np.all(img[:30] == np.float32(0.05)) and np.all(img[70:] == np.float32(0.05))  # the scene stays dark


def test_a_foreign_plates_label_says_what_its_face_draws():
    """Two plates that differ only in O against 0 (or I against 1) get the same label exactly when their
    face draws them alike: the label never tells apart what the pixels do not."""
    from murur.alpr.synth.fonts import FACES

    same, different = [], []
    for face in FACES:
        for letter, digit in (("O", "0"), ("I", "1")):
            with_letter, with_digit = (render_plate(PlateSpec(f"A{ch}7{ch}", "foreign_one_row", face=face.name),
                                                    rng(31), scale=0.6, plain=True) for ch in (letter, digit))
            assert with_letter.image.shape == with_digit.image.shape
            assert with_digit.text == f"A{digit}7{digit}"  # a digit is never relabelled
            pixels_apart = float(np.abs(with_letter.image.astype(int) - with_digit.image.astype(int)).mean())
            (same if with_letter.text == with_digit.text else different).append((pixels_apart, face.name, letter))
    assert same and different  # some faces draw O like 0, others do not
    assert max(same)[0] < min(different)[0], (max(same), min(different))


def test_mauritanian_labels_keep_their_letters_and_scenes_carry_the_drawn_label():
    mauritanian = render_plate(PlateSpec("1234OB00", "mr_civil", face="BebasNeue"), rng(32), plain=True)
    assert mauritanian.text == "1234OB00"  # the layout says the fifth character is a letter
    foreign = PlateSpec("BO7O", "foreign_one_row", face="BebasNeue")
    assert render_plate(foreign, rng(33), plain=True).text == "B070"
    scene = compose_scene(rng(34), [foreign], size=(1280, 720))
    assert [(a.text, a.rows) for a in scene.annotations] == [("B070", ("B070",))]
    view = random_plate_view(rng(35), foreign)
    assert view.text == "B070"
