"""The documentation site (``docs/``, ``mkdocs.yml``) and the README that points into it.

Fast: the configuration page's table is the code's table of fields and ``COGNITO_*``
variables; README.md stays short, shows its two commands on its first screen, and links only
to files that exist. Slow (they build the site with ``mkdocs build --strict``, as ``.ci/run``
does): the API reference holds every public name and no private one, and the built site
renders in Chromium, where the search finds ``decode_verify_jwt``.
"""

from __future__ import annotations

import dataclasses
import functools
import http.server
import importlib
import importlib.util
import re
import subprocess
import sys
import threading
import zlib
from pathlib import Path
from typing import Any, Iterator, List, Set
from urllib.parse import unquote, urlsplit

import pytest

from cognito_helper import CognitoConfig
from cognito_helper.settings.env import ENV_NAMES, LIBRARY_VARIABLES

from . import helpers
from .test_browser import browser  # noqa: F401 (the headless Chromium fixture)

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"

#: The modules whose public names the API reference must show: the root package and every
#: public module (each has a page under docs/api/).
PUBLIC_MODULES = [
    "cognito_helper",
    "cognito_helper.config",
    "cognito_helper.token_helper",
    "cognito_helper.jwt_helper",
    "cognito_helper.errors",
    "cognito_helper.sessions",
    "cognito_helper.flask",
    "cognito_helper.fastapi",
    "cognito_helper.starlette",
    "cognito_helper.django",
    "cognito_helper.aws_lambda",
    "cognito_helper.testing",
    "cognito_helper.cli",
]

# -- the configuration page against the code's table -----------------------------------------


def _config_rows() -> List[List[str]]:
    text = (DOCS / "configuration.md").read_text(encoding="utf-8")
    start = text.index("| field | variable | meaning |")
    rows = []
    for line in text[start:].splitlines()[2:]:
        if not line.startswith("|"):
            break
        rows.append([cell.strip().strip("`") for cell in line.strip("|").split("|")][:2])
    return rows


def test_the_configuration_page_lists_every_field_and_variable_as_the_code_does() -> None:
    rows = _config_rows()
    fields = [field for field, _ in rows if field != "none"]
    variables = {variable for _, variable in rows if variable != "none"}
    assert sorted(fields) == sorted(f.name for f in dataclasses.fields(CognitoConfig) if f.init)
    assert len(fields) == len(set(fields))
    assert variables == set(LIBRARY_VARIABLES)
    for field, variable in rows:
        assert ENV_NAMES.get(field, "none") == variable or field == "none", (field, variable)


# -- README.md -------------------------------------------------------------------------------


def _readme() -> str:
    return (ROOT / "README.md").read_text(encoding="utf-8")


def test_the_readme_is_short_and_shows_its_two_commands_on_its_first_screen() -> None:
    lines = _readme().splitlines()
    assert len(lines) <= 200, len(lines)
    first_screen = "\n".join(lines[:40])
    assert "pip install . && cognito-helper demo" in first_screen
    assert 'pip install -e ".[test]" && pytest' in first_screen
    assert 'pip install -e ".[docs]" && mkdocs serve' in _readme()


def _relative_links(text: str) -> Iterator[str]:
    for target in re.findall(r"\]\(([^)\s]+)\)", text):
        if not re.match(r"[a-z]+:", target) and not target.startswith("#"):
            yield unquote(target.partition("#")[0])


def test_every_link_of_the_readme_and_changelog_leads_to_a_file_that_exists() -> None:
    """mkdocs --strict checks the links of docs/; these files are read outside it."""
    for name in ("README.md", "CHANGELOG.md", "SECURITY.md"):
        links = list(_relative_links((ROOT / name).read_text(encoding="utf-8")))
        for link in links:
            assert (ROOT / link).exists(), f"{name} links to {link}, which does not exist"
    assert len(list(_relative_links(_readme()))) >= 15  # the README links into the docs


def test_every_docs_page_is_in_the_navigation() -> None:
    nav = (ROOT / "mkdocs.yml").read_text(encoding="utf-8")
    for page in sorted(DOCS.rglob("*.md")):
        assert f" {page.relative_to(DOCS).as_posix()}\n" in nav, page


# -- the built site ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``mkdocs build --strict`` into a temporary folder (nothing written into the tree)."""
    if any(importlib.util.find_spec(name) is None for name in ("mkdocs", "mkdocstrings")):
        helpers.unavailable(
            "the documentation tests", "mkdocs is not installed", 'pip install -e ".[docs]"'
        )
    folder = tmp_path_factory.mktemp("site")
    built = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(folder)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert built.returncode == 0, built.stderr[-4000:]
    return folder


def _inventory(site: Path) -> Set[str]:
    """The identifiers of mkdocstrings' objects.inv (Sphinx's format: 4 lines, then zlib)."""
    data = (site / "objects.inv").read_bytes()
    body = data.split(b"\n", 4)[4]
    return {line.split(" ", 1)[0] for line in zlib.decompress(body).decode().splitlines()}


@pytest.mark.slow
def test_the_api_reference_has_every_public_name_and_no_private_one(site: Path) -> None:
    documented = _inventory(site)
    for module_name in PUBLIC_MODULES:
        module = importlib.import_module(module_name)
        missing = [n for n in module.__all__ if f"{module_name}.{n}" not in documented]
        assert not missing, f"{module_name}: {missing} are not in the API reference"
    # __version__ is in the root's __all__: its module, _version, is named as the alias's target
    version = {"cognito_helper._version", "cognito_helper._version.__version__"}
    private = sorted(name for name in documented - version if re.search(r"\._(?!_)", name))
    assert not private, private[:20]


@pytest.fixture(scope="module")
def served(site: Path) -> Iterator[str]:
    """The built site over loopback HTTP (the search runs in a web worker: no file:// URL)."""

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            pass

    handler = functools.partial(Quiet, directory=str(site))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def _wait(driver: Any, condition: Any, what: str) -> Any:
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(driver, 30, poll_frequency=0.2).until(condition, message=what)


@pytest.mark.slow
def test_the_site_renders_and_its_search_finds_decode_verify_jwt(
    served: str,
    browser: Any,  # noqa: F811
) -> None:
    from selenium.webdriver.common.by import By

    browser.get(f"{served}/")
    assert browser.title.startswith("cognito_helper")
    article = browser.find_element(By.CSS_SELECTOR, "article.md-content__inner")
    assert "cognito-helper demo" in article.text and "Getting started" in article.text
    nav = browser.find_element(By.CSS_SELECTOR, "nav.md-nav--primary")
    assert "API reference" in nav.get_attribute("textContent")

    browser.get(f"{served}/api/jwt_helper/")
    article = browser.find_element(By.CSS_SELECTOR, "article.md-content__inner")
    assert "decode_verify_jwt" in article.text
    signatures = browser.find_elements(By.CSS_SELECTOR, "article .doc-function")
    assert signatures, "no function rendered by mkdocstrings"

    browser.get(f"{served}/?q=decode_verify_jwt")  # Material opens the search with the query
    results = _wait(
        browser,
        lambda d: d.find_elements(By.CSS_SELECTOR, ".md-search-result__item"),
        "no search results for decode_verify_jwt",
    )
    texts = " ".join(item.get_attribute("textContent") for item in results)
    assert "decode_verify_jwt" in texts
    link = results[0].find_element(By.TAG_NAME, "a").get_attribute("href")
    assert urlsplit(link).netloc == urlsplit(served).netloc
