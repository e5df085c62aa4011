"""A user's data file as arrays: CSV, Parquet, ``.npy`` and ``.npz``.

:func:`load_table` (and its short form :func:`load_file`) reads a file with a
named target column for the command line: missing values are reported by
column and row, dropped or filled in (``missing``), columns can be left out
(``ignore``) or picked in a model's order (``columns``). :class:`CsvFile`
reads a CSV file in blocks of lines, for :func:`fastsgd.fit_stream` too.
"""

from __future__ import annotations

import csv
import os
import warnings
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from numbers import Real

import numpy as np

__all__ = [
    "FILE_FORMATS",
    "MISSING_POLICIES",
    "MISSING_TOKENS",
    "CsvFile",
    "Table",
    "load_file",
    "load_table",
    "missing_message",
]

FILE_FORMATS = (".csv", ".parquet", ".pq", ".npy", ".npz")

#: CSV values read as missing (compared after stripping spaces, in any case):
#: an empty field and the usual markers of spreadsheets, R and pandas.
MISSING_TOKENS = frozenset(
    ["", "na", "n/a", "nan", "-nan", "+nan", "null", "none", "#n/a", "#na", "<na>"]
)
MISSING_POLICIES = ("error", "drop", "mean")
# data lines parsed at a time when a whole CSV file is read
_CSV_BLOCK_ROWS = 65536


@dataclass(frozen=True)
class Table:
    """A numeric table read from a file by :func:`load_table`.

    Attributes
    ----------
    X : ndarray of shape (n_rows, n_features)
        The feature columns, float64, C-contiguous.
    y : ndarray of shape (n_rows,) or None
        The target column, float64 (None without a target).
    feature_names : list of str
        The names of the columns of ``X``, in order.
    rows : ndarray of int64 of shape (n_rows,)
        The 1-based data row of the file each row of ``X`` comes from (the
        first row after a CSV header is 1; blank CSV lines are not rows).
        ``arange(1, n_rows + 1)`` unless rows were dropped.
    n_dropped : int
        Rows left out because of missing values (``missing='drop'``, or a
        missing target with ``'mean'`` or a mapping).
    fill_values : dict of str to float
        The value put in place of a missing value, per feature column: the
        column means of the rows kept with ``missing='mean'`` (every feature
        column, for use on later files), the mapping given, or empty.
    """

    X: np.ndarray
    y: np.ndarray | None
    feature_names: list
    rows: np.ndarray
    n_dropped: int = 0
    fill_values: dict = field(default_factory=dict)


def load_file(path, target=None, *, columns=None, ignore=None, missing="error"):
    """Read a numeric table from a file and split off the target column.

    The short form of :func:`load_table` (see it for the formats and the
    options): the same reading, returning only the arrays and the names.

    Parameters
    ----------
    path : str or os.PathLike
        The file to read.
    target : str or None, default=None
        Name of the target column. For unnamed ``.npy`` columns it may also
        be an integer index such as ``-1`` (the last column). ``None`` reads
        features only (for prediction).
    columns : sequence of str, default=None
        Read exactly these feature columns, in this order, and nothing else
        (e.g. ``model.feature_names_in_`` to predict).
    ignore : sequence of str, default=None
        Columns to leave out.
    missing : {'error', 'drop', 'mean'} or mapping of str to float, \
default='error'
        What to do with missing values.

    Returns
    -------
    X : ndarray of shape (n_samples, n_features)
        The feature columns, float64, C-contiguous.
    y : ndarray of shape (n_samples,) or None
        The target column, float64 (None when ``target`` is None).
    feature_names : list of str
        The names of the columns of ``X``.

    Raises
    ------
    FileNotFoundError
        When ``path`` does not exist.
    ValueError
        For an unknown extension, an unreadable file, a missing column, a
        non-numeric or infinite value, or a missing value with
        ``missing='error'``; the message names the column and the row.
    TypeError
        For arguments of the wrong type.
    ImportError
        For Parquet without pyarrow.
    """
    table = load_table(path, target, columns=columns, ignore=ignore, missing=missing)
    return table.X, table.y, table.feature_names


