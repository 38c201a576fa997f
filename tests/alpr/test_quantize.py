"""The shipped recogniser is the float export quantised to int8 (training.quantize): same reads, int8 weights."""

import numpy as np
import pytest

torch = pytest.importorskip("torch")
onnx = pytest.importorskip("onnx")


@pytest.fixture(scope="module")
def exports(tmp_path_factory):
    from training.models import PlateDetector, PlateRecognizer
    from training.train import Hyper, export_onnx

    out = tmp_path_factory.mktemp("export")
    torch.manual_seed(0)
    torch.save(PlateRecognizer(input_norm="per_crop").state_dict(), out / "recognizer.pt")
    torch.save(PlateDetector().state_dict(), out / "detector.pt")
    export_onnx(out, Hyper(quantization_frames=4))
    return out


def session(path):
    import onnxruntime as ort

    return ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])


def test_calibration_crops_are_the_first_looks_of_every_generated_plate():
    from murur.alpr.evaluate import synthetic_frames
    from murur.alpr.imaging import CROP_HEIGHT, CROP_WIDTH, FIRST_LOOKS

    from training.quantize import calibration_crops

    crops = calibration_crops(seed=98, frames=4)
    plates = sum(len(frame.truths) for frame in synthetic_frames(98, 4))
    assert crops.shape == (plates * FIRST_LOOKS, 1, CROP_HEIGHT, CROP_WIDTH)
    assert crops.dtype == np.float32 and 0.0 <= crops.min() and crops.max() <= 1.0
    assert crops.std() > 0.05  # plates, not blank canvases
    np.testing.assert_array_equal(crops, calibration_crops(seed=98, frames=4))  # deterministic by seed


def test_the_shipped_recogniser_holds_int8_weights_and_reads_like_the_float_export(exports):
    from training.quantize import calibration_crops
    from training.train import RECOGNIZER_FILE, RECOGNIZER_FLOAT_FILE

    graph = onnx.load(str(exports / RECOGNIZER_FILE)).graph
    ops = {node.op_type for node in graph.node}
    assert {"QuantizeLinear", "DequantizeLinear", "Conv"} <= ops
    int8_weights = [t for t in graph.initializer if t.data_type == onnx.TensorProto.INT8 and len(t.dims) >= 3]
    assert len(int8_weights) == sum(node.op_type == "Conv" for node in graph.node)  # every convolution
    # 7-bit weights: products summed in pairs into int16 cannot saturate on x86 CPUs without VNNI.
    assert all(np.abs(onnx.numpy_helper.to_array(t).astype(np.int16)).max() <= 64 for t in int8_weights)
    assert (exports / RECOGNIZER_FILE).stat().st_size < 0.4 * (exports / RECOGNIZER_FLOAT_FILE).stat().st_size

    crops = calibration_crops(seed=7, frames=6)  # not the crops the ranges were measured on
    assert len(crops) > 0
    reference = session(exports / RECOGNIZER_FLOAT_FILE).run(None, {"crop": crops})[0]
    quantised = session(exports / RECOGNIZER_FILE).run(None, {"crop": crops})[0]
    assert quantised.shape == reference.shape
    correlation = np.corrcoef(reference.ravel(), quantised.ravel())[0, 1]
    assert correlation > 0.99
    assert (reference.argmax(-1) == quantised.argmax(-1)).mean() > 0.9


def test_rec_quantization_none_ships_the_float_export(tmp_path):
    from training.models import PlateDetector, PlateRecognizer
    from training.train import (
        RECOGNIZER_FILE,
        RECOGNIZER_FLOAT_FILE,
        Hyper,
        export_onnx,
        sha256_of,
    )

    torch.save(PlateRecognizer().state_dict(), tmp_path / "recognizer.pt")
    torch.save(PlateDetector().state_dict(), tmp_path / "detector.pt")
    export_onnx(tmp_path, Hyper(rec_input_norm="fixed", rec_quantization="none"))
    assert sha256_of(tmp_path / RECOGNIZER_FILE) == sha256_of(tmp_path / RECOGNIZER_FLOAT_FILE)


def test_an_unknown_quantization_is_refused(tmp_path):
    from training.train import Hyper, export_onnx

    with pytest.raises(SystemExit, match="rec_quantization"):
        export_onnx(tmp_path, Hyper(rec_quantization="fp16"))
