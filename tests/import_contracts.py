"""import-linter's custom contract for cognito_helper: no module uses another's private names.

import-linter checks which modules import which; it has no contract for the *names* taken from a
module. :class:`PrivateNamesContract` adds one. It reads the source of every module of the root
package (found from the package's folder, nothing is imported) and reports

- ``from X import _name`` (single names, the ``(...)`` lists spread over several lines, and
  ``from . import _name``, relative or absolute, at module level or inside a function), and
- ``alias._name`` where ``alias`` was bound by an import to a module (``import a.b as alias``,
  ``from a import b as alias``, ``import a.b`` then ``a.b._name``),

when ``X`` (or the aliased module) is another module than the importer (``scope = "module"``,
the default) or lies outside the importer's own package (``scope = "package"``). A private name
starts with one underscore; dunders (``__all__``, ``__version__``) and ``_`` are public, and
``from __future__ import ...`` is not an import of a name. ``import X as _alias`` binds a
private alias to a public module, which is fine.

Out of its reach, by design of a static reading: ``getattr(module, "_name")``, a private name
reached through an object (``instance._name``, ``cls._name``) or through a name that was not
bound by an import statement (``m = importlib.import_module(...)``).

Registered in pyproject.toml's ``[tool.importlinter]`` as
``contract_types = ["private_names: tests.import_contracts.PrivateNamesContract"]``
(``lint-imports`` puts the working directory on ``sys.path``, so run it from the repository
root). The contract has no ignore list on purpose.
"""

from __future__ import annotations

import ast
import importlib.util
import os
from typing import Any, Dict, Iterable, List, NamedTuple, Optional

from importlinter import Contract, ContractCheck, fields, output

SCOPES = ("module", "package")


class Reach(NamedTuple):
    """One use of another module's private name: where, and what."""

    importer: str
    line: int
    owner: str  # the module the private name belongs to
    name: str
    text: str  # how it is written: "from X import _name" or "alias._name"


def is_private(name: str) -> bool:
    """``_name`` is private; ``_`` and dunders (``__all__``) are not."""
    dunder = name.startswith("__") and name.endswith("__")
    return name.startswith("_") and name != "_" and not dunder


def module_files(root: str) -> Dict[str, str]:
    """Every module of the package ``root``: its dotted name to its ``.py`` file."""
    spec = importlib.util.find_spec(root)  # a top-level name: nothing is imported
    if spec is None or not spec.submodule_search_locations:
        raise ValueError(f"{root!r} is not an importable package")
    files: Dict[str, str] = {}
    for folder in spec.submodule_search_locations:
        for path, dirs, names in os.walk(folder):
            dirs[:] = sorted(d for d in dirs if d.isidentifier() and d != "__pycache__")
            relative = os.path.relpath(path, folder)
            parts = [root] + ([] if relative == "." else relative.split(os.sep))
            for name in names:
                if name.endswith(".py"):
                    stem = name[:-3]
                    dotted = parts if stem == "__init__" else [*parts, stem]
                    files[".".join(dotted)] = os.path.join(path, name)
    return files


def _package_of(module: str, files: Dict[str, str]) -> str:
    """The package a module belongs to: itself for a package (``__init__.py``), else its parent."""
    path = files.get(module, "")
    if os.path.basename(path) == "__init__.py":
        return module
    return module.rpartition(".")[0] or module


def _absolute(importer: str, node: ast.ImportFrom, files: Dict[str, str]) -> str:
    """The module a ``from ... import`` names, resolved from ``importer`` for a relative one."""
    if not node.level:
        return node.module or ""
    base = _package_of(importer, files).split(".")
    base = base[: len(base) - (node.level - 1)]
    return ".".join([*base, node.module] if node.module else base)


