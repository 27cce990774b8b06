"""What the book's runner, build and generated pages share: the repository's paths, the
page header (profile, code version, date), the table of contents and the notebooks it lists.
"""
from __future__ import annotations

import datetime as _dt
from pathlib import Path

from ctlib.config import get_profile
from ctlib.utils import code_version


#: The repository root (holds _config.yml, _toc.yml, book/, notebooks/).
REPO_ROOT = Path(__file__).resolve().parents[2]
#: The profile ``ctlib book`` and ``make book`` build when none is named: cpu reads the
#: campaign's stored runs (``campaign_only``) and never trains.
DEFAULT_PROFILE = "cpu"
#: Folder, relative to the book root, that receives executed notebooks.
GENERATED = Path("book") / "generated"
#: Hand-written book files copied by :func:`stage_book`.
_BOOK_FILES = ("_config.yml", "_toc.yml")
#: Pages under ``book/generated/`` that :func:`build` writes itself (no notebook, no stub).
REPORT_PAGE = "execution_report"
OWN_PAGES = (REPORT_PAGE,)
#: The download list that ``book/embeddings.md`` includes (not a toc page).
DOWNLOADS_FRAGMENT = "embeddings_downloads.md"
#: Folder, relative to the book root, of the exported element tables.
DOWNLOADS = GENERATED / "downloads"
#: The campaign's plan and progress that ``book/rerun.md`` includes (not a toc page).
CAMPAIGN_FRAGMENT = "campaign_status.md"
#: The profile whose campaign that fragment shows, whichever profile the book is built with.
CAMPAIGN_PROFILE = "cpu"


class BookError(RuntimeError):
    """A notebook failed, or the book sources are inconsistent."""


# ----------------------------------------------------------------- provenance
def _commit_text(v: dict) -> str:
    """``<12 hex>`` of a :func:`ctlib.utils.code_version`, or ``unknown``."""
    return v["commit"][:12] if v["commit"] else "unknown"


def page_header(profile: str) -> str:
    """One line of Markdown naming the profile, code version and date of a page.

    Every notebook shows it at the top: ``display(Markdown(page_header(profile)))``.

    Raises:
        ValueError: for an unknown profile name.
    """
    get_profile(profile)
    from ctlib import __version__

    v = code_version(REPO_ROOT)
    commit = _commit_text(v)
    if v["dirty"]:
        commit += " + uncommitted changes"
    now = _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    return (f"**Profile:** `{profile}` · **Code:** ctlib {__version__}, commit `{commit}` · "
            f"**Run:** {now}")


# ------------------------------------------------------------------ the toc
def toc_pages(book_root: str | Path = REPO_ROOT) -> list[str]:
    """Every page (file path without suffix) that ``_toc.yml`` lists, in order."""
    import yaml

    toc_path = Path(book_root) / "_toc.yml"
    if not toc_path.is_file():
        raise BookError(f"{toc_path} is missing; the book root must hold _toc.yml")
    toc = yaml.safe_load(toc_path.read_text())
    pages: list[str] = []

    def walk(node):
        if isinstance(node, dict):
            for key in ("root", "file"):
                if key in node:
                    pages.append(str(node[key]))
            for key in ("chapters", "sections", "parts"):
                for child in node.get(key, []) or []:
                    walk(child)
        elif isinstance(node, list):
            for child in node:
                walk(child)

    walk(toc)
    return pages


def _generated_pages(book_root: Path) -> list[str]:
    """The notebook chapters of the toc (``book/generated/NN_name``), without the pages
    that :func:`build` writes itself."""
    prefix = GENERATED.as_posix() + "/"
    return [p[len(prefix):] for p in toc_pages(book_root)
            if p.startswith(prefix) and p[len(prefix):] not in OWN_PAGES]


#: Notebooks that read what the other pages store (07/08's JSON, the runs of 12): executed last.
EXECUTED_LAST = ("10_claims",)


def list_notebooks(src_root: str | Path = REPO_ROOT) -> list[Path]:
    """The notebook sources ``<src_root>/notebooks/*.ipynb`` in execution order: by name,
    with :data:`EXECUTED_LAST` after the others (so on a from-scratch build the claims page
    judges the runs that later chapters train, instead of showing them pending)."""
    return sorted(sorted((Path(src_root) / "notebooks").glob("*.ipynb")), key=lambda p: p.stem in EXECUTED_LAST)


def _stub(stem: str, reason: str) -> str:
    words = stem.split("_", 1)[-1].replace("_", " ")
    return (f"# {words.capitalize()} (not generated)\n\n"
            f"This chapter is produced by `notebooks/{stem}.ipynb`. {reason}\n")


