"""What the detector is trained on: windows cut from the letterboxed frames, some of them magnified."""

import numpy as np
import pytest

pytest.importorskip("torch")


def frame_with_plate(width=640, height=384):
    frame = np.zeros((1, height, width), np.uint8)
    corners = np.array([[300, 180], [360, 180], [360, 196], [300, 196]], np.float32)  # 60 x 16 px plate
    frame[0, 180:196, 300:360] = 255
    return frame, [[(corners, False)]]


def decoded_plates(batch, stride):
    from murur.alpr.postprocess import OFFSET_SCALE

    images, heat, offsets, _, _ = batch
    plates = []
    for n in range(images.shape[0]):
        i, j = np.argwhere(heat[n, 0].numpy() == 1.0)[0]
        centre = np.array([(j + 0.5) * stride, (i + 0.5) * stride])
        corners = centre + offsets[n, :, i, j].numpy().reshape(4, 2) * OFFSET_SCALE
        plates.append((images[n, 0].numpy(), corners))
    return plates


@pytest.mark.parametrize("zoom", [1.0, 1.5])
def test_windows_are_magnified_with_their_plates(zoom):
    from training.models import PlateDetector
    from training.train import Hyper, detector_batch

    frames, plates = frame_with_plate()
    hyper = Hyper(det_batch=6, det_zoom=(zoom, zoom), det_zoom_share=1.0, det_plate_windows=1.0)
    batch = detector_batch(np.random.default_rng(0), frames, plates, hyper, PlateDetector.stride)
    assert batch[0].shape[2:] == (hyper.det_crop[1], hyper.det_crop[0])
    for image, corners in decoded_plates(batch, PlateDetector.stride):
        width = np.linalg.norm(corners[1] - corners[0])
        assert width == pytest.approx(60 * zoom, rel=0.03)
        # The target corners sit on the drawn plate, wherever it landed in the (possibly mirrored) window.
        x1, y1 = corners.min(axis=0)
        x2, y2 = corners.max(axis=0)
        inside = image[int(y1 + 2):int(y2 - 2), int(x1 + 2):int(x2 - 2)]
        assert inside.size and inside.min() > 0.5


def test_recut_crops_move_the_plate_a_little_and_leave_the_rest_alone():
    from training.train import RECUT_SCALE_X, recut_crops

    crops = np.zeros((64, 32, 160), np.float32)
    crops[:, 8:24, 20:140] = 1.0  # a bright plate body
    recut = recut_crops(np.random.default_rng(0), crops, share=0.5)
    moved = [i for i in range(len(crops)) if not np.array_equal(recut[i], crops[i])]
    assert 16 < len(moved) < 48  # about half
    assert all(np.array_equal(recut[i], crops[i]) for i in set(range(len(crops))) - set(moved))
    for i in moved:
        columns = np.nonzero(recut[i][16] > 0.5)[0]
        width = columns.max() - columns.min() + 1
        assert 120 * RECUT_SCALE_X[0] - 2 <= width <= 120 * RECUT_SCALE_X[1] + 2
        assert abs((columns.max() + columns.min()) / 2 - 79.5) < 0.03 * 160 + 2  # still near the centre
    assert np.array_equal(recut_crops(np.random.default_rng(0), crops, share=0.0), crops)