def load_table(path, target=None, *, columns=None, ignore=None, missing="error"):
    """Read a numeric table from a file: features, target, missing values.

    Formats, chosen by the file extension:

    - ``.csv``: a header line of column names, then one row per line, comma
      separated (double quotes allowed, no line breaks inside a value; blank
      lines are skipped); values are numbers, or missing: an empty field or
      one of :data:`MISSING_TOKENS` (``NA``, ``NaN``, ``null``, ...). Only the
      columns read are parsed, so a text column that is left out (``ignore``,
      ``columns``) does no harm;
    - ``.parquet`` / ``.pq``: read with pyarrow (``pip install
      'fastsgd[parquet]'``); the columns read must be numeric (integer,
      floating, boolean or decimal); nulls and NaN are missing;
    - ``.npy``: a 2-D numeric array (columns named ``x0``, ``x1``, ...) or a
      1-D structured array (columns named by its fields); NaN is missing;
    - ``.npz``: either arrays ``X`` (2-D) and ``y`` (1-D), with an optional
      ``feature_names`` array (the target is then ``y``, or the name given),
      or one 1-D array per column, named by its key; NaN is missing.

    Rows are numbered as a user sees them in the file: the first data row
    (after a CSV header) is row 1; CSV messages also give the line.

    Parameters
    ----------
    path : str or os.PathLike
        The file to read.
    target : str or None, default=None
        Name of the target column. For unnamed ``.npy`` columns it may also
        be an integer index such as ``-1`` (the last column). ``None`` reads
        features only (for prediction).
    columns : sequence of str, default=None
        Read exactly these feature columns, in this order, and no other
        (besides ``target``): for prediction, ``columns=model.
        feature_names_in_`` reads a file with the columns a model was trained
        on, whatever else the file holds and in whatever order. Every name
        must be a column of the file. Not together with ``ignore``.
    ignore : sequence of str, default=None
        Columns to leave out of the features (an id, a text column); each
        must be a column of the file, other than ``target``.
    missing : {'error', 'drop', 'mean'} or mapping of str to float, \
default='error'
        What to do with a missing value:

        - ``'error'``: raise a ValueError naming the column, the data row
          (and line) of the first one, and how many there are;
        - ``'drop'``: leave out every row with a missing feature or target;
        - ``'mean'``: put the column mean (over the rows kept) in place of a
          missing feature value; a row whose target is missing is left out
          (a target cannot be made up). ``fill_values`` holds every feature
          column's mean, to fill in later files the same way;
        - a mapping ``{column: value}`` (e.g. the ``fill_values`` of the
          training table): put these values in place of missing feature
          values; a missing value in a column the mapping lacks is an error,
          a row with a missing target is left out.

        ``Table.n_dropped`` counts the rows left out and ``Table.rows`` gives
        the data row of each row kept. Infinite values are always an error.

    Returns
    -------
    Table
        ``X``, ``y``, ``feature_names``, ``rows``, ``n_dropped`` and
        ``fill_values``.

    Raises
    ------
    FileNotFoundError
        When ``path`` does not exist.
    ValueError
        For an unknown extension, an unreadable file, a column that is not in
        the file, a non-numeric or infinite value, a missing value with
        ``missing='error'``, or no row left.
    TypeError
        For arguments of the wrong type.
    ImportError
        For Parquet without pyarrow.
    """
    path = os.fspath(path)
    if not os.path.exists(path):
        raise FileNotFoundError(f"no such file: {path}")
    if os.path.isdir(path):
        raise ValueError(f"{path} is a directory, not a data file")
    ext = os.path.splitext(path)[1].lower()
    if ext not in FILE_FORMATS:
        raise ValueError(
            f"cannot read {path}: unknown extension {ext or '(none)'!r}; "
            f"expected one of {', '.join(FILE_FORMATS)}"
        )
    if target is not None and not isinstance(target, str):
        target = str(target)
    columns = _names_arg("columns", columns)
    ignore = _names_arg("ignore", ignore)
    if columns is not None and ignore is not None:
        raise ValueError("give columns (the columns to read) or ignore, not both")
    policy, fill = _missing_arg(missing)

    default_target = None
    lines = None
    if ext == ".csv":
        csv_file = CsvFile(path)
        names = csv_file.names

        def read(used):
            nonlocal lines
            data, lines = csv_file.read_all(used, hint=_ignore_hint(target))
            return data
    elif ext in (".parquet", ".pq"):
        names = _parquet_names(path)

        def read(used):
            return _read_parquet(path, [names[k] for k in used], target)
    elif ext == ".npy":
        names, read = _read_npy(path)
    else:
        names, read, default_target = _read_npz(path)
    if target is not None:
        target = names[_target_index(names, target, path)]
    feature_names = _select(names, target, default_target, columns, ignore, path)
    used_names = feature_names + ([] if target is None else [target])
    data = read([names.index(c) for c in used_names])
    if data.shape[0] == 0:
        raise ValueError(f"{path} has no data rows")
    where = _Where(path, np.arange(1, data.shape[0] + 1, dtype=np.int64), lines)
    _check_infinite(data, used_names, target, where)
    X, y, rows, dropped, fill_values = _apply_missing(
        data, feature_names, target, policy, fill, where
    )
    return Table(
        X=X,
        y=y,
        feature_names=list(feature_names),
        rows=rows,
        n_dropped=dropped,
        fill_values=fill_values,
    )


