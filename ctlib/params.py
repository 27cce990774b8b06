"""Validate a notebook's parameters, whatever way they arrived.

Every notebook's first code cell after the cell tagged ``parameters`` calls
:func:`notebook_params` on all of its parameters and rebinds the validated
values, so the rest of the notebook never sees a raw string where it expects a
list.  Parameters reach a notebook in several shapes:

* ``papermill -p NAME VALUE`` turns ``VALUE`` into an int, a float, ``True`` /
  ``False`` / ``None`` (only for exactly those spellings) or else leaves it as
  **text**: ``-p seeds "[0, 1, 2]"`` arrives as the string ``"[0, 1, 2]"``.
* ``papermill -y "seeds: [0, 1, 2]"`` and ``papermill -f params.yaml`` read YAML,
  so lists and booleans arrive typed.
* ``ctlib book -p NAME VALUE`` reads ``VALUE`` as YAML.

Accepted forms (see each ``parse_*`` function):

========================  ===================================================
parameter                 accepted
========================  ===================================================
``profile``               a name of :data:`ctlib.config.PROFILES` (smoke, quick, cpu, paper)
``seeds``                 ``None`` (the notebook's default), a list of
                          non-negative ints, one int, or text ``"[0, 1, 2]"``,
                          ``"0,1,2"``, ``"0 1 2"``, ``"3"``
``device``                ``auto`` | ``cpu`` | ``cuda``
``force``                 ``True``/``False``, ``0``/``1``, or the text
                          true/false/yes/no/1/0 (any case)
``embedding``             ``auto``, a run id (the stem of a run JSON, e.g.
                          ``ct-formation_energy_per_atom+band_gap-795c25e7-s0``),
                          or the path of an existing embedding file
``out_dir``,              ``None`` or a folder
``results_root``
``data_root``             ``None`` or an existing folder
``n_components``,         an int >= 1 (``top``, ``n_jobs``, ``n_components``),
``top``, ``n_jobs``,      >= 2 (``k_max``), >= 0 (``cluster_seed``)
``k_max``,
``cluster_seed``
``rp_repeats``,           ``None`` (the profile's value) or an int >= 1
``catboost_iterations``
``baselines``             a list of names of
                          :data:`ctlib.analysis.reverse.BASELINE_DESCRIPTIONS`,
                          or the text ``"onehot,cgcnn92"`` / ``"[onehot, cgcnn92]"``
========================  ===================================================

Every bad value raises :class:`ParameterError` (a ``ValueError``) whose message
names the parameter, shows the value received and lists the accepted forms.
"""
from __future__ import annotations

import numbers
import os
import re
import types
from pathlib import Path
from typing import Any, Callable

import yaml

from ctlib.config import PROFILES

#: Devices the trainer accepts (``ctlib.train.resolve_device``).
DEVICES = ("auto", "cpu", "cuda")

_TRUE = ("true", "yes", "1")
_FALSE = ("false", "no", "0")
_NONE_TEXT = ("none", "null", "~")
_SEEDS_FORMS = ('None (the notebook\'s default seeds), a list of non-negative integers, '
                'e.g. papermill -y "seeds: [0, 1, 2]", papermill -p seeds 0,1,2, '
                'papermill -p seeds 3, a parameters file (-f params.yaml) with the line '
                '"seeds: [0, 1, 2]", or ctlib book -p seeds "[0, 1, 2]"')
_RUN_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.+\-]*$")
_EMBEDDING_FILE_SUFFIXES = (".json", ".npz", ".csv")
# words that name a kind of CT run rather than one run; resolve_embeddings has no such alias
_EMBEDDING_KIND_WORDS = ("mt", "multitask", "multi-task", "ct-multitask", "ct-mt", "ct_mt",
                         "ef", "ct-ef", "ct_ef")


class ParameterError(ValueError):
    """A notebook parameter has a value that is not one of its accepted forms."""


def _fail(name: str, value: Any, expected: str, why: str | None = None) -> ParameterError:
    because = f" ({why})" if why else ""
    return ParameterError(f"notebook parameter {name!r}: got {value!r}{because}; expected {expected}")


def _is_none_text(value: Any) -> bool:
    return isinstance(value, str) and value.strip().lower() in _NONE_TEXT


def _is_int(value: Any) -> bool:
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


# ------------------------------------------------------------------ parsers
def parse_profile(value: Any, name: str = "profile") -> str:
    """A profile name: a key of :data:`ctlib.config.PROFILES` (``smoke``, ``quick``, ``cpu``, ``paper``)."""
    valid = " | ".join(sorted(PROFILES))
    if not isinstance(value, str) or value.strip() not in PROFILES:
        raise _fail(name, value, f"one of {valid} (the scales of ctlib/config.py), "
                                 f"e.g. papermill -p {name} smoke")
    return value.strip()


