"""Page 01 (the datasets in numbers) computed by ctlib.analysis.datasets: overview, coverage and
target tables, structures per element, sizes, the profile's sizes and the page's numbers."""
from __future__ import annotations

import math

import matplotlib
import numpy as np
import pytest

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402

from ctlib.analysis import datasets  # noqa: E402
from ctlib.config import get_profile  # noqa: E402
from ctlib.data import REGISTRY  # noqa: E402
from ctlib.data.dataset import CrystalDataset  # noqa: E402
from ctlib.elements import SYMBOLS  # noqa: E402


def crystals(name: str, structures: list[list[int]], targets: dict[str, list[float]],
             units: dict[str, str] | None = None) -> CrystalDataset:
    """A tiny dataset: one structure per list of atomic numbers (coordinates are zeros)."""
    numbers = np.concatenate([np.asarray(s, dtype=np.int16) for s in structures])
    ptr = np.concatenate([[0], np.cumsum([len(s) for s in structures])]).astype(np.int64)
    n = len(structures)
    return CrystalDataset(
        name=name, source_sha256="0" * 64, ids=np.array([f"{name}-{i}" for i in range(n)], dtype=object),
        numbers=numbers, frac_coords=np.zeros((len(numbers), 3)), lattices=np.tile(np.eye(3) * 4.0, (n, 1, 1)),
        ptr=ptr, targets={k: np.asarray(v, dtype=np.float64) for k, v in targets.items()},
        units=units if units is not None else {k: "eV" for k in targets})


@pytest.fixture
def tiny():
    """Three tiny sets under the registry's names, with splits."""
    mp = crystals("mp2018", [[1, 1, 8], [8, 26], [26], [3, 8, 8, 8]],
                  {"formation_energy_per_atom": [0.0, 0.0, 3.0, 1.0], "band_gap": [0.0, 1.0, 2.0, 3.0]},
                  {"formation_energy_per_atom": "eV/atom", "band_gap": "eV"})
    ca = crystals("castelli_perovskites", [[8, 8, 8, 20, 22], [8, 8, 8, 84, 22], [8, 8, 8, 20, 22]],
                  {"e_form": [1.0, math.nan, 3.0], "band_gap_gllbsc": [0.0, 0.5, 0.0]})
    ho = crystals("hoip", [[1, 6, 82, 53]], {"atomization_energy_per_atom": [-4.0], "band_gap_hse06": [2.0]},
                  {"atomization_energy_per_atom": "eV/atom", "band_gap_hse06": ""})
    data = {"mp2018": mp, "castelli_perovskites": ca, "hoip": ho}
    splits = {"mp2018": {"train": np.array([0, 1]), "val": np.array([2]), "test": np.array([3])},
              "castelli_perovskites": {"train": np.array([0, 2]), "val": np.array([], int), "test": np.array([1])},
              "hoip": {"train": np.array([0]), "val": np.array([], int), "test": np.array([], int)}}
    return data, splits


# ----------------------------------------------------------------------------- elements
def test_elements_of_is_ordered_by_atomic_number(tiny):
    data, _ = tiny
    assert datasets.elements_of(data["mp2018"]) == ["H", "Li", "O", "Fe"]


def test_structures_per_element_counts_each_structure_once(tiny):
    data, _ = tiny
    c = datasets.structures_per_element(data["mp2018"])
    assert c.shape == (datasets.Z_MAX + 1,)
    assert (c[1], c[3], c[8], c[26]) == (1, 1, 3, 2)     # H twice in one cell counts once
    assert c.sum() == 7 and c[0] == 0
    assert datasets.element_counts(data["mp2018"]) == {"H": 1, "Li": 1, "O": 3, "Fe": 2}
    assert list(datasets.element_counts(data["mp2018"])) == ["H", "Li", "O", "Fe"]


def test_structures_per_element_agrees_with_counting_sets_on_hoip(hoip):
    counts = datasets.element_counts(hoip)
    expected: dict[str, int] = {}
    for i in range(len(hoip)):
        for z in set(hoip.numbers[hoip.ptr[i]:hoip.ptr[i + 1]].tolist()):
            sym = SYMBOLS[z - 1]
            expected[sym] = expected.get(sym, 0) + 1
    assert counts == expected and len(counts) == 11


