"""Training data from the synthetic generator, cut and scaled exactly as the reader does at run time.

Two pools, generated once per (recipe, seed) and cached under training/cache/:
- detector frames: `compose_scene` at SCENE_SIZE, letterboxed to the detector input like the reader does;
- recogniser crops: `random_plate_crop` (many, cheap) plus plates cut out of the detector frames with
  the reader's own rectification from jittered true corners (what a slightly-off detection gives).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from murur.alpr.formats import ALPHABET
from murur.alpr.imaging import CROP_HEIGHT, CROP_WIDTH, letterbox, rectify_plate
from murur.alpr.synth import KIND_WEIGHTS, compose_scene, random_plate, random_plate_crop, render_plate

TWO_ROW_KINDS = frozenset({"mr_two_row", "foreign_two_row"})
CACHE_DIR = Path(__file__).with_name("cache")


@dataclass(frozen=True)
class DataRecipe:
    seed: int = 2026
    scenes: int = 4000  # detector frames
    scene_size: tuple[int, int] = (960, 540)  # generated size, then letterboxed to the detector input
    detector_size: tuple[int, int] = (640, 384)
    generator_crops: int = 80000  # random_plate_crop samples
    scene_crop_jitters: int = 3  # rectified crops per plate in a detector frame
    corner_jitter: tuple[float, float] = (0.02, 0.05)  # std of corner noise, fractions of plate w, h
    min_scene_crop_width: float = 36.0  # smaller plates in a scene are not cut out for the recogniser
    # (kind, weight) pairs that replace KIND_WEIGHTS' weights for the generator crops, e.g. more of the
    # rarer Mauritanian kinds; the kinds not named keep theirs. Empty: the generator's own mix.
    crop_kind_weights: tuple[tuple[str, float], ...] = ()
    # Share of the generator crops whose plate is drawn small_crop_width px wide in the camera frame instead of
    # at random_plate_view's own resolution, which never shows a 520 mm plate under 83 px while 1080p road
    # frames do (and those are the plates the recogniser misreads). 0: the generator's own sizes.
    small_crop_share: float = 0.0
    small_crop_width: tuple[float, float] = (48.0, 100.0)  # uniform, camera pixels
    # Share of the detector scenes' vehicles whose plate sits in a deep pocket (compose_scene's
    # deep_recess_share): on real photos the detector boxed such pockets instead of the plate. 0: none.
    deep_recess_share: float = 0.0

    def __post_init__(self):  # a recipe that cannot be drawn is refused when it is made, not mid-pool
        self.crop_kinds()
        for name in ("small_crop_share", "deep_recess_share"):
            if not 0.0 <= getattr(self, name) <= 1.0:
                raise ValueError(f"{name} must be within 0..1, not {getattr(self, name)}")
        low, high = self.small_crop_width
        if not 0 < low <= high:
            raise ValueError(f"small_crop_width must be 0 < low <= high, not {self.small_crop_width}")

    def key(self) -> str:
        fields = asdict(self)
        if not self.crop_kind_weights:  # recipes from before the field keep their key (and cache)
            del fields["crop_kind_weights"]
        if not self.small_crop_share:  # likewise
            del fields["small_crop_share"], fields["small_crop_width"]
        if not self.deep_recess_share:
            del fields["deep_recess_share"]
        return hashlib.sha256(json.dumps(fields, sort_keys=True).encode()).hexdigest()[:12]

    def crop_kinds(self) -> dict[str, float] | None:
        """The generator crops' kind weights (random_plate's `kind_weights`), or None for the generator's own mix."""
        if not self.crop_kind_weights:
            return None
        weights = dict(KIND_WEIGHTS)
        for kind, weight in self.crop_kind_weights:
            if kind not in weights:
                raise ValueError(f"unknown plate kind {kind!r}; known: {', '.join(KIND_WEIGHTS)}")
            if weight < 0:
                raise ValueError(f"weight of {kind} is negative: {weight}")
            weights[kind] = float(weight)
        if sum(weights.values()) <= 0:
            raise ValueError("the kind weights sum to zero")
        return weights

    def crop_plate_width(self, rng: np.random.Generator) -> float | None:
        """A generator crop's plate width in camera pixels, or None for random_plate_view's own draw.
        Draws nothing from `rng` when small_crop_share is 0, so the default recipe's crops stay the same."""
        if not self.small_crop_share or rng.random() >= self.small_crop_share:
            return None
        return float(rng.uniform(*self.small_crop_width))


def single_threaded() -> None:
    """One thread per process for OpenCV (inside the generator) and torch: the machine is shared."""
    import cv2
    import torch

    cv2.setNumThreads(1)
    torch.set_num_threads(1)


def _grey(rgb: np.ndarray) -> Image.Image:
    return Image.fromarray(rgb).convert("L")


