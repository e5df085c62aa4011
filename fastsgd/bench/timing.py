"""Timing: contenders raced side by side, and each compiled epoch timed.

Every contender runs once untimed first (JIT compilation, cache loading,
page faults), then the contenders are timed alternately, round after round
(the order reversed every other round), and each keeps its best time: the
machine may be shared and noisy, and the minimum is the least disturbed run.
"""

from __future__ import annotations

import gc
import time
from contextlib import contextmanager

from .._util import check_int

__all__ = ["EpochClock", "epoch_clock", "epoch_time", "gc_paused", "race"]


def race(contenders, repeats, warmup=1):
    """Time callables side by side: alternately, round after round.

    Each callable runs ``warmup`` times untimed first. Then every round runs
    each callable once (the order reversed every other round, so no contender
    always follows the same one) and records its wall time. The cyclic garbage
    collector is paused during the timed rounds, as ``timeit`` does.

    Parameters
    ----------
    contenders : dict of str to callable
        Functions of no argument.
    repeats : int
        Timed rounds, >= 1.
    warmup : int, default=1
        Untimed runs of each contender first, >= 0.

    Returns
    -------
    dict of str to list of float
        The times of each contender, in seconds, one per round.
    """
    repeats = check_int("repeats", repeats, 1)
    warmup = check_int("warmup", warmup, 0)
    names = list(contenders)
    for _ in range(warmup):
        for name in names:
            contenders[name]()
    times = {name: [] for name in names}
    with gc_paused():
        for r in range(repeats):
            for name in names if r % 2 == 0 else names[::-1]:
                t0 = time.perf_counter()
                contenders[name]()
                times[name].append(time.perf_counter() - t0)
    return times


@contextmanager
def gc_paused():
    """Collect once, then keep the cyclic garbage collector off (as timeit)."""
    gc.collect()
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


class EpochClock:
    """An ``on_epoch`` callback that records each epoch's compiled-call time.

    Pass it to a fit (``model.fit(X, y, on_epoch=clock)``): ``clock.times``
    then holds, per epoch, the seconds of its one compiled call
    (:attr:`fastsgd.EpochInfo.seconds`), without the Python work around it.
    """

    def __init__(self):
        self.times: list[float] = []

    def __call__(self, info) -> None:
        """Record the epoch just run."""
        self.times.append(info.seconds)


def epoch_clock() -> EpochClock:
    """Return a new :class:`EpochClock` (an ``on_epoch`` callback)."""
    return EpochClock()


def epoch_time(fit_many, fit_one, epochs):
    """Time of one epoch: ``(fit_many - fit_one) / (epochs - 1)``.

    The difference of a fit of ``epochs`` epochs and a fit of one cancels what
    a fit pays once (input validation, set-up) on either side; floored at 1%
    of ``fit_many / epochs`` against timing noise.
    """
    return max((fit_many - fit_one) / (epochs - 1), 0.01 * fit_many / epochs)
