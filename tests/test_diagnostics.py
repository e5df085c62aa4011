"""diagnose, lr_sweep, parameter_path and the embedded datasets.

Every verdict is produced by a real training run with a bad setting on a
fixed seed, and following the fix diagnose suggests changes the verdict.
"""

import dataclasses

import numpy as np
import pytest

from fastsgd import (
    Diagnosis,
    DivergenceWarning,
    SGDRegressor,
    SweepResult,
    closed_form,
    diagnose,
    lr_sweep,
)
from fastsgd import _sweep as S
from fastsgd import diagnostics as D
from fastsgd.datasets import diabetes, ravine, spread_scales, well_conditioned


@pytest.fixture(scope="module")
def noisy_data():
    # 1000 x 20 standardized features, unit noise: the data the thresholds
    # of fastsgd.diagnostics were measured on
    return well_conditioned(n_samples=1000, n_features=20, noise=1.0, random_state=0)


def make(**kw):
    params = dict(
        penalty=None, learning_rate="constant", tol=None, max_iter=30, random_state=0
    )
    params.update(kw)
    return SGDRegressor(**params)


# ------------------------------------------------------------------ verdicts
def test_eta_far_too_large_explodes_and_lowering_it_is_healthy(noisy_data):
    X, y = noisy_data
    with pytest.warns(DivergenceWarning):
        model = make(batch_size="full", eta0=2.5).fit(X, y)
    diag = diagnose(model)
    assert diag.verdict == "explodes"
    assert diag.evidence["diverged"] == 1.0
    assert "eta0=2.5 -> 0.25" in diag.fixes[0]
    fixed = make(batch_size="full", eta0=0.25).fit(X, y)
    assert diagnose(fixed).verdict == "healthy"


def test_divergence_within_the_first_epoch_explodes(noisy_data):
    X, y = noisy_data
    with pytest.warns(DivergenceWarning):
        model = make(batch_size=1, eta0=1.0).fit(X, y)
    assert model.loss_curve_ == []
    assert diagnose(model).verdict == "explodes"


def test_adam_eta_too_large_climbs_back_and_explodes(noisy_data):
    # no DivergenceWarning here: the loss climbs back above its best instead
    X, y = noisy_data
    model = make(batch_size=32, optimizer="adam", eta0=1.0).fit(X, y)
    assert not model.diverged_
    diag = diagnose(model)
    assert diag.verdict == "explodes"
    assert diag.evidence["rise"] > D.EXPLODE_RISE


def test_tiny_eta_is_flat_and_raising_it_is_healthy(noisy_data):
    X, y = noisy_data
    model = make(batch_size="full", eta0=0.01).fit(X, y)
    diag = diagnose(model)
    assert diag.verdict == "flat"
    assert diag.evidence["pace"] > D.FLAT_PACE
    assert diag.evidence["monotone"] == 1.0
    assert "eta0=0.01 -> 0.1" in diag.fixes[0]
    assert diagnose(make(batch_size="full", eta0=0.1).fit(X, y)).verdict == "healthy"


def test_tiny_eta_per_example_sgd_is_flat(noisy_data):
    X, y = noisy_data
    assert diagnose(make(batch_size=1, eta0=1e-5).fit(X, y)).verdict == "flat"


def test_batch_one_constant_eta_on_noisy_data_is_noisy(noisy_data):
    X, y = noisy_data
    model = make(batch_size=1, eta0=0.05).fit(X, y)
    diag = diagnose(model)
    assert diag.verdict == "noisy"
    assert diag.evidence["tail_std"] > D.NOISY_STD
    assert diag.evidence["tail_ups"] >= D.NOISY_UPS
    assert "batch_size=1 -> 32" in diag.fixes[0]
    # the first fix (bigger batch), and the third (decay eta), both settle it
    assert diagnose(make(batch_size=32, eta0=0.05).fit(X, y)).verdict == "healthy"
    decayed = make(batch_size=1, eta0=0.05, learning_rate="invscaling")
    assert diagnose(decayed.fit(X, y)).verdict == "healthy"


@pytest.fixture(scope="module")
def wide_data():
    # more features than training rows, a sparse truth, lots of noise
    rng = np.random.default_rng(0)
    X = rng.standard_normal((80, 60))
    w = rng.standard_normal(60) * (rng.random(60) < 0.2)
    return X, X @ w + 2.0 * rng.standard_normal(80)


def overfit_model(**kw):
    params = dict(
        eta0=0.01,
        batch_size=8,
        max_iter=150,
        early_stopping=True,
        validation_fraction=0.25,
    )
    params.update(kw)
    return make(**params)


def test_many_features_few_rows_no_penalty_overfits(wide_data):
    X, y = wide_data
    model = overfit_model().fit(X, y)
    diag = diagnose(model)
    assert diag.verdict == "overfits"
    ev = diag.evidence
    assert ev["val_rise"] > D.OVERFIT_RISE
    assert ev["train_after_best"] < 0
    assert 1 < ev["best_epoch"] < 150
    assert "penalty='l2', alpha=0.1" in diag.fixes[0]
    assert "tol=1e-3" in diag.fixes[1]


