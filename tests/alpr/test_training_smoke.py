"""`make train` end to end in miniature: data, both models, ONNX export, calibration, a loadable card."""

import json
import numpy as np

import pytest

pytest.importorskip("torch")


def test_tiny_training_exports_loadable_models(tmp_path, monkeypatch):
    from murur.alpr.reader import MODELS_DIR, PlateReader
    from training import train

    shipped = {p.name: p.stat().st_mtime_ns for p in MODELS_DIR.glob("*")} if MODELS_DIR.exists() else {}
    installed = []
    monkeypatch.setattr(train, "install", lambda *a, **k: installed.append(a))  # never touch shipped models

    out = tmp_path / "run"
    train.main(["--out", str(out), "--tiny", "--jobs", "1", "--data-seed", "5"])

    card = json.loads((out / "model_card.json").read_text())
    assert card["opset"] == train.OPSET
    assert (card["detector"]["input_width"], card["detector"]["input_height"]) == train.Hyper().det_input
    assert card["data_recipe"]["scenes"] == train.TINY_DATA["scenes"]
    assert card["data_recipe"]["seed"] == 5  # --data-seed draws a fresh pool of the same recipe
    assert (out / "recipe.json").exists()
    assert card["auto_issue_threshold"] == 1.0  # three calibration frames cannot prove 99.9 %, and the card says so
    assert "rule is not met" in card["auto_issue_threshold_note"]
    quantization = card["recognizer"]["quantization"]
    assert quantization["scheme"].startswith("onnxruntime static QDQ: int8")  # the default ships int8
    assert quantization["float_sha256"] == train.sha256_of(out / train.RECOGNIZER_FLOAT_FILE)
    assert card["recognizer"]["sha256"] == train.sha256_of(out / train.RECOGNIZER_FILE) != quantization["float_sha256"]
    # The corner refiner is the third model: trained in the run, exported and listed with its digest.
    assert card["refiner"]["sha256"] == train.sha256_of(out / train.REFINER_FILE)
    assert (card["refiner"]["samples"], card["refiner"]["steps"]) == (train.TINY["ref_samples"], train.TINY["ref_steps"])
    reader = PlateReader(out)
    assert reader.model_version == card["version"]
    assert reader._refiner is not None
    from murur.alpr.synth import compose_scene
    import numpy as np

    reads = reader.read(compose_scene(np.random.default_rng(0), size=(640, 360)).to_jpeg())
    assert isinstance(reads, list)
    assert installed == []
    assert shipped == ({p.name: p.stat().st_mtime_ns for p in MODELS_DIR.glob("*")} if MODELS_DIR.exists() else {})


def test_init_from_warm_starts_both_models_and_records_it(tmp_path, monkeypatch):
    import torch

    from training import train

    monkeypatch.setattr(train, "install", lambda *a, **k: None)  # never touch shipped models
    first = tmp_path / "first"
    train.main(["--out", str(first), "--tiny", "--jobs", "1"])

    # No training steps: a warm-started run must come out with exactly the weights it started from.
    warm = tmp_path / "warm"
    train.main(["--out", str(warm), "--tiny", "--jobs", "1", "--init-from", str(first),
                "--det-steps", "0", "--rec-steps", "0"])
    for name in ("detector.pt", "recognizer.pt"):
        before, after = torch.load(first / name), torch.load(warm / name)
        assert before.keys() == after.keys()
        assert all(torch.equal(before[k], after[k]) for k in before), name

    started = json.loads((first / "model_card.json").read_text())
    for record in (json.loads((warm / "model_card.json").read_text()), json.loads((warm / "recipe.json").read_text())):
        init = record["initialised_from"]
        assert init["dir"] == str(first)
        assert init["version"] == started["version"]
        assert init["detector_pt_sha256"] == train.sha256_of(first / "detector.pt")
    assert "initialised_from" not in started