class _Reader:
    """Finds the private-name uses of one module (see the module docstring)."""

    def __init__(self, importer: str, files: Dict[str, str], scope: str) -> None:
        self.importer, self.files, self.scope = importer, files, scope
        self.aliases: Dict[str, str] = {}  # a local name bound by an import -> its module
        self.reaches: List[Reach] = []

    def foreign(self, owner: str) -> bool:
        """Whether ``owner``'s private names are off limits to the importer under the scope."""
        if owner == self.importer:
            return False
        if self.scope == "module":
            return True
        return _package_of(owner, self.files) != _package_of(self.importer, self.files)

    def read(self, tree: ast.AST) -> List[Reach]:
        nodes = sorted(
            (n for n in ast.walk(tree) if isinstance(n, (ast.Import, ast.ImportFrom))),
            key=lambda n: (n.lineno, n.col_offset),
        )
        for node in nodes:  # the aliases first, so a use above a lazy import is still seen
            if isinstance(node, ast.ImportFrom):
                self.from_import(node)
            else:
                self.plain_import(node)
        for found in ast.walk(tree):
            if isinstance(found, ast.Attribute) and is_private(found.attr):
                self.attribute(found)
        return sorted(set(self.reaches))

    def from_import(self, node: ast.ImportFrom) -> None:
        source = _absolute(self.importer, node, self.files)
        if source == "__future__":
            return
        for alias in node.names:
            submodule = f"{source}.{alias.name}"
            if submodule in self.files:  # from package import module [as name]
                self.aliases[alias.asname or alias.name] = submodule
            if is_private(alias.name) and source in self.files and self.foreign(source):
                text = f"from {source} import {alias.name}"
                self.reaches.append(Reach(self.importer, node.lineno, source, alias.name, text))

    def plain_import(self, node: ast.Import) -> None:
        for alias in node.names:
            if alias.asname:
                self.aliases[alias.asname] = alias.name
            else:  # import a.b.c binds a; a.b.c._x is then read through the dotted chain
                head = alias.name.partition(".")[0]
                self.aliases.setdefault(head, head)

    def attribute(self, node: ast.Attribute) -> None:
        chain: List[str] = []
        value: ast.AST = node.value
        while isinstance(value, ast.Attribute):
            chain.append(value.attr)
            value = value.value
        if not isinstance(value, ast.Name) or value.id not in self.aliases:
            return
        dotted = [*self.aliases[value.id].split("."), *reversed(chain)]
        owners = (".".join(dotted[:n]) for n in range(len(dotted), 0, -1))
        owner = next((o for o in owners if o in self.files), None)  # the innermost module
        if owner is not None and self.foreign(owner):
            text = ".".join([value.id, *reversed(chain), node.attr])
            self.reaches.append(Reach(self.importer, node.lineno, owner, node.attr, text))


def private_reaches(
    root: str, scope: str = "module", modules: Optional[Iterable[str]] = None
) -> List[Reach]:
    """Every use of a private name of another module (or package) in the package ``root``.

    ``modules`` limits the reading to those modules (by default every module of ``root``).
    """
    if scope not in SCOPES:
        raise ValueError(f"scope must be one of {SCOPES}, not {scope!r}")
    files = module_files(root)
    reaches: List[Reach] = []
    for module in sorted(files if modules is None else modules):
        with open(files[module], encoding="utf-8") as f:
            tree = ast.parse(f.read(), filename=files[module])
        reaches.extend(_Reader(module, files, scope).read(tree))
    return reaches


class PrivateNamesContract(Contract):
    """No module of the root package uses a private name of another module (or package).

    Options: ``scope``, ``"module"`` (default) or ``"package"``. The root packages are the
    session's ``root_package``/``root_packages``.
    """

    scope = fields.StringField(required=False)

    def check(self, graph: Any, verbose: bool) -> ContractCheck:
        scope = str(self.scope or "module")  # the field's parsed value, once populated
        roots = self.session_options.get("root_packages") or [self.session_options["root_package"]]
        reaches: List[Reach] = []
        for root in roots:
            # The graph's modules: the same set import-linter checks (tests are not in it).
            mine = [m for m in graph.modules if m == root or m.startswith(root + ".")]
            files = module_files(root)
            reaches.extend(private_reaches(root, scope, [m for m in mine if m in files]))
        output.verbose_print(verbose, f"{len(reaches)} private names reached into.")
        return ContractCheck(kept=not reaches, metadata={"reaches": reaches, "scope": scope})

    def render_broken_contract(self, check: ContractCheck) -> None:
        scope = check.metadata["scope"]
        output.print_error(f"A private name of another {scope} is used:", bold=False)
        output.new_line()
        for reach in check.metadata["reaches"]:
            output.print_error(f"- {reach.importer} (l.{reach.line}): {reach.text}", bold=False)
        output.new_line()
        output.print(
            "Make the name public in its module (one rule in one place) and import that.",
        )
