"""AdaGrad and RMSProp on CSR rows, per example, at O(nnz) a step.

The dense rules (``_step.adaptive_update``) update every coordinate each
step: the L2 gradient ``a2 w_j`` and the weight decay reach coordinates the
row does not store, and RMSProp decays every accumulator.  Here a step
touches only the row's stored columns (and the intercept); what a column
misses while no row stores it is applied when a row next stores it (before
the prediction), and to every column at the end of the epoch.  The rule, per
step t of rate ``eta_t`` (``c_j = 1 / (sqrt(s_j) + eps)``):

- a column the row stores, with ``g_j = sw dloss x_j`` (the loss gradient
  only): AdaGrad ``s_j += g_j^2``, RMSProp ``s_j = rho s_j + (1 - rho) g_j^2``;
  ``w_j -= eta_t g_j c_j``;
- every column, then: the L2 part ``a2`` of the penalty and the weight decay
  ``lam`` as the exact flow ``dw/dE = -(a2 c_j + lam) w`` over ``E = eta_t``,
  i.e. ``w_j *= exp(-eta_t (a2 c_j + lam))`` (a proximal step at the
  coordinate's own rate: the fixed point is the penalized optimum, as the
  dense rule's; the dense rule instead adds ``a2 w_j`` to the gradient and
  the accumulator, and decays by ``1 - eta_t lam``);
- RMSProp decays an accumulator the row does not store, ``s_j *= rho``, but
  the ``c_j`` of its penalty flow stays the one of its last update.

So a column not stored by k consecutive rows receives, at its next use,
``w_j *= exp(-(a2 c_j + lam) (eta_{t+1} + ... + eta_{t+k}))`` and (RMSProp)
``s_j *= rho^k``, with ``c_j`` from its last update.  Without a penalty and
weight decay this is the dense rule exactly.  The intercept takes the dense
rule at every step.  The L1 penalty is not handled here (the estimator runs
it through ``csr_batch``'s dense step).

Per epoch ``grad`` (``CSR_ADAPTIVE_SCRATCH_ROWS`` rows of ``d + 1``, any
contents) keeps each column's marks: row 0 the epoch's clock (sum of rates)
at its last catch-up, row 1 the step (counted from the epoch's start) of its
last update.  Every ``SYNC_STEPS`` steps all columns catch up and the marks
restart, so that the step marks stay exact in float32.
"""

from __future__ import annotations

import math

from ._codes import C_CHECK, OPT_ADAGRAD, S_BAD_ROW, S_GRAD_NORM
from ._jit import kernel
from ._losses import loss_derivative, loss_value
from ._rows import csr_row_is_bad, epoch_options, finish, record, visit_sequence
from ._schedule import rate, schedule_params
from ._step import step_config
from ._unowned import unowned

SYNC_STEPS = 1 << 22


@kernel
def catch_up_all(params, opt, grad, clock, step, a2, lam, eps, rho, adagrad):
    """Bring every column to the clock ``clock`` and step ``step``; reset marks."""
    T = params.dtype.type
    d = params.shape[0] - 1
    shrink = a2 > 0.0 or lam > 0.0
    for j in range(d):
        if shrink:
            dt = clock - float(grad[0, j])
            if dt > 0.0:
                c = 1.0 / (math.sqrt(float(opt[0, j])) + eps)
                params[j] = T(float(params[j]) * math.exp(-(a2 * c + lam) * dt))
        if not adagrad:
            k = step - float(grad[1, j])
            if k > 0.0:
                opt[0, j] = T(float(opt[0, j]) * math.pow(rho, k))
        grad[0, j] = 0.0
        grad[1, j] = 0.0


