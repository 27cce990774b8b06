"""The element vocabulary shared by every model, plus element feature tables.

* ``SYMBOLS``: the symbols of Z = 1..100, ``SYMBOLS[Z - 1]``. Every per-element
  table in ctlib has 100 rows in this order (row ``Z - 1``).
* ``ELEMENTS``: the 89 elements that occur in the MP-2018 subset, ordered by Z.
  These are the elements a model trained on MP-2018 has seen, and the rows an
  exported embedding keeps. (A test checks this list against the loaded data.)
* :func:`onehot`, :func:`cgcnn92`, :func:`external_table`, :func:`elemental_properties`.

Nothing is computed at import time; the tables are built when asked for.
"""
from __future__ import annotations

import json
import math
import warnings
from importlib import resources

import numpy as np

N_Z = 100  # Z = 1..100

SYMBOLS: tuple[str, ...] = (
    "H", "He", "Li", "Be", "B", "C", "N", "O", "F", "Ne",
    "Na", "Mg", "Al", "Si", "P", "S", "Cl", "Ar", "K", "Ca",
    "Sc", "Ti", "V", "Cr", "Mn", "Fe", "Co", "Ni", "Cu", "Zn",
    "Ga", "Ge", "As", "Se", "Br", "Kr", "Rb", "Sr", "Y", "Zr",
    "Nb", "Mo", "Tc", "Ru", "Rh", "Pd", "Ag", "Cd", "In", "Sn",
    "Sb", "Te", "I", "Xe", "Cs", "Ba", "La", "Ce", "Pr", "Nd",
    "Pm", "Sm", "Eu", "Gd", "Tb", "Dy", "Ho", "Er", "Tm", "Yb",
    "Lu", "Hf", "Ta", "W", "Re", "Os", "Ir", "Pt", "Au", "Hg",
    "Tl", "Pb", "Bi", "Po", "At", "Rn", "Fr", "Ra", "Ac", "Th",
    "Pa", "U", "Np", "Pu", "Am", "Cm", "Bk", "Cf", "Es", "Fm",
)

Z_OF: dict[str, int] = {s: z for z, s in enumerate(SYMBOLS, start=1)}

# The 89 elements present in the MP-2018 subset: Z = 1..94 without Po, At, Rn, Fr, Ra.
ELEMENTS: tuple[str, ...] = tuple(
    s for s in SYMBOLS[:94] if s not in ("Po", "At", "Rn", "Fr", "Ra"))

PROPERTY_UNITS: dict[str, str] = {
    "atomic_radius": "Å",
    "boiling_point": "K",
    "melting_point": "K",
    "log10_conductivity": "log10(S/m)",
    "first_ionization_energy": "eV",
}


def onehot(z):
    """One-hot encode atomic numbers.

    Args:
        z: int array (numpy or torch) of atomic numbers, any shape (...), 1..100.

    Returns:
        Same library as ``z``, shape (..., 100), float32, with a 1 at index Z - 1.

    Raises:
        ValueError: a value is outside 1..100.
    """
    try:
        import torch
    except ImportError:  # torch is a dependency, but keep numpy use independent of it
        torch = None
    if torch is not None and torch.is_tensor(z):
        if z.numel() and (int(z.min()) < 1 or int(z.max()) > N_Z):
            raise ValueError(f"atomic numbers must be in 1..{N_Z}, got range "
                             f"{int(z.min())}..{int(z.max())}")
        return torch.nn.functional.one_hot(z.long() - 1, N_Z).to(torch.float32)
    z = np.asarray(z)
    if z.size and (z.min() < 1 or z.max() > N_Z):
        raise ValueError(f"atomic numbers must be in 1..{N_Z}, got range {z.min()}..{z.max()}")
    out = np.zeros(z.shape + (N_Z,), dtype=np.float32)
    np.put_along_axis(out, (z.astype(np.int64) - 1)[..., None], 1.0, axis=-1)
    return out


