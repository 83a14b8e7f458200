"""Frame bounds of a small raw-audio encoder's conv layers, alone and composed.

Four strided 1-D conv layers, channels 1 -> 32 -> 64 -> 128 -> 128, circular, kernel sizes
about twice the stride, at two stride plans:

- ``encodec``: strides (2, 4, 5, 8), kernels (4, 8, 10, 16): EnCodec's / SoundStream's strides
  (the total stride 320 of a 24 kHz EnCodec). Layers with ``C_out < d C_in`` map to fewer
  dimensions than they read, so they are no frame: ``A = 0`` exactly.
- ``frame``: strides (2, 2, 2, 1), kernels (4, 4, 4, 3): every layer keeps ``C_out >= d C_in``.

Each plan is drawn at PyTorch's default init (``kaiming_uniform_(a=sqrt(5))``, fan_in =
C_in T) and at the paper's init (``N(0, 1/(C_out T))``, ``E[Phi^T Phi] = I/d``), ``--draws``
times. Reported per layer: ``A``, ``B`` and ``kappa`` (``jaxfb.conv_frame_bounds``) on the
signal length the layer sees, at ``--n`` samples at the input. For the linear stack (no
nonlinearity) at a small input length ``--n-small`` the exact bounds of the composed operator
are computed densely (``Phi = Phi_4 Phi_3 Phi_2 Phi_1`` applied to the ``n`` unit impulses,
eigenvalues of ``Phi^T Phi``, float64) and, as a check, by the polyphase kernel at the total
stride (the composed operator is one strided filterbank, its filters read off the impulse
responses); both are compared with the products of the per-layer bounds,
``prod A_i <= A <= B <= prod B_i``.

Writes ``encoder.json`` and ``encoder.md`` (the tables of ``docs/conv.md``) to ``--out``
(default ``docs/figures``); ``--markdown-only`` rewrites the tables from the JSON::

    python experiments/encoder.py             # n = 640 at the input, 4 draws
    python experiments/encoder.py --draws 1   # quick look
"""

from __future__ import annotations

import argparse
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np

import jaxfb
from jaxfb import io

CHANNELS = (1, 32, 64, 128, 128)
PLANS = {
    "encodec": {"strides": (2, 4, 5, 8), "kernels": (4, 8, 10, 16)},
    "frame": {"strides": (2, 2, 2, 1), "kernels": (4, 4, 4, 3)},
}
INITS = {"pytorch": "PyTorch Conv1d default", "gaussian": "the paper's N(0, 1/(C_out T))"}


@dataclass
class Config:
    seed: int = 20241204
    n: int = 640
    n_small: dict | None = None
    draws: int = 4
    out: str = "docs/figures"

    def __post_init__(self):
        if self.n_small is None:  # divisible by the total stride; dense Phi^T Phi is n x n
            self.n_small = {"encodec": 640, "frame": 64}


def draw_layers(key, plan: dict, init: str) -> list[jax.Array]:
    """``(C_out, C_in, T)`` float64 weights of the four layers."""
    keys = jax.random.split(key, len(plan["strides"]))
    return [
        jaxfb.random_filterbank(k, c_out, T, in_channels=c_in, init=init, dtype=jnp.float64)
        for k, c_in, c_out, T in zip(
            keys, CHANNELS[:-1], CHANNELS[1:], plan["kernels"], strict=True
        )
    ]


def apply_layer(w: np.ndarray, x: np.ndarray, d: int) -> np.ndarray:
    """``y_j[m] = sum_c sum_t w[j, c, t] x_c[(m d - t) mod n]`` for ``x`` of shape ``(B, C, n)``."""
    n = x.shape[-1]
    W = np.fft.rfft(w, n=n, axis=-1)  # (J, C, n//2 + 1)
    X = np.fft.rfft(x, axis=-1)  # (B, C, n//2 + 1)
    z = np.fft.irfft(np.einsum("jck,bck->bjk", W, X), n=n, axis=-1)
    return z[..., ::d]


def composed_bounds(layers, strides, n: int) -> dict:
    """Exact bounds of the linear stack on length-``n`` inputs: dense and polyphase."""
    x = np.eye(n)[:, None, :]  # the n unit impulses, (n, 1, n)
    for w, d in zip(layers, strides, strict=True):
        x = apply_layer(np.asarray(w), x, d)
    Phi = x.reshape(n, -1).T  # columns: responses to the impulses
    lam = np.linalg.eigvalsh(Phi.T @ Phi)
    D = int(np.prod(strides))
    # one strided filterbank: y_j[0] = sum_s g_j[(-s) mod n] x[s]
    g = np.zeros((x.shape[1], 1, n))
    g[:, 0, (-np.arange(n)) % n] = x[:, :, 0].T
    A, B = jaxfb.conv_frame_bounds(jnp.asarray(g), n, stride=D)
    return {
        "n": n,
        "total_stride": D,
        "dense_lower": max(float(lam[0]), 0.0),
        "dense_upper": float(lam[-1]),
        "polyphase_lower": float(A),
        "polyphase_upper": float(B),
    }


def layer_bounds(layers, strides, n: int) -> list[dict]:
    out, length = [], n
    for w, d in zip(layers, strides, strict=True):
        A, B = jaxfb.conv_frame_bounds(w, length, stride=d)
        C_out, C_in, T = w.shape
        out.append(
            {
                "C_in": C_in,
                "C_out": C_out,
                "T": T,
                "stride": d,
                "n": length,
                "frame_possible": C_out >= d * C_in,
                "lower": float(A),
                "upper": float(B),
                "kappa": float(B / A) if A > 0 else float("inf"),
            }
        )
        length //= d
    return out


