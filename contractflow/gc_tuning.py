"""Garbage collector settings for long-running service processes.

A workflow step allocates many short-lived objects (SpiffWorkflow tasks, iterators,
dicts), so with the default thresholds (700, 10, 10) the collector runs every few hundred
allocations and keeps walking everything start-up created: parsed specs, schemas, the
SQLAlchemy and Flask machinery. Freezing what exists once a process is ready takes that
out of every collection, and a larger first threshold makes collections rarer; reference
counting still frees almost everything at once. Measured on the pre-signing lifecycle:
about 15 % less CPU, for the durable runtime and for SpiffWorkflow alone alike.
"""

from __future__ import annotations

import gc

FIRST_GENERATION_THRESHOLD = 20_000


def tune_for_service() -> None:
    """Call once a process has built everything it keeps (after bootstrap)."""
    gc.collect()
    gc.freeze()
    _, second, third = gc.get_threshold()
    gc.set_threshold(FIRST_GENERATION_THRESHOLD, max(second, 50), max(third, 100))
