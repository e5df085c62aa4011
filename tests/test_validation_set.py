"""fit(X_val=..., y_val=...): per-epoch validation history and early stopping."""

import numpy as np
import pytest

from fastsgd import SGDRegressor


def _data(seed=0, n=400, d=5):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d))
    y = X @ np.arange(1.0, d + 1) + rng.standard_normal(n)
    return X[:300], y[:300], X[300:], y[300:]


def test_validation_history_without_early_stopping():
    X, y, Xv, yv = _data()
    m = SGDRegressor(max_iter=8, tol=None, random_state=0)
    m.fit(X, y, X_val=Xv, y_val=yv)
    assert len(m.validation_scores_) == m.n_iter_ == 8
    assert m.stop_reason_ == "max_iter"
    assert m.validation_scores_[-1] == pytest.approx(m.score(Xv, yv), rel=1e-12)
    # training used every row: same model as a fit without a validation set
    ref = SGDRegressor(max_iter=8, tol=None, random_state=0).fit(X, y)
    np.testing.assert_array_equal(m.coef_, ref.coef_)


def test_given_validation_set_drives_early_stopping_and_best_weights():
    X, y, Xv, yv = _data(1)
    m = SGDRegressor(
        max_iter=200,
        early_stopping=True,
        n_iter_no_change=3,
        restore_best_weights=True,
        random_state=0,
    ).fit(X, y, X_val=Xv, y_val=yv)
    assert m.stop_reason_ == "early_stopping"
    assert m.n_iter_ < 200
    assert m.best_score_ == max(m.validation_scores_)
    assert m.score(Xv, yv) == pytest.approx(m.best_score_, rel=1e-12)


def test_validation_weights_enter_the_score():
    X, y, Xv, yv = _data(2)
    w = np.r_[np.ones(50), np.zeros(50)]
    m = SGDRegressor(max_iter=3, tol=None, random_state=0)
    m.fit(X, y, X_val=Xv, y_val=yv, sample_weight_val=w)
    assert m.validation_scores_[-1] == pytest.approx(
        m.score(Xv[:50], yv[:50]), rel=1e-9
    )


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(X_val=np.ones((3, 5))), "given together"),
        (dict(sample_weight_val=np.ones(3)), "needs X_val"),
        (dict(X_val=np.ones((3, 4)), y_val=np.ones(3)), "features"),
        (dict(X_val=np.ones((3, 5)), y_val=np.ones(2)), "inconsistent"),
        (dict(X_val=np.full((3, 5), np.nan), y_val=np.ones(3)), "NaN"),
        (
            dict(
                X_val=np.ones((3, 5)), y_val=np.ones(3), sample_weight_val=np.zeros(3)
            ),
            "non-zero",
        ),
    ],
)
def test_bad_validation_input(kwargs, match):
    X, y, _, _ = _data()
    with pytest.raises(ValueError, match=match):
        SGDRegressor(max_iter=2, tol=None).fit(X, y, **kwargs)


# ------------------------------------- early stopping's split is scikit-learn's
def _sklearn_held_out(y, sw, random_state, fraction=0.1):
    from sklearn.linear_model import SGDRegressor as SkSGDRegressor

    sk = SkSGDRegressor(
        early_stopping=True, validation_fraction=fraction, random_state=random_state
    )
    return np.flatnonzero(sk._make_validation_split(y, sample_mask=sw > 0))


def _our_held_out(X, y, sw, random_state, fraction=0.1):
    """Return the rows our fit held out, read from the fitted model."""
    m = SGDRegressor(
        early_stopping=True,
        validation_fraction=fraction,
        random_state=random_state,
        max_iter=1,
        tol=None,
        shuffle=False,
    ).fit(X, y, sample_weight=sw)
    return m


@pytest.mark.parametrize("kind", ["int", "RandomState", "None"])
def test_early_stopping_holds_out_scikit_learns_rows(kind):
    from sklearn.metrics import r2_score

    rng = np.random.default_rng(3)
    X = rng.standard_normal((300, 4))
    y = X @ np.arange(1.0, 5.0) + rng.standard_normal(300)
    sw = rng.uniform(0.5, 2.0, 300)
    sw[::7] = 0.0  # zero-weight rows: held out as scikit-learn does, never trained

    def seed():
        if kind == "int":
            return 0
        if kind == "RandomState":
            return np.random.RandomState(0)
        np.random.seed(0)  # None: the global generator
        return None

    val = _sklearn_held_out(y, sw, seed())
    model = _our_held_out(X, y, sw, seed())
    # scored on exactly those rows (one epoch: the model scored is the final one)
    expected = r2_score(y[val], model.predict(X[val]), sample_weight=sw[val])
    assert model.validation_scores_[0] == pytest.approx(expected, rel=1e-12)
    # ... and trained on exactly the others of positive weight (rows in order)
    train = np.setdiff1d(np.arange(300), val)
    train = train[sw[train] > 0]
    ref = SGDRegressor(max_iter=1, tol=None, shuffle=False, random_state=0)
    ref.fit(X[train], y[train], sample_weight=sw[train])
    np.testing.assert_array_equal(model.coef_, ref.coef_)
    # another seed gives another split
    if kind == "int":
        assert not np.array_equal(val, _sklearn_held_out(y, sw, 1))


def test_all_zero_weight_validation_rows_raise_as_scikit_learn():
    X, y, _, _ = _data()
    sw = np.ones(len(y))
    val = _sklearn_held_out(y, sw, 0)
    sw[val] = 0.0
    with pytest.raises(ValueError, match="validation set are all zero"):
        SGDRegressor(early_stopping=True, random_state=0).fit(X, y, sample_weight=sw)
