"""Generator crops whose plates are drawn small in the camera frame, as a data recipe sets them."""

import argparse
import hashlib
import json
from dataclasses import asdict

import numpy as np
import pytest

pytest.importorskip("torch")

# The recipe's fields before the small crops: a default recipe must keep the key (and cache) it had.
EARLIER_FIELDS = ("seed", "scenes", "scene_size", "detector_size", "generator_crops", "scene_crop_jitters",
                  "corner_jitter", "min_scene_crop_width")


@pytest.fixture
def drawn_widths(monkeypatch):
    """The plate widths the generator crops asked random_plate_view for."""
    from murur.alpr.synth import scene

    widths = []
    real_view = scene.random_plate_view

    def recording_view(rng, spec=None, plate_width=None):
        widths.append(plate_width)
        return real_view(rng, spec, plate_width)

    monkeypatch.setattr(scene, "random_plate_view", recording_view)
    return widths


def test_the_recipes_small_crops_are_cut_from_plates_that_small(drawn_widths):
    from training.data import DataRecipe, _crop_chunk

    crops, texts = _crop_chunk((DataRecipe(small_crop_share=1.0, small_crop_width=(56.0, 60.0)), 0, 6))
    assert len(crops) == len(texts) == 6
    assert len(drawn_widths) == 6
    assert all(w is not None and 56.0 <= w <= 60.0 for w in drawn_widths), drawn_widths


def test_without_a_share_the_generator_draws_its_own_sizes(drawn_widths):
    from training.data import DataRecipe, _crop_chunk

    _crop_chunk((DataRecipe(), 0, 4))
    assert drawn_widths == [None] * 4


def test_a_small_plate_is_shown_at_that_width_in_the_camera_frame():
    from murur.alpr.synth import random_plate_view

    for width in (56.0, 90.0):
        view = random_plate_view(np.random.default_rng(3), plate_width=width)
        top, bottom = view.corners[1] - view.corners[0], view.corners[2] - view.corners[3]
        shown = (np.linalg.norm(top) + np.linalg.norm(bottom)) / 2
        assert shown == pytest.approx(width, rel=0.25)


def test_the_share_of_small_crops_is_the_recipes():
    from training.data import DataRecipe

    recipe = DataRecipe(small_crop_share=0.3, small_crop_width=(50.0, 70.0))
    rng = np.random.default_rng(7)
    widths = [recipe.crop_plate_width(rng) for _ in range(4000)]
    small = [w for w in widths if w is not None]
    assert len(small) / len(widths) == pytest.approx(0.3, abs=0.03)
    assert min(small) >= 50.0 and max(small) <= 70.0
    assert np.mean(small) == pytest.approx(60.0, abs=1.0)


def test_without_a_share_no_random_number_is_drawn():
    from training.data import DataRecipe

    rng, untouched = np.random.default_rng(11), np.random.default_rng(11)
    assert DataRecipe().crop_plate_width(rng) is None
    assert rng.random() == untouched.random()


def test_a_default_recipe_keeps_its_earlier_key():
    from training.data import DataRecipe

    recipe = DataRecipe(seed=2032, scenes=6000, generator_crops=320000)
    fields = {name: value for name, value in asdict(recipe).items() if name in EARLIER_FIELDS}
    earlier = hashlib.sha256(json.dumps(fields, sort_keys=True).encode()).hexdigest()[:12]
    assert recipe.key() == earlier


def test_a_recipe_with_small_crops_has_its_own_key():
    from training.data import DataRecipe

    keys = {DataRecipe().key(), DataRecipe(small_crop_share=0.3).key(), DataRecipe(small_crop_share=0.2).key(),
            DataRecipe(small_crop_share=0.3, small_crop_width=(40.0, 90.0)).key()}
    assert len(keys) == 4


@pytest.mark.parametrize("recipe", [dict(small_crop_share=1.5), dict(small_crop_share=-0.1),
                                    dict(small_crop_share=0.3, small_crop_width=(90.0, 50.0)),
                                    dict(small_crop_share=0.3, small_crop_width=(0.0, 50.0))])
def test_a_recipe_with_impossible_small_crops_is_refused(recipe):
    from training.data import DataRecipe

    with pytest.raises(ValueError):
        DataRecipe(**recipe).crop_plate_width(np.random.default_rng(0))


@pytest.mark.parametrize(("parse", "text"), [("share", "1.5"), ("share", "-0.2"), ("share", "a third"),
                                             ("width_range", "100,56"), ("width_range", "0,50"),
                                             ("width_range", "60"), ("width_range", "60,x"), ("width_range", "1,2,3")])
def test_bad_small_crop_options_are_refused_on_the_command_line(parse, text):
    from training import train

    with pytest.raises(argparse.ArgumentTypeError):
        getattr(train, parse)(text)


def test_the_command_line_forms_read_as_the_recipe_fields():
    from training.train import share, width_range

    assert share("0.3") == 0.3
    assert width_range("56, 100") == (56.0, 100.0)


def test_a_recalibrated_run_reads_back_its_small_crops(tmp_path):
    from training.data import DataRecipe
    from training.train import _run_recorded

    recipe = DataRecipe(scenes=10, small_crop_share=0.3, small_crop_width=(56.0, 100.0))
    (tmp_path / "recipe.json").write_text(json.dumps({"data": asdict(recipe)}))
    recorded = DataRecipe(**_run_recorded(tmp_path, "data", asdict(DataRecipe())))
    assert recorded == recipe
    assert recorded.key() == recipe.key()
