"""Number-plate reading: `PlateReader.default().read(image_bytes) -> list[PlateRead]`.

The synthetic data generator that trains it lives in `murur.alpr.synth` (training only).
"""

from murur.alpr.imaging import InvalidImage
from murur.alpr.reader import ModelNotAvailable, PlateRead, PlateReader

__all__ = ["InvalidImage", "ModelNotAvailable", "PlateRead", "PlateReader"]
