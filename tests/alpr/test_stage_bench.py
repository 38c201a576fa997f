import murur.alpr.reader as reader_module
from bench.alpr_stages import MODULE_STAGES, SESSION_STAGES, stage_times
from murur.alpr.evaluate import synthetic_frames
from murur.alpr.reader import PlateReader


def test_every_stage_is_timed_and_the_reader_is_left_as_it_was():
    reader = PlateReader.default()
    functions = {attr: getattr(reader_module, attr) for _, attr in MODULE_STAGES}
    sessions = {attr: getattr(reader, attr) for _, attr in SESSION_STAGES}
    images = [frame.image for frame in synthetic_frames(4321, 4, kinds=("mr_civil",))]
    before = [[(p.text, p.confidence) for p in reader.read(image)] for image in images]

    report = stage_times(reader, images)

    stages = report["stages_ms_per_frame"]
    assert report["frames"] == 3
    assert set(stages) == {name for name, _ in MODULE_STAGES + SESSION_STAGES} | {"other"}
    # Every frame holds a Mauritanian plate: each stage of reading one ran and took time.
    assert all(stages[name] > 0 for name, _ in MODULE_STAGES + SESSION_STAGES)
    assert stages["other"] >= 0
    assert sum(stages.values()) <= report["ms_per_frame_mean"] * 1.01 + 0.05
    assert report["ms_per_frame_p50"] <= report["ms_per_frame_p95"]
    assert {attr: getattr(reader_module, attr) for _, attr in MODULE_STAGES} == functions
    assert {attr: getattr(reader, attr) for _, attr in SESSION_STAGES} == sessions
    assert [[(p.text, p.confidence) for p in reader.read(image)] for image in images] == before