def run(cfg: Config) -> dict:
    results = {}
    root = jax.random.key(cfg.seed)
    for p, (plan_name, plan) in enumerate(PLANS.items()):
        for i, init in enumerate(INITS):
            draws = []
            for r in range(cfg.draws):
                key = jax.random.fold_in(jax.random.fold_in(jax.random.fold_in(root, p), i), r)
                layers = draw_layers(key, plan, init)
                n_small = cfg.n_small[plan_name]
                small = layer_bounds(layers, plan["strides"], n_small)
                comp = composed_bounds(layers, plan["strides"], n_small)
                comp["product_of_layer_lower"] = float(np.prod([s["lower"] for s in small]))
                comp["product_of_layer_upper"] = float(np.prod([s["upper"] for s in small]))
                draws.append(
                    {
                        "layers": layer_bounds(layers, plan["strides"], cfg.n),
                        "layers_small_n": small,
                        "composed_small_n": comp,
                    }
                )
            results[f"{plan_name}/{init}"] = {"plan": plan, "init": init, "draws": draws}
    return results


def summary(results: dict) -> dict:
    """Per plan/init: median over draws of each layer's A, B, kappa; composed vs products."""
    out = {}
    for name, res in results.items():
        draws = res["draws"]
        layers = []
        for i in range(len(draws[0]["layers"])):
            rows = [d["layers"][i] for d in draws]
            layers.append(
                {k: rows[0][k] for k in ("C_in", "C_out", "T", "stride", "n", "frame_possible")}
                | {k: float(np.median([r[k] for r in rows])) for k in ("lower", "upper", "kappa")}
            )
        comp = [d["composed_small_n"] for d in draws]
        keys = [k for k in comp[0] if k not in ("n", "total_stride")]
        out[name] = {
            "layers_median": layers,
            "composed_median": {k: float(np.median([c[k] for c in comp])) for k in keys},
            "composed_n": comp[0]["n"],
            "max_rel_gap_dense_polyphase_upper": max(
                abs(c["dense_upper"] - c["polyphase_upper"]) / c["dense_upper"] for c in comp
            ),
            "max_gap_dense_polyphase_lower_over_upper": max(
                abs(c["dense_lower"] - c["polyphase_lower"]) / c["dense_upper"] for c in comp
            ),
        }
    return out


LABELS = {"pytorch": "PyTorch's default init", "gaussian": "the paper's init"}


def markdown(summary_: dict) -> str:
    """The tables docs/conv.md pastes: per-layer medians, then composed against products."""
    out = []
    for name, s in summary_.items():
        plan, init = name.split("/")
        out += [
            f"Stride plan `{plan}`, {LABELS[init]}:",
            "",
            "| layer | C_in -> C_out | T | stride | n | frame possible | A | B | kappa |",
            "| --- | --- | --- | --- | --- | --- | --- | --- | --- |",
        ]
        for i, r in enumerate(s["layers_median"]):
            out.append(
                f"| {i + 1} | {r['C_in']} -> {r['C_out']} | {r['T']} | {r['stride']} | {r['n']} "
                f"| {'yes' if r['frame_possible'] else 'no'} | {r['lower']:.3g} | {r['upper']:.3g} "
                f"| {float(r['kappa']):.3g} |"
            )
        out.append("")
    out += [
        "| plan, init | n | composed A | composed B | product of A_i | product of B_i |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for name, s in summary_.items():
        c = s["composed_median"]
        out.append(
            f"| {name} | {s['composed_n']} | {c['dense_lower']:.3g} | {c['dense_upper']:.3g} "
            f"| {c['product_of_layer_lower']:.3g} | {c['product_of_layer_upper']:.3g} |"
        )
    return "\n".join(out) + "\n"


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=Config.n)
    ap.add_argument("--draws", type=int, default=Config.draws)
    ap.add_argument("--seed", type=int, default=Config.seed)
    ap.add_argument("--out", default=Config.out)
    ap.add_argument(
        "--markdown-only", action="store_true", help="rewrite encoder.md from encoder.json"
    )
    args = ap.parse_args(argv)
    if args.markdown_only:
        record = io.load_json(Path(args.out) / "encoder.json")
        io.atomic_write_text(Path(args.out) / "encoder.md", markdown(record["summary"]))
        return
    cfg = Config(seed=args.seed, n=args.n, draws=args.draws, out=args.out)
    jax.config.update("jax_enable_x64", True)
    t0 = time.perf_counter()
    results = run(cfg)
    record = {
        "config": asdict(cfg) | {"channels": CHANNELS, "plans": PLANS, "inits": INITS},
        "environment": jaxfb.environment(),
        "seconds": time.perf_counter() - t0,
        "summary": summary(results),
        "results": results,
    }
    Path(cfg.out).mkdir(parents=True, exist_ok=True)
    path = Path(cfg.out) / "encoder.json"
    io.save_json(path, record)
    io.atomic_write_text(Path(cfg.out) / "encoder.md", markdown(record["summary"]))
    for name, s in record["summary"].items():
        kappas = ", ".join(f"{layer['kappa']:.3g}" for layer in s["layers_median"])
        c = s["composed_median"]
        print(
            f"{name:18s} layer kappa [{kappas}]  composed A={c['dense_lower']:.3g} "
            f"B={c['dense_upper']:.3g}  prod A={c['product_of_layer_lower']:.3g} "
            f"prod B={c['product_of_layer_upper']:.3g}"
        )
    print(f"wrote {path} ({record['seconds']:.0f} s)")


if __name__ == "__main__":
    main()