def test_weight_decay_or_early_stopping_cures_overfitting(wide_data):
    X, y = wide_data
    decayed = overfit_model(penalty="l2", alpha=0.1).fit(X, y)
    assert diagnose(decayed).verdict == "healthy"
    stopped = overfit_model(tol=1e-3, restore_best_weights=True).fit(X, y)
    assert stopped.n_iter_ < 150
    assert diagnose(stopped).verdict == "healthy"


@pytest.mark.parametrize(
    "params",
    [
        dict(batch_size="full", eta0=0.5),
        dict(batch_size=32, eta0=0.01),
        dict(batch_size=32, optimizer="adam", eta0=0.01),
        dict(batch_size=32, optimizer="momentum", eta0=0.001),
        dict(batch_size=1, eta0=0.01, learning_rate="invscaling"),
    ],
    ids=["gd", "minibatch", "adam", "momentum", "sgd-invscaling"],
)
def test_good_settings_are_healthy(noisy_data, params):
    X, y = noisy_data
    diag = diagnose(make(**params).fit(X, y))
    assert diag.verdict == "healthy", diag.evidence
    assert diag.fixes[0] == "Nothing to fix."


def test_optimum_exposes_the_noise_floor_of_constant_eta_sgd(noisy_data):
    # SGD B=1 at eta 0.01 jitters ~0.5-1.2% per epoch (on the edge of "noisy"
    # by the curve alone, depending on the shuffle) but sits 13-16% above the
    # least-squares optimum: the optimum shows the floor whatever the curve says
    X, y = noisy_data
    coef, icpt = closed_form(X, y)
    optimum = 0.5 * np.mean((X @ coef + icpt - y) ** 2)
    by_curve = []
    for seed in range(6):
        model = make(batch_size=1, eta0=0.01, random_state=seed).fit(X, y)
        by_curve.append(diagnose(model).verdict)
        diag = diagnose(model, optimum=optimum)
        assert diag.verdict == "noisy"
        assert diag.evidence["excess"] > D.NOISY_EXCESS
    # the curve alone misses the floor for some of these shuffles
    assert "healthy" in by_curve
    gd = make(batch_size="full", eta0=0.5).fit(X, y)
    assert diagnose(gd, optimum=optimum).verdict == "healthy"


# ------------------------------------------------------------- raw curves
def test_raw_curves():
    t = np.arange(40.0)
    assert diagnose(list(1.0 + 9.0 * np.exp(-t / 3))).verdict == "healthy"
    assert diagnose(10.0 - 0.01 * t).verdict == "flat"
    assert diagnose(np.full(20, 3.0)).verdict == "flat"
    rng = np.random.default_rng(0)
    jitter = 1.0 + 5 * np.exp(-t) + 0.05 * rng.standard_normal(40)
    diag = diagnose(jitter)
    assert diag.verdict == "noisy"
    assert diag.fixes[1].startswith("Add momentum")
    assert diagnose([1.0, 2.0, np.inf]).verdict == "explodes"
    assert diagnose([1.0, 0.5, np.nan]).verdict == "explodes"
    assert diagnose({"loss": [5.0, 1.0], "diverged": True}).verdict == "explodes"
    assert diagnose([5.0, 1.0, 0.5, 0.4, 0.39, 0.9]).verdict == "explodes"


def test_raw_curves_with_validation():
    t = np.arange(40.0)
    train = 0.1 + np.exp(-t / 5)
    val_loss = 0.5 + np.exp(-t / 5) + 0.01 * np.maximum(t - 10, 0)
    diag = diagnose({"loss": train, "validation": val_loss})
    assert diag.verdict == "overfits"
    assert diag.evidence["best_epoch"] == np.argmin(val_loss) + 1 == 16
    assert diag.evidence["gap"] > D.OVERFIT_GAP
    # a validation loss that follows the training loss is healthy
    assert diagnose({"loss": train, "validation": train * 1.1}).verdict == "healthy"
    # validation scores (R^2) are read as 1 - score
    score = 1 - val_loss / val_loss.max()
    assert diagnose({"loss": train, "validation_score": score}).verdict == "overfits"


def test_short_runs_are_tentative():
    diag = diagnose([3.0, 1.0, 0.9])
    assert diag.verdict == "healthy"
    assert any("tentative" in w for w in diag.warnings)
    assert diagnose([3.0]).verdict == "healthy"


@pytest.mark.parametrize(
    "bad, exc, match",
    [
        ([], ValueError, "empty"),
        ([[1.0, 2.0]], ValueError, "one-dimensional"),
        ({"loss": [1.0], "lr": [1.0]}, ValueError, "unknown curve keys"),
        ({"validation": [1.0]}, ValueError, "'loss'"),
        ({"loss": [1.0, 2.0], "validation": [1.0]}, ValueError, "epochs"),
        ("loss", TypeError, "sequence of losses"),
        (3.0, TypeError, "sequence of losses"),
        (["a", "b"], TypeError, "numbers"),
    ],
)
def test_bad_curves_are_rejected(bad, exc, match):
    with pytest.raises(exc, match=match):
        diagnose(bad)


