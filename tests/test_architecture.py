"""The house's layering, checked on the source (docs/scaling.md, "How the two
engines share their code").

Data flows io -> network -> analysis -> plot/report/cli. The two engines that build a
network (pandas: io + network; Dask: icnet._dask) share their kernels through
icnet._engine, under plain names: the Dask engine reaches into no private name of io or
network, and io, network, _dask and _engine import each other without a cycle (not
even through a function-level import).
"""

from __future__ import annotations

import ast
from pathlib import Path

import icnet

PKG = Path(icnet.__file__).parent
CORE = ("icnet.io", "icnet.network", "icnet._dask", "icnet._engine")


def _module_name(path: Path) -> str:
    rel = path.relative_to(PKG.parent).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def _is_module(name: str) -> bool:
    p = PKG.parent.joinpath(*name.split("."))
    return p.with_suffix(".py").exists() or (p / "__init__.py").exists()


def _imports(path: Path, me: str | None = None):
    """Every import of module ``me`` (default: the module at ``path``), at any depth,
    lazy ones included: yields ``(module imported from, name or None, alias bound)``."""
    me = me or _module_name(path)
    package = me if path.name == "__init__.py" else me.rsplit(".", 1)[0]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            for a in node.names:
                yield a.name, None, a.asname or a.name.split(".")[0]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[:len(base) - node.level + 1]
                mod = ".".join(base + ([node.module] if node.module else []))
            else:
                mod = node.module or ""
            for a in node.names:
                yield mod, a.name, a.asname or a.name


def _depends_on(path: Path, me: str | None = None) -> set[str]:
    """The icnet modules a module imports (``from . import io`` counts as icnet.io)."""
    out = set()
    for mod, name, _ in _imports(path, me):
        sub = f"{mod}.{name}" if name else mod
        out.add(sub if name and _is_module(sub) else mod)
    return {m for m in out if m.startswith("icnet")}


def _private_uses(path: Path, targets: tuple[str, ...]) -> list[str]:
    """Private module-level names of ``targets`` that a module uses: ``io._x`` through a
    module alias, or ``from .io import _x``."""
    aliases, found = {}, []
    for mod, name, alias in _imports(path):
        full = f"{mod}.{name}" if name else mod
        if full in targets:
            aliases[alias] = full
        elif mod in targets and name and name.startswith("_"):
            found.append(f"{mod}.{name} (imported)")
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and \
                node.value.id in aliases and node.attr.startswith("_") and \
                not node.attr.startswith("__"):
            found.append(f"{aliases[node.value.id]}.{node.attr} (line {node.lineno})")
    return found


def _find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(u):
        state[u] = 1
        stack.append(u)
        for v in sorted(graph.get(u, ())):
            if state.get(v) == 1:
                return stack[stack.index(v):] + [v]
            if v not in state:
                got = visit(v)
                if got:
                    return got
        stack.pop()
        state[u] = 2
        return None

    for u in sorted(graph):
        if u not in state:
            got = visit(u)
            if got:
                return got
    return None


def _path(module: str) -> Path:
    return PKG.parent.joinpath(*module.split(".")).with_suffix(".py")


def test_the_dask_engine_uses_no_private_name_of_io_or_network():
    found = _private_uses(_path("icnet._dask"), ("icnet.io", "icnet.network"))
    assert found == [], f"icnet._dask reaches into private names: {found}; give them a " \
        "plain name in icnet._engine instead"


def test_network_uses_no_private_name_of_io():
    """network reads tables through io's public functions and parses cells with the
    shared kernels of icnet._engine (id_strings, parse_numbers, require_columns)."""
    found = _private_uses(_path("icnet.network"), ("icnet.io",))
    assert found == [], f"icnet.network reaches into private names of io: {found}"


def test_no_module_uses_private_names_of_network():
    found = {}
    for path in sorted(PKG.rglob("*.py")):
        if path.name != "network.py":
            uses = _private_uses(path, ("icnet.network",))
            if uses:
                found[_module_name(path)] = uses
    assert found == {}


def test_the_engine_modules_import_each_other_without_a_cycle():
    graph = {m: _depends_on(_path(m)) & set(CORE) for m in CORE if _path(m).exists()}
    assert _find_cycle(graph) is None, f"import cycle: {' -> '.join(_find_cycle(graph))}"
    # the shared kernels sit below both engines
    assert graph["icnet._engine"] == set()
    assert "icnet._dask" not in graph["icnet.network"]
    assert "icnet._engine" in graph["icnet.io"] & graph["icnet.network"] & graph["icnet._dask"]


def test_a_lazy_import_back_is_a_cycle(tmp_path):
    """The check above can fail: network importing _dask inside a function (as it did
    before icnet._engine's registry) closes a cycle."""
    fake = tmp_path / "network.py"
    fake.write_text((PKG / "network.py").read_text(encoding="utf-8")
                    + "\n\ndef _build():\n    from . import _dask\n", encoding="utf-8")
    graph = {m: _depends_on(_path(m)) & set(CORE) for m in CORE}
    graph["icnet.network"] = _depends_on(fake, "icnet.network") & set(CORE)
    assert _find_cycle(graph) == ["icnet._dask", "icnet.network", "icnet._dask"]


def test_the_engine_interface_is_documented_and_registered():
    from icnet import _dask, _engine

    public = [n for n in dir(_engine) if not n.startswith("_")]
    undocumented = [n for n in public if callable(getattr(_engine, n)) and
                    getattr(getattr(_engine, n), "__module__", "") == "icnet._engine" and
                    not (getattr(_engine, n).__doc__ or "").strip()]
    assert undocumented == []
    for n in ("edge_stats", "canonical_events", "group_tables", "complete_edges",
              "parse_timestamps", "time_parameter", "empty_dropped", "rows_text"):
        assert f":func:`{n}`" in _engine.__doc__, n
    assert _engine.engine_builder("dask") is _dask.from_events
    assert icnet.network.EDGE_COLUMNS is _engine.EDGE_COLUMNS