def parse_seeds(value: Any, name: str = "seeds") -> list[int] | None:
    """Training seeds as a list of distinct non-negative ints, or ``None``.

    Accepted: ``None`` (or the text ``"None"``/``"null"``: the notebook's default,
    which is the profile's seeds on the training pages), a list or tuple of ints
    ``[0, 1, 2]``, one int ``3``, or text: ``"[0, 1, 2]"`` (YAML/JSON list),
    ``"0,1,2"``, ``"0 1 2"``, ``"3"``.  Anything else (negative numbers, floats
    such as ``1.5``, booleans, words, an empty list, a seed given twice) raises
    :class:`ParameterError`.

    >>> parse_seeds("[0, 1, 2]"), parse_seeds("0,1,2"), parse_seeds(3), parse_seeds(None)
    ([0, 1, 2], [0, 1, 2], [3], None)
    """
    raw = value
    if value is None or _is_none_text(value):
        return None
    if isinstance(value, str):
        text = value.strip()
        if text and text[0] in "[(" and text[-1] in "])":
            try:
                value = yaml.safe_load("[" + text[1:-1] + "]")
            except yaml.YAMLError:
                raise _fail(name, raw, _SEEDS_FORMS, "not a readable list") from None
        elif text and re.fullmatch(r"[0-9]+(\s*,\s*[0-9]+|\s+[0-9]+)*", text):
            value = [int(t) for t in re.split(r"\s*,\s*|\s+", text)]
        else:
            why = ("empty" if not text else "a negative seed" if re.search(r"-\s*[0-9]", text)
                   else "not an integer" if re.search(r"[0-9]\.[0-9]*", text) else None)
            raise _fail(name, raw, _SEEDS_FORMS, why)
    if _is_int(value):
        value = [value]
    if not isinstance(value, (list, tuple)):
        raise _fail(name, raw, _SEEDS_FORMS, "not an integer" if isinstance(value, numbers.Number)
                    else None)
    if not value:
        raise _fail(name, raw, _SEEDS_FORMS, "an empty list trains nothing")
    for s in value:
        if not _is_int(s):
            raise _fail(name, raw, _SEEDS_FORMS, f"{s!r} is not an integer")
        if s < 0:
            raise _fail(name, raw, _SEEDS_FORMS, f"{s} is negative")
    seeds = [int(s) for s in value]
    if len(set(seeds)) != len(seeds):
        raise _fail(name, raw, _SEEDS_FORMS, "a seed is listed twice")
    return seeds


def parse_device(value: Any, name: str = "device") -> str:
    """``"auto"`` (CUDA when available), ``"cpu"`` or ``"cuda"`` (any case)."""
    if isinstance(value, str) and value.strip().lower() in DEVICES:
        return value.strip().lower()
    raise _fail(name, value, " | ".join(DEVICES) + ' ("auto" picks CUDA when available)')


def parse_bool(value: Any, name: str = "force") -> bool:
    """``True``/``False``, the ints ``0``/``1``, or the text true/false/yes/no/1/0 (any case).

    ``papermill -p force true`` delivers the text ``"true"`` (papermill only
    converts ``True``/``False``), ``-y "force: true"`` a bool.
    """
    if isinstance(value, bool):
        return value
    if _is_int(value) and value in (0, 1):
        return bool(value)
    if isinstance(value, str):
        text = value.strip().lower()
        if text in _TRUE:
            return True
        if text in _FALSE:
            return False
    raise _fail(name, value, "True or False (also the text true/false/yes/no/1/0, any case), "
                             f"e.g. papermill -p {name} true")


def _int_value(value: Any, name: str, minimum: int, expected: str) -> int:
    if isinstance(value, str) and re.fullmatch(r"[+-]?[0-9]+", value.strip()):
        value = int(value.strip())
    if not _is_int(value):
        raise _fail(name, value, expected)
    if value < minimum:
        raise _fail(name, value, expected, f"below {minimum}")
    return int(value)


def int_at_least(minimum: int) -> Callable[[Any, str], int]:
    """A parser for an int ``>= minimum`` (ints or their text; not floats or booleans)."""
    def parse(value: Any, name: str) -> int:
        return _int_value(value, name, minimum, f"an integer >= {minimum}, e.g. papermill -p {name} "
                                                 f"{max(minimum, 2)}")
    parse.__doc__ = f"An integer >= {minimum} (or its text)."
    return parse