def test_unfitted_model_and_bad_optimum_are_rejected():
    with pytest.raises(ValueError, match="not fitted"):
        diagnose(SGDRegressor())
    with pytest.raises(ValueError, match="optimum"):
        diagnose([2.0, 1.0], optimum=-1.0)


def test_diagnosis_is_a_frozen_readable_record(noisy_data):
    X, y = noisy_data
    diag = diagnose(make(batch_size=1, eta0=0.05).fit(X, y))
    assert isinstance(diag, Diagnosis)
    with pytest.raises(dataclasses.FrozenInstanceError):
        diag.verdict = "healthy"
    text = str(diag)
    lines = text.splitlines()
    assert lines[0].startswith("verdict: noisy")
    assert "3-step fix:" in text
    assert [ln.strip()[:2] for ln in lines if ln.startswith("  ")][:3] == [
        "1.",
        "2.",
        "3.",
    ]
    assert set(diag.evidence) >= {"final_loss", "decrease", "tail_std", "rise"}
    assert all(isinstance(v, float) for v in diag.evidence.values())


# ------------------------------------------------------- unscaled features
def test_unscaled_features_are_flagged_and_scaling_comes_first():
    X, y = spread_scales(n_samples=500, low=0.1, high=10.0)
    with pytest.warns(DivergenceWarning):
        model = make(batch_size=1, eta0=0.05).fit(X, y)
    diag = diagnose(model, X)
    assert diag.verdict == "explodes"
    assert any(w.startswith("unscaled features") for w in diag.warnings)
    assert diag.fixes[0].startswith("Scale the features")
    # same run, without X: lowering eta comes first
    assert diagnose(model).fixes[0].startswith("Lower the learning rate")


def test_pipeline_is_diagnosed_through_its_steps():
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    X, y = spread_scales(n_samples=500)
    pipe = make_pipeline(StandardScaler(), make(batch_size=32, eta0=0.01))
    diag = diagnose(pipe.fit(X, y), X)
    assert diag.verdict == "healthy"
    assert diag.warnings == ()  # X was scaled before the check
    assert diagnose(pipe[-1], X).warnings  # the raw X is unscaled


def test_feature_scale_warnings():
    rng = np.random.default_rng(0)
    Z = rng.standard_normal((200, 3))
    assert D.feature_scale_warnings(Z) == []
    scaled = Z * [1.0, 50.0, 1.0]
    (msg,) = D.feature_scale_warnings(scaled, ["a", "big", "c"])
    assert "'big'" in msg and "StandardScaler" in msg
    # just below the threshold is quiet
    assert D.feature_scale_warnings(Z * [1.0, 0.9 * D.SCALE_RATIO, 1.0]) == []
    offset = Z + [0.0, 1000.0, 0.0]
    (msg,) = D.feature_scale_warnings(offset)
    assert msg.startswith("uncentred feature: column 1")
    const = np.column_stack([Z, np.ones(200)])
    (msg,) = D.feature_scale_warnings(const)
    assert "constant column" in msg
    import scipy.sparse as sp

    dense = D.feature_scale_warnings(scaled)
    assert D.feature_scale_warnings(sp.csr_matrix(scaled)) == dense
    with pytest.raises(ValueError, match="feature_names"):
        D.feature_scale_warnings(Z, ["a"])


# ----------------------------------------------------------------- lr_sweep
def test_lr_sweep_finds_a_sensible_rate(noisy_data):
    X, y = noisy_data
    est = SGDRegressor(batch_size=32, penalty=None, random_state=0)
    before = est.get_params()
    sweep = lr_sweep(est, X, y, epochs=20)  # divergence warnings stay inside
    assert isinstance(sweep, SweepResult)
    assert est.get_params() == before
    np.testing.assert_allclose(sweep.etas, 0.01 * 10.0 ** np.arange(-3, 3))
    assert sweep.verdicts[0] == "flat"
    assert len(sweep.curves) == len(sweep.final_loss) == 6
    assert sweep.best_eta in (0.01, 0.1)
    best = int(np.flatnonzero(sweep.etas == sweep.best_eta)[0])
    assert sweep.verdicts[best] == "healthy"
    assert sweep.final_loss[best] <= (1 + D.BEST_RTOL) * np.min(sweep.final_loss)
    text = str(sweep)
    assert "<- best" in text
    assert f"best eta: {sweep.best_eta:g} (the largest healthy rate" in text


def test_lr_sweep_records_divergence_as_explodes(noisy_data):
    X, y = noisy_data
    est = SGDRegressor(batch_size=1, penalty=None, random_state=0)
    calls = []
    sweep = lr_sweep(
        est,
        X,
        y,
        etas=[1.0, 1e-3, 10.0],
        epochs=5,
        callback=lambda i, eta, m, s: calls.append((i, eta, m.diverged_)),
    )
    assert list(sweep.etas) == [1e-3, 1.0, 10.0]
    assert sweep.verdicts[1:] == ("explodes", "explodes")
    assert np.all(np.isinf(sweep.final_loss[1:]))
    assert sweep.best_eta == 1e-3
    assert [c[0] for c in calls] == [0, 1, 2] and calls[2][2]
    all_bad = lr_sweep(est, X, y, etas=[5.0, 50.0], epochs=3)
    assert all_bad.best_eta is None
    assert "every rate exploded" in str(all_bad)


