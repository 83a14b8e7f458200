"""Fit random filterbanks to a mel filterbank by gradient descent, with and without a penalty.

Each run starts from the paper's Gaussian init (``J`` filters of length ``T``) and minimises,
with Adam, the relative power-spectrum error to the target ``h = jaxfb.mel_filterbank(J, T, sr)``

    fit(w) = sum_{j,k} (|w_hat_j(k)|^2 - |h_hat_j(k)|^2)^2 / sum_{j,k} |h_hat_j(k)|^4

(``n``-point grid, ``k = 0..n//2``; phase-free, as a learned front end would be judged), plus
``lam * log(jaxfb.smooth_condition_number(w, n, temperature=tau))``. ``lam = 0`` is the
unpenalised fit. Logged every step: the fit error, the true condition number ``kappa`` and the
smooth one. All seeds and penalty weights of one ``T`` train in one compiled, vmapped
``lax.scan``. The mel target itself is a poor frame (its Littlewood-Paley sum dips at Nyquist,
above the top band), so an exact fit inherits its ``kappa``; the penalty trades a little fit for
conditioning.

Writes ``train_filterbank.png``, ``train_filterbank.json`` (config, versions, device, timings,
final numbers) and ``train_filterbank.npz`` (trajectories) to ``--out``.

    python experiments/train_filterbank.py --out docs/figures          # full study
    python experiments/train_filterbank.py --quick --out /tmp/tf       # < 60 s on a laptop CPU
"""

from __future__ import annotations

import argparse
import json
import platform
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
import optax

import jaxfb


@dataclass
class Config:
    seed: int = 20240705
    num_filters: int = 40
    lengths: tuple[int, ...] = (32, 64, 128, 256, 512, 1024)
    n: int = 1024
    sample_rate: float = 16000.0
    seeds: int = 3
    penalty_weights: tuple[float, ...] = (0.0, 0.01)
    temperature: float = 0.05
    steps: int = 3000
    learning_rate: float = 0.05  # times 1/sqrt(J T), the init's weight scale; cosine decay
    quick: bool = False
    out: str = "docs/figures"


QUICK = {"lengths": (32, 64), "n": 256, "seeds": 2, "steps": 150}


def power_spectra(w: jax.Array, n: int) -> jax.Array:
    W = jnp.fft.rfft(w, n=n, axis=-1)
    return W.real**2 + W.imag**2


def make_trainer(cfg: Config, T: int):
    """Compiled ``(w0 (P, S, J, T), lam (P,), target (J, T)) -> (w, history)``."""
    n = cfg.n
    lr = cfg.learning_rate / np.sqrt(cfg.num_filters * T)
    opt = optax.adam(optax.cosine_decay_schedule(lr, cfg.steps, alpha=0.01))

    def fit(w, target_power, scale):
        return jnp.sum((power_spectra(w, n) - target_power) ** 2) / scale

    def train_one(w0, lam, target_power, scale):
        def loss(w):
            f = fit(w, target_power, scale)
            ks = jaxfb.smooth_condition_number(w, n, temperature=cfg.temperature, method="fft")
            return f + lam * jnp.log(ks), (f, ks)

        def step(carry, _):
            w, state = carry
            (_, (f, ks)), g = jax.value_and_grad(loss, has_aux=True)(w)
            kappa = jaxfb.condition_number(w, n, method="fft")
            updates, state = opt.update(g, state)
            return (optax.apply_updates(w, updates), state), (f, kappa, ks)

        (w, _), hist = jax.lax.scan(step, (w0, opt.init(w0)), None, length=cfg.steps)
        return w, hist

    @jax.jit
    def train(w0, lam, target):
        target_power = power_spectra(target, n)
        scale = jnp.sum(target_power**2)
        per_seed = jax.vmap(train_one, in_axes=(0, None, None, None))
        per_lam = jax.vmap(per_seed, in_axes=(0, 0, None, None))
        return per_lam(w0, lam, target_power, scale)

    def final_fit(w, target):
        tp = power_spectra(target, n)
        tp_b = tp.reshape((1,) * (w.ndim - 2) + tp.shape)  # explicit batch broadcast
        return jnp.sum((power_spectra(w, n) - tp_b) ** 2, axis=(-2, -1)) / jnp.sum(tp**2)

    return train, jax.jit(final_fit)


