"""The figures: Figure objects rendered with Agg, no window, no pyplot state."""

import io
import sys

import numpy as np
import pytest

matplotlib = pytest.importorskip("matplotlib")

from matplotlib.figure import Figure  # noqa: E402

from fastsgd import SGDRegressor, closed_form, lr_sweep  # noqa: E402
from fastsgd import plotting as P  # noqa: E402
from fastsgd.datasets import ravine, well_conditioned  # noqa: E402
from fastsgd.diagnostics import parameter_path  # noqa: E402

PNG = b"\x89PNG\r\n\x1a\n"


def png_bytes(fig):
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    data = buf.getvalue()
    assert data.startswith(PNG)
    return data


@pytest.fixture(scope="module")
def data():
    return well_conditioned(n_samples=400, n_features=5, random_state=0)


@pytest.fixture(scope="module")
def models(data):
    X, y = data
    common = dict(penalty=None, learning_rate="constant", tol=None, max_iter=15)
    return {
        "gd": SGDRegressor(batch_size="full", eta0=0.5, **common).fit(X, y),
        "sgd": SGDRegressor(batch_size=1, eta0=0.02, random_state=0, **common).fit(
            X, y
        ),
    }


@pytest.fixture(autouse=True)
def no_pyplot_figures():
    backend = matplotlib.get_backend()
    yield
    assert matplotlib.get_backend() == backend
    if "matplotlib.pyplot" in sys.modules:
        assert sys.modules["matplotlib.pyplot"].get_fignums() == []


def test_loss_curves_with_optimum(data, models):
    X, y = data
    coef, icpt = closed_form(X, y)
    optimum = 0.5 * np.mean((X @ coef + icpt - y) ** 2)
    fig = P.plot_loss_curves(models, optimum=optimum)
    assert isinstance(fig, Figure)
    (ax,) = fig.axes
    assert ax.get_yscale() == "log"
    labels = [ln.get_label() for ln in ax.get_lines()]
    assert labels[:2] == ["gd", "sgd"]
    assert labels[2].startswith("closed form")
    np.testing.assert_allclose(ax.get_lines()[2].get_ydata(), optimum)
    np.testing.assert_allclose(ax.get_lines()[0].get_ydata(), models["gd"].loss_curve_)
    assert len(png_bytes(fig)) > 10_000


def test_loss_curves_excess_and_inputs(data, models):
    X, y = data
    coef, icpt = closed_form(X, y)
    optimum = 0.5 * np.mean((X @ coef + icpt - y) ** 2)
    fig = P.plot_loss_curves(list(models.values()), optimum=optimum, excess=True)
    ydata = fig.axes[0].get_lines()[0].get_ydata()
    assert np.all(ydata > 0)  # log scale: clipped, not dropped
    expected = np.asarray(models["gd"].loss_curve_) - optimum
    pos = expected > 0
    np.testing.assert_allclose(ydata[pos], expected[pos])
    one = P.plot_loss_curves([3.0, 2.0, 1.5], labels=["bare"])
    assert one.axes[0].get_lines()[0].get_label() == "bare"
    with pytest.raises(ValueError, match="optimum"):
        P.plot_loss_curves(models, excess=True)
    with pytest.raises(ValueError, match="labels"):
        P.plot_loss_curves(models, labels=["only one"])
    with pytest.raises(ValueError, match="not fitted"):
        P.plot_loss_curves([SGDRegressor()])
    with pytest.raises(ValueError, match="nothing to plot"):
        P.plot_loss_curves([])


def test_draws_into_a_given_axes(models):
    fig = Figure()
    ax = fig.add_subplot()
    assert P.plot_loss_curves(models, ax=ax) is fig
    assert len(ax.get_lines()) == 2


def test_sweep_figure(data):
    X, y = data
    sweep = lr_sweep(
        SGDRegressor(batch_size=8, penalty=None, random_state=0),
        X,
        y,
        etas=[1e-4, 1e-2, 30.0],
        epochs=8,
    )
    fig = P.plot_sweep(sweep)
    left, right = fig.axes
    assert len(left.get_lines()) == 3
    assert right.get_xscale() == "log"
    labels = right.get_legend_handles_labels()[1]
    assert f"best eta = {sweep.best_eta:.3g}" in labels
    assert "explodes" in labels
    assert len(png_bytes(fig)) > 10_000
    with pytest.raises(TypeError, match="SweepResult"):
        P.plot_sweep({"etas": [1]})


