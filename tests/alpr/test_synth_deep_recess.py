"""Deep plate pockets around a share of the scenes' plates, as compose_scene and the data recipe set them."""

import argparse
import hashlib
import json
from dataclasses import asdict

import numpy as np
import pytest
from murur.alpr.synth import compose_scene
from murur.alpr.synth import scene as scene_module


# Digests of scenes drawn by the generator before the pockets existed: `make eval`'s held-out sets and the
# audit sheets in docs/alpr-audit are keyed to seeds, so a default left at 0 must draw the very same pixels.
SCENES_BEFORE_POCKETS = {1: ("6f68d79da4af5ba5", ["923842"]), 5: ("a85f36de8a6ebfaf", ["AZ19D", "1000DZ07"])}


@pytest.mark.parametrize("seed", sorted(SCENES_BEFORE_POCKETS))
def test_without_a_share_a_seed_draws_the_scenes_it_always_drew(seed):
    for drawn in (compose_scene(np.random.default_rng(seed), size=(480, 270)),
                  compose_scene(np.random.default_rng(seed), size=(480, 270), deep_recess_share=0.0)):
        digest = hashlib.sha256(drawn.image.tobytes()).hexdigest()[:16]
        assert (digest, [a.text for a in drawn.annotations]) == SCENES_BEFORE_POCKETS[seed]


def test_every_vehicle_gets_a_pocket_when_the_share_is_one(monkeypatch):
    pockets = []
    real = scene_module._deep_recess

    def recording(canvas, quad, paint, rng):
        pockets.append(quad.copy())
        real(canvas, quad, paint, rng)

    monkeypatch.setattr(scene_module, "_deep_recess", recording)
    vehicles = 0
    real_rear = scene_module._car_rear

    def counting_rear(*args, **kwargs):
        nonlocal vehicles
        box = real_rear(*args, **kwargs)
        vehicles += box is not None
        return box

    monkeypatch.setattr(scene_module, "_car_rear", counting_rear)
    for seed in range(6):
        compose_scene(np.random.default_rng(seed), size=(960, 540), deep_recess_share=1.0)
    assert vehicles > 0 and len(pockets) == vehicles


def test_no_pocket_is_drawn_without_a_share(monkeypatch):
    drawn = []
    monkeypatch.setattr(scene_module, "_deep_recess", lambda *args: drawn.append(args))
    for seed in range(4):
        compose_scene(np.random.default_rng(seed), size=(960, 540))
    assert drawn == []


def test_a_pocket_surrounds_the_plate_wider_and_taller_than_it_and_stays_near_it():
    canvas = np.zeros((400, 600, 3), np.float32)
    quad = np.array([[250, 180], [350, 180], [350, 202], [250, 202]], np.float32)
    for seed in range(5):
        canvas[:] = 0.5
        scene_module._deep_recess(canvas, quad, np.array([0.5, 0.5, 0.5]), np.random.default_rng(seed))
        changed = np.argwhere(np.abs(canvas - 0.5).max(axis=2) > 1e-6)
        (y0, x0), (y1, x1) = changed.min(0), changed.max(0)
        assert x0 <= 250 - 0.12 * 100 + 1 and x1 >= 350 + 0.12 * 100 - 1  # past both sides of the plate
        assert y0 <= 180 - 0.25 * 22 + 1 and y1 >= 202 + 0.15 * 22 - 1  # above and below it
        assert x0 >= 250 - 0.55 * 100 - 2 and x1 <= 350 + 0.55 * 100 + 2  # but no farther than the pocket's size
        assert y0 >= 180 - 1.0 * 22 - 2 and y1 <= 202 + 0.8 * 22 + 2


def test_the_detector_scenes_take_the_recipes_share(monkeypatch):
    pytest.importorskip("torch")
    from training import data

    asked = []
    real = data.compose_scene

    def recording(rng, **kwargs):
        asked.append(kwargs.get("deep_recess_share"))
        return real(rng, **kwargs)

    monkeypatch.setattr(data, "compose_scene", recording)
    data.detector_frame(np.random.default_rng(0), data.DataRecipe(deep_recess_share=0.4))
    data.detector_frame(np.random.default_rng(0), data.DataRecipe())
    assert asked == [0.4, 0.0]


def test_a_recipe_without_pockets_keeps_its_key_and_one_with_them_has_its_own():
    pytest.importorskip("torch")
    from training.data import DataRecipe

    recipe = DataRecipe()
    fields = asdict(recipe)
    del fields["deep_recess_share"], fields["crop_kind_weights"], fields["small_crop_share"], fields["small_crop_width"]
    assert recipe.key() == hashlib.sha256(json.dumps(fields, sort_keys=True).encode()).hexdigest()[:12]
    keys = {DataRecipe().key(), DataRecipe(deep_recess_share=0.5).key(), DataRecipe(deep_recess_share=0.3).key()}
    assert len(keys) == 3


@pytest.mark.parametrize("value", [1.5, -0.1])
def test_a_recipe_with_an_impossible_pocket_share_is_refused(value):
    pytest.importorskip("torch")
    from training.data import DataRecipe

    with pytest.raises(ValueError, match="deep_recess_share"):
        DataRecipe(deep_recess_share=value)


@pytest.mark.parametrize("text", ["1.5", "-0.2", "half"])
def test_bad_pocket_shares_are_refused_on_the_command_line(text):
    pytest.importorskip("torch")
    from training.train import recess_share

    with pytest.raises(argparse.ArgumentTypeError):
        recess_share(text)


def test_the_command_line_share_reads_as_the_recipe_field(tmp_path):
    pytest.importorskip("torch")
    from training.data import DataRecipe
    from training.train import _run_recorded, recess_share

    assert recess_share("0.5") == 0.5
    recipe = DataRecipe(scenes=10, deep_recess_share=0.5)
    (tmp_path / "recipe.json").write_text(json.dumps({"data": asdict(recipe)}))
    recorded = DataRecipe(**_run_recorded(tmp_path, "data", asdict(DataRecipe())))
    assert recorded == recipe and recorded.key() == recipe.key()