def run(cfg: Config) -> dict:
    J = cfg.num_filters
    key = jax.random.key(cfg.seed)
    lam = jnp.asarray(cfg.penalty_weights, jnp.float32)
    P = len(cfg.penalty_weights)
    rows, traj, timings = [], {}, {}
    for T in cfg.lengths:
        target = jaxfb.mel_filterbank(J, T, cfg.sample_rate)
        w0 = jaxfb.random_filterbank(jax.random.fold_in(key, T), J, T, batch_shape=(cfg.seeds,))
        w0 = jnp.broadcast_to(w0, (P, *w0.shape))  # same inits for every penalty weight
        train, final_fit = make_trainer(cfg, T)
        t0 = time.perf_counter()
        w, (fit_h, kappa_h, smooth_h) = jax.block_until_ready(train(w0, lam, target))
        timings[f"T{T}"] = time.perf_counter() - t0
        fit_final = np.asarray(final_fit(w, target))  # (P, S)
        kappa_final = np.asarray(jaxfb.condition_number(w, cfg.n, method="fft"))
        kappa_target = float(jaxfb.condition_number(target, cfg.n, method="fft"))
        kappa_init = np.asarray(jaxfb.condition_number(w0[0], cfg.n, method="fft"))
        fit_init = np.asarray(final_fit(w0[0], target))
        for p, lam_p in enumerate(cfg.penalty_weights):
            rows.append(
                {
                    "T": T,
                    "penalty_weight": lam_p,
                    "fit_init": fit_init.tolist(),
                    "fit_final": fit_final[p].tolist(),
                    "kappa_init": kappa_init.tolist(),
                    "kappa_final": kappa_final[p].tolist(),
                    "kappa_target": kappa_target,
                    "fit_final_median": float(np.median(fit_final[p])),
                    "kappa_final_median": float(np.median(kappa_final[p])),
                }
            )
            print(
                f"T={T:5d} lam={lam_p:<6g} fit {np.median(fit_init):.3f} -> "
                f"{np.median(fit_final[p]):.2e}   kappa {np.median(kappa_init):.2f} -> "
                f"{np.median(kappa_final[p]):.2f} (target {kappa_target:.1f})",
                flush=True,
            )
        traj[f"fit_T{T}"] = np.asarray(fit_h)  # (P, S, steps)
        traj[f"kappa_T{T}"] = np.asarray(kappa_h)
        traj[f"smooth_kappa_T{T}"] = np.asarray(smooth_h)
    return {"rows": rows, "traj": traj, "timings_s": timings}


def plot(cfg: Config, res: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 4, figsize=(17, 4))
    colors = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    T_show = cfg.lengths[len(cfg.lengths) // 2]
    steps = np.arange(1, cfg.steps + 1)
    for p, lam in enumerate(cfg.penalty_weights):
        c = colors[p % len(colors)]
        lab = "no penalty" if lam == 0 else f"lam={lam:g}"
        for s in range(cfg.seeds):
            kw = {"color": c, "alpha": 0.7, "label": lab if s == 0 else None}
            axes[0].plot(steps, res["traj"][f"fit_T{T_show}"][p, s], **kw)
            axes[1].plot(steps, res["traj"][f"kappa_T{T_show}"][p, s], **kw)
        rows = [r for r in res["rows"] if r["penalty_weight"] == lam]
        Ts = [r["T"] for r in rows]
        axes[2].plot(Ts, [r["fit_final_median"] for r in rows], "o-", color=c, label=lab)
        axes[3].plot(Ts, [r["kappa_final_median"] for r in rows], "o-", color=c, label=lab)
    rows0 = [r for r in res["rows"] if r["penalty_weight"] == cfg.penalty_weights[0]]
    axes[3].plot(
        [r["T"] for r in rows0], [r["kappa_target"] for r in rows0], "k--", label="mel target"
    )
    axes[3].plot(
        [r["T"] for r in rows0],
        [np.median(r["kappa_init"]) for r in rows0],
        "k:",
        label="random init",
    )
    axes[0].set(yscale="log", xscale="log", xlabel="step", title=f"fit error, T={T_show}")
    axes[1].set(yscale="log", xscale="log", xlabel="step", title=f"condition number, T={T_show}")
    axes[2].set(xscale="log", yscale="log", xlabel="T", title="final fit error (median)")
    axes[3].set(xscale="log", yscale="log", xlabel="T", title="final condition number (median)")
    for ax in axes:
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7)
    fig.suptitle(
        f"fitting J={cfg.num_filters} filters to a mel filterbank (N={cfg.n}, "
        f"{cfg.seeds} seeds, {cfg.steps} Adam steps, seed {cfg.seed})",
        fontsize=10,
    )
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def main(argv=None) -> dict:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--quick", action="store_true", help="small run (about a minute on a CPU)")
    p.add_argument("--out", default=Config.out)
    p.add_argument("--seed", type=int, default=Config.seed)
    p.add_argument("--seeds", type=int, default=None)
    p.add_argument("--steps", type=int, default=None)
    p.add_argument("--lengths", type=int, nargs="+", default=None)
    p.add_argument("--penalty-weights", type=float, nargs="+", default=None)
    p.add_argument("--temperature", type=float, default=Config.temperature)
    a = p.parse_args(argv)
    kw = dict(QUICK) if a.quick else {}
    for name in ("seeds", "steps", "lengths", "penalty_weights"):
        val = getattr(a, name)
        if val is not None:
            kw[name] = tuple(val) if isinstance(val, list) else val
    cfg = Config(seed=a.seed, temperature=a.temperature, quick=a.quick, out=a.out, **kw)
    out = Path(cfg.out)
    out.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    res = run(cfg)
    total = time.perf_counter() - t0
    plot(cfg, res, out / "train_filterbank.png")
    np.savez_compressed(out / "train_filterbank.npz", **res["traj"])
    dev = jax.devices()[0]
    meta = {
        "experiment": "train_filterbank",
        "config": asdict(cfg),
        "versions": {
            "jaxfb": jaxfb.__version__,
            "jax": jax.__version__,
            "optax": optax.__version__,
            "numpy": np.__version__,
            "python": platform.python_version(),
        },
        "device": {"platform": dev.platform, "kind": dev.device_kind, "count": jax.device_count()},
        "timings_s": {"total": total, **res["timings_s"]},
        "results": res["rows"],
        "files": ["train_filterbank.png", "train_filterbank.npz"],
    }
    (out / "train_filterbank.json").write_text(json.dumps(meta, indent=2) + "\n")
    print(f"wrote {out}/train_filterbank.{{png,json,npz}} in {total:.1f} s")
    return meta


if __name__ == "__main__":
    main()