def test_lr_sweep_rejects_bad_input(noisy_data):
    X, y = noisy_data
    est = SGDRegressor()
    with pytest.raises(ValueError, match="positive"):
        lr_sweep(est, X, y, etas=[0.1, -1.0])
    with pytest.raises(ValueError, match="epochs"):
        lr_sweep(est, X, y, epochs=1)
    with pytest.raises(TypeError, match="SGDRegressor"):
        lr_sweep(object(), X, y)


# ------------------------------------------------------------ parameter path
def test_parameter_path_matches_full_batch_fit():
    X, y = ravine()
    est = SGDRegressor(
        batch_size="full",
        learning_rate="constant",
        eta0=0.5,
        penalty=None,
        fit_intercept=False,
    )
    start = np.array([0.5, 0.5])
    path = D.parameter_path(est, X, y, 7, start=start)
    assert path.shape == (8, 2)
    np.testing.assert_array_equal(path[0], start)
    for k in (1, 7):
        ref = SGDRegressor(**{**est.get_params(), "max_iter": k, "tol": None})
        ref.fit(X, y, coef_init=start)
        np.testing.assert_allclose(path[k], ref.coef_, rtol=1e-12, atol=1e-14)


def test_parameter_path_momentum_converges_and_stops_on_divergence():
    X, y, coef = ravine(return_coef=True)
    mom = SGDRegressor(
        batch_size=16,
        optimizer="momentum",
        learning_rate="constant",
        eta0=0.1,
        penalty=None,
        fit_intercept=False,
    )
    path = D.parameter_path(mom, X, y, 300)
    assert np.linalg.norm(path[-1] - coef) < 0.2 * np.linalg.norm(coef)
    wild = SGDRegressor(**{**mom.get_params(), "optimizer": "sgd", "eta0": 50.0})
    short = D.parameter_path(wild, X, y, 100)
    assert short.shape[0] < 101
    with pytest.raises(ValueError, match="n_steps"):
        D.parameter_path(mom, X, y, 0)
    with pytest.raises(ValueError, match="start"):
        D.parameter_path(mom, X, y, 3, start=[1.0])


# ----------------------------------------------------------------- datasets
def test_datasets_are_deterministic_float64():
    a = well_conditioned(random_state=3)
    b = well_conditioned(random_state=3)
    c = well_conditioned(random_state=4)
    np.testing.assert_array_equal(a[0], b[0])
    assert not np.array_equal(a[0], c[0])
    for X, y in (a, ravine(), spread_scales(), diabetes()[:2]):
        assert X.dtype == y.dtype == np.float64
        assert X.shape[0] == y.shape[0]
    X, y, coef = well_conditioned(n_samples=50, n_features=3, return_coef=True)
    assert X.shape == (50, 3) and coef.shape == (3,)


@pytest.mark.parametrize("d, cond", [(2, 50.0), (20, 100.0)])
def test_ravine_has_the_requested_condition_number(d, cond):
    X, y = ravine(n_samples=400, n_features=d, condition=cond)
    eig = np.linalg.eigvalsh(X.T @ X / 400)
    np.testing.assert_allclose(eig[-1] / eig[0], cond, rtol=1e-10)
    np.testing.assert_allclose(X.mean(axis=0), 0.0, atol=1e-12)
    assert abs(y.mean()) < 1e-12


def test_diabetes_is_standardized():
    X, y, names = diabetes()
    assert X.shape == (442, 10) and len(names) == 10
    np.testing.assert_allclose(X.mean(axis=0), 0.0, atol=1e-12)
    np.testing.assert_allclose(X.std(axis=0), 1.0)
    np.testing.assert_allclose([y.mean(), y.std()], [0.0, 1.0], atol=1e-12)
    raw = diabetes(standardize_target=False)[1]
    assert raw.min() >= 25 and raw.max() <= 346


def test_dataset_parameters_are_checked():
    with pytest.raises(ValueError, match="n_samples"):
        well_conditioned(n_samples=1)
    with pytest.raises(TypeError, match="n_features"):
        well_conditioned(n_features=2.5)
    with pytest.raises(ValueError, match="condition"):
        ravine(condition=0.5)
    with pytest.raises(ValueError, match="coef"):
        ravine(coef=[1.0, 2.0, 3.0])
    with pytest.raises(ValueError, match="low"):
        spread_scales(low=0.0)
    with pytest.raises(TypeError, match="random_state"):
        well_conditioned(random_state=None)


