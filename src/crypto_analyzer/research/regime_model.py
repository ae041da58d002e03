"""Gaussian-mixture regimes fitted on training folds, applied out of sample.

A mixture of ``K`` Gaussians over the market-state features (log volatility, log dispersion) is
fitted by expectation-maximisation on the training rows of a fold only; each test bar is then
classified from its own features (which are causal), giving regime probabilities that never used
the test period. States are ordered by their mean of the first feature (state 0 = calmest), so
labels mean the same thing in every fold.

References
----------
.. [1] Dempster, A. P., Laird, N. M., & Rubin, D. B. (1977). Maximum likelihood from incomplete
   data via the EM algorithm. JRSS B, 39(1), 1-38.
.. [2] Bishop, C. M. (2006). *Pattern Recognition and Machine Learning*, section 9.2.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from crypto_analyzer.research._checks import check_float, check_frame, check_int
from crypto_analyzer.research.guard import FitRecord, guarded_fit
from crypto_analyzer.research.splits import SplitPlan

__all__ = ["GaussianMixtureRegimes", "GmmFit", "fit_gmm", "oos_regimes"]

_LOG_2PI = np.log(2.0 * np.pi)


@dataclass(frozen=True, slots=True)
class GmmFit:
    """A fitted Gaussian mixture on standardised features.

    Attributes
    ----------
    weights : numpy.ndarray
        ``(K,)`` mixing weights.
    means : numpy.ndarray
        ``(K, d)`` component means (standardised units).
    covariances : numpy.ndarray
        ``(K, d, d)`` component covariances (standardised units).
    center, scale : numpy.ndarray
        Training mean and standard deviation used to standardise features.
    log_likelihood : float
        Mean log-likelihood per training row at convergence.
    n_iter : int
        EM iterations run.
    converged : bool
    """

    weights: np.ndarray
    means: np.ndarray
    covariances: np.ndarray
    center: np.ndarray
    scale: np.ndarray
    log_likelihood: float
    n_iter: int
    converged: bool

    def log_resp(self, x: np.ndarray) -> np.ndarray:
        """Log posterior state probabilities for raw feature rows ``x`` (``(n, d)``)."""
        z = (x - self.center) / self.scale
        logp = _component_logpdf(z, self.means, self.covariances) + np.log(self.weights)
        return logp - _logsumexp(logp)

    def transform(self, x: pd.DataFrame) -> pd.DataFrame:
        """Per-row state probabilities ``p0..p{K-1}`` and the most likely ``state``."""
        arr = x.to_numpy(dtype=np.float64, na_value=np.nan)
        ok = np.isfinite(arr).all(axis=1)
        k = self.weights.size
        probs = np.full((arr.shape[0], k), np.nan)
        if ok.any():
            probs[ok] = np.exp(self.log_resp(arr[ok]))
        state = np.full(arr.shape[0], np.nan)
        state[ok] = np.argmax(probs[ok], axis=1)
        out = pd.DataFrame(probs, index=x.index, columns=[f"p{i}" for i in range(k)])
        out["state"] = state
        return out


def _logsumexp(a: np.ndarray) -> np.ndarray:
    top = a.max(axis=1, keepdims=True)
    return top + np.log(np.exp(a - top).sum(axis=1, keepdims=True))


def _component_logpdf(z: np.ndarray, means: np.ndarray, covs: np.ndarray) -> np.ndarray:
    d = z.shape[1]
    chol = np.linalg.cholesky(covs)
    diff = z[None, :, :] - means[:, None, :]
    sol = np.linalg.solve(chol[:, None, :, :], diff[..., None])[..., 0]
    maha = np.sum(sol**2, axis=-1)
    logdet = 2.0 * np.log(np.diagonal(chol, axis1=1, axis2=2)).sum(axis=1)
    return (-0.5 * (d * _LOG_2PI + logdet[:, None] + maha)).T


def _fit_gmm_iv(x: Any, n_states: Any, rng: Any, max_iter: Any, tol: Any, reg: Any) -> tuple:
    if not isinstance(x, np.ndarray) or x.ndim != 2:
        raise TypeError(f"x must be a 2-D numpy array (n_rows, n_features), got {type(x)}")
    if not np.isfinite(x).all():
        raise ValueError("x contains NaN or inf; drop incomplete rows first")
    n_states = check_int("n_states", n_states, minimum=1)
    if x.shape[0] < 5 * n_states:
        raise ValueError(f"x needs >= {5 * n_states} rows for {n_states} states, got {x.shape[0]}")
    if not isinstance(rng, np.random.Generator):
        raise TypeError(f"rng must be a numpy.random.Generator, got {type(rng).__name__}")
    max_iter = check_int("max_iter", max_iter, minimum=1)
    tol = check_float("tol", tol, minimum=0.0, strict_min=True)
    return n_states, max_iter, tol, check_float("reg", reg, minimum=0.0, strict_min=True)


def fit_gmm(
    x: np.ndarray,
    *,
    n_states: int,
    rng: np.random.Generator,
    max_iter: int = 200,
    tol: float = 1e-8,
    reg: float = 1e-6,
) -> GmmFit:
    """Fit a full-covariance Gaussian mixture by EM.

    Features are standardised with their own mean and standard deviation; initial means are
    chosen k-means++ style (first uniformly, then proportional to squared distance) with ``rng``;
    ``reg`` is added to every covariance diagonal to keep it positive definite. Iteration stops when
    the mean log-likelihood improves by less than ``tol``.
    """
    n_states, max_iter, tol, reg = _fit_gmm_iv(x, n_states, rng, max_iter, tol, reg)
    center = x.mean(axis=0)
    scale = x.std(axis=0)
    scale = np.where(scale > 0, scale, 1.0)
    z = (x - center) / scale
    n, d = z.shape
    means = _init_means(z, n_states, rng)
    covs = np.broadcast_to(
        np.cov(z, rowvar=False).reshape(d, d) + reg * np.eye(d), (n_states, d, d)
    )
    covs = covs.copy()
    weights = np.full(n_states, 1.0 / n_states)
    prev = -np.inf
    converged = False
    it = 0
    while it < max_iter:
        it += 1
        logp = _component_logpdf(z, means, covs) + np.log(weights)
        norm = _logsumexp(logp)
        ll = float(norm.mean())
        resp = np.exp(logp - norm)
        nk = resp.sum(axis=0) + 1e-12
        weights = nk / n
        means = (resp.T @ z) / nk[:, None]
        diff = z[None, :, :] - means[:, None, :]
        covs = np.einsum("kn,kni,knj->kij", resp.T, diff, diff) / nk[:, None, None]
        covs += reg * np.eye(d)
        if ll - prev < tol:
            converged = True
            break
        prev = ll
    order = np.argsort(means[:, 0], kind="stable")
    return GmmFit(weights[order], means[order], covs[order], center, scale, ll, it, converged)


def _init_means(z: np.ndarray, k: int, rng: np.random.Generator) -> np.ndarray:
    chosen = [int(rng.integers(z.shape[0]))]
    for _ in range(1, k):
        dist = np.min(((z[:, None, :] - z[chosen][None, :, :]) ** 2).sum(axis=-1), axis=1)
        total = dist.sum()
        probs = dist / total if total > 0 else np.full(z.shape[0], 1.0 / z.shape[0])
        chosen.append(int(rng.choice(z.shape[0], p=probs)))
    return z[chosen].copy()


@dataclass(frozen=True)
class GaussianMixtureRegimes:
    """Transform spec: fit a ``n_states`` Gaussian mixture on training feature rows.

    ``rng`` is the injected random stream for initialisation (derive it per fold from
    ``core.seeding``; :func:`oos_regimes` spawns one child stream per fold). There is no default:
    a fit never falls back to fresh entropy.
    """

    rng: np.random.Generator
    n_states: int = 2
    max_iter: int = 200
    name: str = "gaussian_mixture_regimes"
    needs_labels: bool = False

    def fit(self, x: pd.DataFrame, y: pd.DataFrame | None = None) -> GmmFit:
        check_frame("x", x)
        arr = x.to_numpy(dtype=np.float64, na_value=np.nan)
        arr = arr[np.isfinite(arr).all(axis=1)]
        return fit_gmm(arr, n_states=self.n_states, rng=self.rng, max_iter=self.max_iter)

    def params(self) -> dict[str, Any]:
        return {"n_states": self.n_states, "max_iter": self.max_iter}


def _oos_regimes_iv(features: Any, plan: Any, n_states: Any, rng: Any) -> int:
    check_frame("features", features)
    if not isinstance(plan, SplitPlan):
        raise TypeError(f"plan must be a SplitPlan, got {type(plan).__name__}")
    if plan.kind != "walk_forward":
        raise ValueError(f"oos_regimes needs a walk_forward plan, got kind {plan.kind!r}")
    if plan.n_rows != len(features):
        raise ValueError(f"plan.n_rows={plan.n_rows} but features has {len(features)} rows")
    if not isinstance(rng, np.random.Generator):
        raise TypeError(f"rng must be a numpy.random.Generator, got {type(rng).__name__}")
    return check_int("n_states", n_states, minimum=1)


def oos_regimes(
    features: pd.DataFrame,
    plan: SplitPlan,
    *,
    n_states: int,
    rng: np.random.Generator,
    max_iter: int = 200,
) -> tuple[pd.DataFrame, tuple[FitRecord, ...]]:
    """Out-of-sample regime probabilities: fit on each fold's train rows, classify its test rows.

    Parameters
    ----------
    features : pandas.DataFrame
        Causal state features (:func:`~crypto_analyzer.research.regimes.market_state_features`),
        indexed by the panel's time axis.
    plan : SplitPlan
        A walk-forward plan (test blocks must not overlap).
    n_states : int
        Mixture components.
    rng : numpy.random.Generator
        Parent stream; one child stream per fold is spawned from it, so each fold's fit is
        reproducible regardless of evaluation order.
    max_iter : int
        EM iterations per fold (the report passes its configured value).

    Returns
    -------
    probs : pandas.DataFrame
        ``p0..p{K-1}`` and ``state`` on test rows (NaN elsewhere), aligned with ``features``.
    records : tuple of FitRecord
        The guarded fits (for the attestation).
    """
    n_states = _oos_regimes_iv(features, plan, n_states, rng)
    max_iter = check_int("max_iter", max_iter, minimum=1)
    children = rng.spawn(len(plan.folds))
    cols = [f"p{i}" for i in range(n_states)] + ["state"]
    out = pd.DataFrame(np.nan, index=features.index, columns=cols)
    records = []
    for fold, child in zip(plan.folds, children, strict=True):
        spec = GaussianMixtureRegimes(child, n_states=n_states, max_iter=max_iter)
        fitted, record = guarded_fit(
            spec,
            features.iloc[fold.train_rows()],
            fold=fold,
            time_index=features.index,
            scope="regimes",
        )
        records.append(record)
        test_rows = fold.test_rows()
        out.iloc[test_rows] = fitted.transform(features.iloc[test_rows]).to_numpy()
    return out, tuple(records)