def test_a_kept_refiner_is_carried_into_the_card_with_how_it_was_trained(tmp_path, monkeypatch):
    from training import train

    monkeypatch.setattr(train, "install", lambda *a, **k: None)  # never touch shipped models
    first = tmp_path / "first"
    train.main(["--out", str(first), "--tiny", "--jobs", "1", "--ref-steps", "3", "--ref-seed", "11"])
    trained = json.loads((first / "model_card.json").read_text())
    assert (trained["refiner"]["steps"], trained["refiner"]["data_seed"]) == (3, 11)
    assert "trained_in" not in trained["refiner"]  # trained by the run the card is for

    # Kept twice over: every card names the run that trained it and its steps, not the keeping run's 0.
    previous = first
    for name in ("kept", "kept_again"):
        run = tmp_path / name
        train.main(["--out", str(run), "--tiny", "--jobs", "1", "--init-from", str(previous),
                    "--det-steps", "0", "--rec-steps", "0", "--ref-steps", "0"])
        refiner = json.loads((run / "model_card.json").read_text())["refiner"]
        assert train.sha256_of(run / "refiner.pt") == train.sha256_of(first / "refiner.pt")
        assert (refiner["steps"], refiner["data_seed"], refiner["trained_in"]) == (3, 11, trained["version"])
        previous = run

    # Redoing the calibration of a run that kept its refiner keeps the record as well.
    train.main(["--out", str(previous), "--tiny", "--jobs", "1", "--calibrate-only"])
    refiner = json.loads((previous / "model_card.json").read_text())["refiner"]
    assert (refiner["steps"], refiner["trained_in"]) == (3, trained["version"])


def test_init_from_a_folder_without_checkpoints_is_refused(tmp_path):
    from training import train

    with pytest.raises(SystemExit, match="missing detector.pt, recognizer.pt"):
        train.main(["--out", str(tmp_path / "run"), "--tiny", "--jobs", "1", "--init-from", str(tmp_path)])


def test_cached_pools_from_another_generator_commit_are_regenerated(tmp_path, monkeypatch):
    import numpy as np

    from training import data

    recipe = data.DataRecipe(scenes=1, generator_crops=1)
    generated = []

    def fake_generate(recipe, log, jobs):
        generated.append(data.generator_commit())
        frames = np.zeros((1, 4, 4), np.uint8)
        return {"frames": frames, "frame_plates": [[]], "crops": np.zeros((1, 2, 2), np.uint8), "texts": ["A"],
                "generator_commit": data.generator_commit()}

    monkeypatch.setattr(data, "CACHE_DIR", tmp_path)
    monkeypatch.setattr(data, "generate_pools", fake_generate)
    monkeypatch.setattr(data, "generator_commit", lambda: "a" * 40)
    assert data.build_pools(recipe, log=lambda m: None)["generator_commit"] == "a" * 40
    assert data.build_pools(recipe, log=lambda m: None)["generator_commit"] == "a" * 40
    assert len(generated) == 1  # same generator: the cache is used

    monkeypatch.setattr(data, "generator_commit", lambda: "b" * 40)
    assert data.build_pools(recipe, log=lambda m: None)["generator_commit"] == "b" * 40
    assert len(generated) == 2  # the generator moved on: regenerated, not loaded

    monkeypatch.setattr(data, "generator_commit", lambda: "b" * 40 + "+dirty")
    data.build_pools(recipe, log=lambda m: None)
    assert len(generated) == 3  # local changes to the generator: never trusted from the cache


def test_calibrate_only_records_the_runs_own_hyperparameters_and_data(tmp_path, monkeypatch):
    from training import train

    installed = []
    monkeypatch.setattr(train, "install", lambda *a, **k: installed.append(k))  # never touch shipped models
    run = tmp_path / "run"
    train.main(["--out", str(run), "--tiny", "--jobs", "1", "--rec-lr", "0.00042", "--rec-input-norm", "fixed",
                "--data-seed", "2099"])
    # Recalibrating without repeating the training options must not record today's defaults instead.
    train.main(["--out", str(run), "--tiny", "--jobs", "1", "--calibrate-only", "--install", "--note", "refit"])
    assert installed == [{"command": f"python -m training.train --out {run} --tiny --jobs 1 --calibrate-only "
                                     "--install --note refit", "note": "refit"}]
    card = json.loads((run / "model_card.json").read_text())
    assert card["hyperparameters"]["rec_lr"] == 0.00042
    assert card["hyperparameters"]["rec_input_norm"] == "fixed"  # not today's default
    assert card["hyperparameters"]["det_crop"] == list(train.Hyper().det_crop)
    assert card["data_recipe"]["seed"] == 2099  # the run's data, not the default recipe