# ------------------------------------------------- still falling at the end
def test_a_curve_still_falling_at_its_end_is_flat_not_healthy():
    # bent (pace 0.29 < FLAT_PACE) but still 12% down per epoch, 2.2x above
    # its plateau at 1: it has not converged
    curve = 1 + 9 * 0.8 ** np.arange(10)
    diag = diagnose(curve)
    assert diag.verdict == "flat"
    assert diag.evidence["remaining"] > D.FLAT_REMAINING
    assert "still falling" in diag.summary
    assert "more epochs" in diag.fixes[0]
    # the same shape run long enough settles, and is healthy
    assert diagnose(1 + 9 * 0.8 ** np.arange(80)).verdict == "healthy"


def test_slow_gd_that_bent_but_is_far_from_the_optimum_is_flat(noisy_data):
    X, y = noisy_data
    coef, icpt = closed_form(X, y)
    optimum = 0.5 * np.mean((X @ coef + icpt - y) ** 2)
    slow = make(batch_size="full", eta0=0.03).fit(X, y)  # ends 4.7x above
    assert diagnose(slow).evidence["pace"] < D.FLAT_PACE
    assert diagnose(slow).verdict == "flat"
    assert diagnose(slow, optimum=optimum).verdict == "flat"


def test_sgd_at_a_tiny_rate_on_diabetes_is_flat_until_it_settles():
    # the audit's case: standardized features, the raw target
    X, y, _ = diabetes(standardize_target=False)
    coef, icpt = closed_form(X, y)
    optimum = 0.5 * np.mean((X @ coef + icpt - y) ** 2)

    def run(epochs):
        return SGDRegressor(
            random_state=0,
            eta0=1e-4,
            learning_rate="constant",
            tol=None,
            max_iter=epochs,
        ).fit(X, y)

    short = run(10)  # ends 4.7x above the optimum, falling every epoch
    assert short.loss_curve_[-1] > 4 * optimum
    assert diagnose(short).verdict == "flat"
    assert diagnose(short, optimum=optimum).verdict == "flat"
    assert diagnose(run(80), optimum=optimum).verdict == "healthy"  # 1.02x


# ------------------------------------------------------ machine precision
def test_a_loss_at_machine_precision_is_a_perfect_fit():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((300, 1))
    y = 2 * X[:, 0] + 1  # no noise: the optimum is 0 up to rounding
    scale = 0.5 * np.mean(y**2)
    # rounding jitter around 1e-32 must not read as an explosion or noise
    jitter = [0.5, 1e-9, 2e-32, 6e-32, 3e-32, 9e-32, 1e-32, 5e-32, 2e-32, 4e-32]
    diag = diagnose(jitter, scale=scale, optimum=1.2e-32)
    assert diag.verdict == "healthy"
    assert "perfect fit" in diag.summary
    assert diag.evidence["excess"] == 0.0
    assert diagnose(jitter[2:], scale=scale).verdict == "healthy"
    model = make(batch_size=1, eta0=0.1).fit(X, y)
    assert model.loss_curve_[-1] < 1e-20 * scale
    assert diagnose(model, X, scale=scale).verdict == "healthy"
    with pytest.raises(ValueError, match="scale"):
        diagnose(jitter, scale=0.0)


def test_a_zero_loss_throughout_is_healthy_not_flat():
    diag = diagnose(np.zeros(30))
    assert diag.verdict == "healthy"
    assert diag.fixes[0] == "Nothing to fix."
    assert diagnose([4.0, 1.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0]).verdict == "healthy"


# ------------------------------------------------------- input checks
def test_negative_losses_are_rejected():
    with pytest.raises(ValueError, match="negative.*epoch 1"):
        diagnose(-30.0 + np.arange(1, 31))
    with pytest.raises(ValueError, match="validation"):
        diagnose({"loss": [2.0, 1.0], "validation": [1.0, -1.0]})
    # validation scores (R^2) may be negative
    score = diagnose({"loss": [2.0, 1.0], "validation_score": [-0.5, 0.2]})
    assert score.verdict == "healthy"


def test_diverged_must_be_a_real_bool():
    with pytest.raises(TypeError, match="'diverged' must be a bool"):
        diagnose({"loss": [1.0, 0.5, 0.4], "diverged": "no"})
    assert diagnose({"loss": [5.0, 1.0], "diverged": np.bool_(True)}).verdict == (
        "explodes"
    )
    assert diagnose({"loss": [1.0, 0.5, 0.4], "diverged": False}).verdict != (
        "explodes"
    )


def test_a_non_finite_validation_curve_is_reported_not_dropped():
    t = np.arange(20.0)
    val = 1.0 + np.exp(-t / 3)
    val[5] = np.nan
    with pytest.warns(RuntimeWarning, match="epoch 6.*overfitting check"):
        diag = diagnose({"loss": 0.5 + np.exp(-t / 3), "validation": val})
    assert any("NaN/inf" in w for w in diag.warnings)
    assert "val_rise" not in diag.evidence


def test_any_one_dimensional_array_like_is_a_curve():
    pd = pytest.importorskip("pandas")
    curve = 1.0 + 9.0 * np.exp(-np.arange(40.0) / 3)
    expected = diagnose(curve)
    assert diagnose(pd.Series(curve)).evidence == expected.evidence
    assert diagnose(x for x in curve).evidence == expected.evidence


