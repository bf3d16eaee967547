"""Run independent pieces of scoring on threads, with results (and errors) in order.

numpy releases the GIL in its sorts and reductions, which is where a score model's columns
spend their time, so scoring them on two threads takes about half as long. Each task only
reads the aligned model (and fills caches whose values do not depend on which thread fills
them), so the results are identical for any number of threads.

Example:
    >>> run_in_order([lambda: 1, lambda: 2, lambda: 3], threads=2)
    [1, 2, 3]
    >>> checked_threads(0)
    Traceback (most recent call last):
    ValueError: threads must be a positive integer, got 0
"""

from __future__ import annotations

import operator
import os
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

__all__ = ["MAX_DEFAULT_THREADS", "checked_threads", "default_threads", "run_in_order"]

MAX_DEFAULT_THREADS = 4
"""Threads used by default at most: five columns and μ do not keep more busy."""

T = TypeVar("T")


def default_threads() -> int:
    """The machine's cores (those this process may use), at most :data:`MAX_DEFAULT_THREADS`."""
    try:
        cores = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # not on every platform
        cores = os.cpu_count() or 1
    return max(1, min(cores, MAX_DEFAULT_THREADS))


def checked_threads(threads: Any) -> int:
    """``threads`` if it is a positive integer (a ``ValueError`` naming it otherwise)."""
    try:
        count = None if isinstance(threads, bool) else operator.index(threads)
    except TypeError:
        count = None
    if count is None or count < 1:
        raise ValueError(f"threads must be a positive integer, got {threads!r}")
    return count


def run_in_order(tasks: Sequence[Callable[[], T]], threads: int) -> list[T]:
    """Each task's result, in the tasks' order, on up to ``threads`` threads; the first
    task's error in that order is raised, as on one thread (the others are then finished
    first, so no thread outlives the call)."""
    if threads <= 1 or len(tasks) < 2:
        return [task() for task in tasks]
    from concurrent.futures import ThreadPoolExecutor  # here: a label-set run never needs it

    with ThreadPoolExecutor(max_workers=min(threads, len(tasks))) as pool:
        futures = [pool.submit(task) for task in tasks]
        return [future.result() for future in futures]
