"""Share one kernel call's windows between threads without ever waiting on an idle thread.

The window kernels are serial over a slice ``[lo, hi)`` and release the GIL. `run_sliced`
cuts the windows into slices that threads *claim* one at a time: the calling thread
works too, and at the end it waits only for slices another thread has already claimed.
A helper thread that the OS has not scheduled yet (a busy machine) claims nothing, so a
call is never slower than doing all the work on the calling thread; there is no
spin-waiting pool (OpenMP's wait policy is what stalled small batches before).

The number of threads is numba's (``numba.get_num_threads()``, set by ``--threads``).
Calls smaller than `MIN_SLICE_BYTES` of output per extra thread run on the calling
thread alone.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import numba

__all__ = ["MIN_SLICE_BYTES", "run_sliced"]

#: Output bytes below which a slice is not worth handing to another thread.
MIN_SLICE_BYTES = 1 << 19

_pool: ThreadPoolExecutor | None = None
_pool_size = 0
_pool_lock = threading.Lock()


def _executor(workers: int) -> ThreadPoolExecutor:
    global _pool, _pool_size
    with _pool_lock:
        if _pool is None or _pool_size < workers:
            _pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="varinterp-win")
            _pool_size = workers
        return _pool


class _Job:
    def __init__(self, fn: Callable[[int, int], None], n: int, step: int) -> None:
        self.fn = fn
        self.n = n
        self.step = step
        self.next = 0
        self.lock = threading.Lock()
        self.pending = 0  # slices claimed by helper threads and not finished
        self.done = threading.Condition(self.lock)
        self.error: BaseException | None = None

    def claim(self, helper: bool) -> tuple[int, int] | None:
        with self.lock:
            if self.next >= self.n or self.error is not None:
                return None
            lo = self.next
            self.next = min(lo + self.step, self.n)
            if helper:
                self.pending += 1
            return lo, self.next

    def help(self) -> None:
        while (span := self.claim(helper=True)) is not None:
            try:
                self.fn(*span)
            except BaseException as exc:  # handed to the calling thread
                with self.lock:
                    self.error = exc
            finally:
                with self.lock:
                    self.pending -= 1
                    self.done.notify_all()


def run_sliced(fn: Callable[[int, int], None], n: int, bytes_per_item: int) -> None:
    """Call ``fn(lo, hi)`` over slices covering ``range(n)``, on up to numba's thread count."""
    threads = max(1, numba.get_num_threads())
    total = n * max(bytes_per_item, 1)
    if threads == 1 or total < 2 * MIN_SLICE_BYTES:
        if n:
            fn(0, n)
        return
    # a few slices per thread, each at least MIN_SLICE_BYTES, so a late thread costs little
    per_slice = max(MIN_SLICE_BYTES // max(bytes_per_item, 1), 1)
    step = max(per_slice, -(-n // (4 * threads)))
    job = _Job(fn, n, step)
    helpers = min(threads - 1, -(-n // step) - 1)
    pool = _executor(threads - 1)
    for _ in range(helpers):
        pool.submit(job.help)
    while (span := job.claim(helper=False)) is not None:
        fn(*span)
    with job.lock:
        while job.pending:
            job.done.wait()
        if job.error is not None:
            raise job.error
