"""The datasets in numbers (page 01_data): what is loaded of each benchmark, how the targets
are distributed, which elements occur, how large the structures are, and how many
structures the current profile uses.

Every function works on the loaded sets (:func:`load_datasets`): tables are pandas
DataFrames the page styles and shows, texts are Markdown strings, figures are matplotlib
Figures the page saves (:func:`ctlib.plotting.savefig`) and shows. :func:`summary_numbers`
gathers the page's key numbers (``01_data.json``).
"""
from __future__ import annotations

from pathlib import Path
from typing import Mapping

import numpy as np
import pandas as pd

from ctlib.data import REGISTRY, get_split, load
from ctlib.elements import SYMBOLS

#: The sets of the page, in the order of its tables and figures.
NAMES = ("mp2018", "castelli_perovskites", "hoip")
#: The split names, in order.
SPLITS = ("train", "val", "test")
#: The targets the book models, per set (the target table and figure show these).
TARGETS = {
    "mp2018": ["formation_energy_per_atom", "band_gap"],
    "castelli_perovskites": ["e_form", "band_gap_gllbsc"],
    "hoip": ["atomization_energy_per_atom", "band_gap_hse06"],
}
#: Column formats of :func:`target_stats` for ``DataFrame.style.format``.
TARGET_FORMATS = {"n": "{:,}", "mean": "{:.3f}", "std": "{:.3f}", "min": "{:.3f}",
                  "max": "{:.3f}", "MAD": "{:.3f}", "share equal to 0": "{:.1%}"}
#: Column formats of :func:`coverage_table`.
COVERAGE_FORMATS = {"benchmark": "{:,}", "marked with structure": "{:,}", "loaded": "{:,}",
                    "coverage": "{:.1%}"}
#: Colour of each split in the MP-2018 target histograms.
SPLIT_COLOURS = {"train": "C0", "val": "C1", "test": "C2"}
#: Largest atomic number counted by :func:`structures_per_element` (its result has Z_MAX + 1 rows).
Z_MAX = 100


# ----------------------------------------------------------------------------- loading
def load_datasets(names=NAMES, root: str | Path | None = None) -> tuple[dict, dict]:
    """Load the sets and their default splits.

    Args:
        names: registry keys (default :data:`NAMES`).
        root: data folder (None: ``$CTLIB_DATA``, else ``data/``).

    Returns:
        ``(data, splits)``: name -> ``CrystalDataset``, and name -> ``{"train", "val",
        "test"}`` index arrays (:func:`ctlib.data.get_split` with the registry's scheme).
    """
    data = {name: load(name, root=root, progress=False) for name in names}
    return data, {name: get_split(ds) for name, ds in data.items()}


def elements_of(ds) -> list[str]:
    """The element symbols that occur in ``ds``, ordered by atomic number."""
    return sorted({SYMBOLS[z - 1] for z in np.unique(ds.numbers)}, key=SYMBOLS.index)


# ----------------------------------------------------------------------------- tables
def overview_table(data: Mapping, splits: Mapping) -> pd.DataFrame:
    """One row per set: size, split sizes, split scheme, atoms per cell, elements, targets.

    Args:
        data, splits: as returned by :func:`load_datasets`.

    Returns:
        DataFrame indexed by ``dataset`` (the registry's ``report_as`` name) with columns
        ``structures`` (int) and the text columns ``train / val / test``, ``split scheme``,
        ``atoms per cell (mean, max)``, ``elements`` (int), ``targets (unit)``.
    """
    rows = []
    for name, ds in data.items():
        spec = REGISTRY[name]
        rows.append({
            "dataset": spec.report_as,
            "structures": len(ds),
            "train / val / test": " / ".join(f"{len(splits[name][s]):,}" for s in SPLITS),
            "split scheme": spec.default_split,
            "atoms per cell (mean, max)": f"{ds.natoms.mean():.1f}, {ds.natoms.max()}",
            "elements": len(elements_of(ds)),
            "targets (unit)": ", ".join(f"{t} ({u})" if u else t for t, u in ds.units.items()),
        })
    return pd.DataFrame(rows).set_index("dataset")