def test_element_texts_name_frequent_rare_and_absent_elements(tiny):
    data, _ = tiny
    present = datasets.element_counts(data["mp2018"])
    text = datasets.element_text(present, n_top=2, n_rare=2, z_max=10)
    assert "- **Most frequent:** O (3), Fe (2).\n" in text
    assert "- **Rarest:** H (1), Li (1).\n" in text
    assert "- **Never occur (Z ≤ 10):** He, Be, B, C, N, F, Ne.\n" in text
    absent = datasets.absent_elements_text(data, present)
    assert absent.splitlines() == [
        f"- **{REGISTRY['castelli_perovskites'].report_as}:** 4 elements, of which 3 are absent from "
        "MP-2018 (Ca, Ti, Po).",
        f"- **{REGISTRY['hoip'].report_as}:** 4 elements, of which 3 are absent from MP-2018 (C, I, Pb)."]


# ----------------------------------------------------------------------------- tables
def test_overview_table_has_one_row_per_set(tiny):
    data, splits = tiny
    t = datasets.overview_table(data, splits)
    mp = t.loc[REGISTRY["mp2018"].report_as]
    assert mp["structures"] == 4 and mp["train / val / test"] == "2 / 1 / 1"
    assert mp["atoms per cell (mean, max)"] == "2.5, 4" and mp["elements"] == 4
    assert mp["split scheme"] == "standard"
    assert mp["targets (unit)"] == "formation_energy_per_atom (eV/atom), band_gap (eV)"
    assert t.loc[REGISTRY["hoip"].report_as, "targets (unit)"] == \
        "atomization_energy_per_atom (eV/atom), band_gap_hse06"   # no unit: name only
    assert list(t.index) == [REGISTRY[n].report_as for n in datasets.NAMES]


def test_coverage_table_and_text():
    counts = {"benchmark": {"train": 8, "val": 1, "test": 1, "total": 10},
              "with_structure": {"train": 6, "val": 1, "test": 1, "total": 8}}
    cov = datasets.coverage_table(counts, {"train": 6, "val": 1, "test": 1}, 8)
    assert list(cov.index) == ["train", "val", "test", "total"]
    assert cov.loc["train", "coverage"] == pytest.approx(0.75) and cov.loc["total", "coverage"] == pytest.approx(0.8)
    assert cov["loaded"].tolist() == [6, 1, 1, 8]
    assert datasets.coverage_text(cov).startswith("We have **8 of 10** materials (80.0%). The test split "
                                                  "keeps 100.0% of its materials")
    with pytest.raises(RuntimeError, match=r"\['train', 'total'\]"):
        datasets.coverage_table(counts, {"train": 5, "val": 1, "test": 1}, 7)


def test_target_stats_use_finite_values(tiny):
    data, _ = tiny
    s = datasets.target_stats(data)
    ef = s.loc[(REGISTRY["mp2018"].report_as, "formation_energy_per_atom")]
    assert ef["n"] == 4 and ef["unit"] == "eV/atom"
    assert ef["mean"] == pytest.approx(1.0) and ef["std"] == pytest.approx(math.sqrt(1.5))
    assert ef["MAD"] == pytest.approx(1.0) and ef["share equal to 0"] == pytest.approx(0.5)
    assert (ef["min"], ef["max"]) == (0.0, 3.0)
    ca = s.loc[(REGISTRY["castelli_perovskites"].report_as, "e_form")]
    assert ca["n"] == 2 and ca["mean"] == pytest.approx(2.0) and ca["MAD"] == pytest.approx(1.0)  # NaN left out
    assert len(s) == 6 and set(datasets.TARGET_FORMATS) <= set(s.columns)


def test_size_text_quotes_percentiles():
    ds = crystals("x", [[1] * k for k in range(1, 101)], {})
    assert datasets.size_text(ds, "X") == ("X: median 50 atoms per cell, 90% at most 90, 99% at most 99; "
                                           "the largest has 100.")


