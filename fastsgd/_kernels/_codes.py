"""Integer codes for the options the kernels branch on.

The kernels receive these as plain integers (inside an ``int64`` array); the
Python layer maps the user-facing names to them.  Pure Python: importing it
loads no compiler.
"""

from __future__ import annotations

# losses (scikit-learn's conventions: squared_error is 1/2 (p - y)^2)
LOSS_SQUARED = 0
LOSS_HUBER = 1
LOSS_EPS_INSENSITIVE = 2
LOSS_SQ_EPS_INSENSITIVE = 3

LOSSES = {
    "squared_error": LOSS_SQUARED,
    "huber": LOSS_HUBER,
    "epsilon_insensitive": LOSS_EPS_INSENSITIVE,
    "squared_epsilon_insensitive": LOSS_SQ_EPS_INSENSITIVE,
}

# penalties
PEN_NONE = 0
PEN_L2 = 1
PEN_L1 = 2
PEN_ELASTICNET = 3

PENALTIES = {None: PEN_NONE, "l2": PEN_L2, "l1": PEN_L1, "elasticnet": PEN_ELASTICNET}

# optimizers
OPT_SGD = 0
OPT_MOMENTUM = 1
OPT_NESTEROV = 2
OPT_ADAGRAD = 3
OPT_RMSPROP = 4
OPT_ADAM = 5
OPT_ADAMW = 6

OPTIMIZERS = {
    "sgd": OPT_SGD,
    "momentum": OPT_MOMENTUM,
    "nesterov": OPT_NESTEROV,
    "adagrad": OPT_ADAGRAD,
    "rmsprop": OPT_RMSPROP,
    "adam": OPT_ADAM,
    "adamw": OPT_ADAMW,
}

# number of state rows (each n_features + 1 long) per optimizer
OPT_SLOTS = {
    OPT_SGD: 0,
    OPT_MOMENTUM: 1,
    OPT_NESTEROV: 1,
    OPT_ADAGRAD: 1,
    OPT_RMSPROP: 1,
    OPT_ADAM: 2,
    OPT_ADAMW: 2,
}

# learning-rate schedules
LR_CONSTANT = 0
LR_OPTIMAL = 1
LR_INVSCALING = 2
LR_ADAPTIVE = 3  # constant within an epoch; Python divides eta by 5 between epochs
LR_STEP = 4
LR_COSINE = 5
LR_ONECYCLE = 6
LR_PA1 = 7
LR_PA2 = 8
# learning_rate="auto": scale-free steps of their own (see _auto), no eta0 to
# choose and no scaler needed; its own kernels and state layout (AUTO_SLOTS)
LR_AUTO = 9

SCHEDULES = {
    "constant": LR_CONSTANT,
    "optimal": LR_OPTIMAL,
    "invscaling": LR_INVSCALING,
    "adaptive": LR_ADAPTIVE,
    "step": LR_STEP,
    "cosine": LR_COSINE,
    "onecycle": LR_ONECYCLE,
    "pa1": LR_PA1,
    "pa2": LR_PA2,
    "auto": LR_AUTO,
}

# how the epoch visits rows
SAMPLE_INORDER = 0  # rows in the order given
SAMPLE_SHUFFLE = 1  # the kernel permutes `order` in place first (Fisher-Yates)
SAMPLE_REPLACEMENT = 2  # each step draws a row of `order` uniformly
SAMPLE_BLOCKS = 3  # permute contiguous blocks of rows, rows within a block in order
# interleave C_STREAMS sequential streams, each through its share of randomly
# permuted segments of C_BLOCK consecutive rows (see _rows.stream_sequence)
SAMPLE_STREAMS = 4

# weight averaging
AVG_NONE = 0
AVG_POLYAK = 1  # scikit-learn's ASGD: running mean from step `average` on
AVG_EMA = 2  # exponential moving average with decay `ema_decay`

# ---- slots of the int64 `codes` array -------------------------------------------
C_LOSS = 0
C_PENALTY = 1
C_OPTIMIZER = 2
C_SCHEDULE = 3
C_SAMPLING = 4
C_AVERAGE = 5
C_FIT_INTERCEPT = 6
C_BATCH = 7  # batch size (>= 1)
C_RECORD_EVERY = 8  # record the mean loss every k steps (0: off)
C_SEED = 9  # seed of the in-kernel generator for this epoch
C_AVG_START = 10  # Polyak averaging starts at step (1-based, scikit-learn's t)
C_EPOCH = 11  # 0-based epoch index (for epoch-based schedules)
C_BLOCK = 12  # block length for SAMPLE_BLOCKS, segment length for SAMPLE_STREAMS
C_STREAMS = 13  # streams read at once by SAMPLE_STREAMS
# 1: stop at the first visited row whose X values (or target) are NaN or
# infinite and report it in S_BAD_ROW (the first epoch of a fit checks the
# data this way instead of a separate pass over X)
C_CHECK = 14
N_CODES = 15