def test_X_is_checked_against_the_model(noisy_data):
    X, y = noisy_data
    model = make(batch_size=32, eta0=0.01, max_iter=5).fit(X, y)
    with pytest.raises(ValueError, match="X has 19 features.*fitted on 20"):
        diagnose(model, X[:, :19])
    bad = X.copy()
    bad[3, 2] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        diagnose(model, bad)


def test_dataframe_column_names_are_used_in_the_warnings():
    pd = pytest.importorskip("pandas")
    rng = np.random.default_rng(0)
    Z = rng.standard_normal((200, 3)) * [1.0, 1.0, 50.0]
    frame = pd.DataFrame(Z, columns=["age", "bmi", "income"])
    (msg,) = diagnose([2.0, 1.0, 0.9], frame).warnings[:1]
    assert "'income'" in msg and "column 2" not in msg


def test_lr_sweep_rejects_bad_input_before_any_fit(noisy_data, monkeypatch):
    from sklearn.linear_model import SGDRegressor as SkSGD

    X, y = noisy_data

    def no_fit(self, *a, **k):
        raise AssertionError("lr_sweep fitted before checking its arguments")

    monkeypatch.setattr(SGDRegressor, "fit", no_fit)
    monkeypatch.setattr(SkSGD, "fit", no_fit)
    with pytest.raises(TypeError, match="fastsgd SGDRegressor.*loss_curve_"):
        lr_sweep(SkSGD(), X, y, epochs=3)
    with pytest.raises(TypeError, match="instance.*SGDRegressor\\(...\\)"):
        lr_sweep(SGDRegressor, X, y, epochs=3)
    with pytest.raises(TypeError, match="callback must be callable"):
        lr_sweep(SGDRegressor(), X, y, epochs=3, callback=5)
    with pytest.raises(TypeError, match="etas"):
        lr_sweep(SGDRegressor(), X, y, etas="abc")
    with pytest.raises(TypeError, match="etas"):
        lr_sweep(SGDRegressor(), X, y, etas=[0.1, "x"])


def test_geometric_convergence_to_zero_is_not_flat():
    # noise-free data: the loss falls 30% per epoch to 1e-14 of its start;
    # the fall still ahead is large next to the final loss, tiny next to the
    # descent: converged for any purpose
    curve = 0.5 * 0.7 ** np.arange(90)
    diag = diagnose(curve)
    assert diag.evidence["remaining"] > D.FLAT_REMAINING
    assert diag.evidence["unfinished"] < D.FLAT_DESCENT
    assert diag.verdict == "healthy"
    # an optimum at rounding level does not make it flat either
    assert diagnose(curve, optimum=1e-32, scale=0.5).verdict == "healthy"


def test_more_bad_curves_and_arguments_are_refused(noisy_data):
    from sklearn.exceptions import NotFittedError
    from sklearn.linear_model import SGDRegressor as SkSGDRegressor

    X, y = noisy_data
    with pytest.raises(TypeError, match="None or a bool"):
        diagnose([1.0, None, 0.5])  # None would read as NaN: an explosion
    with pytest.raises(TypeError, match="not a bool"):
        diagnose([1.0, 0.5, 0.4, 0.39], optimum=True)
    with pytest.raises(NotFittedError):
        diagnose(SGDRegressor())
    with pytest.raises(TypeError, match="keeps none"):
        diagnose(SkSGDRegressor(max_iter=5, tol=None).fit(X, y))
    with pytest.raises(TypeError, match="etas"):
        lr_sweep(make(), X, y, etas=[True])
    with pytest.raises(ValueError, match="one-dimensional"):
        lr_sweep(make(), X, y, etas=[[0.1, 0.01]])


# ------------------------------------------- raw data: scaling and the optimum
@pytest.fixture(scope="module")
def columns_of_scale_1e3():
    # two of five columns in thousands: the "every rate exploded"
    rng = np.random.default_rng(0)
    X = rng.standard_normal((2000, 5)) * [1.0, 1e3, 1.0, 1e3, 1.0]
    y = X @ np.array([1.0, 1e-3, 1.0, 1e-3, 1.0]) + 0.1 * rng.standard_normal(2000)
    return X, y


