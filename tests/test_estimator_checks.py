"""scikit-learn's own estimator checks, in a few configurations."""

import pytest
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils.estimator_checks import parametrize_with_checks

from fastsgd import SGDRegressor

# scikit-learn excuses these two for its own SGDRegressor: a stochastic method's
# sample weights are not equivalent to repeating rows.
SAMPLE_WEIGHT_XFAIL = {
    "check_sample_weight_equivalence_on_dense_data": "stochastic: weights != repeats",
    "check_sample_weight_equivalence_on_sparse_data": "stochastic: weights != repeats",
}

ESTIMATORS = [
    SGDRegressor(max_iter=20, random_state=0),
    SGDRegressor(max_iter=20, optimizer="adam", batch_size=8, random_state=0),
    SGDRegressor(
        max_iter=20,
        penalty="elasticnet",
        average=True,
        learning_rate="constant",
        random_state=0,
    ),
    SGDRegressor(
        max_iter=20,
        optimizer="nesterov",
        batch_size=16,
        clip_norm=10.0,
        ema_decay=0.9,
        random_state=0,
    ),
    SGDRegressor(learning_rate="auto", max_iter=20, random_state=0),
    SGDRegressor(
        learning_rate="auto", batch_size=8, penalty="l1", max_iter=20, random_state=0
    ),
]


# some checks use unscaled data (features around 100) on which SGD diverges;
# scikit-learn then returns huge coefficients silently, fastsgd warns
@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@pytest.mark.filterwarnings("ignore::fastsgd.DivergenceWarning")
@parametrize_with_checks(
    ESTIMATORS, expected_failed_checks=lambda est: SAMPLE_WEIGHT_XFAIL
)
def test_sklearn_estimator_checks(estimator, check):
    check(estimator)


def test_convergence_warning_is_scikit_learns():
    assert issubclass(ConvergenceWarning, UserWarning)
