"""How decimation (stride) worsens the conditioning of random filterbanks; aliasing-term moments.

For each filter length ``T`` the same random filterbanks (the paper's Gaussian init, ``J``
filters) are decimated by every stride ``d`` (common random numbers), and the optimal frame
bounds of the strided analysis operator ``x -> ((x (*) w_j)[m d])`` are computed exactly from the
``d x d`` aliasing matrices (``jaxfb.frame_bounds(w, n, stride=d)``). Reported per ``(T, d)``:
mean and standard error of ``d A`` and ``d B`` (the bounds on the scale where
``E||Phi_d x||^2 = ||x||^2``), mean / median of ``kappa``, ``E[log kappa]``, and the fraction of
non-frames (``A = 0``, exactly when ``min(J, T) < d``). The off-diagonal entries of the aliasing
matrices are compared with their closed-form mean and variance (``jaxfb.aliasing_moments``).

Writes ``strided.png``, ``strided.json`` (config, versions, device, timings, summary) and
``strided.npz`` (per-draw bounds) to ``--out`` (default ``docs/figures``).

    python experiments/strided.py                # J = 40, N = 1024, 400 draws
    python experiments/strided.py --draws 50     # quick look
"""

from __future__ import annotations

import os

# Thousands of tiny LAPACK eigenproblems: threaded BLAS only oversubscribes the cores.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import argparse
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np

import jaxfb
from jaxfb import io


@dataclass
class Config:
    seed: int = 20240705
    num_filters: int = 40
    n: int = 1024
    lengths: tuple[int, ...] = (16, 64, 256)
    strides: tuple[int, ...] = (1, 2, 4, 8, 16, 32, 64)
    draws: int = 400
    chunk: int = 100
    x64: bool = False
    out: str = "docs/figures"
    notes: list[str] = field(
        default_factory=lambda: [
            "A, B are scaled by d (E||Phi_d x||^2 = ||x||^2 / d for the paper's init)",
            "same filterbanks for every stride at a given T (common random numbers)",
            "min(J, T) < d gives A = 0 exactly (kappa = inf): d = 32 at T = 16, d = 64 always",
        ]
    )


def aliasing_summary(M: np.ndarray, mom: jaxfb.AliasingMoments, d: int) -> dict:
    """Aliasing terms (``a < b``) of ``M_k`` against the closed-form mean and variance.

    Pooled per draw (so that correlated entries are handled by the empirical standard error):
    ``z_s = mean over entries of (M - mean) / sqrt(var)`` and ``r_s = mean over entries of
    |M - mean|^2 / var``; the closed forms predict ``E z_s = 0`` and ``E r_s = 1``.
    """
    S = M.shape[0]
    off = np.triu(np.ones((d, d), dtype=bool), k=1)  # a < b (M[b, a] is the conjugate)
    mean_true, var_true = mom.mean[:, off], mom.variance[:, off]
    dev = M[:, :, off] - mean_true  # (S, K, d(d-1))
    z = np.mean(dev / np.sqrt(var_true), axis=(1, 2))
    r = np.mean(np.abs(dev) ** 2 / var_true, axis=(1, 2))
    se_r = float(np.std(r) / np.sqrt(S))
    return {
        "max_abs_true_mean": float(np.max(np.abs(mean_true))),
        "mean_z_re": float(z.real.mean() / (z.real.std() / np.sqrt(S))),
        "mean_z_im": float(z.imag.mean() / (z.imag.std() / np.sqrt(S))),
        "var_ratio": float(r.mean()),
        "var_ratio_se": se_r,
        "var_ratio_z": float((r.mean() - 1) / se_r),
        "sample_var_mean": float(np.mean(np.abs(dev) ** 2)),
        "true_var_mean": float(np.mean(var_true)),
    }


