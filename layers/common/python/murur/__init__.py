"""Murur: traffic-camera frames to legally sound violations.

The one domain package, shipped as the shared Lambda layer and imported by every function.
"""

__version__ = "0.1.0"
