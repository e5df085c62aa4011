"""fastsgd's compile cache: machine code kept across processes, never stale.

Numba's own cache (``cache=True``) has three problems for a package of many
small kernels that call each other:

- it checks only the timestamp of the file that defines the entry kernel, so
  editing a helper (``_losses.py``, say) leaves stale machine code in use;
- its index numbers data files by counting the index's entries, so two
  processes saving different signatures at once can leave an entry that
  points at the other's machine code;
- a corrupted or truncated cache file raises inside the fit.

This cache keeps one file per compiled signature, named by a hash of all that
decides the code: the kernel's name, bytecode and closure constants, the
argument types, the CPU and compiler, Numba's and Python's versions, and the
source of every module in this folder (also the cache folder's name).  There
is no index to race on: a file is written under a temporary name and renamed
into place, and a reader checks the full key stored in it.  A file that
cannot be read is compiled again and rewritten.  When no folder can be
written, the kernels compile once per process, which the log says once.

Folders, read in this order (the first writable one is written):

1. ``$NUMBA_CACHE_DIR/fastsgd`` when ``NUMBA_CACHE_DIR`` is set (then only it);
2. ``fastsgd/_kernels/__pycache__`` next to these sources (a Docker image that
   runs ``fastsgd compile`` at build time ships the code, and a read-only
   install still reads it);
3. ``$XDG_CACHE_HOME/fastsgd`` (default ``~/.cache/fastsgd``).

Each holds a sub-folder per source hash.  The cache touches a few private
parts of Numba (the dispatcher's ``_cache`` slot, ``CompileResult._reduce``);
if a Numba release changes them, kernels still compile, only without keeping
the code, and the log says so.
"""

from __future__ import annotations

import functools
import hashlib
import logging
import os
import pickle
import sys
import tempfile
import threading
import uuid
from pathlib import Path

import numba
from numba.core import compiler, config, serialize
from numba.core.caching import NullCache
from numba.core.runtime import rtsys

LOGGER = logging.getLogger("fastsgd")
FORMAT = 1  # bump when the file layout below changes
SOURCES = Path(__file__).resolve().parent
SUFFIX = ".nbk"

_state_lock = threading.Lock()
_said: set[str] = set()


@functools.cache
def source_hash() -> str:
    """Return a hash of the source of every module of ``fastsgd._kernels``."""
    digest = hashlib.sha256()
    for path in sorted(SOURCES.glob("*.py")):
        digest.update(path.name.encode())
        digest.update(b"\0")
        digest.update(path.read_bytes())
        digest.update(b"\0")
    return digest.hexdigest()[:16]


def _candidates() -> list[Path]:
    """Return the cache roots to read, in order (see the module docstring)."""
    user = config.CACHE_DIR
    if user:
        return [Path(user) / "fastsgd"]
    xdg = os.environ.get("XDG_CACHE_HOME") or os.path.join("~", ".cache")
    return [SOURCES / "__pycache__", Path(xdg).expanduser() / "fastsgd"]