# ----------------------------------------------------------------------------- the profile
def test_profile_sizes_cap_each_split():
    prof = get_profile("quick")          # n_train 1500, n_val 250, n_test None (all)
    use = datasets.profile_sizes(prof, {"train": 44441, "val": 200, "test": 3126})
    assert use == {"train": 1500, "val": 200, "test": 3126}
    t = datasets.profile_table(use, {"train": 44441, "val": 200, "test": 3126}, "quick")
    assert t.index.name == "profile 'quick'"
    assert t["MP-2018 structures used"].tolist() == ["1,500", "200 (all)", "3,126 (all)"]


def test_profile_text_lists_epochs_caps_settings_and_seeds():
    prof = get_profile("quick")
    text = datasets.profile_text(prof, {"train": 1500, "val": 250, "test": 3126})
    assert text.startswith("- **Epochs per model:** cgcnn 5, megnet 4, alignn 3, ct 6.\n")
    assert "- **alignn caps:** train 800 structures, test 1,000.\n" in text
    assert "- **alignn settings:** `hidden=64`.\n" in text
    assert "- **ct settings:** `coord_scale=0.1`, `lr=0.0003`, `max_tokens=2048`.\n" in text
    assert text.endswith("- **Seeds:** [0].\n- **Perovskite sample:** 3,334 Castelli structures for the "
                         "data-scarce experiment.")


# ----------------------------------------------------------------------------- numbers and figures
def test_summary_numbers(tiny):
    data, splits = tiny
    counts = {"benchmark": {"train": 4, "val": 1, "test": 1, "total": 6},
              "with_structure": {"train": 2, "val": 1, "test": 1, "total": 4}}
    cov = datasets.coverage_table(counts, datasets.split_sizes(splits["mp2018"]), 4)
    present = datasets.element_counts(data["mp2018"])
    use = {"train": 2, "val": 1, "test": 1}
    n = datasets.summary_numbers("smoke", data, splits, cov, datasets.target_stats(data), present, use)
    assert list(n) == ["profile", "mp2018", "castelli_perovskites", "hoip", "profile_sizes"]
    mp = n["mp2018"]
    assert list(mp) == ["n", "split", "n_elements", "natoms_mean", "natoms_max", "natoms_min",
                        "benchmark", "coverage", "targets", "elements"]
    assert (mp["n"], mp["split"], mp["n_elements"], mp["natoms_max"], mp["natoms_min"]) == \
        (4, {"train": 2, "val": 1, "test": 1}, 4, 4, 1)
    assert mp["coverage"]["train"] == 0.5 and mp["benchmark"]["total"] == 6
    assert mp["targets"]["formation_energy_per_atom"] == {"n": 4, "mean": 1.0, "mad": 1.0, "frac_zero": 0.5}
    assert n["castelli_perovskites"]["targets"]["e_form"]["n"] == 2
    assert mp["elements"] == ["H", "Li", "O", "Fe"]
    assert n["hoip"]["targets"]["band_gap_hse06"]["mean"] == 2.0 and "elements" not in n["hoip"]
    assert n["profile_sizes"] == use
    assert all(type(v) is float for v in (mp["natoms_mean"], mp["coverage"]["total"]))


def test_figures_draw_every_set(tiny):
    data, splits = tiny
    fig = datasets.plot_target_distributions(data, splits)
    axes = fig.axes
    assert len(axes) == 6
    assert [a.get_title() for a in axes[:3]] == [REGISTRY[n].report_as for n in datasets.NAMES]
    assert [t.get_text() for t in axes[0].get_legend().get_texts()] == ["train (2)", "val (1)", "test (1)"]
    assert axes[3].get_yscale() == "log" and axes[0].get_yscale() == "linear"   # band gaps on a log scale
    fig2 = datasets.plot_structure_sizes(data)
    assert [t.get_text() for t in fig2.axes[0].get_legend().get_texts()] == \
        [f"{REGISTRY[n].report_as} (n={len(data[n]):,})" for n in datasets.NAMES]
    fig3 = datasets.plot_element_counts(datasets.element_counts(data["mp2018"]))
    assert "4 elements" in fig3.axes[0].get_title()
    plt.close("all")