def _names_arg(name, value):
    """Check a list of column names; None stays None."""
    if value is None:
        return None
    if isinstance(value, (str, bytes)) or not isinstance(value, Iterable):
        raise TypeError(
            f"{name} must be a list of column names; got {type(value).__name__} "
            f"{value!r}"
            + ("(wrap one name in a list)" if isinstance(value, str) else "")
        )
    out = []
    for v in value:
        if isinstance(v, np.str_):
            v = str(v)
        if not isinstance(v, str):
            raise TypeError(
                f"{name} must hold column names (str); got {type(v).__name__} {v!r}"
            )
        out.append(v)
    dup = sorted({v for v in out if out.count(v) > 1})
    if dup:
        raise ValueError(f"{name} names {', '.join(map(repr, dup))} more than once")
    return out


def _missing_arg(missing):
    """Return (policy, fill mapping or None) for the ``missing`` argument."""
    if isinstance(missing, str):
        if missing not in MISSING_POLICIES:
            raise ValueError(
                f"missing must be one of {', '.join(map(repr, MISSING_POLICIES))} "
                f"or a mapping of column to value; got {missing!r}"
            )
        return missing, None
    if not isinstance(missing, Mapping):
        raise TypeError(
            "missing must be 'error', 'drop', 'mean' or a mapping of column to "
            f"value; got {type(missing).__name__}"
        )
    fill = {}
    for k, v in missing.items():
        if isinstance(v, bool) or not isinstance(v, Real) or not np.isfinite(v):
            raise ValueError(f"the fill value of column {k!r} must be a finite number")
        fill[str(k)] = float(v)
    return "fill", fill


def _select(names, target, default_target, columns, ignore, path):
    """Return the feature columns: ``columns``, or all but target and ignore."""
    shown = ", ".join(names[:8]) + (", ..." if len(names) > 8 else "")
    if columns is not None:
        absent = [c for c in columns if c not in names]
        if absent:
            raise ValueError(
                f"{path} lacks column(s) {', '.join(map(repr, absent))} "
                f"(its columns: {shown})"
            )
        if target is not None and target in columns:
            raise ValueError(f"the target {target!r} is also listed in columns")
        if not columns:
            raise ValueError("columns is empty: name at least one feature column")
        return list(columns)
    ignore = ignore or []
    absent = [c for c in ignore if c not in names]
    if absent:
        raise ValueError(
            f"cannot ignore {', '.join(map(repr, absent))}: no such column in "
            f"{path} (columns: {shown})"
        )
    if target is not None and target in ignore:
        raise ValueError(f"the target {target!r} is also listed in ignore")
    skip = {target if target is not None else default_target, *ignore}
    features = [n for n in names if n not in skip]
    if not features:
        if target is not None:
            raise ValueError(f"{path} has no feature columns besides {target!r}")
        raise ValueError(f"{path} has no feature columns left to read")
    return features


def _ignore_hint(target):
    """Return the CSV parser's hint for a text column: leave it out."""

    def hint(name):
        if name == target:
            return ""
        return f"; leave the column out with ignore=[{name!r}]"

    return hint


@dataclass(frozen=True)
class _Where:
    """Names the rows of a table read from a file: data row, and CSV line."""

    path: str
    rows: np.ndarray  # the 1-based data row of each row of the table
    lines: np.ndarray | None = None  # and its line (CSV only)

    def row(self, i):
        """Return 'data row r (line L)' for row ``i`` of the table."""
        text = f"data row {int(self.rows[i])}"
        return text if self.lines is None else f"{text} (line {int(self.lines[i])})"

    def take(self, keep):
        """Return the _Where of the rows ``keep`` (a boolean mask)."""
        lines = None if self.lines is None else self.lines[keep]
        return _Where(self.path, self.rows[keep], lines)