def optional_int_at_least(minimum: int) -> Callable[[Any, str], int | None]:
    """A parser for ``None`` (the profile's value) or an int ``>= minimum``."""
    def parse(value: Any, name: str) -> int | None:
        if value is None or _is_none_text(value):
            return None
        return _int_value(value, name, minimum, f"None (the profile's value) or an integer >= "
                                                 f"{minimum}, e.g. papermill -p {name} {max(minimum, 2)}")
    parse.__doc__ = f"None (the profile's value) or an integer >= {minimum} (or its text)."
    return parse


def parse_folder(value: Any, name: str = "out_dir") -> str | None:
    """``None`` (the notebook's default) or a folder, returned as a string (it may not exist yet)."""
    if value is None or _is_none_text(value):
        return None
    if isinstance(value, os.PathLike):
        value = os.fspath(value)
    if not isinstance(value, str) or not value.strip():
        raise _fail(name, value, f"None (the notebook's default) or a folder path, "
                                 f"e.g. papermill -p {name} /tmp/out")
    return value


def parse_existing_folder(value: Any, name: str = "data_root") -> str | None:
    """``None`` (the default: ``$CTLIB_DATA``, else ``data/``) or an existing folder."""
    folder = parse_folder(value, name)
    if folder is not None and not Path(folder).expanduser().is_dir():
        raise _fail(name, value, "None ($CTLIB_DATA, else data/) or an existing folder",
                    "no such folder")
    return folder


def parse_embedding(value: Any, name: str = "embedding") -> str:
    """Which element embedding notebooks 07 and 08 analyse.

    Accepted (what :func:`ctlib.lookup.resolve_embeddings` reads):

    * ``"auto"``: the profile's CT multi-task runs, else its CT single-task E_f runs;
    * a run id, the stem of a run JSON under ``results/<profile>/``, e.g.
      ``ct-formation_energy_per_atom+band_gap-795c25e7-s0``;
    * the path of an existing element-embedding file (``.json``, ``.npz``, ``.csv``).

    A path that does not exist, a text with spaces or wildcards, or a run kind
    such as ``"mt"`` (use ``"auto"`` for the multi-task embedding) raises
    :class:`ParameterError`. Whether a run id exists is checked by the notebook,
    which knows the results store.
    """
    expected = ('"auto" (the CT multi-task embedding, else CT single-task E_f), a run id such as '
                'ct-formation_energy_per_atom+band_gap-795c25e7-s0 (the stem of a run JSON under '
                'results/<profile>/), or the path of an existing embedding file (.json, .npz, .csv)')
    if isinstance(value, os.PathLike):
        value = os.fspath(value)
    if not isinstance(value, str) or not value.strip():
        raise _fail(name, value, expected)
    text = value.strip()
    if text.lower() == "auto":
        return "auto"
    path = Path(text).expanduser()
    if path.is_file():
        return text
    if path.is_dir():
        raise _fail(name, value, expected, "a folder, not a file")
    if "/" in text or os.sep in text or path.suffix.lower() in _EMBEDDING_FILE_SUFFIXES:
        raise _fail(name, value, expected, "no such file")
    if text.lower() in _EMBEDDING_KIND_WORDS:
        raise _fail(name, value, expected, 'a kind of run, not one run; "auto" picks the multi-task '
                                           "CT embedding")
    if not _RUN_ID.fullmatch(text):
        raise _fail(name, value, expected, "not a run id")
    return text


def parse_baselines(value: Any, name: str = "baselines") -> list[str]:
    """Reference embeddings for reverse prediction: names of
    :data:`ctlib.analysis.reverse.BASELINE_DESCRIPTIONS` as a list, or the text
    ``"onehot,cgcnn92"``, ``"onehot cgcnn92"`` or ``"[onehot, cgcnn92]"``; ``[]`` for none."""
    from ctlib.analysis.reverse import BASELINE_DESCRIPTIONS

    valid = list(BASELINE_DESCRIPTIONS)
    expected = (f"a list of names from {valid} (or [] for none), e.g. "
                f'papermill -y "{name}: [onehot, cgcnn92]" or papermill -p {name} onehot,cgcnn92')
    raw = value
    if isinstance(value, str):
        text = value.strip()
        if text[:1] == "[" and text[-1:] == "]":
            try:
                value = yaml.safe_load(text)
            except yaml.YAMLError:
                raise _fail(name, raw, expected, "not a readable list") from None
        else:
            value = [t for t in re.split(r"\s*,\s*|\s+", text) if t]
    if not isinstance(value, (list, tuple)) or not all(isinstance(v, str) for v in value):
        raise _fail(name, raw, expected)
    unknown = [v for v in value if v not in valid]
    if unknown:
        raise _fail(name, raw, expected, f"unknown {unknown}")
    if len(set(value)) != len(value):
        raise _fail(name, raw, expected, "a name is listed twice")
    return list(value)


