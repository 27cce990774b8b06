"""Datasets: registry, checksummed loading with a parse cache, splits.

>>> from ctlib.data import load, get_split
>>> ds = load("mp2018")                     # first call parses (minutes), then cached
>>> split = get_split(ds)                   # {"train", "val", "test"} index arrays
>>> train = ds.subset(split["train"])

Importing this package is cheap: pymatgen and sklearn load only when used.
"""
from .dataset import CrystalDataset
from .io import (
    DataError,
    DataWarning,
    LoadReport,
    benchmark_counts,
    check_structure,
    load,
    load_cif_folder,
    load_jarvis_dft3d,
    load_megnet_json,
    sha256_file,
)
from .registry import REGISTRY, DatasetSpec, FileSpec, cache_root, data_root, get_spec
from .splits import SCHEMES, get_split, matbench_fold_of_rows

__all__ = [
    "CrystalDataset", "DataError", "DataWarning", "LoadReport", "REGISTRY", "DatasetSpec",
    "FileSpec", "SCHEMES", "benchmark_counts", "cache_root", "check_structure", "data_root", "get_spec",
    "get_split", "load", "load_cif_folder", "load_jarvis_dft3d", "load_megnet_json",
    "matbench_fold_of_rows", "sha256_file",
]
