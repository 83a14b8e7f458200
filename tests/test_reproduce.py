"""``jaxfb reproduce``: exact pieces vs the library, a tiny end-to-end run, determinism, CLI."""

from __future__ import annotations

import json
import math
import re
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import jaxfb
from jaxfb import reproduce, signals, theory
from jaxfb.cli import main
from jaxfb.reproduce import _predictions, _simulate, _theory
from jaxfb.reproduce._tables import quantile_se, ratio_of_means, read_csv, select, write_csv

# -- exact pieces ------------------------------------------------------------------------------


def _signals(n):
    key = jax.random.key(3)
    return np.stack(
        [
            np.eye(1, n)[0],
            np.asarray(signals.lazy_random_walk(key, n), np.float64),
            np.asarray(signals.alternating(n), np.float64),
        ]
    )


def test_host_bounds_match_jaxfb_theory():
    """The host-side closed forms equal jaxfb.theory's kernels (float32 there)."""
    xs = _signals(128)
    J, T = 10, 24
    lam = _theory.gram_eigenvalues(xs, T)
    np.testing.assert_allclose(
        lam,
        np.asarray(theory.gram_eigenvalues(jnp.asarray(xs), T)),
        rtol=1e-4,
        atol=1e-4 * lam.max(),
    )
    for p in (0.05, 0.01):
        mine = _theory.deviation_bounds(lam, J, p)
        x32 = jnp.asarray(xs, jnp.float32)
        ref = {
            "cantelli": theory.cantelli_deviation(x32, J, T, p),
            "paper": theory.chernoff_deviation(x32, J, T, p, variant="paper"),
            "laurent_massart": theory.chernoff_deviation(x32, J, T, p, variant="laurent_massart"),
            "exact_chernoff": theory.chernoff_deviation(x32, J, T, p, variant="exact"),
        }
        for k, v in ref.items():
            np.testing.assert_allclose(mine[k], np.asarray(v), rtol=2e-4, err_msg=k)
    # the SPEC's example: impulse, J = 10, T = 64, p = 0.01 -> the paper's alpha 0.127
    alpha = _theory.deviation_bounds(_theory.gram_eigenvalues(np.eye(1, 1024), 64), 10, 0.01)
    assert round(float(alpha["paper"][0]), 3) == 0.127


def test_saddlepoint_density_matches_exact_cdf():
    xs = _signals(256)
    for lam in _theory.gram_eigenvalues(xs, 32):
        dist = theory.EnergyDistribution(lam, 10)
        t = np.asarray(dist.ppf(np.array([0.02, 0.2, 0.5, 0.8, 0.98])))
        h = 1e-5 * float(np.sqrt(dist.variance))
        exact = (dist.cdf(t + h) - dist.cdf(t - h)) / (2 * h)
        np.testing.assert_allclose(_theory.energy_density(lam, 10, t), exact, rtol=2e-3)


def test_padded_sampler_is_the_truncated_filterbank():
    """Zeroed taps beyond T and nested filter blocks give exactly the library's bounds."""
    key = jax.random.key(0)
    filters, T, L, n, batch = (2, 3, 7), 5, 8, 32, 4
    A, B = _simulate._frames_batch(key, jnp.int32(T), filters=filters, padded=L, n=n, batch=batch)
    w = _simulate._masked_filterbank(key, jnp.int32(T), filters[-1], L, batch, 1)
    assert np.all(np.asarray(w[..., T:]) == 0)
    for i, J in enumerate(filters):
        ref = jaxfb.frame_bounds(w[:, :J, :T] / np.sqrt(J), n)
        np.testing.assert_allclose(A[:, i], ref.lower, rtol=2e-5)
        np.testing.assert_allclose(B[:, i], ref.upper, rtol=2e-5)
    xs = jnp.asarray(_signals(n), jnp.float32)
    e = _simulate._energy_batch(key, jnp.int32(T), xs, num_filters=3, padded=L, batch=batch)
    w = _simulate._masked_filterbank(key, jnp.int32(T), 3, L, batch, 3)
    np.testing.assert_allclose(e, jaxfb.energy(w[:, None, :, :T], xs), rtol=2e-5)


def test_padded_sampler_has_the_paper_variance():
    """Per-tap variance 1/(J T) on the first T taps: energy of an impulse has mean 1, var 2/(JT)."""
    key = jax.random.key(1)
    x = jnp.asarray(np.eye(1, 64), jnp.float32)
    J, T = 4, 6
    e = np.asarray(_simulate.energy_draws(key, x, J, T, 16, 4000, 1000))[:, 0]
    se = math.sqrt(2 / (J * T) / e.size)
    assert abs(e.mean() - 1) < 5 * se
    assert abs(e.var() / (2 / (J * T)) - 1) < 5 * math.sqrt(2 / e.size) * 2