def _check_infinite(data, used_names, target, where):
    """Refuse an infinite value, naming the column (the target first)."""
    bad = np.isinf(data)
    if not bad.any():
        return
    cols = np.flatnonzero(bad.any(axis=0))
    j = int(cols[-1] if target is not None and bad[:, -1].any() else cols[0])
    i = int(np.flatnonzero(bad[:, j])[0])
    what = (
        "target column" if target is not None and j == data.shape[1] - 1 else "column"
    )
    raise ValueError(
        f"{what} {used_names[j]!r} of {where.path} has NaN or infinity: "
        f"{data[i, j]:g} at {where.row(i)}"
    )


def _apply_missing(data, feature_names, target, policy, fill, where):
    """Apply the missing-value policy; return X, y, rows, dropped, fill values."""
    n = data.shape[0]
    d = len(feature_names)
    miss = np.isnan(data)
    fill_values = {}
    keep = None
    if miss.any():
        if policy == "error":
            raise ValueError(_missing_message(miss, feature_names, target, where))
        if policy == "drop":
            keep = ~miss.any(axis=1)
        elif target is not None and miss[:, d].any():
            keep = ~miss[:, d]  # a missing target cannot be filled in
    if keep is not None:
        data, miss, where = data[keep], miss[keep], where.take(keep)
        if data.shape[0] == 0:
            raise ValueError(
                f"no row of {where.path} is left after leaving out the rows with "
                "missing values"
            )
    if policy == "mean":
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN columns
            means = np.nanmean(data[:, :d], axis=0)
        empty = [feature_names[j] for j in np.flatnonzero(np.isnan(means))]
        if empty:
            raise ValueError(
                f"column(s) {', '.join(map(repr, empty))} of {where.path} have no "
                "value to take the mean of"
            )
        fill_values = {c: float(m) for c, m in zip(feature_names, means, strict=True)}
    elif policy == "fill":
        unknown = [k for k in fill if k not in feature_names]
        if unknown:
            raise ValueError(
                f"fill values are given for {', '.join(map(repr, unknown))}, which "
                "are not feature columns read"
            )
        lacking = [
            j for j, c in enumerate(feature_names) if miss[:, j].any() and c not in fill
        ]
        if lacking:
            j = lacking[0]
            i = int(np.flatnonzero(miss[:, j])[0])
            raise ValueError(
                missing_message(
                    where.path,
                    feature_names[j],
                    where.row(i),
                    int(miss[:, j].sum()),
                )
                + "; no fill value is given for this column"
            )
        fill_values = dict(fill)
    for j, c in enumerate(feature_names):
        if fill_values and miss[:, j].any():
            data[miss[:, j], j] = fill_values[c]
    X = np.ascontiguousarray(data[:, :d], dtype=np.float64)
    y = None if target is None else np.ascontiguousarray(data[:, d])
    return X, y, where.rows, n - data.shape[0], fill_values


def missing_message(path, column, where, count=1, target=False):
    """Return the message for a missing value (without the advice).

    Parameters
    ----------
    path : str
        The file.
    column : str
        The column holding it.
    where : str
        The row, e.g. ``'data row 3 (line 4)'``.
    count : int, default=1
        How many values of the column are missing.
    target : bool, default=False
        Whether the column is the target.

    Returns
    -------
    str
        ``cannot read PATH: missing value in column 'C' at data row 3 (line
        4)`` and the count of the others.
    """
    what = "target column" if target else "column"
    msg = f"cannot read {path}: missing value in {what} {column!r} at {where}"
    if count > 1:
        msg += f" ({count - 1} more in this column)"
    return msg


def _missing_message(miss, names, target, where):
    """Name the first missing value (by row), and what to do."""
    i = int(np.flatnonzero(miss.any(axis=1))[0])
    j = int(np.flatnonzero(miss[i])[0])
    is_target = target is not None and j == len(names)
    column = target if is_target else names[j]
    msg = missing_message(
        where.path, column, where.row(i), int(miss[:, j].sum()), is_target
    )
    others = [
        names[k] if k < len(names) else target
        for k in np.flatnonzero(miss.any(axis=0))
        if k != j
    ]
    if others:
        msg += f"; also in {', '.join(map(repr, others[:5]))}"
        msg += ", ..." if len(others) > 5 else ""
    if is_target:
        return msg + "; leave out such rows with missing='drop'"
    return (
        msg + "; leave out such rows with missing='drop', or fill in the column "
        "mean with missing='mean'"
    )


