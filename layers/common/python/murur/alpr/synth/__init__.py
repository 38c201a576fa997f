"""Synthetic number plates and camera scenes, to train and test the plate reader.

Deterministic by seed: every function takes a `numpy.random.Generator` and draws all its randomness
from it. Uses OpenCV, so it belongs to training and tooling, never to a Lambda function.

    rng = np.random.default_rng(7)
    scene = compose_scene(rng, size=(512, 288))           # 0..3 random plates
    scene = compose_scene(rng, [PlateSpec.for_text("1234AB00")])
    crop, text, kind = random_plate_crop(rng)             # a recogniser training sample
    view = random_plate_view(rng)                         # camera-resolution patch + plate corners
"""

from murur.alpr.synth.plates import (
    KIND_WEIGHTS,
    KINDS,
    PlateSpec,
    RenderedPlate,
    random_plate,
    render_plate,
)
from murur.alpr.synth.scene import PlateAnnotation, PlateView, Scene, compose_scene, random_plate_crop, random_plate_view

__all__ = [
    "KINDS",
    "KIND_WEIGHTS",
    "PlateAnnotation",
    "PlateSpec",
    "PlateView",
    "RenderedPlate",
    "Scene",
    "compose_scene",
    "random_plate",
    "random_plate_crop",
    "random_plate_view",
    "render_plate",
]