def test_sweep_on_columns_of_scale_1e3_says_scale_first(columns_of_scale_1e3):
    X, y = columns_of_scale_1e3
    sweep = lr_sweep(SGDRegressor(random_state=0), X, y, epochs=10)
    assert sweep.best_eta is None and set(sweep.verdicts) == {"explodes"}
    assert sweep.advice[0] == D.SCALE_FIX
    assert 'learning_rate="auto"' in sweep.advice[0]
    assert any(w.startswith("unscaled features") for w in sweep.warnings)
    text = str(sweep)
    assert "every rate exploded; the features are badly scaled" in text
    assert text.index("Scale the features") < text.index("Try smaller rates")
    # following "try smaller rates": nothing explodes, nothing gets near the
    # optimum (the runs end ~290x above it); no rate is recommended for that
    small = lr_sweep(
        SGDRegressor(random_state=0), X, y, etas=[1e-9, 1e-8, 1e-7], epochs=10
    )
    assert "explodes" not in small.verdicts
    coef, icpt = closed_form(X, y, alpha=1e-4 * len(y))
    optimum = 0.5 * np.mean((X @ coef + icpt - y) ** 2) + 0.5e-4 * coef @ coef
    assert small.optimum == pytest.approx(optimum, rel=1e-9)
    assert np.all(small.objective > 100 * small.optimum)
    assert not small.near_optimum.any()
    assert small.best_eta is None
    assert small.advice[0] == D.SCALE_FIX
    assert "no rate got near the optimum (0.0051" in str(small)
    assert "healthy" not in small.verdicts  # diagnosed against the optimum
    # scaled in a Pipeline, the same sweep finds a rate that reaches it
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    pipe = make_pipeline(StandardScaler(), SGDRegressor(random_state=0))
    scaled = lr_sweep(pipe, X, y, epochs=10)
    assert scaled.best_eta is not None and scaled.warnings == ()
    best = int(np.flatnonzero(scaled.etas == scaled.best_eta)[0])
    assert scaled.near_optimum[best] and scaled.advice == ()
    assert scaled.objective[best] <= (1 + S.NEAR_OPTIMUM) * scaled.optimum


def test_sweep_on_unscaled_diabetes_recommends_no_rate_far_from_the_optimum():
    from sklearn.datasets import load_diabetes
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    X, y = load_diabetes(return_X_y=True, scaled=False)
    sweep = lr_sweep(SGDRegressor(random_state=0), X, y, epochs=20)
    # only 1e-5 survives, and ends 68% above the optimum
    assert sweep.verdicts[0] != "explodes" and set(sweep.verdicts[1:]) == {"explodes"}
    assert sweep.objective[0] > (1 + S.NEAR_OPTIMUM) * sweep.optimum
    assert sweep.best_eta is None
    assert sweep.advice[0] == D.SCALE_FIX
    text = str(sweep)
    assert "no rate got near the optimum" in text
    assert text.index("no rate got near") < text.index("Scale the features")
    # and diagnose, given X, puts scaling first for that run
    run = SGDRegressor(
        random_state=0, learning_rate="constant", eta0=1e-5, max_iter=20, tol=None
    ).fit(X, y)
    diag = diagnose(run, X)
    assert diag.verdict in ("noisy", "flat")
    assert diag.fixes[0] == D.SCALE_FIX
    assert sum(f.startswith(("Scale", "Normalise")) for f in diag.fixes) == 1
    # the fix: the sweep of the scaled Pipeline recommends a rate whose model
    # has the closed form's R^2 (0.518)
    pipe = make_pipeline(StandardScaler(), SGDRegressor(random_state=0))
    good = lr_sweep(pipe, X, y, epochs=20)
    assert good.best_eta is not None and good.advice == ()
    model = pipe.set_params(
        sgdregressor__learning_rate="constant",
        sgdregressor__eta0=good.best_eta,
        sgdregressor__max_iter=20,
        sgdregressor__tol=None,
    ).fit(X, y)
    assert model.score(X, y) > 0.5


@pytest.mark.parametrize(
    "params, verdict",
    [
        (dict(batch_size="full", eta0=1e-6), "flat"),
        (dict(batch_size=1, eta0=1e-5), "noisy"),
    ],
)
def test_diagnose_puts_scaling_first_for_every_verdict_scaling_causes(params, verdict):
    from sklearn.datasets import load_diabetes

    X, y = load_diabetes(return_X_y=True, scaled=False)
    model = make(max_iter=20, **params).fit(X, y)
    assert diagnose(model).verdict == verdict
    assert diagnose(model).fixes[0] != D.SCALE_FIX  # the curve alone
    diag = diagnose(model, X)
    assert diag.verdict == verdict
    assert diag.fixes[0] == D.SCALE_FIX
    # then the verdict's own fixes, without a second scaling fix
    own = [f for f in diagnose(model).fixes if not f.startswith("Normalise")]
    assert list(diag.fixes[1:]) == own


def test_overfitting_and_healthy_runs_do_not_blame_the_scales(wide_data):
    X, y = wide_data
    spread = X * np.geomspace(1.0, 30.0, X.shape[1])
    assert any(w.startswith("unscaled") for w in D.feature_scale_warnings(spread))
    model = overfit_model().fit(X, y)
    assert diagnose(model, spread).fixes == diagnose(model).fixes