def _target_index(names, target, path):
    if target in names:
        return names.index(target)
    try:
        j = int(target)
    except ValueError:
        j = None
    if j is not None and all(n == f"x{i}" for i, n in enumerate(names)):
        if -len(names) <= j < len(names):
            return j % len(names)
    shown = ", ".join(names[:8]) + (", ..." if len(names) > 8 else "")
    raise ValueError(f"no column {target!r} in {path} (columns: {shown})")


class CsvFile:
    """A CSV file with a header line, read in blocks of data lines.

    The first line names the columns; each later non-blank line is one data
    row, comma separated, with double quotes allowed around a value (but no
    line break inside one). Only the columns asked for are converted to
    numbers, so other columns may hold text. A value is missing when it is
    empty or one of :data:`MISSING_TOKENS`, in any case.

    Parameters
    ----------
    path : str or os.PathLike
        The file, UTF-8 text (a byte-order mark is allowed).

    Attributes
    ----------
    path : str
        The file.
    names : list of str
        The column names, stripped of spaces.
    data_offset : int
        Byte offset of the first line after the header.
    """

    def __init__(self, path):
        self.path = os.fspath(path)
        with open(self.path, "rb") as fh:
            raw = fh.readline()
        try:
            text = raw.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise ValueError(
                f"cannot read {self.path}: not a UTF-8 text CSV file"
            ) from None
        header = next(csv.reader([text]), None)
        if not header or not any(h.strip() for h in header):
            raise ValueError(f"{self.path} is empty or has no header line")
        self.names = [h.strip() for h in header]
        if len(set(self.names)) != len(self.names):
            dup = sorted({n for n in self.names if self.names.count(n) > 1})
            raise ValueError(
                f"{self.path} has duplicate column names ({', '.join(map(repr, dup))})"
            )
        self.data_offset = len(raw)

    # ------------------------------------------------------------- lines
    def index(self, rows):
        """Find where every ``rows``-th data row starts, in one pass.

        Parameters
        ----------
        rows : int
            Data rows per block, >= 1.

        Returns
        -------
        starts : list of tuple of int
            ``(byte offset, first data row, first line)`` of each block of
            ``rows`` data rows (1-based rows and lines).
        n_rows : int
            The number of data rows.
        """
        starts = []
        n = 0
        line = 1
        offset = self.data_offset
        with open(self.path, "rb") as fh:
            fh.seek(offset)
            for raw in fh:
                line += 1
                if raw.strip():
                    if n % rows == 0:
                        starts.append((offset, n + 1, line))
                    n += 1
                offset += len(raw)
        return starts, n

    def read_lines(self, offset, max_rows, first_line):
        """Read up to ``max_rows`` non-blank lines from a byte offset.

        Parameters
        ----------
        offset : int
            Where to start (the start of a line).
        max_rows : int
            How many data lines to read at most.
        first_line : int
            The 1-based line number at ``offset``.

        Returns
        -------
        lines : list of str
            The data lines, decoded.
        numbers : ndarray of int64
            Their 1-based line numbers.
        """
        lines, numbers = [], []
        line = first_line - 1
        with open(self.path, "rb") as fh:
            fh.seek(offset)
            while len(lines) < max_rows:
                raw = fh.readline()
                if not raw:
                    break
                line += 1
                if not raw.strip():
                    continue
                lines.append(self._decode(raw, line))
                numbers.append(line)
        return lines, np.asarray(numbers, dtype=np.int64)

    def _decode(self, raw, line):
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError:
            raise ValueError(
                f"cannot read {self.path}: line {line} is not UTF-8 text"
            ) from None

    def read_all(self, usecols, hint=None):
        """Read every data row: the columns ``usecols``, NaN where missing.

        Parameters
        ----------
        usecols : sequence of int
            The columns to convert, in the order wanted.
        hint : callable, default=None
            ``hint(column name)`` returns advice appended to the message for a
            non-numeric value.

        Returns
        -------
        table : ndarray of shape (n_rows, len(usecols))
            float64, NaN where a value is missing.
        lines : ndarray of int64 of shape (n_rows,)
            The line of each row.
        """
        blocks, numbers = [], []
        row = 1
        with open(self.path, "rb") as fh:
            fh.seek(self.data_offset)
            line = 1
            done = False
            while not done:
                lines, nums = [], []
                while len(lines) < _CSV_BLOCK_ROWS:
                    raw = fh.readline()
                    if not raw:
                        done = True
                        break
                    line += 1
                    if raw.strip():
                        lines.append(self._decode(raw, line))
                        nums.append(line)
                if lines:
                    nums = np.asarray(nums, dtype=np.int64)
                    blocks.append(self.parse(lines, nums, row, usecols, hint))
                    numbers.append(nums)
                    row += len(lines)
        if not blocks:
            return np.zeros((0, len(usecols))), np.zeros(0, dtype=np.int64)
        return np.concatenate(blocks), np.concatenate(numbers)

    # ------------------------------------------------------------ values
    def parse(self, lines, numbers, first_row, usecols, hint=None):
        """Convert the columns ``usecols`` of data lines to float64.

        Parameters
        ----------
        lines : list of str
            Non-blank data lines.
        numbers : ndarray of int
            Their 1-based line numbers (for messages).
        first_row : int
            The 1-based data row of ``lines[0]`` (for messages).
        usecols : sequence of int
            The columns to convert, in the order wanted.
        hint : callable, default=None
            ``hint(column name)`` returns advice appended to the message for a
            non-numeric value.

        Returns
        -------
        ndarray of shape (len(lines), len(usecols))
            float64; NaN where a value is missing.

        Raises
        ------
        ValueError
            A non-numeric value (naming the column, the data row and the
            line), or a line with more or fewer values than the header has
            names (naming the data row and the line).
        """
        usecols = [int(j) for j in usecols]
        if not lines:
            return np.zeros((0, len(usecols)))
        self._check_widths(lines, numbers, first_row)
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", UserWarning)
                return np.loadtxt(
                    lines,
                    delimiter=",",
                    quotechar='"',
                    usecols=usecols,
                    dtype=np.float64,
                    comments=None,
                    ndmin=2,
                ).reshape(len(lines), len(usecols))
        except ValueError:
            pass  # a missing or non-numeric value: find it value by value
        return self._parse_slowly(lines, numbers, first_row, usecols, hint)

    def _check_widths(self, lines, numbers, first_row):
        """Refuse a line with more or fewer values than the header has names.

        Counting commas is enough for a line without quotes; a line with
        quotes is split by the csv module.
        """
        width = len(self.names)
        for k, line in enumerate(lines):
            if line.count(",") + 1 == width and '"' not in line:
                continue
            n = len(next(csv.reader([line])))
            if n != width:
                raise ValueError(
                    f"cannot read {self.path}: data row {first_row + k} (line "
                    f"{int(numbers[k])}) has {n} value(s); the header names "
                    f"{width} columns"
                )

    def _parse_slowly(self, lines, numbers, first_row, usecols, hint):
        """Parse value by value: missing markers, and exact error positions."""
        records = list(csv.reader(lines))
        out = np.empty((len(records), len(usecols)))
        for c, j in enumerate(usecols):
            col = np.array([rec[j].strip() for rec in records], dtype=str)
            missing = np.isin(np.char.lower(col), list(MISSING_TOKENS))
            present = np.flatnonzero(~missing)
            out[missing, c] = np.nan
            try:
                out[present, c] = col[present].astype(np.float64)
            except ValueError:
                for i in present:
                    try:
                        float(col[i])
                    except ValueError:
                        name = self.names[j]
                        raise ValueError(
                            f"cannot read {self.path}: non-numeric value "
                            f"{str(col[i])!r} in column {name!r} at data row "
                            f"{first_row + i} (line {int(numbers[i])})"
                            + (hint(name) if hint is not None else "")
                        ) from None
                raise
        return out