def test_validation_figure(data):
    X, y = data
    model = SGDRegressor(
        early_stopping=True, tol=None, max_iter=12, random_state=0, penalty=None
    ).fit(X, y)
    fig = P.plot_validation(model)
    ax, twin = fig.axes
    np.testing.assert_allclose(
        twin.get_lines()[0].get_ydata(), model.validation_scores_
    )
    best = int(np.argmax(model.validation_scores_)) + 1
    assert twin.get_lines()[1].get_xdata()[0] == best
    png_bytes(fig)
    plain = SGDRegressor(max_iter=3, tol=None).fit(X, y)
    with pytest.raises(ValueError, match="early_stopping=True"):
        P.plot_validation(plain)


def test_trajectories_figure():
    X, y, coef = ravine(return_coef=True)
    est = SGDRegressor(
        batch_size=16,
        learning_rate="constant",
        eta0=0.5,
        penalty=None,
        fit_intercept=False,
    )
    paths = [parameter_path(est, X, y, 20), parameter_path(est, X, y, 10)]
    fig = P.plot_trajectories(paths, X, y, labels=["a", "b"])
    (ax,) = fig.axes
    assert len(ax.collections) >= 1  # the contours
    lines = {ln.get_label(): ln for ln in ax.get_lines()}
    assert "a (20 steps)" in lines and "b (10 steps)" in lines
    star = lines["least squares"]
    np.testing.assert_allclose(
        [star.get_xdata()[0], star.get_ydata()[0]],
        np.linalg.lstsq(X, y, rcond=None)[0],
    )
    assert len(png_bytes(fig)) > 10_000
    with pytest.raises(ValueError, match="2 features"):
        P.plot_trajectories(paths, np.ones((5, 3)), np.ones(5))
    with pytest.raises(ValueError, match="shape"):
        P.plot_trajectories([np.ones((4, 3))], X, y)


def test_missing_matplotlib_is_a_clear_import_error(monkeypatch, models):
    monkeypatch.setitem(sys.modules, "matplotlib.figure", None)
    with pytest.raises(ImportError, match=r"fastsgd\[plot\]"):
        P.plot_loss_curves(models)


@pytest.mark.parametrize("optimum", [-5.0, 0.0])
def test_loss_curves_reject_a_non_positive_optimum(models, optimum):
    with pytest.raises(ValueError, match=r"optimum must be in \(0, inf\)"):
        P.plot_loss_curves([models["gd"]], optimum=optimum)
    # the excess view subtracts it: any finite value is allowed there
    assert isinstance(
        P.plot_loss_curves([models["gd"]], optimum=optimum, excess=True), Figure
    )


