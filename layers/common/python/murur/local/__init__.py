"""The local embedded stack: template.yaml on moto, in-process, with the real handlers.

``python -m murur.local demo`` runs the whole chain on generated frames; see murur.local.stack.
"""

from murur.local.functions import FunctionError, Invocation
from murur.local.stack import LocalStack

__all__ = ["FunctionError", "Invocation", "LocalStack"]
