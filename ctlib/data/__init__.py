"""Datasets: registry, checksummed loading with a parse cache, splits.

>>> from ctlib.data import load, get_split
>>> ds = load("mp2018")                     # first call parses (minutes), then cached
>>> split = get_split(ds)                   # {"train", "val", "test"} index arrays
>>> train = ds.subset(split["train"])

Importing this package is cheap: pymatgen and sklearn load only when used.

One job per module:

==============  ==============================================================
``registry``    the datasets known by name: files, checksums, targets
``files``       the data errors, checksums of data files, JSON reading
``checks``      checks of one record beyond parsing: CIF cell and formula, distance floor
``io``          registry loading and the checksum / parse / validate / cache
                pipeline every loader shares
``user``        a user's own files: CIF folder, MEGNet JSON, JARVIS ``dft_3d``
``dataset``     :class:`CrystalDataset`, the in-memory arrays
``splits``      train / val / test index arrays
``graphs``      periodic neighbour graphs of a dataset, cached on disk
``collate``     structure indices -> one ``CTBatch`` / ``GraphBatch``
``loader``      batch order per epoch (samplers) and ``make_loader``
``batch``       the two batch types models read
``augment``     symmetry augmentation of batches
==============  ==============================================================
"""
from .dataset import CrystalDataset
from .io import (
    DataError,
    DataWarning,
    LoadReport,
    benchmark_counts,
    check_structure,
    load,
    sha256_file,
)
from .registry import REGISTRY, DatasetSpec, FileSpec, cache_root, data_root, get_spec
from .splits import SCHEMES, get_split, matbench_fold_of_rows
from .user import load_cif_folder, load_jarvis_dft3d, load_megnet_json

__all__ = [
    "CrystalDataset", "DataError", "DataWarning", "LoadReport", "REGISTRY", "DatasetSpec",
    "FileSpec", "SCHEMES", "benchmark_counts", "cache_root", "check_structure", "data_root", "get_spec",
    "get_split", "load", "load_cif_folder", "load_jarvis_dft3d", "load_megnet_json",
    "matbench_fold_of_rows", "sha256_file",
]
