"""The pins in pyproject.toml, environment.yml and requirements.txt must agree."""
import re
import tomllib
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]


def _name(req: str) -> str:
    return re.split(r"[<>=!~ ]", req, maxsplit=1)[0].strip().lower().replace("_", "-")


def _pyproject_pins() -> dict[str, str]:
    deps = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    return {_name(d): d.replace(" ", "") for d in deps}


def _conda_pins() -> dict[str, str]:
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    pip = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict) and "pip" in d)
    return {_name(d): d.replace(" ", "") for d in pip if not d.startswith("-e")}


def test_environment_yml_matches_pyproject():
    py, conda = _pyproject_pins(), _conda_pins()
    assert py == conda, {k: (py.get(k), conda.get(k)) for k in set(py) | set(conda) if py.get(k) != conda.get(k)}


def test_lockfile_satisfies_pyproject_pins():
    lock = {}
    for line in (ROOT / "requirements.txt").read_text().splitlines():
        if "==" in line:
            name, ver = line.split("==", 1)
            lock[_name(name)] = ver.strip()
    for name, spec in _pyproject_pins().items():
        assert name in lock, f"{name} pinned in pyproject.toml but missing from requirements.txt"
        if "==" in spec:
            assert lock[name] == spec.split("==", 1)[1], f"{name}: pyproject {spec} vs lock {lock[name]}"


def test_torch_pin_is_the_local_cpu_wheel():
    assert _pyproject_pins()["torch"] == "torch==2.13.0"