def coverage_table(counts: Mapping, split_sizes: Mapping[str, int], n_loaded: int) -> pd.DataFrame:
    """How much of a benchmark is loaded, per split and in total.

    Args:
        counts: :func:`ctlib.data.benchmark_counts` of the set (``benchmark`` and
            ``with_structure``, each split -> count and ``total``).
        split_sizes: split -> number of structures loaded in it.
        n_loaded: structures loaded in all.

    Returns:
        DataFrame indexed by ``train, val, test, total`` with columns ``benchmark``,
        ``marked with structure``, ``loaded`` (counts) and ``coverage`` (loaded /
        benchmark, a fraction).

    Raises:
        RuntimeError: the loaded split sizes differ from those the labels file marks.
    """
    keys = (*SPLITS, "total")
    cov = pd.DataFrame({
        "benchmark": {s: counts["benchmark"][s] for s in keys},
        "marked with structure": {s: counts["with_structure"][s] for s in keys},
        "loaded": {**{s: split_sizes[s] for s in SPLITS}, "total": n_loaded},
    })
    cov["coverage"] = cov["loaded"] / cov["benchmark"]
    mismatch = cov.index[cov["loaded"] != cov["marked with structure"]].tolist()
    if mismatch:
        raise RuntimeError(f"mp2018: loaded split sizes differ from the labels file for {mismatch}; "
                           "clear $CTLIB_CACHE/datasets and reload, or check the data files")
    return cov


def split_sizes(split: Mapping) -> dict[str, int]:
    """split -> number of indices, for ``train, val, test``."""
    return {s: len(split[s]) for s in SPLITS}


def coverage_text(cov: pd.DataFrame) -> str:
    """Markdown: the share of the benchmark loaded, in total and on the test split
    (``cov`` from :func:`coverage_table`)."""
    return (f"We have **{cov.loc['total', 'loaded']:,} of {cov.loc['total', 'benchmark']:,}** materials "
            f"({cov.loc['total', 'coverage']:.1%}). The test split keeps "
            f"{cov.loc['test', 'coverage']:.1%} of its materials, so our test MAEs are computed on a "
            "different (smaller) test set than the paper's.")


def target_stats(data: Mapping, targets: Mapping = TARGETS) -> pd.DataFrame:
    """Distribution of each modelled target over its finite values.

    Args:
        data: name -> ``CrystalDataset``.
        targets: name -> target names (default :data:`TARGETS`; every name must be in ``data``).

    Returns:
        DataFrame indexed by ``(dataset, target)`` with ``unit``, ``n``, ``mean``,
        ``std`` (population), ``min``, ``max``, ``MAD`` (mean absolute deviation from
        the mean: the MAE of always predicting the mean) and ``share equal to 0``
        (a fraction), all in the target's unit.
    """
    stats = []
    for name, names in targets.items():
        ds = data[name]
        for t in names:
            y = ds.targets[t]
            y = y[np.isfinite(y)]
            stats.append({"dataset": REGISTRY[name].report_as, "target": t, "unit": ds.units[t],
                          "n": len(y), "mean": y.mean(), "std": y.std(), "min": y.min(), "max": y.max(),
                          "MAD": float(np.mean(np.abs(y - y.mean()))),
                          "share equal to 0": float(np.mean(y == 0))})
    return pd.DataFrame(stats).set_index(["dataset", "target"])


# ----------------------------------------------------------------------------- elements
def structures_per_element(ds) -> np.ndarray:
    """How many structures contain each element.

    Returns:
        ``(Z_MAX + 1,)`` int64, index Z (index 0 unused): the number of structures of
        ``ds`` with at least one atom of atomic number Z.
    """
    owner = np.repeat(np.arange(len(ds)), ds.natoms)
    pairs = np.unique(owner * 128 + ds.numbers.astype(np.int64))
    return np.bincount(pairs % 128, minlength=Z_MAX + 1)


def element_counts(ds) -> dict[str, int]:
    """symbol -> number of structures containing it, for the elements that occur, by Z."""
    counts = structures_per_element(ds)
    return {SYMBOLS[z - 1]: int(c) for z, c in enumerate(counts) if z > 0 and c > 0}


def plot_element_counts(present: Mapping[str, int], label: str = "MP-2018"):
    """The periodic table coloured by structure counts (log scale; absent elements grey).

    Args:
        present: symbol -> count (:func:`element_counts`).
        label: the set's short name, for the colour bar and title.

    Returns:
        the matplotlib Figure.
    """
    from ctlib.analysis.periodic_table import plot_periodic_table

    return plot_periodic_table(present, log=True, label_values=True, cmap="viridis",
                               colorbar_label=f"{label} structures containing the element",
                               title=f"{label} subset: {len(present)} elements")


