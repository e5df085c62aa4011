"""Out-of-core training: feed chunks of a data set to ``partial_fit``.

SGD learns while it reads, so it never needs the whole data set in memory.
:func:`fit_stream` makes passes over a chunked source and calls the
estimator's ``partial_fit`` once per chunk (for :class:`fastsgd.SGDRegressor`,
one compiled epoch over the chunk that keeps the step counter, the optimizer
state and the history).  One pass over the source is one epoch; each epoch
re-reads the source, so only about one chunk is held in memory at a time.

Sources (see :class:`ChunkSource`):

- a function returning a fresh iterable of ``(X, y)`` or ``(X, y,
  sample_weight)`` chunks (called once per epoch), a list of such chunks, or a
  one-shot iterator (one epoch only);
- a pair of arrays or ``.npy`` paths ``(X, y)``, opened memory-mapped (other
  array-likes, such as nested lists or a DataFrame and a Series, are
  converted to arrays);
- one ``.npy`` path or 2-D array holding the target in column ``target``;
- a Parquet file (``.parquet`` / ``.pq``), read in record batches with
  pyarrow (the ``parquet`` extra), the target in the column named ``target``;
- a CSV file (``.csv``) with a header line, read in blocks of lines with
  NumPy (no extra needed), the target in the column named ``target``.

Reordering: the chunks of arrays, ``.npy`` and CSV files, the items of a list
and the row groups of a Parquet file are visited in a new random order each
epoch (``shuffle_chunks=True``); factories and iterators are read in their own
order.  The rows inside a chunk are shuffled by the estimator (``shuffle``).

The column names of a Parquet or CSV file (or of a DataFrame ``X``) become the
fitted model's ``feature_names_in_``, as scikit-learn sets them for a
DataFrame.  A scikit-learn ``Pipeline`` can be streamed too: see
:func:`fit_stream`.
"""

from __future__ import annotations

import inspect
import os
import re
import sys
import warnings
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from numbers import Integral, Real

import numpy as np
import scipy.sparse as sp

from ._util import progress_bar

__all__ = ["ChunkSource", "fit_stream"]

# default chunk size: about this many bytes of feature data per chunk
DEFAULT_CHUNK_BYTES = 32 * 2**20
# Parquet record batches when the row size is unknown
DEFAULT_PARQUET_ROWS = 65536
_PARQUET_SUFFIXES = (".parquet", ".pq")
_CSV_SUFFIXES = (".csv",)


