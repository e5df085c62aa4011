"""The trainer's parts on their own, and the public way to run epochs."""

import math

import numpy as np
import pytest

from fastsgd import EpochInfo, RunState, SGDRegressor
from fastsgd._kernels import _codes as K
from fastsgd._training import (
    DivergenceGuard,
    KernelOptions,
    Verdict,
    check_params,
)
from fastsgd._training.guard import DIVERGENCE_FACTOR, LINEAR_FACTOR
from fastsgd._training.history import History
from fastsgd._training.stopping import (
    AdaptiveRate,
    BestWeights,
    GradientNorm,
    NoImprovement,
)
from fastsgd.optim import OPTIMIZER_SPECS, TrainState
from fastsgd.schedules import SCHEDULE_SPECS


def make_data(n=200, d=3, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d))
    y = X @ np.array([1.0, -2.0, 0.5])[:d] + 0.3 + 0.1 * rng.standard_normal(n)
    return X, y


# ------------------------------------------------------------ the guard alone
def guard_for(X, y, loss_code=K.LOSS_SQUARED, ref=1.0):
    state = TrainState.zeros(X.shape[1], X.dtype, "sgd")
    rows = np.arange(len(y))
    data = (X, y, np.ones(len(y)), rows)
    guard = DivergenceGuard(
        loss_code, 0.1, ref, lambda s: s.params, False, data, state, 0
    )
    return guard, state


def test_guard_verdicts_without_a_fit():
    X, y = make_data()
    ref = 0.5 * np.mean(y**2)
    guard, state = guard_for(X, y, ref=ref)
    assert guard.limit == ref * DIVERGENCE_FACTOR
    # a finite, small epoch is healthy
    guard.begin(state, 0)
    state.params[:] = [1.0, -2.0, 0.5, 0.3]
    verdict = guard.judge(state, 0.01, 1)
    assert isinstance(verdict, Verdict) and verdict.status == "healthy"
    assert not verdict.diverged and not guard.watching
    # a non-finite loss has diverged, and the roll-back restores the state
    # from before the epoch (it passes the probe)
    guard.begin(state, 1)
    good = state.params.copy()
    state.params[:] = np.inf
    verdict = guard.judge(state, math.inf, 2)
    assert verdict.diverged and not verdict.measured
    assert guard.roll_back(state) == 1
    np.testing.assert_array_equal(state.params, good)


def test_guard_watches_a_falling_blow_up_and_rolls_back_past_it():
    X, y = make_data()
    ref = 0.5 * np.mean(y**2)
    guard, state = guard_for(X, y, ref=ref)
    start = state.params.copy()
    big = np.array([300.0, 300.0, 300.0, 0.0])
    for epoch, scale in enumerate((1.0, 0.5), start=1):  # over the limit, falling
        guard.begin(state, epoch - 1)
        state.params[:] = big * scale
        verdict = guard.judge(state, 1.0, epoch)
        assert verdict.status == "watched" and verdict.measured
        assert guard.watching and verdict.loss == guard.watch
    guard.begin(state, 2)
    state.params[:] = big  # the loss grows again: diverged
    assert guard.judge(state, 1.0, 3).diverged
    # back to the model from before the blow-up, at epoch 0
    assert guard.roll_back(state) == 0
    np.testing.assert_array_equal(state.params, start)
    assert not guard.watching


def test_guard_sees_a_blow_up_that_recovers():
    X, y = make_data()
    guard, state = guard_for(X, y, ref=0.5 * np.mean(y**2))
    guard.begin(state, 0)
    state.params[:] = [300.0, 300.0, 300.0, 0.0]
    assert guard.judge(state, 1.0, 1).status == "watched"
    guard.begin(state, 1)
    state.params[:] = [1.0, -2.0, 0.5, 0.3]
    verdict = guard.judge(state, 1e6, 2)
    assert verdict.status == "healthy" and not guard.watching


def test_guard_limit_for_losses_linear_in_the_residual():
    X, y = make_data()
    guard, _ = guard_for(X, y, loss_code=K.LOSS_HUBER, ref=2.0)
    assert guard.limit == 2.0 * LINEAR_FACTOR


# ------------------------------------------------------ stopping rules alone
class Run:
    def __init__(self, eta=0.1):
        self.eta = eta
        self.train = TrainState.zeros(2, np.float64, "sgd")


