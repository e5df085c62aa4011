"""The lecture's experiments (fastsgd.experiments): data in, dataclasses out.

The command line's tables and figures are checked in test_cli.py; here the
experiments themselves: they print nothing, report their progress, and
every loss they return is the training MSE (twice the objective the
estimator records).
"""

import dataclasses

import numpy as np
import pytest

from fastsgd import SGDRegressor, closed_form, lr_sweep
from fastsgd import experiments as ex
from fastsgd._util import mse
from fastsgd.datasets import well_conditioned
from fastsgd.experiments.optimizers import method_models


@pytest.fixture(scope="module")
def small():
    X, y = well_conditioned(n_samples=300, n_features=4, random_state=0)
    return ex.Problem("small", X, y, [f"x{j}" for j in range(4)], note="small")


class Reports:
    def __init__(self):
        self.calls = []

    def __call__(self, done, total, text=""):
        assert isinstance(text, str)
        self.calls.append((done, total))

    def check(self, total):
        assert self.calls == [(i + 1, total) for i in range(total)]


def test_optimizers_returns_mse_rows_and_curves(small, capsys):
    reports = Reports()
    result = ex.run_optimizers(small, epochs=4, batch_size=16, progress=reports)
    assert capsys.readouterr() == ("", "")
    reports.check(len(ex.METHODS) - 1)
    assert dataclasses.is_dataclass(result)
    coef, intercept = closed_form(small.X, small.y)
    assert result.closed_form_mse == pytest.approx(
        mse(small.X, small.y, coef, intercept)
    )
    assert [r.method for r in result.runs] == list(ex.METHODS[1:])
    models = method_models(ex.METHODS, small, 4, 16, 0)
    for run in result.runs:
        _, model = models[run.method]
        model.fit(small.X, small.y)
        # the curves are twice the objective the estimator records
        np.testing.assert_allclose(run.curve, 2 * np.asarray(model.loss_curve_))
        assert run.mse == pytest.approx(
            np.mean((model.predict(small.X) - small.y) ** 2)
        )
        assert run.mse >= result.closed_form_mse * (1 - 1e-9)
    sgd = result.runs[1]
    assert sgd.record_every and sgd.step_curve.size > sgd.curve.size


def test_endings_curves_are_the_mse_of_the_reported_model(small):
    result = ex.run_endings(small, epochs=3)
    assert len(result.runs) == 4
    models = ex.endings.ending_models(small, 3, 0)
    for run in result.runs:
        model = models[run.label]
        expected = []
        for _ in range(3):
            model.partial_fit(small.X, small.y)
            expected.append(mse(small.X, small.y, model.coef_, model.intercept_))
        np.testing.assert_allclose(run.curve, expected)
        assert run.final == run.curve[-1]


def test_sweep_curves_are_twice_the_objective(small):
    reports = Reports()
    result = ex.run_sweep(small, epochs=3, etas=[0.1, 0.001, 0.1], progress=reports)
    reports.check(2)
    np.testing.assert_array_equal(result.etas, [0.001, 0.1])
    est = SGDRegressor(penalty=None, batch_size=32, random_state=0, eta0=0.01)
    plain = lr_sweep(est, small.X, small.y, etas=[0.001, 0.1], epochs=3)
    for got, objective in zip(result.curves, plain.curves, strict=True):
        np.testing.assert_allclose(got, 2 * np.asarray(objective))
    np.testing.assert_allclose(result.final, 2 * plain.final_loss)
    assert result.optimum == pytest.approx(2 * plain.optimum)
    np.testing.assert_allclose(result.final_mse, 2 * plain.objective)
    np.testing.assert_array_equal(result.near_optimum, plain.near_optimum)
    assert result.advice == plain.advice
    assert result.best_eta == plain.best_eta
    assert result.verdicts == list(plain.verdicts)


def test_lr_test_runs_three_named_rates(small):
    result = ex.run_lr_test(small, epochs=20)
    assert result.names == ["0.01/L", "1/L", "2.2/L"]
    np.testing.assert_allclose(result.sweep.etas * result.L, [0.01, 1.0, 2.2])
    assert result.sweep.verdicts[-1] == "explodes" and result.sweep.fixes[-1]


def test_batch_noise_follows_one_over_b(small):
    result = ex.run_batch_noise(small, epochs=2, trials=50)
    assert result.sizes[0] == 1 and len(result.sizes) == len(result.measured)
    np.testing.assert_allclose(result.measured, result.predicted, rtol=0.5)
    coef, intercept = closed_form(small.X, small.y)
    assert result.optimum == pytest.approx(mse(small.X, small.y, coef, intercept))


def test_ravine_paths_start_at_zero():
    problem = ex.embedded_problem("ravine", two_features=True)
    result = ex.run_ravine(problem, steps=5)
    for run in result.runs:
        assert run.path.shape == (6, 2) and not run.path[0].any()
        assert run.mse_ratio >= 1 - 1e-9


def test_adamw_vs_l2_decays_every_weight_alike():
    result = ex.run_adamw_vs_l2(ex.spread_problem(), epochs=5)
    np.testing.assert_allclose(result.shrink_w, result.eta * result.lam)
    assert result.spread_w == pytest.approx(1.0) and result.spread_l2 > 1
    assert list(result.scales) == sorted(result.scales)


def test_problems():
    assert {ex.embedded_problem(n).name for n in ex.EMBEDDED} == set(ex.EMBEDDED)
    with pytest.raises(ValueError, match="unknown embedded problem"):
        ex.embedded_problem("nope")
    X = np.array([[1.0, 5.0], [3.0, 5.0], [5.0, 5.0]])
    p = ex.table_problem("dir/t.csv", X, np.ones(3), ["a", "b"])
    assert p.name == "t.csv" and p.note == "t.csv, 3 x 2, features standardized"
    np.testing.assert_allclose(p.X.std(axis=0), [1.0, 0.0])
    raw = ex.table_problem("t.csv", X, np.ones(3), ["a", "b"], standardize=False)
    assert raw.X is X and raw.note.endswith("raw features")
