"""The recogniser's input normalisation: "per_crop" reads a dark, low-contrast crop as it reads a bright one."""

import numpy as np
import pytest

torch = pytest.importorskip("torch")


def crops(seed=0):
    rng = np.random.default_rng(seed)
    return torch.from_numpy(rng.uniform(0.2, 0.8, (2, 1, 32, 160)).astype(np.float32))


def recogniser(input_norm):
    from training.models import PlateRecognizer

    torch.manual_seed(0)
    return PlateRecognizer(input_norm=input_norm).eval()


def test_per_crop_input_ignores_brightness_and_contrast():
    model, x = recogniser("per_crop"), crops()
    with torch.no_grad():
        reference = model(x)
        darker = model(x * 0.5)  # half the contrast, darker: the floor on the spread is small against it
        brighter = model(x + 0.15)
    assert torch.allclose(brighter, reference, atol=1e-4)
    assert torch.allclose(darker, reference, atol=0.05 * float(reference.abs().max()))


def test_fixed_input_is_what_older_checkpoints_were_trained_with():
    model, x = recogniser("fixed"), crops()
    with torch.no_grad():
        assert not torch.allclose(model(x + 0.15), model(x), atol=1e-3)


def test_unknown_input_norm_is_refused():
    from training.models import PlateRecognizer

    with pytest.raises(ValueError, match="input_norm"):
        PlateRecognizer(input_norm="histogram")


def test_both_norms_share_weights_so_either_can_start_from_the_other():
    from training.models import PlateRecognizer

    fixed = PlateRecognizer(input_norm="fixed").state_dict()
    per_crop = PlateRecognizer(input_norm="per_crop")
    per_crop.load_state_dict(fixed)  # a warm start from a "fixed" checkpoint
    assert per_crop.input_norm == "per_crop"


def test_per_crop_norm_is_part_of_the_exported_onnx_graph(tmp_path):
    import onnxruntime as ort

    from training.models import PlateDetector
    from training.train import RECOGNIZER_FLOAT_FILE, Hyper, export_onnx

    model = recogniser("per_crop")
    torch.save(model.state_dict(), tmp_path / "recognizer.pt")
    torch.save(PlateDetector().state_dict(), tmp_path / "detector.pt")
    export_onnx(tmp_path, Hyper(rec_input_norm="per_crop", rec_quantization="none"))

    x = crops(1) * 0.4  # dark: the fixed norm would read it differently
    session = ort.InferenceSession(str(tmp_path / RECOGNIZER_FLOAT_FILE), providers=["CPUExecutionProvider"])
    exported = session.run(None, {session.get_inputs()[0].name: x.numpy()})[0]
    with torch.no_grad():
        np.testing.assert_allclose(exported, model(x).numpy(), atol=1e-3)