def _parquet_names(path):
    pq = _pyarrow_parquet()
    try:
        schema = pq.read_schema(path)
    except Exception as exc:  # pyarrow raises its own ArrowInvalid, OSError...
        raise ValueError(f"cannot read {path} as Parquet: {exc}") from None
    names = [str(n) for n in schema.names]
    if not names:
        raise ValueError(f"{path} has no columns")
    return names


def _pyarrow_parquet():
    try:
        import pyarrow.parquet as pq
    except ImportError:
        raise ImportError(
            "reading Parquet needs pyarrow: pip install 'fastsgd[parquet]'"
        ) from None
    return pq


def _read_parquet(path, used, target):
    """Read the columns ``used`` of a Parquet file; nulls and NaN are NaN."""
    pq = _pyarrow_parquet()
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.types as pat

    try:
        table = pq.read_table(path, columns=used)
    except Exception as exc:  # pyarrow raises its own ArrowInvalid, OSError...
        raise ValueError(f"cannot read {path} as Parquet: {exc}") from None
    cols = []
    for name, column in zip(used, table.columns, strict=True):
        if not (
            pat.is_integer(column.type)
            or pat.is_floating(column.type)
            or pat.is_boolean(column.type)
            or pat.is_decimal(column.type)
        ):
            advice = "" if name == target else f"; leave it out with ignore=[{name!r}]"
            raise ValueError(
                f"column {name!r} of {path} is not numeric ({column.type}){advice}"
            )
        values = pc.fill_null(column.cast(pa.float64()), float("nan"))
        cols.append(np.asarray(values.to_numpy(), dtype=np.float64))
    return np.column_stack(cols).reshape(table.num_rows, len(used))