def test_install_carries_the_training_chain_forward(tmp_path, monkeypatch):
    from training import train

    monkeypatch.setattr(train, "install", lambda *a, **k: None)  # only the explicit call below installs
    run = tmp_path / "run"
    train.main(["--out", str(run), "--tiny", "--jobs", "1"])
    monkeypatch.undo()

    destination, checkpoints = tmp_path / "models", tmp_path / "checkpoints"
    destination.mkdir()
    earlier_step = {"run": "training/runs/r0", "note": "the step before"}
    (destination / train.MODEL_CARD).write_text(json.dumps({"version": "murur-alpr-old", "training_chain": [earlier_step]}))
    train.install(run, destination, checkpoints, command="python -m training.train --install", note="why this run")

    shipped = json.loads((destination / train.MODEL_CARD).read_text())
    assert shipped["training_chain"][0] == earlier_step
    step = shipped["training_chain"][-1]
    assert len(shipped["training_chain"]) == 2
    assert step["started_from"] == "murur-alpr-old" and step["version"] == shipped["version"]
    assert step["note"] == "why this run"
    assert step["command"] == "python -m training.train --install"
    assert step["kept"]["recognizer.pt"] == train.sha256_of(checkpoints / "recognizer.pt")
    assert train.sha256_of(destination / train.RECOGNIZER_FILE) == shipped["recognizer"]["sha256"]
    assert json.loads((checkpoints / train.MODEL_CARD).read_text()) == shipped
    assert train.sha256_of(destination / train.REFINER_FILE) == shipped["refiner"]["sha256"]
    assert step["kept"]["refiner.pt"] == train.sha256_of(checkpoints / "refiner.pt")

    # A run without a refiner installs none: a refiner left from before would not match the card.
    (run / "refiner.pt").unlink()
    train.export_onnx(run, train.Hyper(**train.TINY))
    card = json.loads((run / train.MODEL_CARD).read_text())
    card.pop("refiner")
    (run / train.MODEL_CARD).write_text(json.dumps(card))
    train.install(run, destination, checkpoints)
    assert not (destination / train.REFINER_FILE).exists() and not (checkpoints / "refiner.pt").exists()
    assert not (run / train.REFINER_FILE).exists()


def test_an_unmet_threshold_rule_is_explained_in_the_card():
    import numpy as np

    from training import train

    confidences = np.array([0.999, 0.995, 0.99, 0.9, 0.5])
    correct = np.array([True, False, True, True, False])
    note = train.threshold_note(confidences, correct, 0.999)
    assert "1 of the 3 reads scored 0.99 or more were wrong" in note
    assert "the 1000 or more error-free top reads" in note


def _draw(rng, count: int):
    """Reads whose first feature (the path log-probability) decides how often they are right."""
    from murur.alpr.calibration import FEATURE_NAMES

    features = np.zeros((count, len(FEATURE_NAMES)))
    features[:, 0] = rng.uniform(-8, 8, count)
    correct = rng.random(count) < 1 / (1 + np.exp(-(features[:, 0] + 2) * 2))
    return features, correct


def _with_confident_mistakes(draw, mistakes: int):
    """The same reads, but some the networks are surest of are wrong: what a fit on its own draw never sees."""
    features, correct = draw
    correct = correct.copy()
    correct[np.argsort(-features[:, 0])[:mistakes * 100:100]] = False
    return features, correct


def _calibrate_on(monkeypatch, tmp_path, hyper, fit, check):
    from training import train

    draws = {(hyper.calibration_seed, hyper.calibration_frames): fit, (hyper.threshold_seed, hyper.threshold_frames): check}
    monkeypatch.setattr(train, "calibration_reads", lambda models, seed, frames: draws[(seed, frames)])
    cards = []
    monkeypatch.setattr(train, "write_card", lambda out, recipe, hyper, calibration, threshold, metrics, extra=None:
                        cards.append((calibration, threshold, metrics, extra)) or {"version": "v"})
    train.calibrate(tmp_path, train.DataRecipe(), hyper)
    return cards[-1]


