"""The first code cell of every notebook, as one call: validate the parameters, set the
plotting style, show the page header and the parameters, and hand back what the rest of
the notebook uses.

A notebook's setup cell reads::

    from ctlib.book import start_page
    page = start_page("13_zoo", profile=profile, seeds=seeds, device=device, force=force,
                      out_dir=out_dir)
    profile, seeds, device, force, out = page.profile, page.seeds, page.device, page.force, page.out
"""
from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from ctlib import lookup
from ctlib.book.common import GENERATED, REPO_ROOT, page_header
from ctlib.config import get_profile
from ctlib.params import NotebookParams, notebook_params


class Page(NotebookParams):
    """A notebook's validated parameters (as attributes, see :class:`NotebookParams`) and
    what every page shares.

    Attributes:
        nb: the notebook's name, e.g. ``"13_zoo"`` (figure and summary file names start with it).
        prof: the :class:`ctlib.config.Profile` of ``profile``.
        out: the folder that receives figures and the page's summary JSON: ``out_dir`` when
            given, else ``book/generated`` (relative when the working folder is the repository
            root, so no machine path shows on the page).
        t_start: :func:`time.perf_counter` when the page started.
    """

    _NOT_PARAMETERS = ("nb", "prof", "out", "t_start")

    def as_dict(self) -> dict[str, Any]:
        """The parameters only (not :attr:`_NOT_PARAMETERS`)."""
        return {k: v for k, v in vars(self).items() if k not in self._NOT_PARAMETERS}

    def elapsed(self) -> float:
        """Seconds since :func:`start_page`."""
        return time.perf_counter() - self.t_start


def _default_out() -> Path:
    return GENERATED if Path.cwd().resolve() == REPO_ROOT else REPO_ROOT / GENERATED


def start_page(nb: str, *, show: bool = True, **values: Any) -> Page:
    """Validate a notebook's parameters and open its page.

    Args:
        nb: the notebook's name without suffix (``"07_clusters"``).
        show: display the page header and the parameter line (a test may pass False).
        **values: every parameter of the notebook's ``parameters`` cell, by name
            (``profile`` is required; the others as :func:`ctlib.params.notebook_params`).
            A ``results_root`` becomes the store of every lookup of the kernel
            (:func:`ctlib.lookup.use_store`).

    Returns:
        a :class:`Page`; ``page.out`` is a :class:`pathlib.Path`.

    Raises:
        ParameterError: a value is not one of its parameter's accepted forms.
    """
    from ctlib.plotting import set_style

    params = notebook_params(**values).as_dict()
    lookup.use_store(params.get("results_root"))   # the whole kernel reads that store
    out = Path(params["out_dir"]) if params.get("out_dir") is not None else _default_out()
    page = Page(**params, nb=nb, prof=get_profile(params["profile"]), out=out,
                t_start=time.perf_counter())
    set_style()
    if show:
        from IPython.display import Markdown, display

        display(Markdown(page_header(page.profile)))
        page.show()
    return page