def info(epoch=1, objective=1.0, score=None, grad_norm=1.0):
    return EpochInfo(
        epoch, objective, objective, 0.1, 1, 0.0, 0.0, score, grad_norm, False,
        np.zeros(2), 0.0,
    )  # fmt: skip


def test_no_improvement_counts_patience():
    rule = NoImprovement(tol=0.1, patience=2)
    run = Run()
    assert rule.update(info(objective=1.0), run) is None
    assert rule.update(info(objective=0.95), run) is None  # not by tol: 1
    assert rule.update(info(objective=0.99), run) == "tol"  # 2
    on_val = NoImprovement(tol=0.0, patience=1, on_validation=True)
    assert on_val.update(info(score=0.5), run) is None
    assert on_val.update(info(score=0.4), run) == "early_stopping"
    never = NoImprovement(tol=None, patience=1)  # tol=None: the rule is off
    assert all(never.update(info(objective=v), run) is None for v in (1, 2, 3))


def test_adaptive_rate_lowers_eta_instead_of_stopping():
    run = Run(eta=1e-5)
    rule = AdaptiveRate(NoImprovement(tol=0.0, patience=1))
    assert rule.update(info(objective=1.0), run) is None
    assert rule.update(info(objective=1.5), run) is None  # fired: eta / 5
    assert run.eta == pytest.approx(2e-6)
    assert rule.update(info(objective=2.0), run) is None  # fired: eta / 5
    assert rule.update(info(objective=2.5), run) == "tol"  # below 1e-6: stops


def test_gradient_norm_rule():
    rule = GradientNorm(1e-3)
    assert rule.update(info(grad_norm=1e-2), Run()) is None
    assert rule.update(info(grad_norm=1e-4), Run()) == "grad_tol"


def test_best_weights_forgets_a_rolled_back_state():
    best, run = BestWeights(), Run()
    run.train.params[:] = 1.0
    best.update(info(epoch=3, score=0.9), run)
    best.discard_after(3)
    assert best.state is not None
    best.discard_after(2)
    assert best.state is None


def test_history_cut_moves_epochs_to_the_diverged_record():
    loss, eta, de, dl = [0.5], [0.1], [], []
    history = History(loss, eta, None, None, de, dl, epoch=1)
    for k in (2, 3):
        history.record(info(epoch=k, objective=float(k)))
    history.cut_to(2)
    history.record_diverged(info(epoch=4, objective=math.inf))
    assert loss == [0.5, 2.0] and eta == [0.1, 0.1]
    assert de == [3, 4] and dl == [3.0, math.inf]


# ------------------------------------------------ one writer of the options
def test_options_write_every_slot_by_name():
    params = SGDRegressor(
        optimizer="adam", learning_rate="cosine", eta_min=0.01, warmup=0.5
    ).get_params()
    opts = KernelOptions.from_params(params, rows=100, planned_steps=400)
    codes, hp = opts.arrays()
    assert codes[K.C_OPTIMIZER] == K.OPT_ADAM and codes[K.C_SCHEDULE] == K.LR_COSINE
    assert hp[K.H_BETA1] == 0.9 and hp[K.H_BETA2] == 0.999 and hp[K.H_EPS] == 1e-8
    assert hp[K.H_TOTAL_STEPS] == 400 and hp[K.H_WARMUP] == 200.0
    assert hp[K.H_ETA_MIN] == 0.01 and hp[K.H_MOMENTUM] == 0.0  # not Adam's
    with pytest.raises(KeyError, match="no hparams slot"):
        KernelOptions({}, {"not_a_slot": 1.0})


def test_every_spec_declares_real_slots_and_state_rows():
    for name, spec in OPTIMIZER_SPECS.items():
        assert K.OPTIMIZERS[name] == spec.code
        assert K.OPT_SLOTS[spec.code] == spec.state_rows
        assert TrainState.zeros(2, np.float64, name).opt.shape[0] == spec.state_rows
    for name, spec in SCHEDULE_SPECS.items():
        assert K.SCHEDULES[name] == spec.code
    check_params(SGDRegressor(learning_rate="optimal").get_params())
    with pytest.raises(ValueError, match="alpha must be > 0"):
        check_params(SGDRegressor(learning_rate="optimal", alpha=0).get_params())
    with pytest.raises(ValueError, match="epsilon_insensitive"):
        check_params(SGDRegressor(learning_rate="pa1").get_params())
    # learning_rate="auto" keeps its own state rows, whatever the optimizer
    auto = TrainState.zeros(2, np.float64, "sgd", "auto")
    assert auto.opt.shape == (K.AUTO_SLOTS, 3)
    check_params(SGDRegressor(learning_rate="auto").get_params())
    with pytest.raises(ValueError, match="optimizer='adam'"):
        check_params(SGDRegressor(learning_rate="auto", optimizer="adam").get_params())


