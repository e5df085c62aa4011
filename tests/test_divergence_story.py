"""A diverged run tells one story: verbose, warning, n_iter_, history, diagnose."""

import contextlib
import io
import re
import warnings

import numpy as np
import pytest
from sklearn.datasets import load_diabetes

from fastsgd import DivergenceWarning, SGDRegressor, diagnose, fit_stream, lr_sweep


@pytest.fixture(scope="module")
def unscaled_diabetes():
    return load_diabetes(return_X_y=True, scaled=False)


@pytest.mark.parametrize("batch_size", [1, "full"])
def test_unscaled_diabetes_reports_one_epoch_everywhere(unscaled_diabetes, batch_size):
    X, y = unscaled_diabetes
    model = SGDRegressor(verbose=1, batch_size=batch_size, random_state=0)
    out = io.StringIO()
    with contextlib.redirect_stdout(out), pytest.warns(DivergenceWarning) as record:
        model.fit(X, y)
    assert len(record) == 1
    n = model.n_iter_
    assert n >= 2  # the blow-up ran for more than one epoch before it was judged
    # the warning
    message = str(record[0].message)
    assert f"diverged in epoch {n} " in message
    assert f"the blow-up began in epoch {model.diverged_epochs_[0]}" in message
    # the verbose output: every epoch that ran, the last one marked
    printed = [int(k) for k in re.findall(r"-- Epoch (\d+)", out.getvalue())]
    assert printed == list(range(1, n + 1))
    assert f"Diverged in epoch {n}." in out.getvalue()
    assert f"Training diverged in epoch {n}; rolled back" in out.getvalue()
    # the history: the kept epochs, then the rolled-back ones, up to n_iter_
    assert model.diverged_ and model.stop_reason_ == "diverged"
    assert model.diverged_epochs_ == list(range(len(model.loss_curve_) + 1, n + 1))
    assert len(model.diverged_loss_curve_) == len(model.diverged_epochs_)
    objectives = [
        float(v) for v in re.findall(r"Objective: (\S+?),?\n", out.getvalue())
    ]
    assert len(objectives) == n
    np.testing.assert_allclose(
        model.diverged_loss_curve_, objectives[len(model.loss_curve_) :], rtol=1e-6
    )
    assert max(model.diverged_loss_curve_) > 1e4 * 0.5 * np.mean(y**2)
    # diagnose: the same epoch, with the rolled-back epochs as evidence
    diag = diagnose(model)
    assert diag.verdict == "explodes"
    assert diag.evidence["diverged_epoch"] == n
    assert diag.evidence["rolled_back"] == len(model.diverged_epochs_)
    assert f"diverged in epoch {n}" in str(diag)
    # the model kept is the start (nothing before the blow-up was kept)
    np.testing.assert_array_equal(model.coef_, np.zeros(X.shape[1]))


def test_the_warning_points_at_the_users_line(unscaled_diabetes):
    X, y = unscaled_diabetes
    with pytest.warns(DivergenceWarning) as record:
        SGDRegressor(random_state=0).fit(X, y)
    with pytest.warns(DivergenceWarning) as record2:
        SGDRegressor(random_state=0).partial_fit(X, y)
    with pytest.warns(DivergenceWarning) as record3:
        fit_stream(SGDRegressor(random_state=0), (X, y), chunk_rows=200)
    for rec in (record, record2, record3):
        assert {w.filename for w in rec} == {__file__}


def test_lr_sweep_keeps_the_divergence_inside(unscaled_diabetes):
    X, y = unscaled_diabetes
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # nothing escapes the sweep
        sweep = lr_sweep(SGDRegressor(random_state=0), X, y, etas=[1e-3], epochs=3)
    assert sweep.verdicts == ("explodes",)


def test_partial_fit_numbers_epochs_over_the_whole_training():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((200, 3))
    y = X @ np.array([1.0, -2.0, 0.5])
    model = SGDRegressor(learning_rate="constant", eta0=0.01, random_state=0)
    for _ in range(3):
        model.partial_fit(X, y)
    with pytest.warns(DivergenceWarning, match="diverged in epoch 4 "):
        model.set_params(eta0=50.0).partial_fit(X * 100, y)
    assert model.diverged_epochs_ == [4] and len(model.loss_curve_) == 3
