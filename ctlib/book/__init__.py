"""Build the companion book: execute the notebooks with papermill, then run Jupyter Book.

Path scheme (the simplest one that never leaves the book half-built)::

    <book root>/                    the repository root: _config.yml, _toc.yml
      book/*.md                     hand-written pages (intro, data, methods, rerun)
      notebooks/NN_name.ipynb       notebook sources, committed without outputs
      book/generated/               build output, git-ignored:
        NN_name.ipynb               the executed copy papermill writes (what the book shows)
        NN_name.json                key numbers the notebook produced (tests read these)
        figures/NN_name_*.png|pdf   saved figures
        NN_name.md                  a stub, only while notebooks/NN_name.ipynb is absent
        execution_report.md         what each chapter ran: wall time, profile, commit, runs read
        embeddings_downloads.md     the download list that book/embeddings.md includes
        campaign_status.md          the cpu campaign's plan and progress, included by book/rerun.md
        downloads/<profile>/        the profile's trained CT element tables (atom_init.json,
                                    CSV, NPZ) and manifest.json, from results/<profile>/fronts
      _build/html/index.html        the built book
      _build/timings.json           wall seconds per notebook and for the HTML build

``_toc.yml`` is committed and lists every chapter the book will ever have, each
notebook chapter as ``book/generated/NN_name``.  :func:`build` executes every
``notebooks/*.ipynb`` that exists (or the ones named in ``notebooks=``) into
``book/generated/``; for every toc entry under ``book/generated/`` that then has
no executed notebook it writes a short stub page saying so.  The toc therefore
never points at a missing file and ``jupyter-book build -W`` stays clean while
later notebooks are still being written.  ``_config.yml`` sets
``only_build_toc_files: true``, so files outside the toc never reach Sphinx.

After the notebooks, :func:`build` writes the pages it owns, whatever was
executed (:func:`write_generated_pages`): the execution report
(:func:`execution_report`, a toc page) and the embedding downloads
(:func:`export_embeddings`, listed by the fragment that ``book/embeddings.md``
includes). Each executed notebook carries
``metadata.ctlib`` (profile, wall seconds, code commit, finish time), so the
report stays right for chapters kept from an earlier build.

Each notebook's first code cell is tagged ``parameters`` and defines at least
``profile``; it may also define ``out_dir`` (where it writes its JSON and
figures; :func:`build` passes ``book/generated``, relative to the kernel's
working folder when it lies inside it, so no machine path shows on the page).
Extra parameters (``params=``) are passed to those selected notebooks that
declare them; a parameter that no selected notebook declares is an error.

Notebooks run in a ``python3`` kernel started by the same interpreter as the
caller (jupyter_client maps the kernelspec's ``python`` to ``sys.executable``),
with the working directory at the repository root, ``CTLIB_DATA``/``CTLIB_CACHE``
passed through, and matplotlib's inline backend (``MPLBACKEND`` is removed for
the kernel, because ``Agg`` would stop figures from reaching the page).

The package: :mod:`.common` (paths, page header, toc), :mod:`.runner` (one notebook with
papermill), :mod:`.generated` (the pages the build writes itself), :mod:`.build` (the
build and ``ctlib book``), :mod:`.page` (a notebook's first cell, :func:`start_page`).
Every name is re-exported here.
"""
from __future__ import annotations

from ctlib.book.common import (  # noqa: F401
    REPO_ROOT, DEFAULT_PROFILE, GENERATED, _BOOK_FILES, REPORT_PAGE, OWN_PAGES, DOWNLOADS_FRAGMENT,
    DOWNLOADS, CAMPAIGN_FRAGMENT, CAMPAIGN_PROFILE, BookError, _commit_text, page_header,
    toc_pages, _generated_pages, EXECUTED_LAST, list_notebooks, _stub)
from ctlib.book.runner import (  # noqa: F401
    NotebookRun, _KERNEL_ENV, _set_env, _notebook_parameters, execute_notebook, _kernel_path, _stamp)
from ctlib.book.generated import (  # noqa: F401
    results_root_for, _CT_DOWNLOADS, _SCHEDULERS, _alt_scheduler, stored_ct_tables, _download_names,
    _train_config, _schedule_words, _sha256, export_embeddings, _fmt_mae, embeddings_fragment,
    _run_ids, _notebook_facts, _fmt_seconds, execution_report, campaign_fragment,
    write_generated_pages)
from ctlib.book.page import Page, start_page  # noqa: F401
from ctlib.book.build import (  # noqa: F401
    stage_book, build_html, build, _write_timings, add_arguments, run_args, main)
