"""Conv layers built by PyTorch, Flax (linen and nnx) and Equinox, checked against jaxfb.

None of these frameworks is a dependency of jaxfb; this script uses whichever are installed and
records the others as absent. Two checks per framework:

1. **The operator.** A ``Conv1d`` layer of the framework (``C_in = 3``, ``C_out = 8``, ``T = 5``,
   no bias; strides 1 and 2, dilations 1 and 2) is applied, with circular padding, to the
   ``C_in n`` unit impulses: that is its dense matrix ``Phi``, and the extreme eigenvalues of
   ``Phi^T Phi`` (float64, NumPy) are its frame bounds. They are compared with
   ``jaxfb.conv_frame_bounds(jaxfb.conv_kernel(weights, layout), n, stride=d, dilation=q)``.
   Frameworks compute cross-correlations, jaxfb's definition (docs/conv.md) is a convolution;
   the two operators differ by reversing the signal and the output, both permutations, so the
   bounds must agree to rounding.
2. **The default init.** The weights of freshly initialised layers (``C_in = 16``,
   ``C_out = 32``, ``T = 8``, ``--layers`` of them) against ``jaxfb.random_filterbank`` with the
   init jaxfb names for that framework: the variance (z-score from the fourth moment), the
   kurtosis, and a two-sample Kolmogorov-Smirnov test; for Flax's truncated default, the KS test
   against jaxfb's untruncated ``"lecun_normal"`` of the same variance as well.

Writes ``framework_layers.json`` and ``framework_layers.md`` to ``--out``::

    python experiments/framework_layers.py --out docs/figures
"""

from __future__ import annotations

import argparse
import importlib.util
import math

import jax
import numpy as np

jax.config.update("jax_enable_x64", True)

import jax.numpy as jnp  # noqa: E402
from scipy import stats  # noqa: E402

import jaxfb  # noqa: E402
from jaxfb import io  # noqa: E402

C_IN, C_OUT, T, N = 3, 8, 5, 24
OPERATOR_CASES = ((1, 1), (2, 1), (1, 2), (2, 2))  # (stride, dilation)
INIT_SHAPE = (16, 32, 8)  # C_in, C_out, T
# the jaxfb init that matches each framework's default Conv1d init (jaxfb.INITS)
JAXFB_INIT = {
    "torch": "pytorch",
    "equinox": "pytorch",
    "flax.linen": "lecun_truncated_normal",
    "flax.nnx": "lecun_truncated_normal",
}
UNTRUNCATED = {"lecun_truncated_normal": "lecun_normal"}
LAYOUT = {"torch": "torch", "equinox": "equinox", "flax.linen": "flax", "flax.nnx": "flax"}


def _installed(module: str) -> bool:
    return importlib.util.find_spec(module.split(".")[0]) is not None and (
        importlib.util.find_spec(module) is not None
    )


def _version(module: str) -> str:
    from importlib.metadata import version

    return version(module.split(".")[0])


def _circular(x: np.ndarray, extra: int) -> np.ndarray:
    """``(..., C, n)`` signals with the first ``extra`` samples appended: circular padding."""
    return np.concatenate([x, x[..., :extra]], axis=-1)


# --------------------------------------------------------------------------------------------
# One layer per framework: (kernel as the framework stores it, apply to (batch, C_in, n) float64)


def _torch_layer(seed, c_in, c_out, t, stride, dilation):
    import torch

    torch.manual_seed(seed)
    layer = torch.nn.Conv1d(c_in, c_out, t, stride=stride, dilation=dilation, bias=False)
    layer = layer.double()

    def apply(x):
        with torch.no_grad():
            return layer(torch.from_numpy(x)).numpy()

    return layer.weight.detach().numpy(), apply


def _linen_layer(seed, c_in, c_out, t, stride, dilation):
    import flax.linen as nn

    layer = nn.Conv(
        c_out, (t,), strides=(stride,), kernel_dilation=(dilation,), padding="VALID",
        use_bias=False, param_dtype=jnp.float64, dtype=jnp.float64,
    )  # fmt: skip
    params = layer.init(jax.random.key(seed), jnp.zeros((1, 64, c_in)))

    def apply(x):  # flax is channels-last
        y = layer.apply(params, jnp.swapaxes(jnp.asarray(x), -1, -2))
        return np.asarray(jnp.swapaxes(y, -1, -2))

    return np.asarray(params["params"]["kernel"]), apply


def _nnx_layer(seed, c_in, c_out, t, stride, dilation):
    from flax import nnx

    layer = nnx.Conv(
        c_in, c_out, (t,), strides=(stride,), kernel_dilation=(dilation,), padding="VALID",
        use_bias=False, param_dtype=jnp.float64, dtype=jnp.float64, rngs=nnx.Rngs(seed),
    )  # fmt: skip

    def apply(x):
        return np.asarray(jnp.swapaxes(layer(jnp.swapaxes(jnp.asarray(x), -1, -2)), -1, -2))

    return np.asarray(layer.kernel[...]), apply


def _equinox_layer(seed, c_in, c_out, t, stride, dilation):
    import equinox as eqx

    layer = eqx.nn.Conv1d(
        c_in, c_out, t, stride=stride, dilation=dilation, use_bias=False, dtype=jnp.float64,
        key=jax.random.key(seed),
    )  # fmt: skip

    def apply(x):
        return np.asarray(jax.vmap(layer)(jnp.asarray(x)))

    return np.asarray(layer.weight), apply


LAYERS = {
    "torch": _torch_layer,
    "flax.linen": _linen_layer,
    "flax.nnx": _nnx_layer,
    "equinox": _equinox_layer,
}


# --------------------------------------------------------------------------------------------
# The two checks