def cgcnn92() -> np.ndarray:
    """CGCNN's 92-d handcrafted atom features (Xie & Grossman 2018), method C.

    Read from the copy of ``cgcnn_atom_feature.json`` (CGCNN's ``atom_init.json``)
    that ships inside matminer; no network. Each row is a concatenation of binary
    one-hot blocks (group, period, electronegativity, covalent radius, valence
    electrons, first ionization energy, electron affinity, block, atomic volume).

    Returns:
        (100, 92) float32, row Z - 1; entries are 0 or 1.
    """
    path = resources.files("matminer") / "utils" / "data_files" / "cgcnn_atom_feature.json"
    table = json.loads(path.read_text())
    out = np.zeros((N_Z, 92), dtype=np.float32)
    for key, vec in table.items():
        z = int(key)
        if 1 <= z <= N_Z:
            if len(vec) != 92:
                raise ValueError(f"{path}: row for Z={z} has {len(vec)} values, expected 92")
            out[z - 1] = vec
    return out


def external_table(name: str) -> dict[str, np.ndarray]:
    """A table that the ``elementembeddings`` package ships, e.g. ``mat2vec`` or ``megnet16``.

    Reads the package's data file the way ``elementembeddings.core.Embedding.load_data(name)``
    does (same parser, same values; its ``Null`` row of megnet16 dropped), without importing
    ``elementembeddings.core``, which imports its plotting stack (umap and numba: about 5 s).
    Nothing is downloaded.

    Returns:
        symbol -> (d,) vector, in the file's order.

    Raises:
        ValueError: for a name the package does not list.
    """
    from importlib.util import find_spec

    import pandas as pd
    from elementembeddings.utils.config import DEFAULT_ELEMENT_EMBEDDINGS

    if name not in DEFAULT_ELEMENT_EMBEDDINGS:
        raise ValueError(f"elementembeddings has no table {name!r}; choose from "
                         f"{sorted(DEFAULT_ELEMENT_EMBEDDINGS)}")
    fname = DEFAULT_ELEMENT_EMBEDDINGS[name]
    folder = find_spec("elementembeddings").submodule_search_locations[0]
    path = f"{folder}/data/element_representations/{fname}"
    if fname.endswith(".csv"):
        df = pd.read_csv(path)
        symbols = list(df["element"])
        values = df.drop(["element"], axis=1).to_numpy()
        return {e: values[i] for i, e in enumerate(symbols)}
    with open(path) as f:
        table = {e: np.array(v) for e, v in json.load(f).items()}
    if "megnet" in fname:
        table.pop("Null", None)
    return table


def elemental_properties():
    """Elemental properties for reverse prediction, from pymatgen's bundled periodic table.

    Columns (NaN where pymatgen has no value):
        atomic_radius (Å), boiling_point (K), melting_point (K),
        log10_conductivity (log10 of 1 / electrical resistivity, S/m; pymatgen gives
        the resistivity in Ω·m, which it labels "m ohm"), first_ionization_energy (eV).

    With the pymatgen pinned here, of the 89 elements: atomic_radius lacks He, Ne, Kr,
    Xe (4); boiling_point lacks Pa (1); log10_conductivity lacks H, He, N, O, F, Ne, Ar,
    Se, Kr, Xe, Ac (11); melting_point and first_ionization_energy are complete.
    ``tests/test_elements.py`` prints the lists found at run time.
    Use :func:`missing_properties` to get them.

    Returns:
        pandas DataFrame, index = ``ELEMENTS`` (89 symbols, by Z), float64 columns as above.
    """
    import pandas as pd
    from pymatgen.core.periodic_table import Element

    def num(x) -> float:
        return math.nan if x is None else float(x)

    rows = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # pymatgen warns once per missing value
        for sym in ELEMENTS:
            el = Element(sym)
            rho = num(el.electrical_resistivity)
            ion = el.data.get("Ionization energies") or []
            rows.append({
                "atomic_radius": num(el.atomic_radius),
                "boiling_point": num(el.boiling_point),
                "melting_point": num(el.melting_point),
                "log10_conductivity": -math.log10(rho) if rho > 0 else math.nan,
                "first_ionization_energy": num(ion[0]) if ion else math.nan,
            })
    return pd.DataFrame(rows, index=pd.Index(ELEMENTS, name="symbol"))


def missing_properties() -> dict[str, list[str]]:
    """Property name -> the elements of ``ELEMENTS`` that lack a value."""
    df = elemental_properties()
    return {c: [s for s in df.index if not np.isfinite(df.at[s, c])] for c in df.columns}