def run(cfg: Config) -> dict:
    J, n = cfg.num_filters, cfg.n
    key = jax.random.key(cfg.seed)
    dtype = jnp.float64 if cfg.x64 else jnp.float32
    results, raw, timings = [], {}, {}
    for T in cfg.lengths:
        kT = jax.random.fold_in(key, T)
        chunks = [
            jaxfb.random_filterbank(
                jax.random.fold_in(kT, c),
                J,
                T,
                batch_shape=(min(cfg.chunk, cfg.draws - s),),
                dtype=dtype,
            )
            for c, s in enumerate(range(0, cfg.draws, cfg.chunk))
        ]
        for d in cfg.strides:
            if n % d:
                continue
            t0 = time.perf_counter()
            A, B = zip(*(jaxfb.frame_bounds(w, n, stride=d) for w in chunks), strict=True)
            A = np.concatenate([np.asarray(a, np.float64) for a in A])
            B = np.concatenate([np.asarray(b, np.float64) for b in B])
            timings[f"T{T}_d{d}"] = time.perf_counter() - t0
            kappa = np.where(A > 0, B / np.where(A > 0, A, 1), np.inf)
            frame = A > 0
            row = {
                "T": T,
                "d": d,
                "dA_mean": float(np.mean(d * A)),
                "dA_se": float(np.std(d * A) / np.sqrt(A.size)),
                "dB_mean": float(np.mean(d * B)),
                "dB_se": float(np.std(d * B) / np.sqrt(B.size)),
                "fraction_not_frame": float(np.mean(~frame)),
                "kappa_mean": float(np.mean(kappa)) if frame.all() else float("inf"),
                "kappa_se": float(np.std(kappa) / np.sqrt(kappa.size)) if frame.all() else None,
                "kappa_median": float(np.median(kappa)),
                "mean_log_kappa": float(np.mean(np.log(kappa))) if frame.all() else float("inf"),
                "ratio_of_means": float(np.mean(B) / np.mean(A)) if frame.all() else float("inf"),
                "marchenko_pastur_kappa": (
                    float(marchenko_pastur_kappa(d, J)) if d < J else float("inf")
                ),
            }
            if d > 1:
                M = np.concatenate(
                    [np.asarray(jaxfb.aliasing_matrices(w, n, d), np.complex128) for w in chunks]
                )
                mom = jaxfb.aliasing_moments(J, T, n, d)
                row["aliasing"] = aliasing_summary(M, mom, d)
                row["aliasing"]["J_d2_true_var_mean"] = float(
                    J * d**2 * np.mean(mom.variance[:, ~np.eye(d, dtype=bool)])
                )
            results.append(row)
            raw[f"A_T{T}_d{d}"] = A
            raw[f"B_T{T}_d{d}"] = B
            print(
                f"T={T:4d} d={d:3d}  dA={row['dA_mean']:.4f}  dB={row['dB_mean']:.4f}  "
                f"kappa mean={row['kappa_mean']:.3f} median={row['kappa_median']:.3f}  "
                f"non-frames={row['fraction_not_frame']:.2f}"
                + (
                    f"  alias var MC/theory={row['aliasing']['var_ratio']:.4f}"
                    f" +- {row['aliasing']['var_ratio_se']:.4f}"
                    if d > 1
                    else ""
                ),
                flush=True,
            )
    return {"results": results, "raw": raw, "timings_s": timings}