def operator_check(framework: str, seed: int) -> list[dict]:
    """Dense frame bounds of the framework's layer against jaxfb's, for each (stride, dilation)."""
    rows = []
    for stride, dilation in OPERATOR_CASES:
        kernel, apply = LAYERS[framework](seed, C_IN, C_OUT, T, stride, dilation)
        impulses = np.eye(C_IN * N).reshape(C_IN * N, C_IN, N)
        out = apply(_circular(impulses, (T - 1) * dilation))  # (C_in n, C_out, n/d)
        phi = out.reshape(C_IN * N, -1).T
        eig = np.linalg.eigvalsh(phi.T @ phi)
        w = jaxfb.conv_kernel(kernel, LAYOUT[framework])
        fb = jaxfb.conv_frame_bounds(w, N, stride=stride, dilation=dilation)
        a, b = float(fb.lower), float(fb.upper)
        rows.append(
            {
                "stride": stride,
                "dilation": dilation,
                "output_shape": list(out.shape[1:]),
                "A_dense": float(eig[0]),
                "B_dense": float(eig[-1]),
                "A_jaxfb": a,
                "B_jaxfb": b,
                "rel_err_A": abs(a - eig[0]) / eig[-1],
                "rel_err_B": abs(b - eig[-1]) / eig[-1],
            }
        )
    return rows


def _moments(x: np.ndarray) -> tuple[float, float, float]:
    """Variance, its standard error (from the fourth moment) and the kurtosis of ``x``."""
    var = float(np.var(x))
    m4 = float(np.mean((x - x.mean()) ** 4))
    return var, math.sqrt(max(m4 - var**2, 0.0) / x.size), m4 / var**2


def init_check(framework: str, layers: int, seed: int) -> dict:
    """The framework's default init against jaxfb's init of the same name."""
    c_in, c_out, t = INIT_SHAPE
    weights = np.concatenate(
        [LAYERS[framework](seed + i, c_in, c_out, t, 1, 1)[0].ravel() for i in range(layers)]
    )
    init = JAXFB_INIT[framework]
    ours = jaxfb.random_filterbank(
        jax.random.key(seed), c_out, t, in_channels=c_in, batch_shape=(layers,), init=init,
        dtype=jnp.float64,
    )  # fmt: skip
    ours = np.asarray(ours).ravel()
    var_fw, se_fw, kurt_fw = _moments(weights)
    var_us, se_us, kurt_us = _moments(ours)
    ks = stats.ks_2samp(weights, ours)
    record = {
        "jaxfb_init": init,
        "shape": {"C_in": c_in, "C_out": c_out, "T": t},
        "weights": int(weights.size),
        "var_framework": var_fw,
        "var_jaxfb": var_us,
        "var_z": (var_fw - var_us) / math.hypot(se_fw, se_us),
        "kurtosis_framework": kurt_fw,
        "kurtosis_jaxfb": kurt_us,
        "max_abs_framework": float(np.abs(weights).max()),
        "max_abs_jaxfb": float(np.abs(ours).max()),
        "ks_statistic": float(ks.statistic),
        "ks_pvalue": float(ks.pvalue),
    }
    if init in UNTRUNCATED:  # the same test against the untruncated init of the same variance
        other = jaxfb.random_filterbank(
            jax.random.key(seed + 1), c_out, t, in_channels=c_in, batch_shape=(layers,),
            init=UNTRUNCATED[init], dtype=jnp.float64,
        )  # fmt: skip
        record["untruncated_init"] = UNTRUNCATED[init]
        record["untruncated_ks_pvalue"] = float(
            stats.ks_2samp(weights, np.asarray(other).ravel()).pvalue
        )
    return record


def markdown(record: dict) -> str:
    lines = [
        "| framework | version | worst rel. error of A, B (4 layers) | default init "
        "| variance (framework / jaxfb) | z | kurtosis (framework / jaxfb) | KS p "
        "| KS p, untruncated |",
        "| --- | --- | ---: | --- | --- | ---: | --- | ---: | ---: |",
    ]
    for name, r in record["frameworks"].items():
        if not r["installed"]:
            lines.append(f"| {name} | not installed | | | | | | | |")
            continue
        err = max(max(c["rel_err_A"], c["rel_err_B"]) for c in r["operator"])
        i = r["init"]
        untruncated = f"{i['untruncated_ks_pvalue']:.2g}" if "untruncated_init" in i else "-"
        lines.append(
            f"| {name} | {r['version']} | {err:.1e} | {i['jaxfb_init']} "
            f"| {i['var_framework']:.5f} / {i['var_jaxfb']:.5f} | {i['var_z']:+.1f} "
            f"| {i['kurtosis_framework']:.2f} / {i['kurtosis_jaxfb']:.2f} | {i['ks_pvalue']:.2g} "
            f"| {untruncated} |"
        )
    return "\n".join(lines) + "\n"


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", default="docs/figures")
    parser.add_argument("--layers", type=int, default=200, help="layers drawn per init check")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    out = io.check_writable(args.out)
    record = {"environment": jaxfb.environment(), "frameworks": {}}
    for name in LAYERS:
        if not _installed(name):
            record["frameworks"][name] = {"installed": False}
            print(f"{name}: not installed")
            continue
        entry = {"installed": True, "version": _version(name)}
        entry["operator"] = operator_check(name, args.seed)
        entry["init"] = init_check(name, args.layers, args.seed)
        record["frameworks"][name] = entry
        print(name, entry["version"], "operator worst rel err:",
              max(max(c["rel_err_A"], c["rel_err_B"]) for c in entry["operator"]))  # fmt: skip
    io.save_json(out / "framework_layers.json", record)
    io.atomic_write_text(out / "framework_layers.md", markdown(record))
    print(markdown(record))
    return record


if __name__ == "__main__":
    main()
