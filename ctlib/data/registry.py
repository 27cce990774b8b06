"""The datasets ``ctlib.data.load`` knows by name: files, checksums, schema, targets.

Every entry points at files under the data root (``$CTLIB_DATA``, default
``data/`` in the project checkout) and pins each file's sha256, as
listed in the data mirror's README. The loader refuses a file whose checksum
differs, so every machine parses the same bytes.

=====================  ==========================================  ==============
name                   targets (unit)                              default split
=====================  ==========================================  ==============
mp2018                 formation_energy_per_atom (eV/atom),        ``standard``
                       band_gap (eV)
castelli_perovskites   e_form (eV/cell), band_gap_gllbsc (eV), ... ``matbench``
hoip                   atomization_energy_per_atom (eV/atom),      ``random``
                       band_gap_gga (eV), band_gap_hse06 (eV), ...
=====================  ==========================================  ==============
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class FileSpec:
    """One file of a dataset.

    Attributes:
        path: path relative to the data root, e.g. ``"mp2018/mp2018_labels.csv"``.
        sha256: expected sha256 (64 hex) of the file's bytes.
    """

    path: str
    sha256: str


@dataclass(frozen=True)
class DatasetSpec:
    """What the loader needs to know about one registry dataset.

    Attributes:
        name: registry key.
        structures: the gzip JSON list of records (MEGNet schema: id, CIF text, targets).
        labels: an optional CSV with the full benchmark (ids, split, targets).
        id_key / structure_key: record fields holding the id and the CIF text.
        targets: target name -> unit. All become ``ds.targets`` (float64).
        required: targets that must be finite in every record; a NaN there is a bad
            record. The other targets may hold NaN (check with ``ds.require_target``).
        meta_fields: record fields copied to ``ds.meta`` (per-structure columns).
        default_split: scheme ``get_split`` uses when none is given.
        n_records: records the structures file holds.
        description: one line, shown by the book's data page.
        report_as: the name results on this set must be reported under.
    """

    name: str
    structures: FileSpec
    labels: FileSpec | None
    id_key: str
    structure_key: str
    targets: dict[str, str]
    required: tuple[str, ...]
    meta_fields: tuple[str, ...]
    default_split: str
    n_records: int
    description: str
    report_as: str

    @property
    def files(self) -> tuple[FileSpec, ...]:
        """All files of the dataset (structures first)."""
        return (self.structures,) + ((self.labels,) if self.labels else ())


REGISTRY: dict[str, DatasetSpec] = {
    "mp2018": DatasetSpec(
        name="mp2018",
        structures=FileSpec("mp2018/mp2018_structures.json.gz",
                            "c2f7cf11c76425ff5b82328180f7e2f9e1c299a00756a7eb12e302c46e52d951"),
        labels=FileSpec("mp2018/mp2018_labels.csv",
                        "20a1ad9d346525ee9893d700302e3a79a28cbe452428757241195ea74420b1d9"),
        id_key="material_id",
        structure_key="structure",
        targets={"formation_energy_per_atom": "eV/atom", "band_gap": "eV"},
        required=("formation_energy_per_atom", "band_gap"),
        meta_fields=(),  # "split" comes from the labels CSV
        default_split="standard",
        n_records=51_222,
        description=("Materials Project 2018.6.1 (MEGNet benchmark), the 74% of its ids whose "
                     "structure is available offline; PBE formation energy and band gap."),
        report_as="MP-2018 (74% subset with current MP structures)",
    ),
    "castelli_perovskites": DatasetSpec(
        name="castelli_perovskites",
        structures=FileSpec("perovskites/castelli_perovskites.json.gz",
                            "df41a82f384c6a8bdaf15cd8e638686f3ae0f5e259a4a50ceac536b2f9ec10df"),
        labels=None,
        id_key="material_id",
        structure_key="structure",
        targets={"e_form": "eV/cell", "band_gap_gllbsc": "eV", "mu_b": "mu_B/cell",
                 "fermi_level": "eV", "fermi_width": "eV", "vbm": "eV", "cbm": "eV"},
        required=("e_form", "band_gap_gllbsc"),
        meta_fields=("row", "formula", "gap_is_direct"),
        default_split="matbench",
        n_records=18_928,
        description=("Castelli et al. (2012) 5-atom cubic ABX3 perovskites; the data of "
                     "Matbench's matbench_perovskites (e_form in eV per 5-atom cell)."),
        report_as="Castelli perovskites (matbench_perovskites)",
    ),
    "hoip": DatasetSpec(
        name="hoip",
        structures=FileSpec("perovskites/hoip_kim2017.json.gz",
                            "db5994a85f456ea6d74d5d0a3e8072792a8920a246bc2fc6dfc0361956833ec8"),
        labels=None,
        id_key="material_id",
        structure_key="structure",
        targets={"atomization_energy_per_atom": "eV/atom", "band_gap_gga": "eV",
                 "band_gap_hse06": "eV", "relative_energy1_per_atom": "eV/atom",
                 "relative_energy2_per_atom": "eV/atom", "dielectric_electronic": "",
                 "dielectric_ionic": "", "dielectric_total": "", "refractive_index": "",
                 "volume": "Å^3", "density": "g/cm^3"},
        required=("atomization_energy_per_atom", "band_gap_gga", "band_gap_hse06"),
        meta_fields=("hoip_id", "khazana_id", "label", "organic_cation"),
        default_split="random",
        n_records=1_346,
        description=("Kim et al. (2017) hybrid organic-inorganic perovskites (VASP-relaxed); "
                     "GGA and HSE06 band gaps, dielectric constants, energies."),
        report_as="HOIP (Kim et al. 2017)",
    ),
}


def get_spec(name: str) -> DatasetSpec:
    """The registry entry ``name``; a clear KeyError lists the known names."""
    try:
        return REGISTRY[name]
    except KeyError:
        raise KeyError(f"unknown dataset {name!r}; registry datasets are {sorted(REGISTRY)}. "
                       "For your own data use load_cif_folder, load_megnet_json or "
                       "load_jarvis_dft3d.") from None


def _project_dir() -> Path:
    """The checkout holding ``ctlib`` (has ``pyproject.toml``), else the working directory.

    Defaults are anchored here so a notebook executed in ``notebooks/`` finds the same
    data and cache as ``make test`` run from the repository root.
    """
    here = Path(__file__).resolve().parents[2]
    return here if (here / "pyproject.toml").is_file() else Path.cwd()


def data_root() -> Path:
    """Folder holding the dataset files: ``$CTLIB_DATA`` if set, else ``<project>/data``."""
    env = os.environ.get("CTLIB_DATA")
    return Path(env) if env else _project_dir() / "data"


def cache_root() -> Path:
    """Folder for caches: ``$CTLIB_CACHE`` if set, else ``<project>/.cache/ctlib``."""
    env = os.environ.get("CTLIB_CACHE")
    return Path(env) if env else _project_dir() / ".cache" / "ctlib"
