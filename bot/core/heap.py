"""The objects a server loads at start, kept out of Python's full garbage collections.

A Rasa server holds ~750,000 Python objects once its model is loaded (TensorFlow, spaCy,
the domain, the persona catalogue), and every full collection of Python's cyclic garbage
collector walks all of them: ~290 ms on this 2-core machine, paid by whichever customer's
turn is running when the collector's thresholds are crossed (every few hundred turns, more
often the more a turn allocates). The objects loaded at start live as long as the process,
so they are moved out of the collector's view once, after loading (``gc.freeze``): a full
collection then walks only what was made since. Reference counting still frees them as
usual; only cycles among them are never collected, and they were never going to be.

A model swapped in while the server runs (Rasa's ``PUT /model``) makes the previous
model's objects garbage: ``refreeze_loaded_objects`` puts everything frozen back in the
collector's view, collects the previous model (its cycles too), and freezes what is left.
"""

from __future__ import annotations

import gc
import logging
import time

logger = logging.getLogger(__name__)


def freeze_loaded_objects(what: str) -> int:
    """Collect once, then keep every object alive now out of later collections. Returns how
    many objects were frozen (all that have been, counting earlier calls)."""
    started = time.perf_counter()
    gc.collect()
    gc.freeze()
    frozen = gc.get_freeze_count()
    logger.info(
        "heap.frozen what=%s objects=%d ms=%.0f", what, frozen, (time.perf_counter() - started) * 1000
    )
    return frozen


def refreeze_loaded_objects(what: str) -> int:
    """After what was loaded changed: let the collector see every frozen object again, so
    what is no longer used is collected, then freeze what is left (``freeze_loaded_objects``)."""
    gc.unfreeze()
    return freeze_loaded_objects(what)