def test_sweep_of_a_pipeline_sets_the_last_step(noisy_data):
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import StandardScaler

    X, y = noisy_data
    pipe = Pipeline([("scale", StandardScaler()), ("sgd", make(batch_size=32))])
    before = pipe.get_params()["sgd"].get_params()
    seen = []
    sw = np.linspace(0.5, 1.5, len(y))
    sweep = lr_sweep(
        pipe,
        X,
        y,
        etas=[0.001, 0.01],
        epochs=4,
        sample_weight=sw,
        callback=lambda i, eta, m, s: seen.append(m),
    )
    assert pipe.get_params()["sgd"].get_params() == before
    assert not hasattr(pipe["sgd"], "coef_")  # not modified
    for eta, fitted in zip(sweep.etas, seen, strict=True):
        assert isinstance(fitted, Pipeline)
        assert fitted["sgd"].eta0 == eta and fitted["sgd"].max_iter == 4
        assert fitted["sgd"].learning_rate == "constant"
    # the same runs as the last step on the scaled features, weights included
    Z = StandardScaler().fit_transform(X)
    direct = lr_sweep(pipe["sgd"], Z, y, etas=[0.001, 0.01], epochs=4, sample_weight=sw)
    for a, b in zip(sweep.curves, direct.curves, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-12)
    assert sweep.optimum == pytest.approx(direct.optimum, rel=1e-9)
    with pytest.raises(TypeError, match="Pipeline ending with one.*last step"):
        from sklearn.linear_model import Ridge

        lr_sweep(Pipeline([("s", StandardScaler()), ("r", Ridge())]), X, y)


def test_sweep_optimum_is_the_objective_minimum_with_weights_and_l2(noisy_data):
    from sklearn.linear_model import Ridge

    X, y = noisy_data
    sw = np.linspace(0.2, 2.0, len(y))
    est = make(batch_size="full", penalty="l2", alpha=0.05)
    sweep = lr_sweep(est, X, y, etas=[0.3], epochs=200, sample_weight=sw)
    # the estimator minimises sum(sw * r**2 / 2) / n + alpha/2 |w|^2 (weights
    # multiply the gradient, as in scikit-learn): ridge with alpha * n; its
    # objective is measured as loss_curve_ does, the weighted mean + penalty
    ridge = Ridge(alpha=0.05 * len(y)).fit(X, y, sample_weight=sw)
    r = ridge.predict(X) - y
    expected = 0.5 * np.sum(sw * r * r) / sw.sum() + 0.025 * ridge.coef_ @ ridge.coef_
    assert sweep.optimum == pytest.approx(expected, rel=1e-9)
    # full-batch GD for 200 epochs converges onto it
    assert sweep.objective[0] == pytest.approx(expected, rel=1e-6)
    assert sweep.near_optimum[0] and sweep.best_eta == 0.3


def test_sweep_without_an_exact_optimum_compares_with_the_best_run(
    noisy_data, monkeypatch
):
    X, y = noisy_data
    est = SGDRegressor(batch_size=32, penalty=None, random_state=0)
    exact = lr_sweep(est, X, y, etas=[1e-3, 1e-2, 1e-1], epochs=10)
    monkeypatch.setattr(S, "EXACT_MAX_VALUES", X.size - 1)  # "too large"
    big = lr_sweep(est, X, y, etas=[1e-3, 1e-2, 1e-1], epochs=10)
    assert exact.optimum is not None and big.optimum is None
    assert np.all(np.isnan(big.objective))
    lowest = big.final_loss.min()
    np.testing.assert_array_equal(
        big.near_optimum, big.final_loss <= lowest * (1 + D.BEST_RTOL)
    )
    assert big.best_eta == exact.best_eta == 0.1
    assert "vs optimum" not in str(big) and "vs optimum" in str(exact)
    # other losses and penalties have no closed form either
    for params in (dict(loss="huber"), dict(penalty="l1")):
        other = lr_sweep(est.set_params(**params), X, y, etas=[1e-2], epochs=3)
        assert other.optimum is None
        est.set_params(loss="squared_error", penalty=None)


def test_sweep_of_unscaled_large_data_advises_scaling_whatever_the_best(monkeypatch):
    X, y = spread_scales(n_samples=500, low=0.1, high=10.0)
    monkeypatch.setattr(S, "EXACT_MAX_VALUES", 10)
    sweep = lr_sweep(make(batch_size=32), X, y, etas=[1e-3, 1e-2], epochs=5)
    assert sweep.optimum is None and sweep.best_eta is not None
    assert sweep.advice == (D.SCALE_FIX,)
    assert "advice:\n  1. Scale the features" in str(sweep)


def test_diagnose_reads_a_pipelines_last_step_on_the_features_it_saw():
    from sklearn.datasets import load_diabetes
    from sklearn.linear_model import Ridge
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import FunctionTransformer, StandardScaler

    X, y = load_diabetes(return_X_y=True, scaled=False)
    sgd = dict(max_iter=20, batch_size=1, eta0=1e-5)
    # a step that does not scale: the features the SGD saw are still unscaled
    pipe = make_pipeline(FunctionTransformer(np.abs), make(**sgd)).fit(X, y)
    diag = diagnose(pipe, X)
    assert diag.verdict == diagnose(pipe[-1]).verdict == "noisy"
    assert diag.fixes[0] == D.SCALE_FIX
    one = make_pipeline(make(**sgd)).fit(X, y)  # a one-step Pipeline
    assert diagnose(one, X).fixes == diag.fixes
    scaled = make_pipeline(StandardScaler(), make(**sgd)).fit(X, y)
    assert not any(w.startswith("unscaled") for w in diagnose(scaled, X).warnings)
    with pytest.raises(TypeError, match="keeps none"):
        diagnose(make_pipeline(StandardScaler(), Ridge()).fit(X, y), X)