@kernel(entry=True)
def epoch_csr_adaptive(
    data, indices, indptr, y, sw, order, iscratch, params, opt, avg, q, grad,
    counters, carry, hp, codes, stats, rec,
):  # fmt: skip
    """Run one per-example AdaGrad or RMSProp epoch over CSR rows (O(nnz))."""
    m = order.shape[0]
    d = params.shape[0] - 1
    T = params.dtype.type
    data, indices, indptr = unowned(data), unowned(indices), unowned(indptr)
    y, sw, grad = unowned(y), unowned(sw), unowned(grad)
    params, opt = unowned(params), unowned(opt)
    stats, rec = unowned(stats), unowned(rec)
    seq = unowned(visit_sequence(order, iscratch, codes))
    (batch, loss, sched, epoch, every, eps_l, pa, full, eta0, random_rows) = (
        epoch_options(codes, hp, m)
    )
    cfg = step_config(codes, hp)
    sp = schedule_params(hp)
    fit_b, a2, code = cfg[0], cfg[1], cfg[3]
    lam, rho_, eps = cfg[7], cfg[9], cfg[12]
    adagrad = code == OPT_ADAGRAD
    rho = 1.0 if adagrad else rho_
    one_m = 1.0 if adagrad else 1.0 - rho_
    shrink = a2 > 0.0 or lam > 0.0
    check = codes[C_CHECK] != 0
    stats[S_BAD_ROW] = -1.0
    for j in range(d):
        grad[0, j] = 0.0
        grad[1, j] = 0.0
    clock = 0.0
    step = 0.0  # steps since the marks restarted
    t = counters[0]
    loss_sum = 0.0
    w_sum = 0.0
    eta_sum = 0.0
    eta = 0.0
    r_acc = 0.0
    r_w = 0.0
    r_n = 0
    for pos in range(m):
        i = seq[pos]
        lo = indptr[i]
        hi = indptr[i + 1]
        if shrink:
            for k in range(lo, hi):
                j = indices[k]
                dt = clock - float(grad[0, j])
                if dt > 0.0:
                    c = 1.0 / (math.sqrt(float(opt[0, j])) + eps)
                    params[j] = T(float(params[j]) * math.exp(-(a2 * c + lam) * dt))
                grad[0, j] = T(clock)
        p = float(params[d])
        for k in range(lo, hi):
            p += data[k] * params[indices[k]]
        swi = float(sw[i])
        li = loss_value(loss, p, y[i], eps_l)
        if check and not math.isfinite(li) and csr_row_is_bad(data, lo, hi, y[i]):
            stats[S_BAD_ROW] = i
            break
        t += 1
        step += 1.0
        eta = rate(sched, float(t), epoch, sp)
        eta_sum += eta
        loss_sum += swi * li
        w_sum += swi
        r_acc += swi * li
        r_w += swi
        gl = swi * loss_derivative(loss, p, y[i], eps_l)
        clock += eta
        for k in range(lo, hi):
            j = indices[k]
            g = gl * float(data[k])
            s = float(opt[0, j])
            if not adagrad:
                s *= math.pow(rho, step - 1.0 - float(grad[1, j]))
            s = rho * s + one_m * g * g
            opt[0, j] = T(s)
            c = 1.0 / (math.sqrt(float(opt[0, j])) + eps)
            wj = float(params[j]) - eta * g * c
            if shrink:
                wj *= math.exp(-(a2 * c + lam) * eta)
                grad[0, j] = T(clock)
            params[j] = T(wj)
            grad[1, j] = T(step)
        if fit_b:
            sb = rho * float(opt[0, d]) + one_m * gl * gl
            opt[0, d] = T(sb)
            params[d] = T(float(params[d]) - eta * gl / (math.sqrt(sb) + eps))
        r_n += 1
        r_acc, r_w, r_n = record(rec, stats, every, r_acc, r_w, r_n)
        if step >= SYNC_STEPS:
            catch_up_all(params, opt, grad, clock, step, a2, lam, eps, rho, adagrad)
            clock = 0.0
            step = 0.0
    catch_up_all(params, opt, grad, clock, step, a2, lam, eps, rho, adagrad)
    stats[S_GRAD_NORM] = -1.0
    finish(counters, stats, t, t - counters[0], eta_sum, eta, loss_sum, w_sum)
