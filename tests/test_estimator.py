"""Features of ``SGDRegressor`` through its public API (fit/partial_fit/predict)."""

import pickle
import warnings

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.linear_model import SGDRegressor as SkSGDRegressor
from sklearn.metrics import r2_score

from fastsgd import DivergenceWarning, SGDRegressor, closed_form

OPTIMIZERS = ["sgd", "momentum", "nesterov", "adagrad", "rmsprop", "adam", "adamw"]


def make_data(n=200, d=5, noise=0.3, seed=0, offset=1.0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d))
    y = X @ rng.standard_normal(d) + offset + noise * rng.standard_normal(n)
    return X, y


def standardized_data(n=200, d=5, noise=0.5, seed=0):
    """Mildly correlated features, standardized: a well-conditioned problem."""
    rng = np.random.default_rng(seed)
    Z = rng.standard_normal((n, d))
    X = Z @ (np.eye(d) + 0.3 * rng.standard_normal((d, d)))
    X = (X - X.mean(axis=0)) / X.std(axis=0)
    y = X @ rng.standard_normal(d) + 1.5 + noise * rng.standard_normal(n)
    return X, y


def objective(X, y, coef, intercept):
    """Mean squared-error loss (scikit-learn's 1/2 r^2) without penalty."""
    r = X @ coef + intercept - y
    return 0.5 * float(np.mean(r * r))


def assert_same_model(a, b):
    np.testing.assert_array_equal(a.coef_, b.coef_)
    np.testing.assert_array_equal(a.intercept_, b.intercept_)
    assert a.t_ == b.t_
    assert a.loss_curve_ == b.loss_curve_


# ----------------------------------------------------------- clone and pickle
def test_clone_gives_an_unfitted_copy_that_fits_identically():
    X, y = make_data()
    model = SGDRegressor(optimizer="adam", batch_size=4, random_state=3, tol=None)
    model.set_params(max_iter=7, eta0=0.005)
    fitted = model.fit(X, y)
    copy = clone(fitted)
    assert not hasattr(copy, "coef_")
    assert copy.get_params() == fitted.get_params()
    assert_same_model(copy.fit(X, y), fitted)


@pytest.mark.parametrize(
    "params",
    [
        dict(),
        dict(optimizer="adam", batch_size=8, average=True),
        dict(optimizer="momentum", ema_decay=0.9, penalty="elasticnet"),
        dict(optimizer="rmsprop", learning_rate="cosine", record_every=10),
    ],
    ids=["sgd", "adam-average", "momentum-ema", "rmsprop-cosine"],
)
def test_pickle_round_trip_and_continued_partial_fit(params):
    X, y = make_data()
    X1, y1, X2, y2 = X[:100], y[:100], X[100:], y[100:]
    model = SGDRegressor(random_state=0, **params)
    model.partial_fit(X1, y1).partial_fit(X2, y2)
    restored = pickle.loads(pickle.dumps(model))
    np.testing.assert_array_equal(restored.predict(X), model.predict(X))
    assert restored.t_ == model.t_
    # the step counter, schedule, optimizer state and rng continue identically
    for _ in range(2):
        model.partial_fit(X1, y1)
        restored.partial_fit(X1, y1)
    assert_same_model(restored, model)
    assert restored.eta_curve_ == model.eta_curve_
    np.testing.assert_array_equal(restored.step_loss_curve_, model.step_loss_curve_)
    np.testing.assert_array_equal(restored.predict(X), model.predict(X))


# ---------------------------------------------------------------- determinism
@pytest.mark.parametrize("sampling", ["epoch", "blocks", "replacement"])
def test_fixed_random_state_is_deterministic(sampling):
    X, y = make_data()
    params = dict(max_iter=6, tol=None, sampling=sampling, batch_size=3)
    a = SGDRegressor(random_state=42, **params).fit(X, y)
    b = SGDRegressor(random_state=42, **params).fit(X, y)
    assert_same_model(a, b)
    # a RandomState instance with the same seed is the same run
    c = SGDRegressor(random_state=np.random.RandomState(42), **params).fit(X, y)
    assert_same_model(a, c)
    # and the seed matters: another seed visits the rows in another order
    d = SGDRegressor(random_state=43, **params).fit(X, y)
    assert not np.array_equal(a.coef_, d.coef_)


