"""Monte Carlo against the closed forms of ``jaxfb.theory`` (energy moments, exact law, bounds).

Three figures, written with a JSON sidecar (config with its seed, versions, device, timings and
the plotted numbers) to ``--out`` (default ``docs/figures``):

- ``theory_variance.png``: ``Var ||Phi x||^2`` against ``T`` for several unit-norm signals, Monte
  Carlo (``jaxfb.random_filterbank`` + ``jaxfb.energy``, with +-2 SE bars) against
  ``jaxfb.theory.energy_variance``; one panel for the paper's Gaussian init, one for the uniform
  init with the same variance (the excess-kurtosis term).
- ``theory_sf.png``: the exact tail ``P(||Phi x||^2 > t)`` (``EnergyDistribution.sf``) and its
  saddlepoint approximation against the empirical tail of simulated energies.
- ``theory_bounds.png``: deviation ``alpha`` at level ``p`` from every bound in
  ``jaxfb.theory`` against the exact quantile (``EnergyDistribution.isf``): against ``p`` for a
  unit impulse (where the paper's Chernoff variant drops below the truth for ``p < 0.05``) and
  against ``T`` at ``p = 0.01`` for a lazy random walk.

    python experiments/theory_figures.py            # about a minute on a laptop CPU
"""

from __future__ import annotations

import os

# Dense eigenproblems (T up to 1024) on a few shared cores: threaded BLAS only oversubscribes.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")

import argparse
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import jax
import jax.numpy as jnp
import matplotlib
import numpy as np

import jaxfb
from jaxfb import io, theory

matplotlib.use("Agg")
import matplotlib.pyplot as plt


@dataclass
class Config:
    seed: int = 20240611
    n: int = 1024
    num_filters: int = 10
    lengths: tuple[int, ...] = (8, 16, 32, 64, 128, 256, 512, 1024)
    variance_draws: int = 400
    sf_length: int = 64
    sf_draws: int = 10000
    sf_sampler_draws: int = 100_000
    levels: tuple[float, ...] = (0.2, 0.1, 0.05, 0.02, 0.01, 1e-3, 1e-4, 1e-6, 1e-8)
    bound_vs_length_level: float = 0.01
    out: str = "docs/figures"


def make_signals(n: int, key: jax.Array) -> dict[str, np.ndarray]:
    """Unit-norm test signals (explicit key for the random ones)."""
    t = np.arange(n)
    k1, k2 = jax.random.split(key)
    steps = np.asarray(jax.random.choice(k1, jnp.array([-1.0, 0.0, 1.0]), (n,)))
    sigs = {
        "impulse": (t == 0).astype(float),
        "alternating sign": (-1.0) ** t,
        "pulse train (period 16)": (t % 16 == 0).astype(float),
        "decaying tone": np.exp(-t / (n / 16)) * np.cos(2 * np.pi * 0.05 * t),
        "white noise": np.asarray(jax.random.normal(k2, (n,))),
        "lazy random walk": np.cumsum(steps),
    }
    return {k: v / np.linalg.norm(v) for k, v in sigs.items()}


