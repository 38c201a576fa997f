import numpy as np

from murur.alpr.synth.__main__ import main as write_frames
from murur.alpr.synth.realism import STATISTICS, compare, crop_statistics, generator_statistics, photo_statistics


def test_crop_statistics_tell_flat_from_sharp():
    flat = np.full((32, 160), 128, np.uint8)
    stripes = np.tile(np.repeat(np.array([20, 230], np.uint8), 4), (32, 20))
    flat_stats, stripe_stats = crop_statistics(flat), crop_statistics(stripes)
    assert flat_stats[1] == 0 and flat_stats[3] == 0
    assert stripe_stats[1] > 80 and stripe_stats[2] > 150 and stripe_stats[3] > flat_stats[3]


def test_compare_a_labelled_folder_with_the_generator(tmp_path):
    write_frames([str(tmp_path), "--count", "4", "--size", "640x360", "--seed", "3", "--kind", "foreign_us"])
    labelled = sum(len(p.read_text().splitlines()) for p in tmp_path.glob("*.txt"))
    photos = photo_statistics(tmp_path)
    generated = generator_statistics(20, ["mr_civil"], seed=1)
    assert photos.shape == (labelled, len(STATISTICS)) and generated.shape == (20, len(STATISTICS))
    report = compare(photos, generated)
    assert report["generator"]["count"] == 20
    for name in STATISTICS:
        low, mid, high = report["generator"][name]
        assert low <= mid <= high
    # Generated plates have ink on a background: real contrast, not a flat patch.
    assert report["generator"]["contrast"][1] > 15