def test_the_threshold_is_chosen_on_a_draw_the_calibration_was_not_fitted_on(monkeypatch, tmp_path):
    from murur.alpr.calibration import Calibrator, auto_issue_threshold, threshold_on_every_set
    from training import train

    rng = np.random.default_rng(3)
    fit = _draw(rng, 8000)
    check = _with_confident_mistakes(fit, 1)
    hyper = train.Hyper(calibration_frames=10, threshold_frames=11)
    calibration, threshold, metrics, _ = _calibrate_on(monkeypatch, tmp_path, hyper, fit, check)

    calibrator = Calibrator.fit(*fit)
    assert calibration == calibrator.to_json()  # fitted on the first draw only
    check_confidences = np.array([calibrator.confidence(f) for f in check[0]])
    fit_confidences = np.array([calibrator.confidence(f) for f in fit[0]])
    assert threshold == threshold_on_every_set([(check_confidences, check[1]), (fit_confidences, fit[1])]) < 1.0
    assert threshold >= auto_issue_threshold(check_confidences, check[1])
    # The second draw's confident mistakes push the threshold above what the fit draw alone would allow.
    assert threshold > auto_issue_threshold(fit_confidences, fit[1])
    accepted = check_confidences >= threshold
    assert (metrics["accepted"], metrics["accepted_correct"]) == (accepted.sum(), (accepted & check[1]).sum())
    assert metrics["accepted_correct"] >= 0.999 * metrics["accepted"]
    assert metrics["fit_accepted"] == (fit_confidences >= threshold).sum()
    assert metrics["threshold_chosen_on"] == {"seed": hyper.threshold_seed, "frames": 11}
    assert metrics["threshold_rule_applied_to"] == ["threshold draw", "fit draw"]
    assert (metrics["reads"], metrics["threshold_reads"]) == (8000, 8000)


def test_the_threshold_also_meets_the_rule_on_the_fit_draw(monkeypatch, tmp_path):
    from murur.alpr.calibration import Calibrator, auto_issue_threshold
    from training import train

    clean = _draw(np.random.default_rng(5), 8000)
    fit = _with_confident_mistakes(clean, 2)  # the fit draw holds confident mistakes the threshold draw lacks
    hyper = train.Hyper(calibration_frames=10, threshold_frames=11)
    _, threshold, metrics, _ = _calibrate_on(monkeypatch, tmp_path, hyper, fit, clean)

    calibrator = Calibrator.fit(*fit)
    check_confidences = np.array([calibrator.confidence(f) for f in clean[0]])
    assert auto_issue_threshold(check_confidences, clean[1]) < threshold < 1.0
    assert (metrics["fit_accepted"] - metrics["fit_accepted_correct"] + 1) <= 0.001 * metrics["fit_accepted"]
    kept = np.load(tmp_path / train.CALIBRATION_READS)  # both draws' reads, to try a later rule without rereading
    assert (kept[f"correct_{hyper.calibration_seed}"] == fit[1]).all()
    assert (kept[f"features_{hyper.threshold_seed}"] == clean[0]).all()


def test_without_a_threshold_draw_the_fit_draw_sets_the_threshold(monkeypatch, tmp_path):
    from murur.alpr.calibration import Calibrator, auto_issue_threshold
    from training import train

    fit = _draw(np.random.default_rng(4), 8000)
    hyper = train.Hyper(calibration_frames=10, threshold_frames=0)
    calibration, threshold, metrics, _ = _calibrate_on(monkeypatch, tmp_path, hyper, fit, None)

    calibrator = Calibrator.fit(*fit)
    assert threshold == auto_issue_threshold(np.array([calibrator.confidence(f) for f in fit[0]]), fit[1]) < 1.0
    assert metrics["threshold_chosen_on"] == "the fit draw"
    assert metrics["accepted"] == metrics["fit_accepted"] > 0


def test_the_recogniser_ships_its_weight_average_when_asked(tmp_path):
    import torch

    from training import train
    from training.data import generator_crop

    rng = np.random.default_rng(3)
    samples = [generator_crop(rng) for _ in range(24)]
    pools = {"crops": np.stack([crop for crop, _ in samples]), "texts": [text for _, text in samples]}

    def trained(name: str, steps: int, ema: float) -> dict:
        out = tmp_path / name
        out.mkdir()
        hyper = train.Hyper(rec_steps=steps, rec_batch=4, rec_easy_crops=0, rec_lr=1e-2, rec_ema=ema)
        train.train_recogniser(pools, hyper, out)
        return torch.load(out / "recognizer.pt")

    initial = trained("initial", 0, 0.0)
    raw = trained("raw", 3, 0.0)
    # A decay near 0 follows the weights: the average is the last step's model.
    following = trained("following", 3, 1e-9)
    # A decay near 1 stays where its first update put it: after step one, before steps two and three.
    lagging = trained("lagging", 3, 1 - 1e-9)
    floats = [k for k, v in raw.items() if v.is_floating_point()]

    def same(a: dict, b: dict) -> bool:
        return all(torch.allclose(a[k], b[k], atol=1e-6) for k in floats)

    assert same(following, raw)
    assert not same(lagging, raw)
    assert not same(lagging, initial)
