"""Python's cyclic garbage collector, tuned for a request-serving process.

Measured on the 1M-hazard bench (one worker, 32 connections): with the defaults a
`GET /hazards/{id}` had a p99 of ~170 ms against a p50 of ~7 ms, and the same for every
route. Each request allocates a few thousand containers (dicts, lists, Pydantic and FastAPI
objects), so a young-generation collection ran every few requests, and now and then a full
one walked every object the app holds — routes, models, SQLAlchemy metadata, a few hundred
thousand of them — while the event loop waited.

After start-up those objects live as long as the process: `gc.freeze()` moves them out of
the collector's sight (CPython docs, `gc.freeze`), and a larger young-generation threshold
makes collections rarer without changing what they find. Reference counting still frees
almost everything at once; only garbage cycles wait a little longer. With both, p99 ~10 ms
and ~50 % more get-by-ids per second on the same run.

The threshold was 10,000 until session 6 compared 100,000 on fresh servers (1M bench): the
bench's register page 2,064-2,255 against 1,827-2,151 req/s, p99 29.9-32.9 against
31.4-38.9 ms (five pairs); registrations 1,399-1,571 against 1,090-1,439 req/s (three
pairs); get-by-id alike (3,940-4,259 against 3,906-4,169 req/s, p99 14-16 ms). After
8 s of get-by-ids had filled the row cache (the bench's order), the page was slightly
better at 100,000 in three pairs (p99 37.6-44.3 against 40.7-47.4 ms) and slightly worse
in two (35.3/42.4 against 35.0/32.8 ms).
"""

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def tuned(gen0_threshold: int) -> Iterator[None]:
    """Freeze what start-up built and collect the young generation every `gen0_threshold`
    net allocations, for the life of the block; as before afterwards."""
    before = gc.get_threshold()
    gc.collect()
    gc.freeze()
    gc.set_threshold(gen0_threshold, *before[1:])
    try:
        yield
    finally:
        gc.set_threshold(*before)
        gc.unfreeze()