def _numeric(array, what, path):
    if array.dtype.kind not in "biuf":
        raise ValueError(f"{what} of {path} is not numeric (dtype {array.dtype})")
    return np.asarray(array, dtype=np.float64)


def _columns(cols, n_rows, path):
    """Return ``read(used)``: the named 1-D arrays ``cols`` used, as floats.

    Only the columns read are converted, so a non-numeric column left out
    does no harm.
    """
    items = list(cols.items())

    def read(used):
        out = np.empty((n_rows, len(used)))
        for c, k in enumerate(used):
            name, values = items[k]
            out[:, c] = _numeric(values, f"column {name!r}", path)
        return out

    return read


def _read_npy(path):
    """Return the column names and ``read(used)`` of a .npy table."""
    try:
        array = np.load(path, allow_pickle=False)
    except Exception as exc:
        raise ValueError(f"cannot read {path} as .npy: {exc}") from None
    if array.dtype.names:
        names = list(array.dtype.names)
        return names, _columns({n: array[n] for n in names}, len(array), path)
    if array.ndim != 2:
        raise ValueError(
            f"{path} holds an array of shape {array.shape}; expected a 2-D table"
        )
    table = _numeric(array, "the array", path)
    names = [f"x{j}" for j in range(table.shape[1])]
    return names, lambda used: np.array(table[:, used], dtype=np.float64)


def _read_npz(path):
    """Return the column names, ``read(used)`` and the default target."""
    try:
        with np.load(path, allow_pickle=False) as archive:
            arrays = {k: archive[k] for k in archive.files}
    except Exception as exc:
        raise ValueError(f"cannot read {path} as .npz: {exc}") from None
    if not arrays:
        raise ValueError(f"{path} holds no arrays")
    if "X" in arrays and "y" in arrays:
        X = arrays["X"]
        y = arrays["y"]
        if X.ndim != 2 or y.ndim != 1 or X.shape[0] != y.shape[0]:
            raise ValueError(
                f"{path}: X must be 2-D and y 1-D with as many rows; got "
                f"{X.shape} and {y.shape}"
            )
        if "feature_names" in arrays:
            names = [str(n) for n in arrays["feature_names"]]
            if len(names) != X.shape[1]:
                raise ValueError(
                    f"{path}: {len(names)} feature_names for {X.shape[1]} columns"
                )
        else:
            names = [f"x{j}" for j in range(X.shape[1])]
        if "y" in names:
            raise ValueError(f"{path}: a feature is named 'y', like the target")
        X = _numeric(X, "X", path)
        y = _numeric(y, "y", path)
        table = np.column_stack([X, y])
        return (
            names + ["y"],
            lambda used: np.array(table[:, used], dtype=np.float64),
            "y",
        )
    names = list(arrays)
    n = {a.shape[0] if a.ndim == 1 else -1 for a in arrays.values()}
    if len(n) != 1 or -1 in n:
        raise ValueError(
            f"{path}: expected arrays 'X' and 'y', or one 1-D array per column "
            "with equal lengths"
        )
    return names, _columns(arrays, n.pop(), path), None