# ---- slots of the float `hparams` array -----------------------------------------
H_ETA0 = 0  # base learning rate (adaptive: the current, already divided, rate)
H_ALPHA = 1
H_L1_RATIO = 2
H_EPSILON = 3  # loss epsilon (huber, epsilon-insensitive)
H_POWER_T = 4
H_OPTIMAL_INIT = 5  # scikit-learn's optimal_init (1 / (eta_init * alpha))
H_MOMENTUM = 6  # beta for momentum / nesterov
H_RHO = 7  # RMSProp decay
H_BETA1 = 8
H_BETA2 = 9
H_EPS = 10  # optimizer epsilon
H_WEIGHT_DECAY = 11  # decoupled decay lambda
H_CLIP = 12  # global-norm clip (0: off)
H_EMA = 13  # EMA decay
H_GAMMA = 14  # step schedule factor
H_STEP_EPOCHS = 15  # step schedule period in epochs
H_TOTAL_STEPS = 16  # planned steps of the run (cosine / onecycle)
H_ETA_MIN = 17  # cosine floor
H_WARMUP = 18  # warmup length in steps (0: none)
H_PCT_START = 19  # onecycle: fraction of the run spent warming up
H_DIV = 20  # onecycle: eta starts at eta0 / div
H_FINAL_DIV = 21  # onecycle: eta ends at eta0 / (div * final_div)
N_HPARAMS = 22

# ---- slots of the float64 `stats` array the epoch writes -------------------------
S_LOSS_SUM = 0  # sum over visited rows of sw_i * loss_i (prediction before the step)
S_WEIGHT_SUM = 1  # sum of sw_i over visited rows
S_STEPS = 2  # steps taken in this epoch
S_ETA_LAST = 3  # learning rate of the last step
S_ETA_SUM = 4  # sum of learning rates (mean rate of the epoch = sum / steps)
S_GRAD_NORM = 5  # gradient norm of the last step (full batch: the full gradient)
S_NREC = 6  # entries written to the per-step loss record
S_BAD_ROW = 7  # with C_CHECK: the row of X holding NaN/inf that stopped the epoch
N_STATS = 8

# ---- slots of the float64 `carry` array (state carried across epochs) -------------
K_L1_U = 0  # cumulative L1 penalty u of the truncated-gradient method
K_AUTO_W = 1  # learning_rate="auto": total sample weight of the rows seen
K_AUTO_S = 2  # learning_rate="auto": sum of sw * ||z||^2 over the rows seen
N_CARRY = 3

# ---- learning_rate="auto" (see _auto) -------------------------------------------
# the step multiplier hp[H_ETA0] the estimator writes for "auto" (measured: see
# the _auto module docstring)
AUTO_ETA0 = 0.4
# state of "auto", whatever the optimizer code: AUTO_SLOTS rows of
# n_features + 1, read as n_features + 1 records of AUTO_SLOTS values (record
# j at opt.reshape(-1)[AUTO_SLOTS * j:], one cache line per column); offsets:
AUTO_G = 0  # P = sum_k k gz_k^2 over the coordinate's updates (G = P / n)
AUTO_N = 1  # times the coordinate was updated (its own step counter)
# running mean of the feature (dense input with an intercept); the per-example
# CSR epoch keeps the weight there while it runs (see _auto.epoch_auto_csr)
AUTO_MU = 2
AUTO_SCALE = 3  # largest |x - mean| seen (the intercept's entry is unused)
AUTO_SLOTS = 4
# rows of the `grad` scratch (each n_features + 1 long) the "auto" families need
# (the per-example CSR epoch: a clock, a row's s, n, P, the saved mu slots)
AUTO_SCRATCH_ROWS = 5
# rows of the `grad` scratch the O(nnz) AdaGrad/RMSProp CSR epoch needs
CSR_ADAPTIVE_SCRATCH_ROWS = 2


def state_rows(optimizer: int, schedule: int) -> int:
    """Return the optimizer state rows a configuration needs (``opt.shape[0]``)."""
    if schedule == LR_AUTO:
        return AUTO_SLOTS
    return OPT_SLOTS[optimizer]