def test_fallback_predictions_by_monte_carlo():
    """T = N law: (N/2 - 1) Gamma(J, 1/J) and two chi2_J / J; numpy draws with a fixed seed."""
    J, N, M = 6, 32, 40000
    rng = np.random.default_rng(0)
    inner = rng.gamma(J, 1 / J, size=(M, N // 2 - 1))
    ends = rng.gamma(J / 2, 2 / J, size=(M, 2))
    lp = np.concatenate([inner, ends], axis=1)
    A, B = lp.min(1), lp.max(1)
    groups = _predictions._fallback_groups(J, N, N)
    ea, eb, inv_a = _predictions._extreme_means(groups)
    assert abs(A.mean() - ea) < 5 * A.std() / math.sqrt(M)
    assert abs(B.mean() - eb) < 5 * B.std() / math.sqrt(M)
    assert abs((1 / A).mean() - inv_a) < 5 * (1 / A).std() / math.sqrt(M)
    # the paper's model: T i.i.d. chi2_J / J
    c = rng.chisquare(J, size=(M, 16)) / J
    pa, pb = _predictions.paper_chi2_bounds(J, 16)
    assert abs(c.min(1).mean() - pa) < 5 * c.min(1).std() / math.sqrt(M)
    assert abs(c.max(1).mean() - pb) < 5 * c.max(1).std() / math.sqrt(M)
    assert math.isinf(_predictions.kappa_tilde(10, 64))  # J <= 4 log T: undefined
    assert _predictions.kappa_tilde(40, 1024) == pytest.approx(10.944, abs=1e-3)


def test_table_helpers(tmp_path):
    rng = np.random.default_rng(0)
    x = rng.standard_normal(4000)
    q, se = quantile_se(x, 0.95)
    assert abs(q - 1.6449) < 5 * se and 0.01 < se < 0.1
    a, b = 1 + 0.1 * rng.standard_normal(4000), 2 + 0.1 * rng.standard_normal(4000)
    r, r_se = ratio_of_means(a, b)
    assert abs(r - 2) < 5 * r_se
    tab = {
        "s": np.array(["a b", "c"]),
        "T": np.array([8, 16]),
        "v": np.array([1 / 3, math.inf]),
        "w": np.array([math.nan, -2.5]),
    }
    write_csv(tmp_path / "t.csv", tab)
    back = read_csv(tmp_path / "t.csv")
    assert back["s"].tolist() == ["a b", "c"] and back["T"].tolist() == [8, 16]
    assert back["v"][0] == pytest.approx(1 / 3, rel=1e-11) and math.isinf(back["v"][1])
    assert math.isnan(back["w"][0]) and select(back, s="c", T=16) == 1


def test_config_validation_and_roundtrip():
    cfg = reproduce.ReproduceConfig.quick(seed=3)
    assert reproduce.ReproduceConfig.from_dict(json.loads(json.dumps(cfg.to_dict()))) == cfg
    assert cfg.theory_lengths(cfg.energy_lengths) == cfg.energy_lengths
    full = reproduce.ReproduceConfig.full()
    th = full.theory_lengths(full.energy_lengths)
    assert th[0] == 8 and th[-1] == 1024 and 64 in th and len(th) < len(full.energy_lengths)
    assert full.bucket(520, full.frames_lengths) == 1024
    with pytest.raises(ValueError, match="energy_lengths has T=2048"):
        reproduce.ReproduceConfig(energy_lengths=(8, 2048))
    with pytest.raises(ValueError, match="sweep_lengths"):
        reproduce.ReproduceConfig(frames_lengths=(8, 16), sweep_lengths=(32,))
    with pytest.raises(TypeError, match="seed"):
        reproduce.ReproduceConfig(seed=1.5)
    # the training experiment: on by default, off with training=False, named errors
    assert cfg.training and "training" in cfg.experiments
    off = cfg.replace(training=False)
    assert not off.training and "training" not in off.experiments
    assert reproduce.ReproduceConfig.from_dict(json.loads(json.dumps(off.to_dict()))) == off
    assert not reproduce.ReproduceConfig(experiments=("energy",)).training
    with pytest.raises(ValueError, match=r"training_lengths has T=2048 > training_n = 1024"):
        reproduce.ReproduceConfig(training_lengths=(32, 2048))
    with pytest.raises(ValueError, match="training_seeds must be >= 2, got 1"):
        reproduce.ReproduceConfig(training_seeds=1)
    with pytest.raises(ValueError, match=r"training_penalty_weights must include 0"):
        reproduce.ReproduceConfig(training_penalty_weights=(0.01,))
    with pytest.raises(ValueError, match="training_temperature must be finite and > 0"):
        reproduce.ReproduceConfig(training_temperature=0.0)
    with pytest.raises(TypeError, match="training must be a bool"):
        reproduce.ReproduceConfig(training="yes")


def test_length_buckets_must_fit_the_signal_of_each_experiment():
    """A bucket is the padded filter length, so it must not exceed the experiment's N."""
    to512 = tuple(2**k for k in range(3, 10))
    R = reproduce.ReproduceConfig
    # quick's buckets are (32, 256, 1024): T = 512 would run padded to 1024 > N = 512
    with pytest.raises(ValueError, match=r"length_buckets .*energy_lengths T=512 .*energy_n = 512"):
        R.quick(energy_n=512, energy_lengths=to512)
    with pytest.raises(ValueError, match=r"length_buckets .*audio_lengths T=300 .*audio_n = 300"):
        R.quick(audio_n=300, audio_lengths=(8, 300))
    with pytest.raises(ValueError, match=r"length_buckets .*frames_lengths T=512 .*frames_n = 600"):
        R.quick(frames_n=600, frames_lengths=to512, sweep_lengths=(8, 512))
    # the fix the message suggests works, and the default buckets never exceed the largest T
    ok = R.quick(energy_n=512, energy_lengths=to512, length_buckets=(32, 256, 512, 1024))
    assert ok.bucket(512, ok.energy_lengths) == 512
    assert R(energy_n=512, energy_lengths=to512).bucket(300, to512) == 512
    # a bucket equal to N is exact: padding to L = N changes no energy (taps >= T are zero)
    x = jnp.asarray(np.eye(1, 16), jnp.float32)
    e = _simulate.energy_draws(jax.random.key(0), x, 2, 8, 16, 4, 4)
    w = _simulate._masked_filterbank(jax.random.fold_in(jax.random.key(0), 0), 8, 2, 16, 4, 2)
    np.testing.assert_allclose(e[:, 0], np.sum(np.asarray(w[..., :8]) ** 2, axis=(1, 2)), rtol=1e-5)


def test_config_rejects_ambiguous_experiments_levels_and_flags():
    R = reproduce.ReproduceConfig
    off = R.quick(training=False)
    # training=True adds "training" (last) where it is missing, False removes it
    on = off.replace(training=True)
    assert on.training and on.experiments == ("energy", "audio", "frames", "training")
    assert R(experiments=("energy",), training=True).experiments == ("energy", "training")
    assert not on.replace(training=False).training
    # replacing experiments alone derives training from the new list
    assert on.replace(experiments=("energy",)).experiments == ("energy",)
    assert not on.replace(experiments=("energy",)).training
    assert off.replace(experiments=("frames", "training")).training
    with pytest.raises(ValueError, match=r"experiments has duplicates \['energy'\]"):
        R(experiments=("energy", "frames", "energy"))
    with pytest.raises(ValueError, match="experiments must name at least one experiment"):
        R(experiments=())
    with pytest.raises(ValueError, match=r"experiments .*training=False removed 'training'"):
        R(experiments=("training",), training=False)
    with pytest.raises(TypeError, match="experiments must be a sequence of names"):
        R(experiments="energy")
    with pytest.raises(ValueError, match="levels has duplicates"):
        R(levels=(0.05, 0.01, 0.05))
    with pytest.raises(TypeError, match="save_samples must be a bool, got 'no'"):
        R(save_samples="no")
    with pytest.raises(TypeError, match="save_samples must be a bool"):
        R(save_samples=0)


def test_energy_claim_rule_names_the_quantile_of_the_first_level():
    """The rule quotes the 1 - levels[0] quantile it applies, not a fixed 95%."""
    from jaxfb.reproduce._energy import EnergyStudy, energy_claims

    lengths = (8, 16, 32)
    table = {
        "signal": np.array(["a"] * 3),
        "T": np.array(lengths),
        "quantile": np.array([0.1, 0.2, 0.3]),
        "quantile_se": np.array([0.01, 0.01, 0.01]),
    }
    study = EnergyStudy(["a"], lengths, (), None, (0.1, 0.05), {0.1: table}, {})
    (claim,) = energy_claims(study, label="test")
    assert "90% quantile" in claim.rule and "95%" not in claim.rule
    assert "90% quantile grows" in claim.evidence and claim.verdict == "supported"


def test_quantile_se_is_nan_where_the_interval_leaves_the_sample():
    """k_+ = n q + 1.96 sqrt(n q (1 - q)) must be <= n (and k_- >= 1) for an interval."""
    rng = np.random.default_rng(1)
    for n, q in ((200, 0.99), (40, 0.95), (200, 0.01)):
        k_lo = n * q - 1.959963984540054 * math.sqrt(n * q * (1 - q))
        k_hi = n * q + 1.959963984540054 * math.sqrt(n * q * (1 - q))
        assert math.floor(k_lo) < 1 or math.ceil(k_hi) > n  # the interval leaves the sample
        x = rng.standard_normal(n)
        value, se = quantile_se(x, q)
        assert value == np.quantile(x, q) and math.isnan(se)
        _, se2 = quantile_se(rng.standard_normal((3, n)), q, axis=1)
        assert se2.shape == (3,) and np.all(np.isnan(se2))
    # inside the sample the standard error is finite: n = 1000, q = 0.99 (k_+ = 996.2)
    _, se = quantile_se(rng.standard_normal(1000), 0.99)
    assert 0 < se < 1


def test_register_experiment_refuses_builtin_names(tmp_path):
    def mine(config, key, *, progress):
        return reproduce.ExperimentOutput(notes=["my energy"])

    for name in reproduce.EXPERIMENTS:
        with pytest.raises(ValueError, match=f"'{name}' is a built-in experiment"):
            reproduce.register_experiment(name, mine)
    assert not set(reproduce.EXPERIMENTS) & set(reproduce.EXPERIMENT_REGISTRY)
    reproduce.register_experiment("energy", mine, overwrite=True)
    try:
        cfg = reproduce.ReproduceConfig.quick(experiments=("energy",))
        res = reproduce.run(cfg, tmp_path, progress=False)
    finally:
        reproduce.EXPERIMENT_REGISTRY.pop("energy")
    assert "my energy" in res.report_md.read_text() and res.figures == []


# -- a tiny end-to-end run ------------------------------------------------------------------------

TINY = dict(
    draws=40,
    energy_lengths=(8, 32),
    audio_lengths=(8, 32),
    audio_n=4096,
    frames_lengths=(8, 32),
    sweep_lengths=(8, 32),
    kappa_filters=(5, 10, 40),
    sweep_filters=(1, 2, 3, 4, 8, 16),
    fit_min_filters=5,
    length_buckets=(32,),
    hist_bins=8,
    chunk=64,
    training_num_filters=8,
    training_lengths=(16, 32),
    training_n=64,
    training_seeds=2,
    training_steps=40,
)
FIGURES = {
    "energy_elementary_p05",
    "energy_elementary_p01",
    "energy_audio_p05",
    "energy_audio_p01",
    "energy_audio_histograms",
    "audio_spectrograms",
    "frame_bounds",
    "kappa_vs_T",
    "kappa_vs_J",
    "kappa_scaling",
    "train_filterbank",
}


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("tiny")
    cfg = reproduce.ReproduceConfig.quick(seed=7, **TINY)
    return cfg, reproduce.run(cfg, out, progress=False)


def test_tiny_run_writes_every_figure_and_the_reports(tiny_run):
    cfg, res = tiny_run
    out = res.out
    assert set(res.figures) == FIGURES
    for name in FIGURES:
        for ext in ("png", "pdf", "csv"):
            assert (out / f"{name}.{ext}").stat().st_size > 100, (name, ext)
        assert (out / f"{name}.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        assert (out / f"{name}.pdf").read_bytes()[:5] == b"%PDF-"
    page = res.report_html.read_text()
    assert page.count("src='data:image/png;base64,") == len(FIGURES)
    assert "<img" in page and "src='energy" not in page  # self-contained
    md = res.report_md.read_text()
    for name in FIGURES:
        assert f"]({name}.png)" in md
    meta = json.loads(res.config_json.read_text())
    assert meta["seed"] == 7 and meta["config"]["draws"] == 40
    assert meta["versions"]["jax"] == jax.__version__
    assert meta["device"]["backend"] == jax.default_backend()
    assert set(meta["timings_seconds"]) == {"energy", "audio", "frames", "training"}
    assert meta["timings_seconds"]["training"]["train"] > 0
    assert reproduce.ReproduceConfig.from_dict(meta["config"]) == cfg
    samples = np.load(out / "samples.npz")
    assert samples["energy_elementary_deviation"].shape == (2, 40, 3)
    assert samples["training_fit_T32"].shape == (2, 2, 40)  # (penalty weights, seeds, steps)


def test_tiny_run_reports_the_training(tiny_run):
    """The training figure, its numbers (equal to the CSV and the raw finals) and its verdict."""
    cfg, res = tiny_run
    md, page = res.report_md.read_text(), res.report_html.read_text()
    assert "](train_filterbank.png)" in md and "Training random filterbanks" in page
    tab = read_csv(res.out / "train_filterbank.csv")
    assert tab["T"].tolist() == [16, 16, 32, 32]
    assert tab["penalty_weight"].tolist() == [0.0, 0.01, 0.0, 0.01]
    s = np.load(res.out / "samples.npz")
    for T in (16, 32):
        for p, lam in enumerate(s["training_penalty_weights"]):
            i = select(tab, T=T, penalty_weight=lam)
            for q in ("fit_final", "kappa_final"):
                finals = s[f"training_{q}_T{T}"][p].astype(float)
                assert tab[f"{q}_mean"][i] == pytest.approx(finals.mean(), rel=1e-9)
                assert tab[f"{q}_se"][i] == pytest.approx(finals.std(ddof=1) / math.sqrt(2))
    rows = {r[0]: r for r in _report_rows(md)}
    for T, lam, label in ((16, 0.0, "no penalty"), (32, 0.01, "penalty 0.01")):
        i = select(tab, T=T, penalty_weight=lam)
        for q, what in (
            ("fit_final", "final fit error"),
            ("kappa_final", "final condition number"),
        ):
            _, value, se, stored, _ = rows[f"Training, T = {T}, {label}: {what}"]
            assert float(value) == pytest.approx(tab[f"{q}_mean"][i], rel=1e-4)
            assert float(se) == pytest.approx(tab[f"{q}_se"][i], rel=0.05)  # 2 digits
            assert stored == f"train_filterbank.csv [T={T}, penalty_weight={lam}] {q}_mean"
    claim = next(c for c in res.claims if c.claim.startswith("Training with the stability"))
    assert claim.verdict in {"supported", "partly supported", "not supported"}
    factor = math.exp(np.nanmean(tab["log_kappa_ratio_mean"]))
    assert f"lowers kappa by a factor {factor:.3g}" in claim.evidence
    assert f"| **{claim.verdict}** |" in md and "lowers kappa by a factor" in page
    meta = json.loads(res.config_json.read_text())
    assert meta["experiments"]["training"]["config"] == cfg.training_config().to_dict()
    assert set(meta["experiments"]["training"]["timings_seconds"]) == {"T16", "T32", "total"}


def _report_rows(md: str):
    section = md.split("## Key numbers", 1)[1].split("\n## ", 1)[0]
    rows = [ln for ln in section.splitlines() if ln.startswith("| ") and "---" not in ln]
    return [[c.strip() for c in re.split(r"(?<!\\)\|", ln)[1:-1]] for ln in rows[1:]]


def test_report_numbers_agree_with_the_csvs(tiny_run):
    _, res = tiny_run
    rows = _report_rows(res.report_md.read_text())
    meta = json.loads(res.config_json.read_text())["key_numbers"]
    assert len(rows) == len(meta) >= 8
    checked = 0
    for (label, value, _se, stored, _note), number in zip(rows, meta, strict=True):
        assert label.replace("\\|", "|") == number["label"]
        if stored == "-":
            continue
        m = re.fullmatch(r"(\S+)\.csv \[(.*)\] (\S+)", stored)
        assert m, stored
        table = read_csv(res.out / f"{m.group(1)}.csv")
        where = dict(kv.split("=", 1) for kv in m.group(2).split(", "))
        row = select(table, **where)
        stored_value = float(table[m.group(3)][row])
        assert float(value) == pytest.approx(stored_value, rel=1e-4, abs=1e-12), label
        assert number["value"] == pytest.approx(stored_value, rel=1e-10, abs=1e-14)
        checked += 1
    assert checked >= 6
    # the kappa table's mean matches the raw draws in samples.npz
    s = np.load(res.out / "samples.npz")
    A, B, Js = s["frames_A_T32"], s["frames_B_T32"], list(s["frames_J_T32"])
    k = B[:, Js.index(40)].astype(float) / A[:, Js.index(40)].astype(float)
    tab = read_csv(res.out / "kappa_vs_T.csv")
    assert tab["mean_kappa"][select(tab, J=40, T=32)] == pytest.approx(k.mean(), rel=1e-9)
    tab = read_csv(res.out / "kappa_vs_J.csv")
    assert math.isnan(tab["mean_kappa"][select(tab, J=2, T=32)])  # the mean does not exist


def test_claims_have_computed_verdicts(tiny_run):
    _, res = tiny_run
    verdicts = {c.claim: c.verdict for c in res.claims}
    assert set(verdicts.values()) <= {"supported", "partly supported", "not supported"}
    assert any("kappa_tilde predicts" in c for c in verdicts)
    # the paper's alpha fails at p = 0.01 for the impulse: the exact tail probability says so
    tab = read_csv(res.out / "energy_elementary_p01.csv")
    fails = np.nanmax(tab["paper_exceedance_exact"]) > 0.01
    claim = next(
        c
        for c in res.claims
        if c.claim.startswith("The paper's Chernoff bound holds at p = 0.01 (elementary")
    )
    assert (claim.verdict == "not supported") == fails
    i = select(tab, signal="impulse", T=32)
    assert tab["paper_fails"][i] == float(tab["paper"][i] < tab["exact_quantile"][i])


def test_exceedance_se_uses_the_exact_probability(tiny_run):
    """The rate of draws above alpha is a mean of Bernoulli(P), P exact: SE sqrt(P(1-P)/n)."""
    _, res = tiny_run
    for name, p in (("energy_elementary_p01", 0.01), ("energy_audio_p05", 0.05)):
        tab = read_csv(res.out / f"{name}.csv")
        P, n = tab["paper_exceedance_exact"], tab["draws"]
        ok = np.isfinite(P)
        assert ok.sum() >= 4
        expected = np.sqrt(P[ok] * (1 - P[ok]) / n[ok])
        np.testing.assert_allclose(tab["paper_exceedance_se"][ok], expected, rtol=1e-9)
        # and not the nominal level's sqrt(p (1 - p) / n): the exact P differs from p here
        assert not np.allclose(expected, np.sqrt(p * (1 - p) / n[ok]), rtol=1e-3)
    number = next(n for n in res.numbers if n.label.startswith("Draws above the paper's alpha"))
    tab = read_csv(res.out / f"{number.csv}.csv")
    P = tab["paper_exceedance_exact"][select(tab, **number.where)]
    assert number.se == pytest.approx(math.sqrt(P * (1 - P) / 40), rel=1e-9)


def test_report_labels_and_html_header(tiny_run):
    _, res = tiny_run
    md, page = res.report_md.read_text(), res.report_html.read_text()
    assert "paper's 1 - 2 sqrt(log T / J) = " in md and "paper's 1 + 2 sqrt(log T / J) = " in md
    head = page.split("<h2>", 1)[0]
    assert "<p>Mode: <strong>quick</strong>, seed 7" in head
    assert "<code>config.json</code>" in head and "<code>jaxfb reproduce --out DIR" in head
    assert "**" not in page and "`" not in head


def test_same_seed_same_numbers(tiny_run, tmp_path):
    cfg, first = tiny_run
    second = reproduce.run(cfg, tmp_path, progress=False)
    for name in sorted(FIGURES):
        a = (first.out / f"{name}.csv").read_bytes()
        b = (second.out / f"{name}.csv").read_bytes()
        assert a == b, name
    s1, s2 = np.load(first.out / "samples.npz"), np.load(second.out / "samples.npz")
    assert sorted(s1.files) == sorted(s2.files)
    for k in s1.files:
        np.testing.assert_array_equal(s1[k], s2[k])
    other = reproduce.run(
        cfg.replace(seed=8, experiments=("energy",)), tmp_path / "other", progress=False
    )
    a = read_csv(first.out / "energy_elementary_p05.csv")["mean"]
    b = read_csv(other.out / "energy_elementary_p05.csv")["mean"]
    assert not np.array_equal(a, b)


# -- interruption and resumption ------------------------------------------------------------------


def _hook_output(config, key):
    """A registered experiment's output: a figure, numbers, a claim and samples from ``key``."""
    from matplotlib.figure import Figure

    draws = np.asarray(jax.random.normal(key, (5,)))

    def write(base):
        fig = Figure(figsize=(2, 2))
        fig.subplots().plot(draws)
        fig.savefig(base.with_suffix(".png"))
        fig.savefig(base.with_suffix(".pdf"))

    return reproduce.ExperimentOutput(
        figures=[reproduce.FigureOutput("flaky_fig", "draws", "five draws", write, {"x": draws})],
        numbers=[reproduce.KeyNumber("first draw", float(draws[0]), float(draws.std()))],
        claims=[reproduce.Claim("draws are finite", "supported", f"{draws.sum():.6f}")],
        samples={"flaky_draws": draws},
        notes=[f"flaky ran with seed {config.seed}"],
    )


def _sections(md: str) -> str:
    """The report without its header (dates, run times) and timings."""
    return md.split("## Key numbers", 1)[1].split("## Timings", 1)[0]


def test_interrupted_run_resumes_with_the_numbers_of_an_uninterrupted_one(tmp_path, monkeypatch):
    from jaxfb.reproduce import _energy

    calls = []

    def flaky(config, key, *, progress):
        calls.append(1)
        if len(calls) == 1:
            raise KeyboardInterrupt  # Ctrl-C during the second experiment
        return _hook_output(config, key)

    cfg = reproduce.ReproduceConfig.quick(seed=5, **{**TINY, "experiments": ("energy", "flaky")})
    out, ref_out = tmp_path / "run", tmp_path / "ref"
    reproduce.register_experiment("flaky", flaky)
    try:
        with pytest.raises(KeyboardInterrupt):
            reproduce.run(cfg, out, progress=False)
        # the partial outputs: energy's numbers and claims, marked partial
        meta = json.loads((out / "config.json").read_text())
        assert meta["partial"] is True and meta["interrupted"] == {
            "experiment": "flaky",
            "error": "KeyboardInterrupt",
            "finished": ["energy"],
            "pending": ["flaky"],
        }
        assert len(meta["key_numbers"]) >= 4 and meta["figures"][0] == "energy_elementary_p05"
        md = (out / "report.md").read_text()
        assert "**Partial report**: the run stopped in `flaky`" in md
        assert "](energy_elementary_p01.png)" in md
        assert (out / "checkpoints" / "energy.json").exists()
        assert (out / "checkpoints" / "energy.npz").exists()
        assert not (out / "checkpoints" / "flaky.json").exists()

        # the rerun loads energy (recomputing it would fail) and runs flaky
        def recomputed(*args, **kwargs):
            raise AssertionError("energy was recomputed")

        monkeypatch.setattr(_energy, "run_energy", recomputed)
        msgs = []
        res = reproduce.run(cfg, out, progress=False, log=msgs.append)
        monkeypatch.undo()
        ref = reproduce.run(cfg, ref_out, progress=False)  # uninterrupted, elsewhere
    finally:
        reproduce.EXPERIMENT_REGISTRY.pop("flaky")
    assert len(calls) == 3
    assert res.resumed == ("energy",) and ref.resumed == ()
    assert any(m.startswith("energy: loaded from checkpoints/energy.json") for m in msgs)
    meta, ref_meta = (json.loads((d / "config.json").read_text()) for d in (out, ref_out))
    assert meta["partial"] is False and "interrupted" not in meta
    assert meta["resumed_experiments"] == ["energy"] and ref_meta["resumed_experiments"] == []
    for k in ("key_numbers", "claims", "figures", "sources", "experiments"):
        assert meta[k] == ref_meta[k], k
    assert set(meta["timings_seconds"]) == {"energy", "flaky"}
    md, ref_md = res.report_md.read_text(), ref.report_md.read_text()
    assert _sections(md) == _sections(ref_md)
    assert "- Resumed: energy loaded from `checkpoints/`" in md and "Partial" not in md
    for name in res.figures:
        assert (out / f"{name}.csv").read_bytes() == (ref_out / f"{name}.csv").read_bytes()
    s, r = np.load(out / "samples.npz"), np.load(ref_out / "samples.npz")
    assert sorted(s.files) == sorted(r.files) and "energy_elementary_deviation" in s.files
    for k in s.files:
        np.testing.assert_array_equal(s[k], r[k])


def test_checkpoints_of_other_inputs_are_recomputed(tmp_path, monkeypatch):
    from jaxfb.reproduce import _energy

    real, calls = _energy.run_energy, []

    def counted(*args, **kwargs):
        calls.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(_energy, "run_energy", counted)
    cfg = reproduce.ReproduceConfig.quick(seed=5, **{**TINY, "experiments": ("energy",)})
    first = reproduce.run(cfg, tmp_path, progress=False)
    assert calls == [1] and first.resumed == ()
    # fields energy does not read (training's, frames', mode) keep its checkpoint
    same = cfg.replace(training_steps=41, frames_filters=20, mode="custom")
    assert reproduce.run(same, tmp_path, progress=False).resumed == ("energy",)
    assert calls == [1]
    # other draws: recomputed (never reused silently), said so, and the checkpoint replaced
    msgs = []
    more = reproduce.run(cfg.replace(draws=41), tmp_path, progress=False, log=msgs.append)
    assert calls == [1, 1] and more.resumed == ()
    assert any(
        "energy: recomputing, its checkpoint is of different inputs (config.draws)" in m
        for m in msgs
    )
    assert np.load(tmp_path / "samples.npz")["energy_elementary_deviation"].shape == (2, 41, 3)
    saved = json.loads((tmp_path / "checkpoints" / "energy.json").read_text())
    assert saved["inputs"]["config"]["draws"] == 41
    assert saved["inputs"]["versions"]["jaxfb"] == jaxfb.__version__
    # no samples kept, then samples wanted: recomputed; resume=False: recomputed
    reproduce.run(cfg.replace(save_samples=False), tmp_path, progress=False)
    assert calls == [1, 1, 1]
    again = reproduce.run(cfg, tmp_path, progress=False, log=msgs.append)
    assert calls == [1, 1, 1, 1] and again.resumed == ()
    assert any("has no samples" in m for m in msgs)
    reproduce.run(cfg, tmp_path, progress=False, resume=False)
    assert calls == [1, 1, 1, 1, 1]
    # other jaxfb code (an edited checkout keeps its version number): recomputed
    from jaxfb.reproduce import _checkpoint

    assert saved["inputs"]["jaxfb_source_sha256"] == _checkpoint.source_digest()
    monkeypatch.setattr(_checkpoint, "source_digest", lambda: "0" * 64)
    edited = reproduce.run(cfg, tmp_path, progress=False, log=msgs.append)
    assert calls == [1, 1, 1, 1, 1, 1] and edited.resumed == ()
    assert any("(jaxfb_source_sha256)" in m for m in msgs[-3:]), msgs[-3:]


def test_a_recomputation_invalidates_the_old_checkpoint_first(tmp_path):
    """Interrupted while recomputing with other inputs: the old checkpoint must not come back
    (its figure files may already be overwritten)."""
    calls = []

    def hook(config, key, *, progress):
        calls.append(config.extra.get("fail", False))
        if config.extra.get("fail"):
            raise RuntimeError("stopped")
        return _hook_output(config, key)

    cfg = reproduce.ReproduceConfig.quick(experiments=("hook_ckpt",))
    reproduce.register_experiment("hook_ckpt", hook)
    try:
        reproduce.run(cfg, tmp_path, progress=False)
        assert reproduce.run(cfg, tmp_path, progress=False).resumed == ("hook_ckpt",)
        with pytest.raises(RuntimeError, match="stopped"):
            reproduce.run(cfg.replace(extra={"fail": True}), tmp_path, progress=False)
        assert not (tmp_path / "checkpoints" / "hook_ckpt.json").exists()
        assert reproduce.run(cfg, tmp_path, progress=False).resumed == ()
    finally:
        reproduce.EXPERIMENT_REGISTRY.pop("hook_ckpt")
    assert calls == [False, True, False]


# -- command line ----------------------------------------------------------------------------------


def test_cli_tiny_energy_run(tmp_path, capsys):
    out = tmp_path / "cli"
    args = [
        "reproduce",
        "--out",
        str(out),
        "--quick",
        "--draws",
        "20",
        "--lengths",
        "8,16",
        "--experiments",
        "energy,training",
        "--no-training",
        "--no-samples",
        "--seed",
        "2",
    ]
    assert main(args) == 0
    stdout = capsys.readouterr().out
    assert "report.md" in stdout and ("[supported]" in stdout or "[not supported]" in stdout)
    assert (out / "energy_elementary_p01.pdf").exists() and not (out / "samples.npz").exists()
    meta = json.loads((out / "config.json").read_text())
    assert meta["argv"][:4] == ["jaxfb", "reproduce", "--out", str(out)]
    assert meta["config"]["energy_lengths"] == [8, 16]
    assert meta["config"]["experiments"] == ["energy"] and meta["config"]["training"] is False
    assert "--no-training" in meta["argv"] and not (out / "train_filterbank.csv").exists()


def test_cli_training_flags():
    """Training runs by default (quick sizes with --quick); --no-training and subsets drop it."""
    from jaxfb.cli import build_parser
    from jaxfb.cli._reproduce import build_config

    def config(*extra):
        return build_config(build_parser().parse_args(["reproduce", "--out", "o", *extra]))

    quick, full = config("--quick"), config()
    assert quick.training and quick.experiments[-1] == "training"
    assert quick.training_config() == reproduce.TrainingConfig.quick()
    assert full.training and full.training_lengths == (32, 128, 512, 1024)
    assert full.training_steps == 3000 and full.training_seeds == 3
    off = config("--quick", "--no-training")
    assert not off.training and off.experiments == ("energy", "audio", "frames")
    assert not config("--experiments", "energy,frames").training
    assert config("--experiments", "training").experiments == ("training",)


def test_cli_fresh_flag_turns_resumption_off(monkeypatch, tmp_path, capsys):
    seen = []

    def fake_run(config, out, **kw):
        seen.append(kw["resume"])
        return reproduce.RunResult(Path(out), "r.md", "r.html", "c.json", [], [], [], {})

    monkeypatch.setattr(reproduce, "run", fake_run)
    base = ["reproduce", "--out", str(tmp_path), "--quick"]
    assert main(base) == 0 and main([*base, "--fresh"]) == 0
    assert seen == [True, False]
    capsys.readouterr()


def test_cli_bad_arguments_fail_clearly(tmp_path, capsys):
    blocker = tmp_path / "file.txt"
    blocker.write_text("not a directory")
    assert main(["reproduce", "--out", str(blocker / "sub"), "--quick"]) == 2
    err = capsys.readouterr().err
    assert "jaxfb reproduce: error:" in err and "not writable" in err
    assert main(["reproduce", "--out", str(blocker), "--quick"]) == 2
    assert "is not a directory" in capsys.readouterr().err
    missing = tmp_path / "nope.wav"
    assert main(["reproduce", "--out", str(tmp_path / "o"), "--audio", str(missing)]) == 2
    err = capsys.readouterr().err
    assert "--audio file not found" in err and "nope.wav" in err
    assert not (tmp_path / "o").exists()  # failed before writing anything
    assert main(["reproduce", "--out", str(tmp_path / "o"), "--draws", "1"]) == 2
    assert "--draws must be >= 2" in capsys.readouterr().err
    assert main(["reproduce", "--out", str(tmp_path / "o"), "--lengths", "8,2048"]) == 2
    assert "2048" in capsys.readouterr().err
    assert main(["reproduce", "--out", str(tmp_path / "o"), "--experiments", "nope"]) == 2
    assert "unknown experiments" in capsys.readouterr().err
    assert main(["reproduce", "--out", str(tmp_path / "o"), "--experiments", "trainin"]) == 2
    err = capsys.readouterr().err
    assert "unknown experiments ['trainin']" in err and "'training'" in err
    with pytest.raises(SystemExit):
        main(["reproduce", "--quick"])  # --out is required
    capsys.readouterr()


def test_registered_experiment_hook(tmp_path):
    """The hook for experiments owned elsewhere, with a figure that writes its own files."""
    from matplotlib.figure import Figure

    def write(base):
        fig = Figure(figsize=(2, 2))
        fig.subplots().plot([0, 1], [1, 0])
        fig.savefig(base.with_suffix(".png"))
        fig.savefig(base.with_suffix(".pdf"))

    keys = []

    def hook(config, key, *, progress):
        keys.append(key)
        return reproduce.ExperimentOutput(
            figures=[
                reproduce.FigureOutput(
                    "hook_fig", "a line", "caption", write, {"x": np.array([1.0])}
                )
            ],
            numbers=[reproduce.KeyNumber("answer", 42.0)],
            claims=[reproduce.Claim("hooks work", "partly supported", "one run", "by eye")],
            notes=[f"hook ran with seed {config.seed}"],
        )

    reproduce.register_experiment("hook_test", hook, overwrite=True)
    try:
        cfg = reproduce.ReproduceConfig.quick(seed=4, experiments=("hook_test",))
        res = reproduce.run(cfg, tmp_path, progress=False)
    finally:
        reproduce.EXPERIMENT_REGISTRY.pop("hook_test")
    md = res.report_md.read_text()
    assert "| answer | 42 |" in md and "hook ran with seed 4" in md
    assert (tmp_path / "hook_fig.pdf").exists() and (tmp_path / "hook_fig.csv").exists()
    assert res.report_html.read_text().count("data:image/png;base64,") == 1
    assert [c.verdict for c in res.claims] == ["partly supported"] and "hooks work" in md
    assert len(keys) == 1 and jnp.array_equal(
        jax.random.key_data(keys[0]), jax.random.key_data(reproduce.experiment_key(4, "hook_test"))
    )


def test_experiment_keys_depend_on_the_seed_and_the_name_only():
    data = {
        (seed, name): tuple(np.asarray(jax.random.key_data(reproduce.experiment_key(seed, name))))
        for seed in (0, 1)
        for name in (*reproduce.EXPERIMENTS, "hook_test")
    }
    assert len(set(data.values())) == len(data)  # every (seed, name) its own stream
    again = jax.random.key_data(reproduce.experiment_key(1, "training"))
    assert tuple(np.asarray(again)) == data[1, "training"]


# -- the real quick run ----------------------------------------------------------------------------


@pytest.mark.slow
def test_real_quick_run(tmp_path):
    res = reproduce.run(reproduce.ReproduceConfig.quick(seed=0), tmp_path, progress=False)
    assert set(res.figures) == FIGURES
    verdicts = {c.claim: c.verdict for c in res.claims}
    assert verdicts["The paper's kappa_tilde predicts the condition number"] == "not supported"
    assert verdicts["The paper's Chernoff bound holds at p = 0.05 (elementary signals)"] == (
        "supported"
    )
    assert verdicts["The paper's Chernoff bound holds at p = 0.01 (elementary signals)"] == (
        "not supported"
    )
    tab = read_csv(Path(res.out) / "kappa_vs_T.csv")
    i = select(tab, J=40, T=1024)
    assert abs(tab["mean_kappa"][i] - tab["jaxfb_kappa"][i]) < 5 * tab["mean_kappa_se"][i]
    # the quick training: the penalty lowers kappa at every T while the fit stays good
    claim = next(c for c in res.claims if c.claim.startswith("Training with the stability"))
    assert claim.verdict == "supported", claim.evidence
    assert res.timings["training"]["train"] < 60


def test_reproduce_paper_script_training_flags(monkeypatch, tmp_path):
    """experiments/reproduce_paper.py: training by default, --with-training a no-op alias."""
    import importlib.util

    path = Path(__file__).resolve().parents[1] / "experiments" / "reproduce_paper.py"
    spec = importlib.util.spec_from_file_location("reproduce_paper", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    assert mod.FULL.training and mod.FULL.training_lengths == (32, 128, 512, 1024)
    assert mod.QUICK.training_config() == reproduce.TrainingConfig.quick()
    seen = []

    def fake_run(config, out, **kw):
        seen.append(config)
        return reproduce.RunResult(Path(out), "report", "", "", [], [], [], {})

    monkeypatch.setattr(reproduce, "run", fake_run)
    for flags, training in (([], True), (["--with-training"], True), (["--no-training"], False)):
        assert mod.main(["--quick", "--out", str(tmp_path), *flags]) == 0
        assert seen[-1].training is training and seen[-1].mode == "quick"
    with pytest.raises(SystemExit):
        mod.main(["--with-training", "--no-training"])


# -- fitted constants under correlated points ------------------------------------------------------


def test_sandwich_stderr_is_the_weighted_least_squares_covariance():
    """Linear model, correlated noise of known covariance: the sandwich error matches the spread
    of the weighted least-squares estimates over replicates (exact for a linear model), and the
    independent-points error does not."""
    from jaxfb.reproduce._frames import sandwich_stderr

    rng = np.random.default_rng(0)
    n = 12
    X = np.stack([np.ones(n), np.linspace(0.0, 1.0, n)], axis=1)
    se = np.full(n, 0.1)
    block = np.full((4, 4), 0.8) + 0.2 * np.eye(4)  # three blocks of strongly correlated points
    cov = np.kron(np.eye(3), block) * 0.01
    theta = np.array([1.0, -2.0])
    W = np.diag(1 / se**2)
    solve = np.linalg.solve(X.T @ W @ X, X.T @ W)  # WLS estimate = solve @ y
    reps = 4000
    noise = rng.multivariate_normal(np.zeros(n), cov, size=reps)
    estimates = (X @ theta + noise) @ solve.T
    empirical = estimates.std(axis=0, ddof=1)
    got = sandwich_stderr(lambda p: X @ p, theta, se, cov)
    tol = 5 / math.sqrt(2 * (reps - 1))  # 5 SE of a sample standard deviation, relative
    np.testing.assert_allclose(got, empirical, rtol=tol)
    independent = sandwich_stderr(lambda p: X @ p, theta, se, np.diag(se**2))
    np.testing.assert_allclose(independent, np.sqrt(np.diag(np.linalg.inv(X.T @ W @ X))))
    assert np.all(np.abs(independent / empirical - 1) > 2 * tol)  # the test can tell them apart


def test_sandwich_with_independent_points_is_the_fit_error(x64):
    from jaxfb.reproduce._frames import fit_laws

    J, T = (a.ravel().astype(float) for a in np.meshgrid([8, 16, 32, 64], [16, 64, 256, 1024]))
    u = np.log(T) / J
    rng = np.random.default_rng(1)
    se = np.full(J.shape, 0.01)
    y = np.log((1 + 0.5 * np.sqrt(u)) / (1 - 0.5 * np.sqrt(u))) + se * rng.standard_normal(J.shape)
    plain = fit_laws(J, T, y, se)
    both = fit_laws(J, T, y, se, cov=np.diag(se**2))
    for model, f in plain.items():
        assert f.stderr_independent is None
        g = both[model]
        assert g.stderr_independent == f.stderr
        for name in f.params:
            np.testing.assert_allclose(g.stderr[name], f.stderr[name], rtol=1e-4)


def test_log_mean_kappa_covariance_matches_its_definition():
    from jaxfb.reproduce._frames import kappa_log_mean_cov

    rng = np.random.default_rng(2)
    base = rng.gamma(4.0, size=(500, 1))
    kappa = 1 + base + 0.3 * rng.gamma(2.0, size=(500, 3))  # three correlated columns
    c = kappa_log_mean_cov(kappa)
    n, m = kappa.shape[0], kappa.mean(axis=0)
    for i in range(3):
        _, se = mean_se_ref(kappa[:, i])
        np.testing.assert_allclose(c[i, i], (se / m[i]) ** 2, rtol=1e-12)
        for j in range(3):
            d = (kappa[:, i] - m[i]) * (kappa[:, j] - m[j])
            np.testing.assert_allclose(c[i, j], d.sum() / (n - 1) / n / (m[i] * m[j]), rtol=1e-12)
    assert np.all(c > 0)


def mean_se_ref(x):
    return x.mean(), x.std(ddof=1) / math.sqrt(x.size)


def test_tiny_run_reports_correlation_aware_errors(tiny_run):
    _, res = tiny_run
    c = [n for n in res.numbers if n.label.startswith("Fitted constant c of the paper's form")]
    assert c, [n.label for n in res.numbers]
    assert "allows for the correlation of the nested banks" in c[0].note