class ChunkSource:
    """A data set that can be read in chunks, possibly in any chunk order.

    Parameters
    ----------
    source : callable, sequence, iterator, tuple, str, path or ndarray
        Where the chunks come from:

        - a callable returning a new iterable of ``(X, y)`` or ``(X, y,
          sample_weight)`` chunks, called once per epoch;
        - a list of such chunks (reorderable);
        - an iterator of such chunks (read once: one epoch only);
        - a pair ``(X, y)`` (or a mapping ``{"X": X, "y": y}``) of arrays,
          array-likes, a SciPy sparse X (read as CSR) or ``.npy`` paths
          (opened with ``mmap_mode='r'``), cut into chunks of ``chunk_rows``
          rows;
        - a single 2-D array or ``.npy`` path whose column ``target`` is the
          target and the other columns the features;
        - a ``.parquet`` / ``.pq`` path read with pyarrow in record batches of
          ``chunk_rows`` rows, one row group at a time;
        - a ``.csv`` path with a header line of column names, one row per
          line (comma separated, double quotes allowed, no line break inside
          a value, blank lines skipped), cut into chunks of ``chunk_rows``
          data rows.  Opening it reads the file once to find where each
          chunk starts (so chunks can be shuffled and progress shown) and
          checks the first data row; only the columns used are converted to
          numbers, so other columns may hold text.
    target : int or str, default=None
        The target column: an integer column index in ``[-n_columns,
        n_columns)`` for a single array, a column name for Parquet and CSV.
        Required for those sources, ignored (must be None) otherwise.
    features : sequence of str, default=None
        Parquet and CSV only: the feature columns, in order.  None means every
        column except ``target``, in file order.
    chunk_rows : int, default=None
        Rows per chunk, >= 1, for arrays, ``.npy`` and CSV files and Parquet
        record batches.  None means about 32 MiB of features (as float64)
        per chunk (65536 rows for Parquet).

    Attributes
    ----------
    n_units : int or None
        Number of reorderable units (array chunks, list items or Parquet row
        groups); None when the source can only be read in its own order.
    n_rows : int or None
        Total rows, when known without reading the data (or, for CSV, from
        the pass that indexes the file).
    feature_names : list of str or None
        The feature column names of a Parquet or CSV file (``features``), or
        of an ``X`` given as a DataFrame with string column names; None
        otherwise.  :func:`fit_stream` sets them as the model's
        ``feature_names_in_``.

    Raises
    ------
    ValueError
        A missing or infinite value in a Parquet or CSV chunk names the
        column and the 1-based data row (and, for CSV, the line); a
        non-numeric CSV value likewise.  Such a file must be cleaned first:
        the chunks are read as they are.
    """

    def __init__(self, source, *, target=None, features=None, chunk_rows=None):
        if chunk_rows is not None and (
            isinstance(chunk_rows, bool)
            or not isinstance(chunk_rows, Integral)
            or chunk_rows < 1
        ):
            raise ValueError(f"chunk_rows must be an integer >= 1, got {chunk_rows!r}.")
        self._factory: Callable[[], Iterable] | None = None
        self._items: Sequence | None = None
        self._iterator: Iterator | None = None
        self._arrays: tuple[np.ndarray, np.ndarray | None, int | None] | None = None
        self._parquet = None
        self._csv = None
        self.n_units: int | None = None
        self.n_rows: int | None = None
        self.feature_names: list[str] | None = None
        if features is not None and not (_is_parquet(source) or _is_csv(source)):
            raise ValueError("features is only used with a Parquet or CSV source.")

        if isinstance(source, Mapping):
            unknown = set(source) - {"X", "y"}
            if unknown or not {"X", "y"} <= set(source):
                raise ValueError(
                    "A mapping source needs exactly the keys 'X' and 'y'; got "
                    f"{sorted(map(str, source))}."
                )
            source = (source["X"], source["y"])
        if _is_pair(source):
            self.feature_names = _frame_names(source[0])
            X = _open_array(source[0], "X")
            y = _open_array(source[1], "y")
            if X.ndim != 2:
                raise ValueError(f"X must be 2-D, got an array of shape {X.shape}.")
            if y.ndim == 2 and y.shape[1] == 1:
                y = y[:, 0]
            if y.ndim != 1:
                raise ValueError(
                    f"y must be 1-D (one target), got an array of shape {y.shape}."
                )
            if X.shape[0] != y.shape[0]:
                raise ValueError(
                    f"X has {X.shape[0]} rows but y has {y.shape[0]}; they must match."
                )
            _no_target(target, "an (X, y) pair")
            self._set_arrays(X, y, None, chunk_rows)
        elif _is_parquet(source):
            self._set_parquet(source, target, features, chunk_rows)
        elif _is_csv(source):
            self._set_csv(source, target, features, chunk_rows)
        elif isinstance(source, (str, os.PathLike, np.ndarray)):
            data = _open_array(source, "the data")
            if data.ndim != 2 or data.shape[1] < 2:
                raise ValueError(
                    "A single array source must be 2-D with the target column and "
                    f"at least one feature column; got shape {data.shape}."
                )
            n_cols = data.shape[1]
            if (
                isinstance(target, bool)
                or not isinstance(target, Integral)
                or not -n_cols <= target < n_cols
            ):
                raise ValueError(
                    "With a single array, target must be the integer index of the "
                    f"target column in [{-n_cols}, {n_cols}); got {target!r}."
                )
            self._set_arrays(data, None, int(target) % n_cols, chunk_rows)
        elif callable(source):
            _no_target(target, "a chunk factory")
            self._factory = source
        elif isinstance(source, Sequence):
            _no_target(target, "a list of chunks")
            self._items = source
            self.n_units = len(source)
        elif isinstance(source, Iterable):
            _no_target(target, "an iterator of chunks")
            self._iterator = iter(source)
        else:
            raise TypeError(
                "source must be a chunk factory, a list or iterator of (X, y) "
                "chunks, an (X, y) pair of arrays or .npy paths, a .npy path or "
                "array with a target column, or a Parquet or CSV path; got "
                f"{type(source)}."
            )

    # ------------------------------------------------------------ set-up
    def _set_arrays(self, X, y, target_col, chunk_rows):
        n = X.shape[0]
        if chunk_rows is None:
            if sp.issparse(X):  # a stored value and its column index
                row_bytes = max(X.nnz * (X.dtype.itemsize + 4) // max(n, 1), 1)
            else:
                row_bytes = max(X.shape[1] * X.dtype.itemsize, 1)
            chunk_rows = max(1, DEFAULT_CHUNK_BYTES // row_bytes)
        self._chunk_rows = int(chunk_rows)
        self._arrays = (X, y, target_col)
        self.n_units = -(-n // self._chunk_rows) if n else 0
        self.n_rows = n

    def _set_parquet(self, path, target, features, chunk_rows):
        try:
            import pyarrow.parquet as pq
        except ImportError as exc:  # pragma: no cover - depends on the install
            raise ImportError(
                "Reading Parquet needs pyarrow: install it with "
                "`pip install 'fastsgd[parquet]'` (or `pip install pyarrow`)."
            ) from exc
        pf = pq.ParquetFile(os.fspath(path))
        names = pf.schema_arrow.names
        features = _feature_columns(names, target, features, "Parquet")
        schema = pf.schema_arrow
        kinds = []
        for c in [*features, target]:
            typ = schema.field(c).type
            try:
                kinds.append(np.dtype(typ.to_pandas_dtype()))
            except (NotImplementedError, TypeError) as exc:
                raise TypeError(f"Column {c!r} has non-numeric type {typ}.") from exc
        for c, k in zip([*features, target], kinds, strict=True):
            if k.kind not in "fiub":
                raise TypeError(f"Column {c!r} has non-numeric type {k}.")
        all32 = all(k == np.float32 for k in kinds)
        self._dtype = np.dtype(np.float32 if all32 else np.float64)
        self._parquet = (pf, features, target)
        self._batch_rows = int(chunk_rows) if chunk_rows else DEFAULT_PARQUET_ROWS
        self.n_units = pf.num_row_groups
        self.n_rows = pf.metadata.num_rows
        sizes = [pf.metadata.row_group(g).num_rows for g in range(self.n_units)]
        self._group_starts = np.concatenate([[0], np.cumsum(sizes)]).astype(int)
        self._path = os.fspath(path)
        self.feature_names = list(features)

    def _set_csv(self, path, target, features, chunk_rows):
        from .tables import CsvFile

        csv_file = CsvFile(path)
        names = csv_file.names
        features = _feature_columns(names, target, features, "CSV")
        used = [names.index(c) for c in [*features, target]]
        if chunk_rows is None:
            chunk_rows = max(1, DEFAULT_CHUNK_BYTES // (8 * len(features)))
        starts, n_rows = csv_file.index(int(chunk_rows))
        self._csv = (csv_file, used, features, target, int(chunk_rows), starts)
        self.n_units = len(starts)
        self.n_rows = n_rows
        self.feature_names = list(features)
        self._path = csv_file.path
        if starts:  # a text column fails now, before any training
            lines, numbers = csv_file.read_lines(starts[0][0], 1, starts[0][2])
            csv_file.parse(lines, numbers, 1, used, _features_hint(target))

    # ----------------------------------------------------------- reading
    def epoch_order(self, rng):
        """Return a random order of the units for one epoch, or None.

        Parameters
        ----------
        rng : numpy.random.Generator
            Draws ``rng.permutation(n_units)``.

        Returns
        -------
        ndarray of int or None
            None when the source cannot be reordered.
        """
        if self.n_units is None:
            return None
        return rng.permutation(self.n_units)

    def iter_chunks(self, order=None):
        """Yield the chunks of one pass over the source.

        Parameters
        ----------
        order : sequence of int, default=None
            Order of the units (a permutation of ``range(n_units)``); None reads
            them in their natural order.

        Yields
        ------
        tuple
            ``(X, y)`` or, from chunk iterables that give them, ``(X, y,
            sample_weight)``.
        """
        if order is not None and self.n_units is None:
            raise ValueError("This source cannot be read in a chosen order.")
        if order is not None:
            order = np.asarray(order)
            if order.ndim != 1 or (
                order.size and not np.issubdtype(order.dtype, np.integer)
            ):
                raise TypeError("order must be a 1-D sequence of unit indices.")
            if order.size and (order.min() < 0 or order.max() >= self.n_units):
                raise ValueError(
                    f"order holds unit indices outside [0, {self.n_units})."
                )
        if self._arrays is not None:
            yield from self._array_chunks(order)
        elif self._parquet is not None:
            yield from self._parquet_chunks(order)
        elif self._csv is not None:
            yield from self._csv_chunks(order)
        elif self._items is not None:
            idx = range(len(self._items)) if order is None else order
            for k in idx:
                yield _check_chunk(self._items[k])
        elif self._factory is not None:
            for chunk in self._factory():
                yield _check_chunk(chunk)
        else:
            it = self._iterator
            if it is None:
                raise ValueError(
                    "This iterator of chunks was already read; pass a function "
                    "returning a new iterator to make several passes."
                )
            self._iterator = None
            for chunk in it:
                yield _check_chunk(chunk)

    def _array_chunks(self, order):
        X, y, target_col = self._arrays
        c = self._chunk_rows
        idx = range(self.n_units) if order is None else order
        for k in idx:
            lo, hi = int(k) * c, min((int(k) + 1) * c, X.shape[0])
            if target_col is None:
                yield X[lo:hi], y[lo:hi]
            else:
                block = X[lo:hi]
                # one copy of the chunk: the features without the target column
                yield (
                    np.delete(block, target_col, axis=1),
                    np.array(block[:, target_col]),
                )

    def _parquet_chunks(self, order):
        pf, features, target = self._parquet
        groups = list(range(self.n_units)) if order is None else [int(k) for k in order]
        if not groups:
            return
        for group in groups:
            batches = pf.iter_batches(
                batch_size=self._batch_rows,
                row_groups=[group],
                columns=[*features, target],
                use_threads=False,
            )
            start = int(self._group_starts[group])
            for batch in batches:
                yield self._batch_to_numpy(batch, features, target, start)
                start += batch.num_rows

    def _batch_to_numpy(self, batch, features, target, start):
        n = batch.num_rows
        rows = _FileRows(self._path, start + 1)
        X = np.empty((n, len(features)), dtype=self._dtype)
        for j, name in enumerate(features):
            X[:, j] = _column(batch, name, rows)
        y = np.ascontiguousarray(_column(batch, target, rows), dtype=self._dtype)
        _check_complete(X, y, features, target, rows)
        return X, y

    def _csv_chunks(self, order):
        csv_file, used, features, target, rows, starts = self._csv
        idx = range(self.n_units) if order is None else order
        hint = _features_hint(target)
        for k in idx:
            offset, first_row, first_line = starts[int(k)]
            lines, numbers = csv_file.read_lines(offset, rows, first_line)
            table = csv_file.parse(lines, numbers, first_row, used, hint)
            X = np.ascontiguousarray(table[:, :-1])
            y = np.ascontiguousarray(table[:, -1])
            where = _FileRows(csv_file.path, first_row, numbers)
            _check_complete(X, y, features, target, where)
            yield X, y


def fit_stream(
    estimator,
    source,
    *,
    epochs=1,
    target=None,
    features=None,
    chunk_rows=None,
    shuffle_chunks=True,
    random_state=None,
    progress=None,
):
    """Train ``estimator`` out of core, one ``partial_fit`` call per chunk.

    Each epoch reads the whole source once; the estimator sees the chunks one
    at a time, so memory stays near one chunk (plus the estimator's own state).
    The result equals calling ``estimator.partial_fit`` yourself on the same
    chunks in the same order.

    A scikit-learn ``Pipeline`` is trained step by step on each chunk, in
    order: a step with ``partial_fit`` (e.g. ``StandardScaler``) is first
    updated with the chunk (as the steps before it transformed it; with the
    chunk's ``sample_weight`` when its ``partial_fit`` takes one), then
    transforms it; a step without ``partial_fit`` that is fitted already, or
    needs no fitting (e.g. ``FunctionTransformer``), or a step wrapped in
    ``sklearn.frozen.FrozenEstimator`` is used as it is (transform only); the
    last step's ``partial_fit`` then takes the transformed chunk.  So a
    scaler's statistics grow chunk by chunk: the first chunks are scaled by
    the statistics of the rows read so far, and from the second epoch on by
    those of the whole data.  To scale by the whole data from the first step,
    fit the scaler first (``scaler = fit_stream(StandardScaler(), source)``
    reads the source once) and put ``FrozenEstimator(scaler)`` in the
    Pipeline.  A step that has no ``partial_fit`` and is not fitted is
    refused before any data is read.

    Feature names: the columns of a Parquet or CSV file (``features``), or of
    a DataFrame ``X``, become ``feature_names_in_`` of the model (of the
    first step of a Pipeline), as scikit-learn sets them from a DataFrame, if
    the stream trains it from scratch; a model already fitted with names must
    have the same ones, in the same order.

    Warnings raised while training on a chunk (a
    :class:`~fastsgd.DivergenceWarning`, a ``ConvergenceWarning``...) are
    shown once per call, not once per chunk: the first one, prefixed with its
    chunk; later ones alike (differing only in numbers) are not repeated.

    Parameters
    ----------
    estimator : estimator with ``partial_fit``, or Pipeline
        Typically a :class:`fastsgd.SGDRegressor`, or a ``Pipeline`` ending
        with one (see above); trained in place.  Its ``partial_fit`` runs one
        epoch per chunk, so its own epoch counter (and ``loss_curve_``)
        counts chunks.
    source : see :class:`ChunkSource`
        The data: a chunk factory, list or iterator, an ``(X, y)`` pair of
        arrays or ``.npy`` paths, one array or ``.npy`` path with a target
        column, a Parquet or CSV path, or a :class:`ChunkSource`.
    epochs : int, default=1
        Passes over the source, >= 1.  More than one needs a source that can
        be read again (not a one-shot iterator).
    target : int or str, default=None
        The target column of a single array (index) or of a Parquet or CSV
        file (name).  See :class:`ChunkSource`.
    features : sequence of str, default=None
        Parquet and CSV feature columns; None means every column except
        ``target``.
    chunk_rows : int, default=None
        Rows per chunk for arrays, ``.npy``, CSV and Parquet sources, >= 1.
        None means about 32 MiB of features (65536 rows for Parquet).
    shuffle_chunks : bool, default=True
        Visit the units of a reorderable source (array and CSV chunks, list
        items, Parquet row groups) in a new random order each epoch: epoch
        ``e`` uses the ``e``-th draw of ``numpy.random.default_rng(
        random_state).permutation(n_units)``.  Other sources are read in
        their own order.
    random_state : int, numpy.random.Generator or None, default=None
        Seeds the chunk order.
    progress : bool or None, default=None
        Draw a one-line progress bar on stderr.  None means only when stderr
        is a terminal.

    Returns
    -------
    estimator
        The trained estimator (the same object).

    Raises
    ------
    ValueError, TypeError
        A bad chunk (NaN, a wrong number of columns, not an ``(X, y)``
        tuple, a missing or non-numeric value in a file, ...): the error of
        ``partial_fit``, of a Pipeline step or of the reader, of the same
        type, its message prefixed with ``chunk k of epoch e`` (counted from
        1; for a reordered source also the unit of the source, from 0).
        The estimator is then left as after the chunks before it, as with
        manual ``partial_fit`` calls: trained on them, not rolled back.

    Examples
    --------
    >>> import numpy as np
    >>> from fastsgd import SGDRegressor
    >>> from fastsgd.stream import fit_stream
    >>> rng = np.random.default_rng(0)
    >>> X = rng.standard_normal((5000, 3))
    >>> y = X @ [1.0, -2.0, 0.5] + 0.1
    >>> model = fit_stream(
    ...     SGDRegressor(random_state=0), (X, y), chunk_rows=1000, epochs=3,
    ...     random_state=0,
    ... )
    >>> np.round(model.coef_, 1)
    array([ 1. , -2. ,  0.5])
    """
    if isinstance(estimator, type):
        raise TypeError(
            f"fit_stream needs an estimator instance, e.g. {estimator.__name__}(); "
            f"got the class {estimator.__name__}."
        )
    steps, final = _stream_steps(estimator)
    if not isinstance(shuffle_chunks, (bool, np.bool_)):
        raise TypeError(f"shuffle_chunks must be a bool, got {shuffle_chunks!r}.")
    if isinstance(epochs, bool) or not isinstance(epochs, Integral) or epochs < 1:
        raise ValueError(f"epochs must be an integer >= 1, got {epochs!r}.")
    if isinstance(source, ChunkSource):
        if target is not None or features is not None or chunk_rows is not None:
            raise ValueError(
                "target, features and chunk_rows belong to the ChunkSource; do "
                "not pass them again to fit_stream."
            )
        chunks = source
    else:
        chunks = ChunkSource(
            source, target=target, features=features, chunk_rows=chunk_rows
        )
    if epochs > 1 and chunks._iterator is not None:
        raise ValueError(
            "An iterator of chunks can be read only once; for epochs > 1 pass a "
            "function that returns a new iterator (e.g. `lambda: make_chunks()`)."
        )
    # the names go where scikit-learn keeps them: the first step of a Pipeline
    owner, trained = (_unfrozen(steps[0][1]), steps[0][2]) if steps else (final, True)
    names = _FeatureNames(owner, chunks.feature_names, trained)
    rng = np.random.default_rng(random_state)
    if progress is None:
        progress = _isatty(sys.stderr)
    bar = _Progress(epochs, chunks.n_rows) if progress else None
    once = _WarnOnce()
    n_seen = 0
    try:
        for epoch in range(int(epochs)):
            order = chunks.epoch_order(rng) if shuffle_chunks else None
            if bar is not None:
                bar.start_epoch(epoch)
            it = chunks.iter_chunks(order)
            k = 0
            while True:
                caught = []
                try:
                    chunk = next(it, None)
                    if chunk is None:
                        break
                    X, y = chunk[0], chunk[1]
                    sw = chunk[2] if len(chunk) == 3 else None
                    with warnings.catch_warnings(record=True) as caught:
                        warnings.simplefilter("always")
                        _train_on_chunk(steps, final, X, y, sw)
                except (ValueError, TypeError) as exc:
                    if bar is not None:
                        bar.close()
                    once.show(caught, _where(k, epoch, order))
                    raise _in_chunk(exc, k, epoch, order) from exc
                once.show(caught, _where(k, epoch, order))
                k += 1
                n_seen += 1
                if bar is not None:
                    bar.update(len(y))
                del chunk, X, y, sw
    finally:
        names.finish()
    if n_seen == 0:
        raise ValueError("The source gave no chunk; nothing was trained.")
    if bar is not None:
        bar.close()
    return estimator


def _stream_steps(estimator):
    """Return ``(steps, final)``: a Pipeline's transformers and last step.

    Each step is ``(name, step, updated)``: ``updated`` when fit_stream calls
    its ``partial_fit``.  A plain estimator gives ``([], estimator)``.  Every
    step is checked here, before any data is read.
    """
    pipeline = getattr(estimator, "steps", None)
    if not (isinstance(pipeline, list) and pipeline and hasattr(estimator, "fit")):
        if not hasattr(estimator, "partial_fit"):
            raise TypeError(
                f"{type(estimator).__name__} has no partial_fit method; fit_stream "
                "needs an incremental estimator such as fastsgd.SGDRegressor, or "
                "a Pipeline ending with one."
            )
        return [], estimator
    from sklearn.exceptions import NotFittedError
    from sklearn.frozen import FrozenEstimator
    from sklearn.utils.validation import check_is_fitted

    last_name, final = pipeline[-1]
    if final is None or isinstance(final, str) or not hasattr(final, "partial_fit"):
        raise TypeError(
            f"The last step {last_name!r} of the Pipeline "
            f"({type(final).__name__}) has no partial_fit method; fit_stream "
            "needs one, such as fastsgd.SGDRegressor."
        )
    steps = []
    for name, step in pipeline[:-1]:
        if step is None or (isinstance(step, str) and step == "passthrough"):
            continue
        if not hasattr(step, "transform"):
            raise TypeError(
                f"Step {name!r} of the Pipeline ({type(step).__name__}) has no "
                "transform method."
            )
        if hasattr(step, "partial_fit") and not isinstance(step, FrozenEstimator):
            steps.append((name, step, True))
            continue
        try:
            check_is_fitted(step)
        except NotFittedError:
            raise TypeError(
                f"Step {name!r} of the Pipeline ({type(step).__name__}) has no "
                "partial_fit method and is not fitted, so fit_stream cannot "
                "train it chunk by chunk: fit it first (e.g. on a sample; it is "
                "then used as it is), or use a step with partial_fit (such as "
                "StandardScaler)."
            ) from None
        steps.append((name, step, False))
    return steps, final


def _train_on_chunk(steps, final, X, y, sw):
    """Update the steps with partial_fit, transform, then train the last step."""
    for _, step, updated in steps:
        if updated:
            if sw is not None and _takes_sample_weight(step.partial_fit):
                step.partial_fit(X, y, sample_weight=sw)
            else:
                step.partial_fit(X, y)
        X = step.transform(X)
    if sw is None:
        final.partial_fit(X, y)
    else:
        final.partial_fit(X, y, sample_weight=sw)


def _unfrozen(step):
    """Return the estimator inside a ``FrozenEstimator``, else ``step``."""
    from sklearn.frozen import FrozenEstimator

    return step.estimator if isinstance(step, FrozenEstimator) else step


def _takes_sample_weight(method):
    try:
        params = inspect.signature(method).parameters
    except (TypeError, ValueError):
        return False
    return "sample_weight" in params


class _FeatureNames:
    """Give the model the source's column names, as a DataFrame would.

    ``owner`` is the estimator, or the first step of a Pipeline.  The chunks
    are plain arrays, so while they are fed, a ``feature_names_in_`` the owner
    already has is set aside (scikit-learn would warn at every chunk that X
    has no feature names) after checking it equals the source's; afterwards
    it is put back, or, when the stream trained the owner from scratch, set
    to the source's names.
    """

    def __init__(self, owner, names, trained):
        self.owner = owner
        self.names = names
        self.hidden = None
        self.set_after = False
        if names is None:
            return
        current = getattr(owner, "__dict__", {}).get("feature_names_in_")
        if current is not None:
            current = [str(c) for c in current]
            if current != list(names):
                raise ValueError(
                    f"{type(owner).__name__} was fitted with the features "
                    f"{_short(current)}; the source has {_short(names)}: they "
                    "must be the same columns in the same order."
                )
            self.hidden = owner.__dict__.pop("feature_names_in_")
        elif trained and not hasattr(owner, "n_features_in_"):
            self.set_after = True

    def finish(self):
        """Put the names back, or set the source's on a newly trained owner."""
        if self.hidden is not None:
            self.owner.feature_names_in_ = self.hidden
        elif self.set_after and getattr(self.owner, "n_features_in_", None) == len(
            self.names
        ):
            self.owner.feature_names_in_ = np.asarray(self.names, dtype=object)


def _short(names, k=6):
    names = list(names)
    return str(names[:k])[:-1] + (", ...]" if len(names) > k else "]")


class _WarnOnce:
    """Show each kind of warning once per fit_stream call, with its chunk.

    Two warnings are alike when they have the same category and the same
    message up to the numbers in it (a loss, an epoch).
    """

    _NUMBER = re.compile(r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?")

    def __init__(self):
        self.seen = set()

    def show(self, caught, where):
        """Re-emit the warnings of ``caught`` not shown yet in this call."""
        for w in caught:
            text = str(w.message)
            key = (w.category, self._NUMBER.sub("#", text))
            if key in self.seen:
                continue
            self.seen.add(key)
            warnings.warn(
                f"{where}: {text} (fit_stream shows each warning once; later "
                "chunks that warn alike are not shown)",
                w.category,
                stacklevel=3,
            )


def _where(k, epoch, order):
    where = f"chunk {k + 1} of epoch {epoch + 1}"
    if order is not None and k < len(order):
        where += f" (unit {int(order[k])} of the source, 0-based)"
    return where


# ------------------------------------------------------------------ helpers
def _in_chunk(exc, k, epoch, order):
    """Return the same kind of error, its message prefixed with the chunk."""
    where = _where(k, epoch, order)
    try:
        return type(exc)(f"{where}: {exc}")
    except Exception:  # an exception type with a different signature
        return exc


def _is_pair(source):
    """Tell ``(X, y)`` (arrays, paths or array-likes) from two chunks.

    Two chunks ``[(X1, y1), (X2, y2)]`` also have length 2; array-likes are
    told apart by depth: y's first item is a number, X's first item is a row
    of numbers (a chunk's first item is a whole X).
    """
    if not isinstance(source, (tuple, list)) or len(source) != 2:
        return False
    X, y = source

    def array(a):
        return (
            isinstance(a, (np.ndarray, str, os.PathLike))
            or sp.issparse(a)
            or (hasattr(a, "__array__") and not isinstance(a, (tuple, list)))
        )

    def numbers(a):  # a non-empty list of numbers: y, or one row of X
        return (
            isinstance(a, (tuple, list))
            and len(a) > 0
            and isinstance(a[0], (Real, np.number))
        )

    def rows(a):  # a non-empty list of rows: X
        return (
            isinstance(a, (tuple, list))
            and len(a) > 0
            and (numbers(a[0]) or (isinstance(a[0], np.ndarray) and a[0].ndim == 1))
        )

    return (array(X) or rows(X)) and (array(y) or numbers(y))


def _is_parquet(source):
    return isinstance(source, (str, os.PathLike)) and os.fspath(
        source
    ).lower().endswith(_PARQUET_SUFFIXES)


def _is_csv(source):
    return isinstance(source, (str, os.PathLike)) and os.fspath(
        source
    ).lower().endswith(_CSV_SUFFIXES)


def _frame_names(X):
    """Return the column names of a DataFrame ``X`` when all are str, else None.

    scikit-learn records feature names only when every column name is a
    string; so does fit_stream.
    """
    columns = getattr(X, "columns", None)
    if columns is None or isinstance(X, np.ndarray) or sp.issparse(X):
        return None
    names = list(columns)
    if not names or not all(isinstance(c, str) for c in names):
        return None
    return names


def _feature_columns(names, target, features, kind):
    """Check ``target`` and ``features`` against a file's column names."""
    if not isinstance(target, str) or target not in names:
        raise ValueError(
            f"With a {kind} source, target must be the name of a column; "
            f"got {target!r}, columns are {names}."
        )
    if features is None:
        features = [c for c in names if c != target]
    else:
        if isinstance(features, (str, bytes)):
            raise TypeError(
                f"features must be a list of column names; got the string "
                f"{features!r} (wrap one name in a list)."
            )
        features = [str(c) if isinstance(c, np.str_) else c for c in features]
        missing = [c for c in features if c not in names]
        if missing:
            raise ValueError(f"Feature columns {missing} are not in {names}.")
        if target in features:
            raise ValueError(f"The target {target!r} is also listed as a feature.")
        if len(set(features)) != len(features):
            raise ValueError(f"features names a column twice: {features}.")
    if not features:
        raise ValueError(f"The {kind} file has no feature column.")
    return features


def _features_hint(target):
    """Return the CSV parser's advice for a text column: leave it out."""

    def hint(name):
        if name == target:
            return ""
        return "; leave the column out by listing the feature columns (features=[...])"

    return hint


class _FileRows:
    """Names the rows of a chunk read from a file: data row, and CSV line."""

    def __init__(self, path, first_row, lines=None):
        self.path = path
        self.first_row = first_row
        self.lines = lines

    def row(self, i):
        """Return 'data row r (line L)' for row ``i`` of the chunk."""
        text = f"data row {self.first_row + int(i)}"
        return text if self.lines is None else f"{text} (line {int(self.lines[i])})"


def _check_complete(X, y, features, target, where):
    """Refuse a missing (NaN) or infinite value, naming its column and row."""
    for values, names in ((y[:, None], [target]), (X, features)):
        bad = ~np.isfinite(values)
        if not bad.any():
            continue
        i = int(np.flatnonzero(bad.any(axis=1))[0])
        j = int(np.flatnonzero(bad[i])[0])
        value = values[i, j]
        is_target = names is not features
        if np.isnan(value):
            from .tables import missing_message

            raise ValueError(
                missing_message(where.path, names[j], where.row(i), 1, is_target)
                + "; fit_stream reads complete rows only: fill in or leave out "
                "the rows with missing values first"
            )
        what = "target column" if is_target else "column"
        raise ValueError(
            f"cannot read {where.path}: infinite value {value:g} in {what} "
            f"{names[j]!r} at {where.row(i)}"
        )


def _no_target(target, what):
    if target is not None:
        raise ValueError(f"target is not used with {what}; leave it None.")


def _open_array(a, name):
    """Return ``a`` as an array; a path is opened memory-mapped, read-only."""
    if isinstance(a, np.ndarray):
        return a
    if sp.issparse(a):
        if a.ndim != 2:
            raise ValueError(
                f"{name} must be 2-D, got a sparse array of shape {a.shape}."
            )
        return sp.csr_matrix(a)  # chunks are row slices: cheap in CSR
    if not isinstance(a, (str, os.PathLike)):  # lists, DataFrames, Series
        try:
            return np.asarray(a, dtype=np.float64)
        except (TypeError, ValueError) as exc:
            raise ValueError(f"{name} is not a numeric array: {exc}") from None
    path = os.fspath(a)
    if not path.lower().endswith(".npy"):
        raise ValueError(
            f"{name}: expected a .npy file (or .csv, .parquet / .pq), got {path!r}."
        )
    arr = np.load(path, mmap_mode="r", allow_pickle=False)
    return arr


def _check_chunk(chunk):
    if not isinstance(chunk, (tuple, list)) or len(chunk) not in (2, 3):
        raise TypeError(
            "Each chunk must be a tuple (X, y) or (X, y, sample_weight); got "
            f"{type(chunk).__name__}."
        )
    return tuple(chunk)


def _column(batch, name, where):
    col = batch.column(batch.schema.get_field_index(name))
    if col.null_count:
        from .tables import missing_message

        nulls = np.asarray(col.is_null().to_numpy(zero_copy_only=False))
        i = int(np.flatnonzero(nulls)[0])
        raise ValueError(
            missing_message(where.path, name, where.row(i))
            + " (a null); fit_stream reads complete rows only: fill in or leave "
            "out the rows with missing values first"
        )
    return col.to_numpy(zero_copy_only=False)


def _isatty(stream):
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):
        return False


class _Progress:
    """The progress bar of :func:`fit_stream`: rows of each epoch, chunks."""

    def __init__(self, epochs, n_rows):
        self.epochs = epochs
        self.bar = progress_bar(
            n_rows, "fit_stream", draw=True, leave=True, unit="row", unit_scale=True
        )
        self.chunks = 0

    def start_epoch(self, epoch):
        self.chunks = 0
        self.bar.reset()
        self.bar.set_description_str(f"fit_stream epoch {epoch + 1}/{self.epochs}")

    def update(self, rows):
        self.chunks += 1
        self.bar.set_postfix_str(f"{self.chunks} chunks", refresh=False)
        self.bar.update(int(rows))

    def close(self):
        self.bar.close()