# ----------------------------------------------------- partial_fit and resets
@pytest.mark.parametrize("batch_size", [1, 16])
def test_partial_fit_keeps_the_step_counter_and_schedule(batch_size):
    X, y = make_data(n=120)
    chunks = [(X[:50], y[:50]), (X[50:70], y[50:70]), (X[70:], y[70:])]
    model = SGDRegressor(learning_rate="invscaling", batch_size=batch_size)
    steps = 0
    for k, (Xc, yc) in enumerate(chunks):
        model.partial_fit(Xc, yc)
        steps += -(-len(yc) // batch_size)
        assert model.t_ == steps + 1
        assert model.n_iter_ == 1
        assert len(model.eta_curve_) == k + 1
        assert len(model.loss_curve_) == k + 1
    # invscaling keeps decreasing across calls: the schedule did not restart
    assert np.all(np.diff(model.eta_curve_) < 0)
    # and the last chunk's mean rate is the formula's, at the continued steps
    t_last = np.arange(steps - (-(-50 // batch_size)) + 1, steps + 1)
    np.testing.assert_allclose(
        model.eta_curve_[-1], np.mean(0.01 / t_last**0.25), rtol=1e-12
    )


def test_fit_resets_partial_fit_state():
    X, y = make_data()
    params = dict(max_iter=4, tol=None, random_state=0, optimizer="adam")
    fresh = SGDRegressor(**params).fit(X, y)
    model = SGDRegressor(**params)
    model.partial_fit(X, y).partial_fit(X, y)
    model.fit(X, y)
    assert_same_model(model, fresh)
    model.fit(X, y)  # refitting is also a fresh start
    assert_same_model(model, fresh)
    assert model.eta_curve_ == fresh.eta_curve_


def test_warm_start_starts_from_previous_coefficients():
    X, y = make_data()
    params = dict(max_iter=3, tol=None, random_state=0, optimizer="momentum")
    first = SGDRegressor(warm_start=True, eta0=0.002, **params).fit(X, y)
    coef, intercept = first.coef_.copy(), first.intercept_.copy()
    second = first.fit(X, y)
    # the same as a fresh model started from those coefficients: the counter,
    # the schedule and the optimizer state start afresh, as in scikit-learn
    ref = SGDRegressor(eta0=0.002, **params).fit(
        X, y, coef_init=coef, intercept_init=intercept
    )
    assert_same_model(second, ref)
    assert second.t_ == 3 * len(y) + 1
    # without warm_start the second fit ignores the first
    cold = SGDRegressor(eta0=0.002, **params).fit(X, y)
    assert_same_model(SGDRegressor(eta0=0.002, **params).fit(X, y).fit(X, y), cold)
    assert not np.array_equal(cold.coef_, second.coef_)


def test_coef_init_and_intercept_init_are_used():
    X, y = make_data()
    coef_init = np.array([3.0, -1.0, 0.5, 2.0, -4.0])
    # a negligible rate leaves the initial values in place
    model = SGDRegressor(learning_rate="constant", eta0=1e-12, max_iter=1, tol=None)
    model.fit(X, y, coef_init=coef_init, intercept_init=-7.0)
    np.testing.assert_allclose(model.coef_, coef_init, rtol=1e-8)
    np.testing.assert_allclose(model.intercept_, [-7.0], rtol=1e-8)
    # and a real run from them follows scikit-learn's run from them
    params = dict(shuffle=False, max_iter=4, tol=None, learning_rate="invscaling")
    ours = SGDRegressor(**params).fit(X, y, coef_init=coef_init, intercept_init=-7.0)
    sk = SkSGDRegressor(**params).fit(X, y, coef_init=coef_init, intercept_init=-7.0)
    np.testing.assert_allclose(ours.coef_, sk.coef_, rtol=1e-10)
    np.testing.assert_allclose(ours.intercept_, sk.intercept_, rtol=1e-10)


# ------------------------------------------------------------------ averaging
def iterates(X, y, epochs, **params):
    """Record w_t, b_t after every step by one-row partial_fit calls."""
    model = SGDRegressor(shuffle=False, **params)
    out = []
    for _ in range(epochs):
        for i in range(len(y)):
            model.partial_fit(X[i : i + 1], y[i : i + 1])
            out.append(np.r_[model.coef_, model.intercept_])
    return np.array(out)


@pytest.mark.parametrize("average", [True, 1, 10, 45])
@pytest.mark.parametrize("penalty", [None, "l2"])
def test_average_is_the_mean_of_the_iterates(average, penalty):
    X, y = make_data(n=30, d=3)
    params = dict(learning_rate="invscaling", eta0=0.05, penalty=penalty, alpha=0.01)
    path = iterates(X, y, epochs=2, **params)
    expected = path[int(average) - 1 :].mean(axis=0)
    model = SGDRegressor(
        average=average, shuffle=False, max_iter=2, tol=None, **params
    ).fit(X, y)
    np.testing.assert_allclose(model.coef_, expected[:-1], rtol=1e-10)
    np.testing.assert_allclose(model.intercept_, expected[-1:], rtol=1e-10)
    # the averaged model differs from the last iterate
    assert not np.allclose(model.coef_, path[-1, :-1], rtol=1e-3)


@pytest.mark.parametrize("average", [True, 7])
@pytest.mark.parametrize("learning_rate", ["constant", "invscaling"])
def test_average_matches_scikit_learn_in_order(average, learning_rate):
    # with shuffle=False both libraries take the same per-example steps
    X, y = make_data(n=80, d=4)
    params = dict(
        average=average,
        shuffle=False,
        max_iter=5,
        tol=None,
        learning_rate=learning_rate,
        eta0=0.02,
        alpha=0.001,
    )
    ours = SGDRegressor(**params).fit(X, y)
    sk = SkSGDRegressor(**params).fit(X, y)
    np.testing.assert_allclose(ours.coef_, sk.coef_, rtol=1e-10)
    np.testing.assert_allclose(ours.intercept_, sk.intercept_, rtol=1e-10)
    assert ours.t_ == sk.t_


def test_average_starting_after_the_run_reports_the_last_iterate():
    X, y = make_data(n=30, d=3)
    params = dict(shuffle=False, max_iter=2, tol=None, learning_rate="constant")
    plain = SGDRegressor(**params).fit(X, y)
    late = SGDRegressor(average=1000, **params).fit(X, y)
    # the same steps through another loop: equal up to summation order
    np.testing.assert_allclose(late.coef_, plain.coef_, rtol=1e-12, atol=1e-15)


def test_ema_is_the_exponential_average_of_the_iterates():
    X, y = make_data(n=30, d=3)
    params = dict(learning_rate="constant", eta0=0.05)
    path = iterates(X, y, epochs=2, **params)
    decay = 0.9
    ema = np.zeros(path.shape[1])  # starts at the initial point (zeros)
    for w in path:
        ema = decay * ema + (1 - decay) * w
    model = SGDRegressor(
        ema_decay=decay, shuffle=False, max_iter=2, tol=None, **params
    ).fit(X, y)
    np.testing.assert_allclose(model.coef_, ema[:-1], rtol=1e-10)
    np.testing.assert_allclose(model.intercept_, ema[-1:], rtol=1e-10)


# --------------------------------------------------------- stopping rules
def test_early_stopping_and_restore_best_weights():
    X, y = make_data(n=150, noise=1.0, seed=1)
    # a large constant rate makes the validation score bounce around
    params = dict(
        learning_rate="constant",
        eta0=0.05,
        early_stopping=True,
        validation_fraction=0.2,
        n_iter_no_change=4,
        random_state=0,
    )
    last = SGDRegressor(**params).fit(X, y)
    assert last.stop_reason_ == "early_stopping"
    assert last.n_iter_ < last.max_iter
    assert len(last.validation_scores_) == last.n_iter_ == len(last.loss_curve_)
    assert last.best_score_ == max(last.validation_scores_)
    best = int(np.argmax(last.validation_scores_))
    assert best < last.n_iter_ - 1  # the last epoch is not the best one

    restored = SGDRegressor(restore_best_weights=True, **params).fit(X, y)
    assert restored.validation_scores_ == last.validation_scores_
    # the weights of the best epoch: the same run stopped right after it
    params.pop("n_iter_no_change")
    upto_best = SGDRegressor(max_iter=best + 1, tol=None, **params).fit(X, y)
    assert upto_best.validation_scores_ == last.validation_scores_[: best + 1]
    np.testing.assert_array_equal(restored.coef_, upto_best.coef_)
    np.testing.assert_array_equal(restored.intercept_, upto_best.intercept_)
    assert not np.array_equal(restored.coef_, last.coef_)


def test_without_early_stopping_there_are_no_validation_scores():
    X, y = make_data()
    model = SGDRegressor(random_state=0).fit(X, y)
    assert model.validation_scores_ is None
    assert model.best_score_ is None


def test_tol_stopping():
    X, y = make_data()
    model = SGDRegressor(random_state=0, tol=1e-3, n_iter_no_change=3).fit(X, y)
    assert model.stop_reason_ == "tol"
    assert 3 < model.n_iter_ < model.max_iter
    assert len(model.loss_curve_) == model.n_iter_
    assert model.t_ == model.n_iter_ * len(y) + 1
    # each of the last n_iter_no_change epochs failed to beat the best
    # objective so far by tol
    curve = np.array(model.loss_curve_)
    for k in range(len(curve) - 3, len(curve)):
        assert curve[k] > curve[:k].min() - 1e-3
    assert not model.diverged_


def test_max_iter_reached_warns_with_tol():
    from sklearn.exceptions import ConvergenceWarning

    X, y = make_data()
    with pytest.warns(ConvergenceWarning, match="max_iter"):
        model = SGDRegressor(random_state=0, max_iter=2).fit(X, y)
    assert model.stop_reason_ == "max_iter"
    assert model.n_iter_ == 2


def test_adaptive_learning_rate_divides_by_five():
    X, y = make_data()
    model = SGDRegressor(
        learning_rate="adaptive", eta0=0.1, random_state=0, n_iter_no_change=3
    ).fit(X, y)
    etas = np.array(model.eta_curve_)
    levels = np.unique(np.round(np.log(0.1 / etas) / np.log(5), 9))
    # every epoch's rate is eta0 / 5**k, k = 0, 1, 2, ... without gaps
    np.testing.assert_allclose(levels, np.arange(len(levels)), atol=1e-9)
    assert len(levels) >= 3
    assert np.all(np.diff(etas) <= 1e-15)
    np.testing.assert_allclose(etas[0], 0.1, rtol=1e-12)
    # it stops only once the rate fell below 1e-6 (scikit-learn's rule)
    if model.stop_reason_ == "tol":
        assert etas[-1] < 1e-6


# ------------------------------------------------- full-batch gradient descent
def test_full_batch_grad_tol():
    X, y = standardized_data()
    params = dict(batch_size="full", learning_rate="constant", eta0=0.3, tol=None)
    model = SGDRegressor(grad_tol=1e-6, max_iter=1000, **params).fit(X, y)
    assert model.stop_reason_ == "grad_tol"
    assert model.n_iter_ < 1000
    assert model.t_ == model.n_iter_ + 1  # one step per epoch
    coef, intercept = closed_form(X, y, alpha=len(y) * 1e-4)
    np.testing.assert_allclose(model.coef_, coef, rtol=1e-4, atol=1e-5)
    # fewer epochs than needed: the run ends by max_iter
    short = SGDRegressor(grad_tol=1e-6, max_iter=5, **params).fit(X, y)
    assert short.stop_reason_ == "max_iter" and short.n_iter_ == 5


def _rel_err(model, coef, intercept):
    got = np.r_[model.coef_, model.intercept_]
    want = np.r_[coef, intercept]
    return np.max(np.abs(got - want)) / np.max(np.abs(want))


CLOSED_FORM_RUNS = {
    "gd": dict(optimizer="sgd", learning_rate="constant", eta0=0.5, max_iter=200),
    "momentum": dict(
        optimizer="momentum", learning_rate="constant", eta0=0.1, max_iter=500
    ),
    "nesterov": dict(
        optimizer="nesterov", learning_rate="constant", eta0=0.1, max_iter=500
    ),
    # Adam's constant rate hovers: a cosine decay to 0 lands it on the optimum
    "adam": dict(optimizer="adam", learning_rate="cosine", eta0=0.1, max_iter=600),
    "adamw-no-decay": dict(
        optimizer="adamw",
        weight_decay=0.0,
        learning_rate="cosine",
        eta0=0.1,
        max_iter=600,
    ),
}


@pytest.mark.parametrize("name", list(CLOSED_FORM_RUNS))
@pytest.mark.parametrize("alpha", [0.0, 0.05])
def test_full_batch_methods_reach_closed_form(name, alpha):
    X, y = standardized_data()
    penalty = "l2" if alpha else None
    model = SGDRegressor(
        batch_size="full",
        penalty=penalty,
        alpha=alpha,
        tol=None,
        **CLOSED_FORM_RUNS[name],
    ).fit(X, y)
    # closed_form uses Ridge's alpha: sum of squares, so n times SGD's alpha
    coef, intercept = closed_form(X, y, alpha=len(y) * alpha)
    assert _rel_err(model, coef, intercept) < 1e-6


def test_gd_and_momentum_in_float32_reach_closed_form_to_float32_precision():
    X, y = standardized_data()
    coef, intercept = closed_form(X, y)
    for run in ("gd", "momentum"):
        model = SGDRegressor(
            batch_size="full", penalty=None, tol=None, **CLOSED_FORM_RUNS[run]
        ).fit(X.astype(np.float32), y)
        assert model.coef_.dtype == np.float32
        assert _rel_err(model, coef, intercept) < 1e-4


def test_ravine_adam_and_momentum_beat_plain_gradient_descent():
    # two features whose scales differ 30x: curvatures differ 900x
    rng = np.random.default_rng(0)
    X = rng.standard_normal((200, 2))
    X = (X - X.mean(axis=0)) / X.std(axis=0)
    X[:, 0] *= 30.0
    y = X @ np.array([0.05, 2.0]) + 1.0 + 0.1 * rng.standard_normal(200)
    coef, intercept = closed_form(X, y)
    best = objective(X, y, coef, intercept)
    grid = [1e-4, 3e-4, 1e-3, 3e-3, 1e-2, 3e-2, 0.1, 0.3]

    def best_gap(optimizer):
        # each method with its best constant rate from the grid; too large
        # rates diverge (and warn) - that is part of the comparison
        gaps = []
        for eta0 in grid:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", DivergenceWarning)
                m = SGDRegressor(
                    optimizer=optimizer,
                    eta0=eta0,
                    batch_size="full",
                    learning_rate="constant",
                    penalty=None,
                    max_iter=50,
                    tol=None,
                ).fit(X, y)
            gaps.append(objective(X, y, m.coef_, m.intercept_[0]) - best)
        return min(gaps)

    sgd, momentum, adam = (best_gap(o) for o in ("sgd", "momentum", "adam"))
    assert sgd > 1.0  # 50 steps of GD have barely moved along the ravine
    assert momentum < sgd / 10
    assert adam < sgd / 100


# ------------------------------------------------------ the three endings
def noisy_problem():
    X, y = standardized_data(n=500, noise=1.0, seed=2)
    coef, intercept = closed_form(X, y)
    return X, y, objective(X, y, coef, intercept)


def test_gd_with_small_rate_decreases_the_loss_monotonically():
    X, y, best = noisy_problem()
    model = SGDRegressor(
        batch_size="full",
        learning_rate="constant",
        eta0=0.01,
        penalty=None,
        max_iter=300,
        tol=None,
    ).fit(X, y)
    curve = np.array(model.loss_curve_)
    assert np.all(np.diff(curve) < 0)
    assert curve[-1] - best < 0.05 * (curve[0] - best)


def test_constant_rate_sgd_hovers_at_a_noise_floor():
    X, y, best = noisy_problem()
    model = SGDRegressor(
        learning_rate="constant",
        eta0=0.05,
        penalty=None,
        max_iter=40,
        tol=None,
        random_state=0,
    ).fit(X, y)
    curve = np.array(model.loss_curve_)
    # no progress after the first epochs: the last 20 epochs are no better
    # than the first 10, and all stay clearly above the optimum
    assert curve[-20:].min() > curve[:10].min() - 0.01
    assert curve[-20:].min() > best + 0.03
    assert objective(X, y, model.coef_, model.intercept_[0]) > best + 0.02


@pytest.mark.parametrize(
    "better",
    [
        dict(learning_rate="invscaling", power_t=0.5),
        dict(learning_rate="invscaling"),
        dict(learning_rate="constant", average=True),
        dict(learning_rate="constant", average=500),
        dict(learning_rate="step", gamma=0.3, step_every=5),
    ],
    ids=["invscaling-0.5", "invscaling", "average", "average-after-1-epoch", "step"],
)
def test_decay_or_averaging_ends_closer_than_constant_rate(better):
    X, y, best = noisy_problem()
    common = dict(eta0=0.05, penalty=None, max_iter=40, tol=None)
    for seed in range(3):
        const = SGDRegressor(learning_rate="constant", random_state=seed, **common)
        other = SGDRegressor(random_state=seed, **common, **better)
        gap_const = objective(X, y, *_coef_b(const.fit(X, y))) - best
        gap_other = objective(X, y, *_coef_b(other.fit(X, y))) - best
        assert gap_other < gap_const / 5


def _coef_b(model):
    return model.coef_, model.intercept_[0]


# ------------------------------------------------- optimizers, batches, dtypes
ETA = {
    "sgd": 0.02,
    "momentum": 0.002,
    "nesterov": 0.002,
    "adagrad": 0.3,
    "rmsprop": 0.01,
    "adam": 0.01,
    "adamw": 0.01,
}


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("batch_size", [1, 7, "full"])
@pytest.mark.parametrize("optimizer", OPTIMIZERS)
def test_every_optimizer_and_batch_size_trains(optimizer, batch_size, dtype):
    X, y = make_data()
    X = X.astype(dtype)
    eta0 = ETA[optimizer]
    if optimizer in ("sgd", "momentum", "nesterov"):
        # the mean gradient of a batch is less noisy: take larger steps
        eta0 *= {1: 1, 7: 3, "full": 10}[batch_size]
    model = SGDRegressor(
        optimizer=optimizer,
        batch_size=batch_size,
        learning_rate="constant",
        eta0=eta0,
        max_iter={1: 20, 7: 50, "full": 300}[batch_size],
        tol=None,
        random_state=0,
    ).fit(X, y)
    assert model.coef_.dtype == dtype
    assert not model.diverged_
    assert model.score(X, y) > 0.9
    steps_per_epoch = {1: 200, 7: 29, "full": 1}[batch_size]
    assert model.t_ == model.n_iter_ * steps_per_epoch + 1


# ----------------------------------------------------------------- clipping
def test_tiny_clip_norm_trains_slowly_but_never_diverges():
    X, y = make_data()
    model = SGDRegressor(
        clip_norm=1e-3,
        learning_rate="constant",
        eta0=0.05,
        max_iter=20,
        tol=None,
        random_state=0,
    ).fit(X, y)
    curve = np.array(model.loss_curve_)
    assert curve[-1] < curve[0]  # it trains...
    assert model.score(X, y) < 0.9  # ...slowly
    # each step moves the parameters by at most eta0 * clip_norm
    steps = model.t_ - 1
    assert np.linalg.norm(np.r_[model.coef_, model.intercept_]) <= steps * 5e-5


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_clipping_prevents_the_divergence(dtype):
    rng = np.random.default_rng(0)
    X = (rng.standard_normal((200, 3)) * 100.0).astype(dtype)
    y = (X @ np.array([1.0, -2.0, 0.5]) / 100.0 + 3.0).astype(dtype)
    params = dict(learning_rate="constant", eta0=0.01, max_iter=10, tol=None)
    with pytest.warns(DivergenceWarning):
        SGDRegressor(random_state=0, **params).fit(X, y)
    model = SGDRegressor(clip_norm=1.0, random_state=0, **params).fit(X, y)
    assert not model.diverged_
    assert np.all(np.isfinite(model.coef_))
    assert model.loss_curve_[-1] < model.loss_curve_[0]


# ---------------------------------------------------------------- schedules
def _full_batch_etas(**params):
    X, y = make_data(n=50)
    model = SGDRegressor(batch_size="full", tol=None, random_state=0, **params)
    return np.array(model.fit(X, y).eta_curve_), model, X, y


def test_step_schedule():
    X, y = make_data(n=50)
    model = SGDRegressor(
        learning_rate="step",
        eta0=0.1,
        gamma=0.5,
        step_every=3,
        batch_size=10,
        max_iter=10,
        tol=None,
        random_state=0,
    ).fit(X, y)
    expected = 0.1 * 0.5 ** (np.arange(10) // 3)
    np.testing.assert_allclose(model.eta_curve_, expected, rtol=1e-12)


def test_cosine_schedule():
    etas, model, X, y = _full_batch_etas(
        learning_rate="cosine", eta0=0.1, eta_min=0.01, max_iter=10
    )
    k = np.arange(10)
    expected = 0.01 + 0.09 * (1 + np.cos(np.pi * k / 10)) / 2
    np.testing.assert_allclose(etas, expected, rtol=1e-12)
    assert np.all(np.diff(etas) < 0)
    # past the planned run the rate stays at eta_min
    model.partial_fit(X, y).partial_fit(X, y)
    np.testing.assert_allclose(model.eta_curve_[-1], 0.01, rtol=1e-12)


def test_onecycle_schedule_is_torchs():
    # torch.optim.lr_scheduler.OneCycleLR(max_lr=eta0, total_steps=20,
    # pct_start=0.3, anneal_strategy="cos"): starts at eta0 / 25, peaks at
    # step pct_start * total - 1 = 5 (0-based), ends at eta0 / 25 / 1e4 on the
    # last step
    etas, *_ = _full_batch_etas(learning_rate="onecycle", eta0=0.1, max_iter=20)
    assert np.argmax(etas) == 5
    np.testing.assert_allclose(etas[0], 0.1 / 25, rtol=1e-12)
    np.testing.assert_allclose(etas.max(), 0.1, rtol=1e-12)
    np.testing.assert_allclose(etas[-1], 0.1 / 25 / 1e4, rtol=1e-9)
    assert np.all(np.diff(etas[:6]) > 0) and np.all(np.diff(etas[5:]) < 0)


def test_onecycle_shape_with_per_example_steps():
    X, y = make_data(n=100)
    model = SGDRegressor(
        learning_rate="onecycle",
        eta0=0.1,
        pct_start=0.25,
        max_iter=20,
        tol=None,
        random_state=0,
    ).fit(X, y)
    etas = np.array(model.eta_curve_)
    peak = int(np.argmax(etas))
    assert peak in (4, 5)  # a quarter of the way through
    assert etas[0] < 0.1 / 5 and etas[-1] < 0.1 / 100
    assert np.all(np.diff(etas[: peak - 1]) > 0)
    assert np.all(np.diff(etas[peak + 1 :]) < 0)


@pytest.mark.parametrize("warmup", [5, 0.25])
def test_warmup_ramps_linearly(warmup):
    # 20 planned full-batch steps: a fraction 0.25 of them is 5 steps
    etas, *_ = _full_batch_etas(
        learning_rate="constant", eta0=0.1, warmup=warmup, max_iter=20
    )
    t = np.arange(1, 21)
    expected = 0.1 * np.minimum(t / 5, 1.0)
    np.testing.assert_allclose(etas, expected, rtol=1e-12)


def test_warmup_composes_with_cosine():
    etas, *_ = _full_batch_etas(learning_rate="cosine", eta0=0.1, warmup=4, max_iter=12)
    t = np.arange(1, 13)
    cosine = 0.1 * (1 + np.cos(np.pi * (t - 1) / 12)) / 2
    np.testing.assert_allclose(etas, cosine * np.minimum(t / 4, 1.0), rtol=1e-12)


# --------------------------------------------------------------- recording
@pytest.mark.parametrize("batch_size, every, per_epoch", [(1, 7, 14), (5, 3, 6)])
def test_record_every_fills_step_loss_curve(batch_size, every, per_epoch):
    X, y = make_data(n=100)
    model = SGDRegressor(
        batch_size=batch_size,
        record_every=every,
        max_iter=3,
        tol=None,
        random_state=0,
    ).fit(X, y)
    # steps per epoch // every entries per epoch (100 // 7 = 14; 20 // 3 = 6)
    assert model.step_loss_curve_.shape == (3 * per_epoch,)
    assert np.all(np.isfinite(model.step_loss_curve_))
    assert np.all(model.step_loss_curve_ >= 0)
    model.partial_fit(X, y)
    assert model.step_loss_curve_.shape == (4 * per_epoch,)


def test_record_every_step_of_full_batch_is_the_loss_curve():
    X, y = make_data()
    model = SGDRegressor(
        batch_size="full", record_every=1, penalty=None, max_iter=6, tol=None
    ).fit(X, y)
    np.testing.assert_allclose(model.step_loss_curve_, model.loss_curve_, rtol=1e-12)


def test_record_off_by_default():
    X, y = make_data()
    model = SGDRegressor(max_iter=2, tol=None).fit(X, y)
    assert model.step_loss_curve_.shape == (0,)


# ---------------------------------------------------------------- sampling
@pytest.mark.parametrize("sampling", ["blocks", "replacement"])
def test_sampling_modes_train_as_well_as_epochs(sampling):
    X, y = make_data(n=900, noise=0.3)
    X, X_test, y, y_test = X[:600], X[600:], y[:600], y[600:]
    params = dict(max_iter=15, tol=None, learning_rate="invscaling", eta0=0.02)
    ref = SGDRegressor(sampling="epoch", random_state=0, **params).fit(X, y)
    model = SGDRegressor(sampling=sampling, random_state=0, **params).fit(X, y)
    assert model.t_ == ref.t_  # as many steps per epoch
    assert abs(model.score(X_test, y_test) - ref.score(X_test, y_test)) < 0.01
    assert not np.array_equal(model.coef_, ref.coef_)  # a different visit order


# ----------------------------------------------------------- sample weights
@pytest.mark.parametrize("optimizer", ["sgd", "momentum", "adam"])
def test_zero_weights_equal_dropping_rows_in_full_batch(optimizer):
    X, y = make_data(n=60)
    sw = np.ones(60)
    drop = np.arange(60) % 4 == 0
    sw[drop] = 0.0
    params = dict(
        batch_size="full",
        optimizer=optimizer,
        max_iter=30,
        tol=None,
        shuffle=False,
        learning_rate="constant",
        eta0=0.05,
    )
    weighted = SGDRegressor(**params).fit(X, y, sample_weight=sw)
    dropped = SGDRegressor(**params).fit(X[~drop], y[~drop])
    assert_same_model(weighted, dropped)
    # shuffling changes only the summation order of the full gradient
    params["shuffle"] = True
    weighted = SGDRegressor(random_state=0, **params).fit(X, y, sample_weight=sw)
    np.testing.assert_allclose(weighted.coef_, dropped.coef_, rtol=1e-12)


def test_sample_weights_change_the_model():
    X, y = make_data(n=60)
    sw = np.where(np.arange(60) % 2 == 0, 0.2, 3.0)
    params = dict(max_iter=5, tol=None, random_state=0)
    plain = SGDRegressor(**params).fit(X, y)
    weighted = SGDRegressor(**params).fit(X, y, sample_weight=sw)
    assert not np.allclose(weighted.coef_, plain.coef_, rtol=1e-3)
    ones = SGDRegressor(**params).fit(X, y, sample_weight=np.ones(60))
    assert_same_model(ones, plain)
    # for full-batch GD, weights change the model as they change the optimum
    gd = dict(batch_size="full", learning_rate="constant", eta0=0.5, penalty=None)
    model = SGDRegressor(max_iter=300, tol=None, **gd).fit(X, y, sample_weight=sw)
    coef, intercept = closed_form(X, y, sample_weight=sw)
    assert _rel_err(model, coef, intercept) < 1e-4


# ------------------------------------------------------------ weight decay
@pytest.mark.parametrize("optimizer", ["sgd", "momentum", "adam", "adamw"])
def test_weight_decay_shrinks_the_weights(optimizer):
    X, y = make_data()
    params = dict(
        optimizer=optimizer,
        learning_rate="constant",
        eta0=0.002,
        max_iter=10,
        tol=None,
        random_state=0,
        penalty=None,
    )
    free = SGDRegressor(weight_decay=0.0, **params).fit(X, y)
    decayed = SGDRegressor(weight_decay=5.0, **params).fit(X, y)
    assert np.linalg.norm(decayed.coef_) < 0.7 * np.linalg.norm(free.coef_)
    assert np.linalg.norm(free.coef_) > 1.0


def test_weight_decay_of_gradient_descent_is_ridge():
    # decoupled decay w <- (1 - eta lam) w - eta g has the fixed point g + lam w = 0:
    # for plain full-batch GD it is the ridge solution with SGD's alpha = lam
    X, y = standardized_data()
    model = SGDRegressor(
        batch_size="full",
        learning_rate="constant",
        eta0=0.5,
        penalty=None,
        weight_decay=0.05,
        max_iter=300,
        tol=None,
    ).fit(X, y)
    coef, intercept = closed_form(X, y, alpha=len(y) * 0.05)
    assert _rel_err(model, coef, intercept) < 1e-6


def test_adamw_default_decay_differs_from_adam():
    X, y = make_data()
    params = dict(learning_rate="constant", eta0=0.01, max_iter=5, tol=None)
    adam = SGDRegressor(optimizer="adam", random_state=0, **params).fit(X, y)
    adamw = SGDRegressor(optimizer="adamw", random_state=0, **params).fit(X, y)
    adamw0 = SGDRegressor(
        optimizer="adamw", weight_decay=0.0, random_state=0, **params
    ).fit(X, y)
    np.testing.assert_allclose(adamw0.coef_, adam.coef_, rtol=1e-12)
    assert np.linalg.norm(adamw.coef_) < np.linalg.norm(adam.coef_)


# --------------------------------------------------------------------- score
def test_score_is_r2():
    X, y = make_data(n=250)
    X, X_test, y, y_test = X[:200], X[200:], y[:200], y[200:]
    model = SGDRegressor(random_state=0).fit(X, y)
    assert model.score(X_test, y_test) == pytest.approx(
        r2_score(y_test, model.predict(X_test)), rel=1e-12
    )
    sw = np.linspace(0.1, 2.0, 50)
    assert model.score(X_test, y_test, sample_weight=sw) == pytest.approx(
        r2_score(y_test, model.predict(X_test), sample_weight=sw), rel=1e-12
    )
    assert model.score(X_test, y_test) > 0.95


def test_history_attributes_are_consistent():
    X, y = make_data()
    model = SGDRegressor(max_iter=7, tol=None, random_state=0).fit(X, y)
    assert model.n_iter_ == 7
    assert len(model.loss_curve_) == len(model.eta_curve_) == 7
    assert model.stop_reason_ == "max_iter"
    assert model.diverged_ is False
    assert model.n_features_in_ == 5
    assert model.intercept_.shape == (1,)
    assert model.coef_.shape == (5,)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("sampling", ["epoch", "replacement"])
@pytest.mark.parametrize("batch_size", [1, 5, 64])
def test_shuffled_fit_does_not_depend_on_the_gather_chunk(
    monkeypatch, dtype, sampling, batch_size
):
    # shuffled epochs copy random rows through a buffer in chunks; the chunk
    # size must change nothing but speed
    import fastsgd._training.runner as runner

    X, y = make_data(n=301, d=7)
    X, y = X.astype(dtype), y.astype(dtype)
    w = np.random.default_rng(1).uniform(0.5, 2.0, X.shape[0])
    params = dict(
        max_iter=4,
        tol=None,
        random_state=3,
        sampling=sampling,
        batch_size=batch_size,
        learning_rate="constant" if batch_size > 1 else "invscaling",
    )
    default = SGDRegressor(**params).fit(X, y, sample_weight=w)
    monkeypatch.setattr(runner, "GATHER_BYTES", 1)  # the fewest rows a chunk
    small = SGDRegressor(**params).fit(X, y, sample_weight=w)
    rtol = 1e-12 if dtype == np.float64 else 1e-5
    np.testing.assert_allclose(small.coef_, default.coef_, rtol=rtol)
    np.testing.assert_allclose(small.intercept_, default.intercept_, rtol=rtol)
    assert small.coef_.dtype == dtype
    np.testing.assert_allclose(small.loss_curve_, default.loss_curve_, rtol=rtol)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_blocks_working_copy_is_the_same_for_dense_and_sparse(dtype):
    # dense rows are copied by a kernel, CSR rows by SciPy: the same permutation
    import scipy.sparse as sps

    X, y = make_data(n=700, d=6)
    X[X < -0.5] = 0.0
    X, y = X.astype(dtype), y.astype(dtype)
    params = dict(sampling="blocks", max_iter=3, tol=None, random_state=5)
    dense = SGDRegressor(**params).fit(X, y)
    sparse = SGDRegressor(**params).fit(sps.csr_matrix(X), y)
    rtol = 1e-9 if dtype == np.float64 else 1e-4
    np.testing.assert_allclose(dense.coef_, sparse.coef_, rtol=rtol, atol=1e-6)
    np.testing.assert_allclose(dense.intercept_, sparse.intercept_, rtol=rtol)