def test_validation_of_a_run_diverged_in_its_first_epoch(data):
    import warnings

    X, y = data
    model = SGDRegressor(
        early_stopping=True, eta0=10.0, learning_rate="constant", random_state=0
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model.fit(X * 100.0, y)
    assert model.diverged_ and not model.validation_scores_
    with pytest.raises(ValueError, match="empty because training diverged"):
        P.plot_validation(model)


def test_trajectories_need_a_path():
    X, y = ravine()
    with pytest.raises(ValueError, match="no paths given"):
        P.plot_trajectories([], X, y)


# ---------------------------------------------- naming the loss, public parts
def test_axes_name_the_loss_they_show(data, models):
    X, y = data
    coef, icpt = closed_form(X, y)
    optimum = 0.5 * np.mean((X @ coef + icpt - y) ** 2)
    (ax,) = P.plot_loss_curves(models, optimum=optimum).axes
    # a model's loss_curve_ is scikit-learn's objective: said so
    assert ax.get_ylabel() == "training objective"
    assert f"closed form (objective {optimum:.4g})" in ax.get_legend_handles_labels()[1]
    curves = {k: 2 * np.asarray(m.loss_curve_) for k, m in models.items()}
    (ax,) = P.plot_loss_curves(curves, optimum=2 * optimum, quantity="MSE").axes
    assert ax.get_ylabel() == "training MSE"
    assert f"closed form (MSE {2 * optimum:.4g})" in ax.get_legend_handles_labels()[1]
    (ax,) = P.plot_loss_curves(curves, optimum=2 * optimum, excess=True,
                               quantity="MSE").axes  # fmt: skip
    assert ax.get_ylabel() == "training MSE - closed-form optimum"
    with pytest.raises(ValueError, match="loss_curve_ is the objective"):
        P.plot_loss_curves(models, quantity="MSE")
    (ax,) = P.plot_validation(
        SGDRegressor(early_stopping=True, max_iter=5, tol=None).fit(X, y)
    ).axes[:1]
    assert ax.get_ylabel() == "training objective"


def test_convergence_figure(models):
    curves = {k: np.asarray(m.loss_curve_) for k, m in models.items()}
    steps = {"sgd": (np.linspace(2.0, 0.5, 60), 100)}
    fig = P.plot_convergence(
        curves, 0.2, styles=[P.method_style("gd"), P.method_style("sgd")],
        step_curves=steps, title="left", suptitle="both", quantity="MSE",
    )  # fmt: skip
    left, right = fig.axes
    labels = [ln.get_label() for ln in left.get_lines()]
    assert labels == ["gd", "sgd", "closed form (MSE 0.2)",
                      "sgd: MSE of every 100 steps"]  # fmt: skip
    steps_line = left.get_lines()[3]
    assert steps_line.get_xdata()[-1] == pytest.approx(len(curves["sgd"]))
    assert right.get_ylabel() == "training MSE - closed-form optimum"
    assert fig.get_suptitle() == "both"
    assert P.method_style("adamw")["linestyle"] == "--"
    # no right panel without a positive optimum, a note without runs
    fig = P.plot_convergence(curves, 0.0)
    assert not fig.axes[1].get_lines()
    assert P.plot_convergence({}, 0.2).axes[0].texts[0].get_text() == (
        "closed form only"
    )
    png_bytes(fig)


def test_lecture_figures():
    fig, axes = P.subplots(ncols=2, figsize=(8.0, 3.0))
    assert len(axes) == 2 and tuple(fig.get_size_inches()) == (8.0, 3.0)
    assert P.plot_gradient_noise([1, 2, 4], [4.0, 2.0, 1.0], [4.0, 2.0, 1.0],
                                 ax=axes[0]) is fig  # fmt: skip
    assert axes[0].get_xscale() == "log" and len(axes[0].get_lines()) == 2
    fig = P.plot_rate_test(
        [0.1, 1.0, 2.0], ["a", "b", "c"], [[3.0, 2.0], [3.0, 1.0], [3.0, 9.0]],
        ["flat", "healthy", "explodes"], [False, False, True], quantity="MSE",
    )  # fmt: skip
    (ax,) = fig.axes
    assert ax.get_ylabel() == "training MSE"
    assert [t.get_text() for t in ax.texts] == ["diverged: stopped"]
    fig = P.plot_decay_shrink(
        [0.1, 1.0, 10.0], ([3e-3, 1e-3, 1e-5], [1e-4] * 3),
        ([0.5, 0.9, 1.0], [0.8] * 3), labels=["L2", "W"], epochs=3,
    )  # fmt: skip
    assert fig.axes[1].get_title() == "after 3 epochs"
    fig = P.plot_sweep_curves([0.01, 0.1], [[2.0, 1.0], [2.0, np.inf]],
                              ["healthy", "explodes"], [1.0, np.inf], 0.01,
                              quantity="MSE")  # fmt: skip
    assert fig.axes[1].get_ylabel() == "final training MSE (diverged: top)"
    png_bytes(fig)


def test_save_figure_writes_the_format_of_the_extension(tmp_path):
    fig, _ = P.subplots()
    P.save_figure(fig, tmp_path / "f.svg")
    assert b"<svg" in (tmp_path / "f.svg").read_bytes()[:2000]
    P.save_figure(fig, tmp_path / "f")
    assert (tmp_path / "f").read_bytes().startswith(PNG)
    assert P.figure_format("a.JPG") == "jpg"
    with pytest.raises(ValueError, match="does not write .xyz files"):
        P.figure_format("a.xyz")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["f", "f.svg"]