# ------------------------------------------------ run_epochs and on_epoch
def test_on_epoch_receives_each_epoch_as_it_ends():
    X, y = make_data()
    seen = []
    model = SGDRegressor(max_iter=5, tol=None, random_state=0)
    model.fit(X, y, on_epoch=seen.append, X_val=X[:50], y_val=y[:50])
    assert [i.epoch for i in seen] == [1, 2, 3, 4, 5]
    assert [i.objective for i in seen] == model.loss_curve_
    assert [i.eta for i in seen] == model.eta_curve_
    assert [i.validation_score for i in seen] == model.validation_scores_
    assert all(i.seconds >= 0 and not i.diverged for i in seen)
    assert seen[-1].steps == model.t_ - 1
    np.testing.assert_array_equal(seen[-1].coef, model.coef_)
    assert seen[-1].elapsed >= seen[0].elapsed
    more = []
    model.partial_fit(X, y, on_epoch=more.append)
    assert [i.epoch for i in more] == [6]


def test_run_epochs_equals_partial_fit_and_leaves_the_estimator_alone():
    X, y = make_data()
    est = SGDRegressor(random_state=0, learning_rate="constant", eta0=0.01)
    ref = SGDRegressor(random_state=0, learning_rate="constant", eta0=0.01)
    ref.partial_fit(X, y)
    state = ref.get_run_state()
    ref.partial_fit(X, y)
    result = est.run_epochs(X, y, state, epochs=1)
    assert not hasattr(est, "coef_") and not hasattr(est, "n_features_in_")
    assert state.epoch == 1 and result.state.epoch == 2  # the input is kept
    np.testing.assert_array_equal(result.state.train.params[:-1], ref.coef_)
    assert result.loss_curve == ref.loss_curve_[1:]
    assert result.n_iter == 1 and result.stop_reason == "max_iter"
    assert result.divergence is None and result.diverged_epochs == []


def test_run_epochs_from_a_new_state_and_set_run_state():
    X, y = make_data()
    est = SGDRegressor(learning_rate="constant", eta0=0.05, tol=None)
    start = RunState.start(3, X.dtype, "sgd", eta0=0.05, seed=7)
    result = est.run_epochs(X, y, start, epochs=4)
    assert result.n_iter == 4 and len(result.loss_curve) == 4
    model = SGDRegressor(learning_rate="constant", eta0=0.05, tol=None)
    model.set_run_state(result.state)
    np.testing.assert_array_equal(model.coef_, result.state.train.params[:-1])
    assert model.t_ == result.state.steps + 1 and model.n_features_in_ == 3
    model.partial_fit(X, y)  # continues: epoch 5 of the same run
    again = est.run_epochs(X, y, result.state, epochs=1)
    np.testing.assert_array_equal(model.coef_, again.state.train.params[:-1])
    with pytest.raises(ValueError, match="optimizer moments"):
        SGDRegressor(optimizer="adam").run_epochs(X, y, start)
    with pytest.raises(TypeError, match="RunState"):
        est.run_epochs(X, y, (start.train,))
    with pytest.raises(ValueError, match="features"):
        est.run_epochs(X[:, :2], y, start)


def test_run_epochs_reports_a_divergence_without_warning():
    X, y = make_data()
    est = SGDRegressor(learning_rate="constant", eta0=10.0)
    start = RunState.start(3, X.dtype, "sgd", eta0=10.0, seed=0)
    result = est.run_epochs(X * 100, y, start, epochs=3)  # warnings are errors
    assert result.divergence is not None and result.stop_reason == "diverged"
    assert result.divergence.epoch == result.n_iter == result.diverged_epochs[-1]
    np.testing.assert_array_equal(result.state.train.params, 0.0)