def plot(cfg: Config, results: list[dict], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 3, figsize=(14, 4.2))
    for T in cfg.lengths:
        rows = [r for r in results if r["T"] == T]
        d = np.array([r["d"] for r in rows])
        fr = np.array([r["fraction_not_frame"] == 0 for r in rows])
        (line,) = axes[0].plot(d, [r["dB_mean"] for r in rows], "o-", label=f"T={T}: d B")
        axes[0].plot(
            d, [r["dA_mean"] for r in rows], "s--", color=line.get_color(), label=f"T={T}: d A"
        )
        axes[1].plot(
            d[fr],
            [r["kappa_mean"] for r, f in zip(rows, fr, strict=True) if f],
            "o-",
            color=line.get_color(),
            label=f"T={T}: mean",
        )
        axes[1].plot(
            d[fr],
            [r["ratio_of_means"] for r, f in zip(rows, fr, strict=True) if f],
            "x:",
            color=line.get_color(),
            label=f"T={T}: mean B / mean A",
        )
        for r in rows:
            if r["fraction_not_frame"] > 0:
                axes[1].axvline(r["d"], color=line.get_color(), alpha=0.25, lw=4)
        rows_a = [r for r in rows if r["d"] > 1]
        da = np.array([r["d"] for r in rows_a])
        axes[2].errorbar(
            da,
            [J_d2(r, cfg, "sample_var_mean") for r in rows_a],
            yerr=[J_d2(r, cfg, "true_var_mean") * r["aliasing"]["var_ratio_se"] for r in rows_a],
            fmt="o",
            capsize=3,
            color=line.get_color(),
            label=f"T={T}: Monte Carlo (+- SE)",
        )
        axes[2].plot(
            da,
            [J_d2(r, cfg, "true_var_mean") for r in rows_a],
            "-",
            color=line.get_color(),
            label=f"T={T}: closed form",
        )
    d_mp = np.array([d for d in cfg.strides if d < cfg.num_filters])
    axes[1].plot(
        d_mp,
        marchenko_pastur_kappa(d_mp, cfg.num_filters),
        "k--",
        lw=1,
        label="Marchenko-Pastur edge ratio",
    )
    for ax in axes:
        ax.set_xscale("log", base=2)
        ax.set_xlabel("stride d")
        ax.grid(alpha=0.3)
    axes[0].set_title(f"frame bounds x d (J={cfg.num_filters}, N={cfg.n})")
    axes[0].legend(fontsize=7, ncol=2)
    axes[1].set_yscale("log")
    axes[1].set_title("condition number (shaded: A = 0, no frame)")
    axes[1].legend(fontsize=7)
    axes[2].set_title("aliasing terms: J d^2 E|M_k[a,b]|^2, a != b")
    axes[2].legend(fontsize=7)
    fig.suptitle(f"strided random filterbanks, {cfg.draws} draws, seed {cfg.seed}", fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=130)
    plt.close(fig)


def marchenko_pastur_kappa(d, J):
    """``((1 + sqrt(d/J)) / (1 - sqrt(d/J)))^2``: the edge ratio of one block ``M_k``.

    For ``T = N`` an interior block is ``H^H H / d`` with ``H`` a ``J x d`` matrix of i.i.d.
    complex Gaussians of variance ``1/J``; its spectrum fills the Marchenko-Pastur support
    ``[(1 - sqrt(d/J))^2, (1 + sqrt(d/J))^2] / d`` as ``J, d`` grow. A reference for ``d``
    close to ``J``; for small ``d`` the extremes over the ``N / (2d)`` blocks dominate.
    """
    r = np.sqrt(np.asarray(d, np.float64) / J)
    return ((1 + r) / (1 - r)) ** 2


def J_d2(row: dict, cfg: Config, name: str) -> float:
    return cfg.num_filters * row["d"] ** 2 * row["aliasing"][name]


def main(argv=None) -> dict:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--seed", type=int, default=Config.seed)
    p.add_argument("--draws", type=int, default=Config.draws)
    p.add_argument("--num-filters", type=int, default=Config.num_filters)
    p.add_argument("--n", type=int, default=Config.n)
    p.add_argument("--lengths", type=int, nargs="+", default=list(Config.lengths))
    p.add_argument("--strides", type=int, nargs="+", default=list(Config.strides))
    p.add_argument("--x64", action="store_true")
    p.add_argument("--out", default=Config.out)
    a = p.parse_args(argv)
    cfg = Config(
        seed=a.seed,
        draws=a.draws,
        num_filters=a.num_filters,
        n=a.n,
        lengths=tuple(a.lengths),
        strides=tuple(a.strides),
        x64=a.x64,
        out=a.out,
    )
    out = Path(cfg.out)
    out.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    with jax.enable_x64(cfg.x64):
        res = run(cfg)
    total = time.perf_counter() - t0
    plot(cfg, res["results"], out / "strided.png")
    io.save_npz(out / "strided.npz", res["raw"])
    meta = {
        "experiment": "strided",
        "config": asdict(cfg),
        **jaxfb.environment(),
        "timings_s": {"total": total, **res["timings_s"]},
        "results": res["results"],
        "files": ["strided.png", "strided.npz"],
    }
    io.save_json(out / "strided.json", meta)
    print(f"wrote {out / 'strided.png'}, strided.json, strided.npz in {total:.1f} s")
    return meta


if __name__ == "__main__":
    main()