def encode_text(text: str) -> list[int]:
    return [ALPHABET.index(ch) + 1 for ch in text]


def jitter_corners(rng: np.random.Generator, corners: np.ndarray, jitter: tuple[float, float]) -> np.ndarray:
    w = np.linalg.norm(corners[1] - corners[0])
    h = np.linalg.norm(corners[3] - corners[0])
    noise = rng.normal(0, 1, (4, 2)) * np.array([jitter[0] * w, jitter[1] * h])
    return corners + noise


def generator_crop(rng: np.random.Generator, kind_weights: dict[str, float] | None = None,
                   plate_width: float | None = None) -> tuple[np.ndarray, str]:
    """One recogniser sample from random_plate_crop, in the reader's crop geometry; `kind_weights` as
    DataRecipe.crop_kinds gives them (None: the generator's own mix), `plate_width` in camera pixels
    (None: the generator's own resolution)."""
    spec = random_plate(rng, kind_weights=kind_weights)
    if spec.kind in TWO_ROW_KINDS:
        rgb, text, _ = random_plate_crop(rng, spec, out_size=(CROP_WIDTH // 2, 2 * CROP_HEIGHT), plate_width=plate_width)
        grey = _grey(rgb)
        h = grey.height
        half = (CROP_WIDTH // 2, CROP_HEIGHT)
        top = grey.resize(half, Image.Resampling.BILINEAR, box=(0, 0, grey.width, h * 0.55))
        bottom = grey.resize(half, Image.Resampling.BILINEAR, box=(0, h * 0.45, grey.width, h))
        return np.concatenate([np.asarray(top), np.asarray(bottom)], axis=1), text
    rgb, text, _ = random_plate_crop(rng, spec, out_size=(CROP_WIDTH, CROP_HEIGHT), plate_width=plate_width)
    return np.asarray(_grey(rgb)), text


def easy_crop(rng: np.random.Generator) -> tuple[np.ndarray, str]:
    """A clean front-on plate filling the crop: easy samples that get CTC training off the ground."""
    spec = random_plate(rng)
    rendered = render_plate(spec, rng)
    grey = Image.fromarray(np.asarray(_grey(rendered.image)))
    if spec.kind in TWO_ROW_KINDS:
        h = grey.height
        half = (CROP_WIDTH // 2, CROP_HEIGHT)
        top = grey.resize(half, Image.Resampling.BILINEAR, box=(0, 0, grey.width, h * 0.55))
        bottom = grey.resize(half, Image.Resampling.BILINEAR, box=(0, h * 0.45, grey.width, h))
        return np.concatenate([np.asarray(top), np.asarray(bottom)], axis=1), rendered.text
    return np.asarray(grey.resize((CROP_WIDTH, CROP_HEIGHT), Image.Resampling.BILINEAR)), rendered.text


def detector_frame(rng: np.random.Generator, recipe: DataRecipe):
    """(letterboxed grey uint8 HxW, [(corners in detector pixels, two_rows)], scene grey, annotations)."""
    scene = compose_scene(rng, size=recipe.scene_size, deep_recess_share=recipe.deep_recess_share)
    grey = _grey(scene.image)
    canvas, scale = letterbox(grey, *recipe.detector_size)
    plates = [(a.corners.astype(np.float32) * scale, a.kind in TWO_ROW_KINDS) for a in scene.annotations]
    return canvas, plates, grey, scene.annotations


def build_pools(recipe: DataRecipe, log=print, jobs: int = 1) -> dict:
    """Generate (or load from cache) both pools for `recipe`."""
    CACHE_DIR.mkdir(parents=True, exist_ok=True)
    path = CACHE_DIR / f"pools-{recipe.key()}.npz"
    if path.exists():
        # The key covers the recipe, not the generator's code: a cache from another generator commit
        # (or one that predates recording it, or from a working tree with local changes) is stale.
        with np.load(path, allow_pickle=False) as data:
            cached = str(data["generator_commit"]) if "generator_commit" in data.files else ""
            current = generator_commit()
            if cached and current and cached == current and not current.endswith("+dirty"):
                log(f"data: loading cached pools {path.name} (generator {cached[:10]})")
                return _unpack(dict(data))
        log(f"data: cached pools {path.name} are stale (generator {cached[:10] or 'unrecorded'}, "
            f"now {(current or 'unknown')[:10]}); regenerating")
    pools = generate_pools(recipe, log, jobs)
    np.savez(path, **_pack(pools))
    return pools


SCENES_PER_CHUNK = 250
CROPS_PER_CHUNK = 5000


def _scene_chunk(args: tuple[DataRecipe, int, int]) -> tuple[np.ndarray, list, list, list]:
    recipe, chunk, count = args
    rng = np.random.default_rng([recipe.seed, 1, chunk])
    w, h = recipe.detector_size
    frames = np.zeros((count, h, w), np.uint8)
    frame_plates, crops, texts = [], [], []
    for i in range(count):
        canvas, plates, grey, annotations = detector_frame(rng, recipe)
        frames[i] = canvas
        frame_plates.append(plates)
        for ann in annotations:
            two_rows = ann.kind in TWO_ROW_KINDS
            if np.linalg.norm(ann.corners[1] - ann.corners[0]) < recipe.min_scene_crop_width:
                continue
            for _ in range(recipe.scene_crop_jitters):
                corners = jitter_corners(rng, ann.corners.astype(np.float64), recipe.corner_jitter)
                crops.append(rectify_plate(grey, corners, two_rows))
                texts.append(ann.text)
    return frames, frame_plates, crops, texts


def _crop_chunk(args: tuple[DataRecipe, int, int]) -> tuple[list, list]:
    recipe, chunk, count = args
    rng = np.random.default_rng([recipe.seed, 2, chunk])
    kinds = recipe.crop_kinds()
    pairs = [generator_crop(rng, kinds, recipe.crop_plate_width(rng)) for _ in range(count)]
    return [p[0] for p in pairs], [p[1] for p in pairs]


def _chunks(recipe: DataRecipe, total: int, size: int) -> list[tuple[DataRecipe, int, int]]:
    return [(recipe, i, min(size, total - i * size)) for i in range((total + size - 1) // size)]


def generate_pools(recipe: DataRecipe, log=print, jobs: int = 1) -> dict:
    """Deterministic for a recipe whatever `jobs` is: every chunk has its own seed."""
    import multiprocessing

    commit = generator_commit()
    scene_jobs = _chunks(recipe, recipe.scenes, SCENES_PER_CHUNK)
    crop_jobs = _chunks(recipe, recipe.generator_crops, CROPS_PER_CHUNK)
    frames, frame_plates, crops, texts = [], [], [], []
    context = multiprocessing.get_context("fork")
    with context.Pool(jobs, initializer=single_threaded) if jobs > 1 else _InlinePool() as pool:
        scene_results = pool.map_async(_scene_chunk, scene_jobs)
        crop_results = pool.map_async(_crop_chunk, crop_jobs)
        for f, fp, c, t in scene_results.get():
            frames.append(f)
            frame_plates.extend(fp)
            crops.extend(c)
            texts.extend(t)
        log(f"data: {recipe.scenes} scenes, {len(crops)} crops from them")
        for c, t in crop_results.get():
            crops.extend(c)
            texts.extend(t)
    log(f"data: {len(crops)} recogniser crops in all")
    return {"frames": np.concatenate(frames), "frame_plates": frame_plates, "crops": np.stack(crops), "texts": texts,
            "generator_commit": commit}


class _InlinePool:
    """The part of multiprocessing.Pool used above, run in this process."""

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def map_async(self, fn, items):
        results = [fn(item) for item in items]

        class _Done:
            def get(self):
                return results

        return _Done()


def generator_commit() -> str | None:
    """The last commit of the synthetic generator's code, "+dirty" when it has local changes."""
    import subprocess

    synth = Path(__file__).resolve().parents[1] / "layers/common/python/murur/alpr/synth"
    try:
        commit = subprocess.run(["git", "log", "-1", "--format=%H", "--", "."], capture_output=True,
                                text=True, check=True, cwd=synth).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--", "."], capture_output=True,
                               text=True, check=True, cwd=synth).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return None
    return (commit + ("+dirty" if dirty else "")) or None


def _pack(pools: dict) -> dict:
    corners, rows, owner = [], [], []
    for i, plates in enumerate(pools["frame_plates"]):
        for c, two in plates:
            corners.append(c)
            rows.append(two)
            owner.append(i)
    return {
        "frames": pools["frames"],
        "plate_corners": np.array(corners, np.float32).reshape(-1, 4, 2),
        "plate_two_rows": np.array(rows, bool),
        "plate_frame": np.array(owner, np.int64),
        "crops": pools["crops"],
        "texts": np.array(pools["texts"]),
        "generator_commit": np.array(pools.get("generator_commit") or ""),
    }


def _unpack(data: dict) -> dict:
    frame_plates: list[list] = [[] for _ in range(len(data["frames"]))]
    for c, two, i in zip(data["plate_corners"], data["plate_two_rows"], data["plate_frame"]):
        frame_plates[int(i)].append((c, bool(two)))
    commit = str(data["generator_commit"]) if "generator_commit" in data else None
    return {"frames": data["frames"], "frame_plates": frame_plates, "crops": data["crops"],
            "texts": [str(t) for t in data["texts"]], "generator_commit": commit or None}
