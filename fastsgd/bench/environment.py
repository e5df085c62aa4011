"""The machine and the library versions a run measured."""

from __future__ import annotations

import dataclasses
import os
import platform

import numpy as np

from .contenders import torch_version
from .schema import Machine, Versions

__all__ = ["machine_info", "versions"]


def machine_info():
    """Return the CPU model, core counts, platform, memory and load.

    Returns
    -------
    dict
        The ``machine`` section (see :class:`~fastsgd.bench.schema.Machine`).
    """
    machine = Machine(
        cpu=_cpu_model(),
        cores=os.cpu_count() or 1,
        usable_cores=_usable_cores(),
        platform=platform.platform(),
        memory_bytes=_physical_memory(),
        load_average=_load_average(),
    )
    return dataclasses.asdict(machine)


def _cpu_model():
    cpu = None
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as fh:
            for line in fh:
                if line.lower().startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return cpu or platform.processor() or platform.machine() or "unknown"


def _usable_cores():
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def _physical_memory():
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (AttributeError, ValueError, OSError):
        return None


def _load_average():
    try:
        return list(os.getloadavg())
    except (AttributeError, OSError):
        return None


def versions():
    """Return the versions of Python and of the libraries measured.

    Returns
    -------
    dict
        The ``versions`` section (see :class:`~fastsgd.bench.schema.Versions`).
    """
    import numba
    import scipy
    import sklearn

    from .. import __version__

    found = Versions(
        python=platform.python_version(),
        numpy=np.__version__,
        scipy=scipy.__version__,
        numba=numba.__version__,
        sklearn=sklearn.__version__,
        fastsgd=__version__,
        torch=torch_version(),
    )
    return dataclasses.asdict(found)
