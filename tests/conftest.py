import os
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import settings

settings.register_profile("ci", derandomize=True, max_examples=200, deadline=None)
settings.register_profile("dev", max_examples=100, deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--update-snapshots",
        action="store_true",
        default=False,
        help="Rewrite every golden file (tests/snapshots/, tests/data/traces/, docs/kinds.md, "
        "the zoo's compiled files, README.md's outputs) from what the code gives now.",
    )


@pytest.fixture
def golden(request: pytest.FixtureRequest) -> Callable[[Path, str], None]:
    """``golden(path, text)``: the one mechanism for every golden file. Compares ``text`` with
    the file, or under ``--update-snapshots`` rewrites a file that differs (the test is then
    skipped, saying so, for the diff to be reviewed with git)."""
    update = request.config.getoption("--update-snapshots")

    def check(path: Path, text: str) -> None:
        old = path.read_text(encoding="utf-8") if path.is_file() else None
        if update and old != text:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
            pytest.skip(f"{path.name} rewritten")
        assert old is not None, f"no golden file {path}: create it with pytest --update-snapshots"
        assert text == old, f"{path.name} changed: review the diff, then pytest --update-snapshots"

    return check
