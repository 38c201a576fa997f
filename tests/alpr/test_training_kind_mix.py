"""The plate kinds' mix of the recogniser's generator crops, as a data recipe sets it."""

import argparse
import json
import re
from dataclasses import asdict

import pytest

pytest.importorskip("torch")

DIPLOMATIC = re.compile(r"^\d{2}(CD|ONU)\d{4}$")


def only(kind):
    from murur.alpr.synth import KIND_WEIGHTS

    return tuple((k, 1.0 if k == kind else 0.0) for k in KIND_WEIGHTS)


def test_generator_crops_are_drawn_from_the_recipes_kinds():
    from training.data import DataRecipe, _crop_chunk

    crops, texts = _crop_chunk((DataRecipe(crop_kind_weights=only("mr_diplomatic")), 0, 12))
    assert len(crops) == len(texts) == 12
    assert all(DIPLOMATIC.match(text) for text in texts), texts


def test_without_weights_the_generators_own_mix_is_drawn():
    from training.data import DataRecipe, _crop_chunk

    _, texts = _crop_chunk((DataRecipe(), 0, 40))
    assert not all(DIPLOMATIC.match(text) for text in texts)  # diplomatic plates are 5 % of the mix


def test_named_kinds_replace_their_weights_and_the_rest_keep_theirs():
    from murur.alpr.synth import KIND_WEIGHTS
    from training.data import DataRecipe

    drawn = DataRecipe(crop_kind_weights=(("mr_diplomatic", 0.15),)).crop_kinds()
    weights = dict(KIND_WEIGHTS, mr_diplomatic=0.15)
    total, drawn_total = sum(weights.values()), sum(drawn.values())
    assert {k: w / drawn_total for k, w in drawn.items()} == pytest.approx({k: w / total for k, w in weights.items()})
    assert DataRecipe().crop_kinds() is None


def test_a_recipe_with_weights_has_its_own_key_and_cache():
    from training.data import DataRecipe

    assert DataRecipe(crop_kind_weights=(("mr_diplomatic", 0.15),)).key() != DataRecipe().key()
    assert DataRecipe(crop_kind_weights=(("mr_diplomatic", 0.15),)).key() != \
        DataRecipe(crop_kind_weights=(("mr_diplomatic", 0.2),)).key()


@pytest.mark.parametrize("text", ["mr_diplomatic", "mr_diplomatic=x", "hovercraft=0.2", "mr_civil=-1",
                                  ",".join(f"{k}=0" for k, _ in only("mr_civil"))])
def test_bad_kind_weights_are_refused_on_the_command_line(text):
    from training.train import kind_weights

    with pytest.raises(argparse.ArgumentTypeError):
        kind_weights(text)


def test_the_command_line_form_reads_as_the_recipe_field():
    from training.train import kind_weights

    assert kind_weights("mr_diplomatic=0.12, mr_government=0.1") == (("mr_diplomatic", 0.12), ("mr_government", 0.1))


def test_a_recalibrated_run_reads_back_the_recipe_it_was_trained_on(tmp_path):
    from training.data import DataRecipe
    from training.train import _run_recorded

    recipe = DataRecipe(scenes=10, crop_kind_weights=(("mr_diplomatic", 0.12), ("mr_government", 0.12)))
    (tmp_path / "recipe.json").write_text(json.dumps({"data": asdict(recipe)}))
    recorded = DataRecipe(**_run_recorded(tmp_path, "data", asdict(DataRecipe())))
    assert recorded == recipe
    assert recorded.key() == recipe.key()