#: parameter name -> parser(value, name). Every notebook parameter must be here.
PARSERS: dict[str, Callable[[Any, str], Any]] = {
    "profile": parse_profile,
    "seeds": parse_seeds,
    "device": parse_device,
    "force": parse_bool,
    "out_dir": parse_folder,
    "results_root": parse_folder,
    "data_root": parse_existing_folder,
    "embedding": parse_embedding,
    "n_components": int_at_least(1),
    "k_max": int_at_least(2),
    "cluster_seed": int_at_least(0),
    "rp_repeats": optional_int_at_least(1),
    "catboost_iterations": optional_int_at_least(1),
    "n_jobs": int_at_least(1),
    "baselines": parse_baselines,
    "top": int_at_least(1),
}


class NotebookParams(types.SimpleNamespace):
    """The validated parameters of one notebook, as attributes (``params.seeds``)."""

    def as_dict(self) -> dict[str, Any]:
        """name -> validated value, in the order they were passed."""
        return dict(vars(self))

    def markdown(self) -> str:
        """One Markdown line with the parameters a reader may want to know (not ``profile``,
        which the page header shows, nor ``out_dir``)."""
        def text(v):
            if v is None:
                return "default"
            if isinstance(v, (list, tuple)):
                return "[" + ", ".join(map(str, v)) + "]"
            return str(v)

        shown = [f"{k} `{text(v)}`" for k, v in self.as_dict().items() if k not in ("profile", "out_dir")]
        return "**Parameters:** " + (" · ".join(shown) if shown else "profile only")

    def show(self) -> None:
        """Display :meth:`markdown` in the notebook; the output's metadata holds the values
        (``{"ctlib_parameters": {name: value}}``), which the book does not render and tests
        read. (An ``application/json`` output would make Jupyter Book warn.)"""
        from IPython.display import display

        data = {k: (str(v) if isinstance(v, os.PathLike) else v) for k, v in self.as_dict().items()}
        display({"text/markdown": self.markdown()}, raw=True, metadata={"ctlib_parameters": data})


_UNSET: Any = type("_Unset", (), {"__repr__": lambda self: "<not a parameter here>"})()


def notebook_params(profile: Any, seeds: Any = _UNSET, device: Any = _UNSET,
                    force: Any = _UNSET, **others: Any) -> NotebookParams:
    """Validate a notebook's parameters; return them as a :class:`NotebookParams`.

    Call it with every parameter of the notebook's ``parameters`` cell, by name::

        params = notebook_params(profile=profile, seeds=seeds, device=device, force=force,
                                 out_dir=out_dir)
        profile, seeds, device, force = params.profile, params.seeds, params.device, params.force
        out_dir = params.out_dir
        ...
        display(Markdown(page_header(profile)))
        params.show()        # the values on the page, and in the output's metadata

    Only the names passed come back: a notebook without ``seeds`` (01_data)
    simply does not pass it.

    Args:
        profile: a profile of :data:`ctlib.config.PROFILES` (``smoke``, ``quick``, ...).
        seeds: ``None``, a list of non-negative ints, an int, or text ``"[0, 1, 2]"``,
            ``"0,1,2"``, ``"0 1 2"``, ``"3"`` (see :func:`parse_seeds`).
        device: ``auto`` | ``cpu`` | ``cuda``.
        force: a bool, or the text true/false/yes/no/1/0.
        **others: any other parameter of :data:`PARSERS` (``embedding``,
            ``out_dir``, ``results_root``, ``data_root``, ``n_components``,
            ``k_max``, ``cluster_seed``, ``rp_repeats``, ``catboost_iterations``,
            ``n_jobs``, ``baselines``, ``top``).

    Raises:
        ParameterError: a value is not one of its parameter's accepted forms; the
            message names the parameter, the value and the accepted forms.
        TypeError: a name that no parser knows (add one to :data:`PARSERS`).
    """
    unknown = [k for k in others if k not in PARSERS]
    if unknown:
        raise TypeError(f"notebook_params: no parser for parameter(s) {unknown}; "
                        f"known: {sorted(PARSERS)} (add one to ctlib.params.PARSERS)")
    values = {"profile": profile, "seeds": seeds, "device": device, "force": force, **others}
    values = {k: v for k, v in values.items() if v is not _UNSET}
    return NotebookParams(**{k: PARSERS[k](v, k) for k, v in values.items()})