def simulate_energies(key, X: np.ndarray, J: int, T: int, draws: int, init: str) -> np.ndarray:
    chunk = max(1, min(draws, 2**22 // (J * T)))
    out = []
    for start in range(0, draws, chunk):
        key, sub = jax.random.split(key)
        b = min(chunk, draws - start)
        w = jaxfb.random_filterbank(sub, J, T, batch_shape=(b, 1), init=init, dtype=jnp.float32)
        out.append(np.asarray(jaxfb.energy(w, jnp.asarray(X, jnp.float32)), dtype=np.float64))
    return np.concatenate(out)  # (draws, S)


def variance_figure(cfg: Config, sigs: dict, key, path: Path) -> dict:
    J, names = cfg.num_filters, list(sigs)
    X = np.stack([sigs[k] for k in names])
    L = np.array(cfg.lengths)
    res = {}
    fig, axes = plt.subplots(1, 2, figsize=(11, 4.2), sharey=True)
    for ax, init in zip(axes, ("gaussian", "uniform"), strict=True):
        theory_var = np.asarray(theory.energy_variance(X, J, cfg.lengths, init=init))  # (S, L)
        mc_var = np.empty_like(theory_var)
        mc_se = np.empty_like(theory_var)
        for j, T in enumerate(cfg.lengths):
            key, sub = jax.random.split(key)
            e = simulate_energies(sub, X, J, T, cfg.variance_draws, init)
            c = e - e.mean(axis=0)
            s2 = (c**2).sum(axis=0) / (e.shape[0] - 1)
            mc_var[:, j] = s2
            mc_se[:, j] = np.sqrt(((c**4).mean(axis=0) - s2**2) / e.shape[0])
        z = (mc_var - theory_var) / mc_se
        res[init] = {
            "theory": theory_var.tolist(),
            "monte_carlo": mc_var.tolist(),
            "se": mc_se.tolist(),
            "max_abs_z": float(np.max(np.abs(z))),
        }
        for i, name in enumerate(names):
            (line,) = ax.loglog(L, theory_var[i], "-", lw=1.5, label=name)
            ax.errorbar(
                L, mc_var[i], yerr=2 * mc_se[i], fmt="o", ms=3.5, color=line.get_color(), capsize=2
            )
        ax.set_xscale("log", base=2)
        ax.set_xlabel("filter length T")
        kurt = jaxfb.INITS[init].excess_kurtosis
        ax.set_title(f"init={init!r} (g2 = {kurt:g}), J = {J}, N = {cfg.n}")
        ax.grid(True, which="both", alpha=0.3)
    axes[0].set_ylabel(r"Var $\|\Phi x\|^2$  (unit-norm $x$)")
    axes[0].legend(fontsize=8, loc="lower left")
    fig.suptitle(
        f"Energy variance: theory (lines) vs Monte Carlo ({cfg.variance_draws} draws, +-2 SE)"
    )
    fig.tight_layout()
    fig.savefig(path, dpi=130)
    plt.close(fig)
    res["signals"] = names
    return res


def sf_figure(cfg: Config, sigs: dict, key, path: Path) -> dict:
    J, T = cfg.num_filters, cfg.sf_length
    names = ["impulse", "lazy random walk", "decaying tone", "alternating sign"]
    X = np.stack([sigs[k] for k in names])
    k1, k2 = jax.random.split(key)
    e = simulate_energies(k1, X, J, T, cfg.sf_draws, "gaussian")  # (B, S)
    dist = theory.energy_distribution(X, J, T)
    samp = np.asarray(dist.sample(k2, (cfg.sf_sampler_draws,)))  # (M, S), exact sampler
    fig, axes = plt.subplots(1, len(names), figsize=(14, 3.8))
    res = {}
    B = e.shape[0]
    for i, (ax, name) in enumerate(zip(axes, names, strict=True)):
        d_i = theory.EnergyDistribution(dist.eigenvalues[i], J)
        hi = float(d_i.isf(1e-9))
        t = np.linspace(0.0, hi, 120)
        sf = d_i.sf(t)
        sp = d_i.sf(t, method="saddlepoint")
        emp = np.sort(e[:, i])
        emp_sf = 1.0 - np.arange(1, B + 1) / B
        big = np.sort(samp[:, i])
        big_sf = 1.0 - np.arange(1, big.size + 1) / big.size
        # empirical tails where at least 5 draws exceed
        ax.semilogy(big[:-5], big_sf[:-5], color="0.7", lw=3, label=f"exact sampler ({big.size})")
        ax.semilogy(emp[:-5], emp_sf[:-5], "k.", ms=2, label=f"filterbanks ({B})")
        ax.semilogy(t, sf, "C0-", lw=1.2, label="exact sf")
        ax.semilogy(t, sp, "C3--", lw=1.0, label="saddlepoint (LR-2)")
        ax.set_ylim(1e-9, 1.5)
        ax.set_xlabel(r"$t$")
        ax.set_title(name, fontsize=10)
        ax.grid(True, which="both", alpha=0.3)
        # empirical vs exact sf at 40 order statistics (binomial z-scores)
        idx = np.unique(np.geomspace(1, B - 10, 40).astype(int))
        p_exact = d_i.sf(emp[B - idx])
        z = (idx / B - p_exact) / np.sqrt(p_exact * (1 - p_exact) / B)
        tail = sf > 1e-9
        res[name] = {
            "max_abs_binomial_z_empirical_vs_exact": float(np.max(np.abs(z))),
            "max_rel_error_saddlepoint_vs_exact": float(np.max(np.abs(sp[tail] / sf[tail] - 1))),
        }
    axes[0].set_ylabel(r"$P(\|\Phi x\|^2 > t)$")
    axes[0].legend(fontsize=7, loc="lower left")
    fig.suptitle(f"Exact tail of the energy vs simulation (J = {J}, T = {T}, N = {cfg.n})")
    fig.tight_layout()
    fig.savefig(path, dpi=130)
    plt.close(fig)
    return res


BOUND_STYLE = {
    "cantelli": ("Cantelli", "C2", "-"),
    "laurent_massart": ("Chernoff, Laurent-Massart (default)", "C0", "-"),
    "exact": ("Chernoff, exact CGF", "C1", "-"),
    "paper": ("Chernoff, paper's formula (NOT a valid bound)", "C3", "--"),
}


def _bounds(x, J, T, p):
    return {
        "cantelli": np.asarray(theory.cantelli_deviation(x, J, T, p)),
        "laurent_massart": np.asarray(theory.chernoff_deviation(x, J, T, p)),
        "exact": np.asarray(theory.chernoff_deviation(x, J, T, p, variant="exact")),
        "paper": np.asarray(theory.chernoff_deviation(x, J, T, p, variant="paper")),
    }


def bounds_figure(cfg: Config, sigs: dict, path: Path) -> dict:
    J = cfg.num_filters
    levels = np.array(cfg.levels)
    fig, axes = plt.subplots(1, 2, figsize=(12, 4.4))
    res = {}

    # (a) against p, unit impulse, T = sf_length
    x, T = sigs["impulse"], cfg.sf_length
    d = theory.energy_distribution(x, J, T)
    truth = d.isf(levels) / d.mean - 1
    b = _bounds(x, J, T, levels)
    ax = axes[0]
    ax.loglog(levels, truth, "k-", lw=2.5, label="exact quantile (truth)")
    for k, (lab, col, ls) in BOUND_STYLE.items():
        ax.loglog(levels, b[k], ls, color=col, lw=1.4, label=lab)
    ax.invert_xaxis()
    ax.set_ylim(0.03, 1.0)  # Cantelli leaves the panel: it grows like p^(-1/2)
    ax.set_xlabel("level p")
    ax.set_ylabel(r"$\alpha$: $P(\|\Phi x\|^2 \geq (1+\alpha)\|x\|^2) \leq p$")
    ax.set_title(f"unit impulse, J = {J}, T = {T}")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=7)
    res["vs_level_impulse"] = {
        "levels": levels.tolist(),
        "exact_quantile_alpha": truth.tolist(),
        **{k: v.tolist() for k, v in b.items()},
        "paper_exceedance_exact": d.sf((1 + b["paper"]) * d.mean).tolist(),
    }

    # (b) against T at one level, lazy random walk
    p = cfg.bound_vs_length_level
    x = sigs["lazy random walk"]
    L = np.array(cfg.lengths)
    truth = np.array(
        [float(theory.energy_quantile(1 - p, x, J, T)) / float(np.sum(x**2)) - 1 for T in L]
    )
    b = _bounds(x, J, cfg.lengths, p)
    ax = axes[1]
    ax.loglog(L, truth, "k-", lw=2.5, label="exact quantile (truth)")
    for k, (lab, col, ls) in BOUND_STYLE.items():
        ax.loglog(L, b[k], ls + "o", color=col, lw=1.4, ms=3, label=lab)
    ax.set_xscale("log", base=2)
    ax.set_xlabel("filter length T")
    ax.set_title(f"lazy random walk, J = {J}, N = {cfg.n}, p = {p:g}")
    ax.grid(True, which="both", alpha=0.3)
    res["vs_length_random_walk"] = {
        "level": p,
        "lengths": L.tolist(),
        "exact_quantile_alpha": truth.tolist(),
        **{k: v.tolist() for k, v in b.items()},
    }
    fig.suptitle("Deviation bounds against the exact quantile of the energy")
    fig.tight_layout()
    fig.savefig(path, dpi=130)
    plt.close(fig)
    return res


def main(argv=None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seed", type=int, default=Config.seed)
    ap.add_argument("--variance-draws", type=int, default=Config.variance_draws)
    ap.add_argument("--sf-draws", type=int, default=Config.sf_draws)
    ap.add_argument("--out", default=Config.out)
    a = ap.parse_args(argv)
    cfg = Config(seed=a.seed, variance_draws=a.variance_draws, sf_draws=a.sf_draws, out=a.out)
    out = Path(cfg.out)
    out.mkdir(parents=True, exist_ok=True)
    timings = {}
    # Monte Carlo in float32 (its rounding is far below the sampling error); closed forms,
    # bounds and exact laws in float64 (the host-side exact code is float64 in any case).
    with jax.enable_x64(True):
        key = jax.random.key(cfg.seed)
        k_sig, k_var, k_sf = jax.random.split(key, 3)
        sigs = make_signals(cfg.n, k_sig)
        t0 = time.perf_counter()
        var = variance_figure(cfg, sigs, k_var, out / "theory_variance.png")
        timings["variance"] = time.perf_counter() - t0
        t0 = time.perf_counter()
        sf = sf_figure(cfg, sigs, k_sf, out / "theory_sf.png")
        timings["sf"] = time.perf_counter() - t0
        t0 = time.perf_counter()
        bnd = bounds_figure(cfg, sigs, out / "theory_bounds.png")
        timings["bounds"] = time.perf_counter() - t0
    meta = {
        "experiment": "theory_figures",
        "config": asdict(cfg),
        **jaxfb.environment(),
        "timings_s": {"total": sum(timings.values()), **timings},
        "results": {"variance": var, "sf": sf, "bounds": bnd},
        "files": ["theory_variance.png", "theory_sf.png", "theory_bounds.png"],
    }
    io.save_json(out / "theory_figures.json", meta)
    print(
        f"wrote theory_variance.png, theory_sf.png, theory_bounds.png, theory_figures.json to "
        f"{out} in {meta['timings_s']['total']:.1f} s"
    )
    return meta


if __name__ == "__main__":
    main()