def element_text(present: Mapping[str, int], n_top: int = 6, n_rare: int = 8, z_max: int = 94) -> str:
    """Markdown list: the most frequent and rarest elements (with counts) and those with
    Z <= ``z_max`` that never occur.

    Args:
        present: symbol -> structure count (:func:`element_counts`).
        n_top, n_rare: how many of the most frequent and of the rarest to name.
        z_max: the heaviest element considered for "never occur".
    """
    top = sorted(present.items(), key=lambda kv: -kv[1])
    rare = [f"{s} ({c})" for s, c in sorted(present.items(), key=lambda kv: kv[1])[:n_rare]]
    return ("- **Most frequent:** " + ", ".join(f"{s} ({c:,})" for s, c in top[:n_top]) + ".\n"
            "- **Rarest:** " + ", ".join(rare) + ".\n"
            f"- **Never occur (Z ≤ {z_max}):** "
            + ", ".join(s for s in SYMBOLS[:z_max] if s not in present) + ".\n\n"
            "An embedding row of a rare element is learned from only a handful of structures.")


def absent_elements_text(data: Mapping, present: Mapping[str, int],
                         names=("castelli_perovskites", "hoip")) -> str:
    """Markdown list: for each set of ``names``, its number of elements and those absent
    from ``present`` (MP-2018's elements, i.e. with no row in an MP-2018 embedding)."""
    lines = []
    for n in names:
        e = elements_of(data[n])
        missing = [s for s in e if s not in present]
        lines.append(f"- **{REGISTRY[n].report_as}:** {len(e)} elements, of which "
                     f"{len(missing)} are absent from MP-2018 ({', '.join(missing) or 'none'}).")
    return "\n".join(lines)


# ----------------------------------------------------------------------------- sizes
def size_text(ds, label: str = "MP-2018") -> str:
    """Markdown: the median, 90th and 99th percentile and the largest number of atoms per cell."""
    q = np.percentile(ds.natoms, [50, 90, 99])
    return (f"{label}: median {q[0]:.0f} atoms per cell, 90% at most {q[1]:.0f}, "
            f"99% at most {q[2]:.0f}; the largest has {ds.natoms.max()}.")


# ----------------------------------------------------------------------------- figures
def plot_target_distributions(data: Mapping, splits: Mapping, targets: Mapping = TARGETS):
    """Histograms of the targets: one column per set, one row per target.

    MP-2018 shows one density curve per split (are the splits alike?), the other sets
    their counts; band gaps use a log scale (metals have gap 0).

    Args:
        data, splits: as returned by :func:`load_datasets`.
        targets: name -> its two targets (default :data:`TARGETS`).

    Returns:
        the matplotlib Figure (2 x len(targets) axes).
    """
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(2, len(targets), figsize=(13, 7), squeeze=False)
    for col, (name, names) in enumerate(targets.items()):
        ds = data[name]
        for row, t in enumerate(names):
            ax = axes[row, col]
            y = ds.targets[t]
            finite = np.isfinite(y)
            bins = np.histogram_bin_edges(y[finite], bins=60)
            if name == "mp2018":
                for s, idx in splits[name].items():
                    ax.hist(y[idx], bins=bins, density=True, histtype="step", lw=1.5,
                            color=SPLIT_COLOURS[s], label=f"{s} ({len(idx):,})")
                ax.legend(fontsize=8)
                ax.set_ylabel("density")
            else:
                ax.hist(y[finite], bins=bins, color="C0", alpha=0.85)
                ax.set_ylabel("structures")
            if "gap" in t:
                ax.set_yscale("log")
            ax.set_xlabel(f"{t} ({ds.units[t]})")
            if row == 0:
                ax.set_title(REGISTRY[name].report_as, fontsize=10)
    fig.suptitle("Target distributions (band gaps on a log count scale; metals have gap 0)", y=1.0)
    fig.tight_layout()
    return fig


def plot_structure_sizes(data: Mapping, detail: str = "mp2018"):
    """Atoms per cell: the cumulative share of every set (left, log x) and the histogram
    of one set in bins of 5 atoms (right, log counts).

    Args:
        data: name -> ``CrystalDataset``.
        detail: the set of the histogram.

    Returns:
        the matplotlib Figure.
    """
    import matplotlib.pyplot as plt

    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(13, 4.2))
    for name, ds in data.items():
        ax1.ecdf(ds.natoms, lw=1.8, label=f"{REGISTRY[name].report_as} (n={len(ds):,})")
    ax1.set_xscale("log")
    ax1.set_xlabel("atoms per cell")
    ax1.set_ylabel("share of structures with at most x atoms")
    ax1.legend(fontsize=8, loc="upper left")
    n = data[detail].natoms
    ax2.hist(n, bins=np.arange(0, n.max() + 10, 5), color="C0")
    ax2.set_yscale("log")
    ax2.set_xlabel("atoms per cell (bins of 5)")
    ax2.set_ylabel("structures")
    ax2.set_title(REGISTRY[detail].report_as, fontsize=10)
    fig.tight_layout()
    return fig


