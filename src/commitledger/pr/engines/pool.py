"""The in-process engines (radon, lizard) over worker processes, while bca runs beside them.

Several interleaved chunks per worker: a mix of large and small files in
each, and a worker that finishes early takes the next chunk. Below
``POOL_THRESHOLD`` blobs, starting workers costs more than it saves.
"""

from __future__ import annotations

import os
from concurrent.futures import ProcessPoolExecutor

from commitledger.pr.engines import lizard_engine, radon_engine
from commitledger.pr.engines.metrics import BlobMetrics

POOL_THRESHOLD = radon_engine.POOL_THRESHOLD
# (key, engine, file name for the engine, bytes)
Item = tuple[str, str, str, bytes]


def measure_one(engine: str, filename: str, data: bytes) -> BlobMetrics:
    if engine == radon_engine.NAME:
        return radon_engine.measure_source(data)
    return lizard_engine.measure_source(data, filename)


def _measure_many(items: list[Item]) -> list[tuple[str, str]]:
    """Worker entry point: (key, metrics JSON) for a chunk of blobs."""
    return [(key, measure_one(engine, name, data).to_json()) for key, engine, name, data in items]


def measure_items(items: list[Item], workers: int | None = None) -> dict[str, BlobMetrics]:
    if not items:
        return {}
    cpus = workers if workers is not None else (os.cpu_count() or 1)
    if cpus < 2 or len(items) < POOL_THRESHOLD:
        return {key: measure_one(engine, name, data) for key, engine, name, data in items}
    parts = cpus * 4
    chunks = [items[i::parts] for i in range(parts) if items[i::parts]]
    out: dict[str, BlobMetrics] = {}
    with ProcessPoolExecutor(max_workers=cpus) as pool:
        for results in pool.map(_measure_many, chunks):
            for key, text in results:
                out[key] = BlobMetrics.from_json(text)
    return out


def measure_blobs(items: list[tuple[str, bytes]], workers: int | None = None) -> dict[str, BlobMetrics]:
    """Python blobs through radon: (blob id, bytes) -> metrics."""
    return measure_items([(blob_id, radon_engine.NAME, "x.py", data) for blob_id, data in items], workers)