def _writable(folder: Path) -> bool:
    """Tell whether files can be created in ``folder`` (creating it)."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=folder):
            pass
    except OSError:
        return False
    return True


@functools.cache
def folders() -> tuple[tuple[Path, ...], Path | None]:
    """Return ``(folders to read, folder to write or None)`` for this process."""
    reads = tuple(root / source_hash() for root in _candidates())
    write = next((f for f in reads if _writable(f)), None)
    if write is None:
        say_once(
            "unwritable",
            logging.WARNING,
            "fastsgd: cannot write the kernel cache (%s): compiled code will not "
            "be kept, and each new process compiles the kernels it uses again.",
            " or ".join(str(f.parent) for f in reads),
        )
    return reads, write


def cache_folder() -> Path | None:
    """Return the folder compiled kernels are written to (None: not kept)."""
    return folders()[1]


def say_once(tag: str, level: int, msg: str, *args) -> None:
    """Log ``msg`` the first time ``tag`` is said in this process."""
    with _state_lock:
        if tag in _said:
            return
        _said.add(tag)
    LOGGER.log(level, msg, *args)


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


class KernelCache(NullCache):
    """The cache of one dispatcher (see the module docstring).

    Implements the interface Numba's dispatcher calls: ``load_overload`` before
    compiling a signature and ``save_overload`` after.
    """

    def __init__(self, py_func, entry: bool):
        self._py_func = py_func
        self._name = f"{py_func.__module__}.{py_func.__qualname__}"
        self.entry = entry

    @property
    def cache_path(self):
        """The folder written (None when compiled code is not kept)."""
        return cache_folder()

    def _key(self, sig, codegen) -> str:
        fn = self._py_func
        cells = fn.__closure__ or ()
        constants = pickle.dumps(tuple(c.cell_contents for c in cells), protocol=4)
        code = fn.__code__
        return repr(
            (
                FORMAT,
                self._name,
                str(sig),
                codegen.magic_tuple(),
                numba.__version__,
                sys.version,
                source_hash(),
                _sha(code.co_code),
                _sha(constants),
            )
        )

    def _filename(self, key: str) -> str:
        return f"{self._py_func.__qualname__}-{_sha(key.encode())[:24]}{SUFFIX}"

    def load_overload(self, sig, target_context):
        """Return the cached compile result for ``sig``, or None (compile)."""
        try:
            # Numba's cache calls target_context.refresh(), which installs
            # every typing and lowering registry (0.3-0.5 s of a warm start);
            # loading machine code needs only the runtime it links against
            # (a compile refreshes the rest itself)
            rtsys.initialize(target_context)
            key = self._key(sig, target_context.codegen())
            reads, _ = folders()
            for folder in reads:
                payload = self._read(folder / self._filename(key), key)
                if payload is not None:
                    return compiler.CompileResult._rebuild(target_context, *payload)
        except Exception as exc:  # a cache must never break a fit
            LOGGER.debug("fastsgd: kernel cache not read for %s: %r", self._name, exc)
        if self.entry:
            where = cache_folder()
            LOGGER.info(
                "fastsgd: compiling %s for %s (once%s)",
                self._py_func.__qualname__,
                describe(sig),
                f"; kept in {where}" if where else ", not kept",
            )
        return None

    def _read(self, path: Path, key: str):
        try:
            blob = path.read_bytes()
        except OSError:
            return None
        head, sep, body = blob.partition(b"\n")
        if not sep or head != key.encode():
            LOGGER.debug("fastsgd: ignoring cache file %s (another key)", path)
            return None
        try:
            return pickle.loads(body)
        except Exception as exc:
            LOGGER.debug("fastsgd: ignoring unreadable cache file %s: %r", path, exc)
            return None

    def save_overload(self, sig, data):
        """Write the compile result ``data`` for ``sig`` (when a folder allows)."""
        folder = cache_folder()
        if folder is None:
            return
        try:
            if any(not x.can_cache for x in data.lifted):
                return
            if data.library.has_dynamic_globals:
                return
            key = self._key(sig, data.codegen)
            body = serialize.dumps(data._reduce())
            _write_atomic(folder / self._filename(key), key.encode() + b"\n" + body)
        except Exception as exc:
            say_once(
                "save-failed",
                logging.WARNING,
                "fastsgd: could not keep compiled kernel %s in %s (%r); it will "
                "compile again in the next process.",
                self._name,
                folder,
                exc,
            )


def _write_atomic(path: Path, blob: bytes) -> None:
    """Write ``blob`` to ``path`` so that readers see all of it or nothing."""
    tmp = path.with_name(f"{path.name}.{uuid.uuid4().hex[:12]}.tmp")
    try:
        with open(tmp, "wb") as f:
            f.write(blob)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def describe(sig) -> str:
    """Return a short description of a signature: the dtype of its first array."""
    for t in sig if isinstance(sig, tuple) else getattr(sig, "args", ()):
        dtype = getattr(t, "dtype", None)
        if dtype is not None and str(dtype).startswith("float"):
            return str(dtype)
    return "its arguments"


def attach(disp, entry: bool) -> None:
    """Give Numba dispatcher ``disp`` fastsgd's cache."""
    disp._cache = KernelCache(disp.py_func, entry)


def clear() -> list[Path]:
    """Delete every cache folder this process would read; return those removed."""
    import shutil

    removed = []
    for root in _candidates():
        for folder in root.glob("*"):
            if folder.is_dir() and any(folder.glob(f"*{SUFFIX}")):
                shutil.rmtree(folder, ignore_errors=True)
                removed.append(folder)
    return removed