# ----------------------------------------------------------------------------- the profile
def profile_sizes(prof, sizes: Mapping[str, int]) -> dict[str, int]:
    """The MP-2018 structures a profile uses per split.

    Args:
        prof: a :class:`ctlib.config.Profile` (``n_train``, ``n_val``, ``n_test``; None: all).
        sizes: split -> structures in the split (:func:`split_sizes`).

    Returns:
        split -> ``min(profile's size, split size)``, the whole split where the profile says None.
    """
    caps = {"train": prof.n_train, "val": prof.n_val, "test": prof.n_test}
    return {s: (sizes[s] if caps[s] is None else min(caps[s], sizes[s])) for s in SPLITS}


def profile_table(use: Mapping[str, int], sizes: Mapping[str, int], profile: str) -> pd.DataFrame:
    """One column ``MP-2018 structures used``, one row per split (``"4,000"``, or
    ``"44,441 (all)"`` when the whole split is used); the index is named after the profile."""
    return pd.DataFrame({
        "MP-2018 structures used": {f"{s} split": f"{use[s]:,}" + (" (all)" if use[s] == sizes[s] else "")
                                    for s in use},
    }).rename_axis(f"profile {profile!r}")


def profile_text(prof, use: Mapping[str, int]) -> str:
    """Markdown list: the profile's epochs per model, per-model caps on train/test
    structures, per-model departures from the default settings, seeds and the
    perovskite sample size (``use`` from :func:`profile_sizes`)."""
    settings = {}   # per-model departures from the defaults (model config, then training config)
    for overrides in (prof.recipe.model, prof.recipe.train):
        for m, kv in overrides.items():
            settings.setdefault(m, {}).update(kv)
    return (
        f"- **Epochs per model:** {', '.join(f'{m} {e}' for m, e in prof.epochs.items())}.\n"
        + "".join(f"- **{m} caps:** train {tr:,} structures, test {te:,}.\n" for m in prof.epochs
                  if (tr := prof.n_train_model.get(m)) and (te := prof.n_test_model.get(m) or use["test"]))
        + "".join(f"- **{m} settings:** {', '.join(f'`{k}={v}`' for k, v in kv.items())}.\n"
                  for m, kv in settings.items())
        + f"- **Seeds:** {list(prof.seeds)}.\n"
        f"- **Perovskite sample:** {prof.perovskite_n:,} Castelli structures for the "
        "data-scarce experiment.")


# ----------------------------------------------------------------------------- the page's numbers
def summary_numbers(profile: str, data: Mapping, splits: Mapping, cov: pd.DataFrame,
                    stats: pd.DataFrame, present: Mapping[str, int], use: Mapping[str, int],
                    targets: Mapping = TARGETS) -> dict:
    """The page's key numbers (written to ``01_data.json``).

    Args:
        profile: the profile's name.
        data, splits: :func:`load_datasets`.
        cov: :func:`coverage_table` of MP-2018.
        stats: :func:`target_stats` (rows for ``targets``).
        present: :func:`element_counts` of MP-2018.
        use: :func:`profile_sizes`.
        targets: the targets of ``stats`` per set.

    Returns:
        ``{"profile", <set>: {"n", "split", "n_elements", "natoms_mean", "natoms_max",
        "natoms_min", "targets": {t: {"n", "mean", "mad", "frac_zero"}}}, "profile_sizes"}``;
        MP-2018 also has ``benchmark`` and ``coverage`` (per split and total) and
        ``elements`` (symbols by Z). Plain Python numbers.
    """
    numbers: dict = {"profile": profile}
    for name, ds in data.items():
        numbers[name] = {"n": len(ds), "split": split_sizes(splits[name]),
                         "n_elements": len(elements_of(ds)), "natoms_mean": float(ds.natoms.mean()),
                         "natoms_max": int(ds.natoms.max()), "natoms_min": int(ds.natoms.min())}
    numbers["mp2018"]["benchmark"] = {s: int(v) for s, v in cov["benchmark"].items()}
    numbers["mp2018"]["coverage"] = {s: float(v) for s, v in cov["coverage"].items()}
    for name, names in targets.items():
        label = REGISTRY[name].report_as
        numbers[name]["targets"] = {t: {"n": int(stats.loc[(label, t), "n"]),
                                        "mean": float(stats.loc[(label, t), "mean"]),
                                        "mad": float(stats.loc[(label, t), "MAD"]),
                                        "frac_zero": float(stats.loc[(label, t), "share equal to 0"])}
                                    for t in names}
    numbers["mp2018"]["elements"] = list(present)
    numbers["profile_sizes"] = dict(use)
    return numbers
