"""Nothing is left behind: every view is used by a page and tested, every page is navigable."""

import ast
import re
from pathlib import Path

from dashboard import views

ROOT = Path(__file__).resolve().parent.parent


def _python_sources(*folders: str) -> str:
    return "\n".join(p.read_text() for folder in folders for p in (ROOT / folder).rglob("*.py"))


def _view_names_used_by_app() -> set[str]:
    sources = _python_sources("app_pages", "dashboard") + (ROOT / "app.py").read_text()
    return {name for name in views.view_names() if re.search(rf"[\"']{name}[\"']", sources)}


def test_every_view_is_used_by_a_page():
    unused = set(views.view_names()) - _view_names_used_by_app()
    assert not unused, f"views no page uses: {sorted(unused)}"


def test_every_view_is_tested_on_the_database():
    tests = "\n".join(
        p.read_text() for p in (ROOT / "tests").glob("test_*.py") if p.name != "test_completeness.py"
    )
    untested = [name for name in views.view_names() if f'"{name}"' not in tests]
    assert not untested, f"views without a SQL test: {untested}"


def _navigation_pages() -> set[str]:
    tree = ast.parse((ROOT / "app.py").read_text())
    return {
        node.args[0].value
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and getattr(node.func, "attr", "") == "Page"
        and node.args
        and isinstance(node.args[0], ast.Constant)
    }


def test_every_page_is_in_navigation():
    files = {f"app_pages/{p.name}" for p in (ROOT / "app_pages").glob("*.py")}
    assert files == _navigation_pages()


def test_pages_hold_no_sql_and_no_engine():
    for page in (ROOT / "app_pages").glob("*.py"):
        text = page.read_text().lower()
        assert "sqlalchemy" not in text and "dashboard.db" not in text, page.name
        assert not re.search(r"\bselect\b.+\bfrom\b", text), page.name


def test_nothing_reads_secure_config():
    """Only the demo generator names the column, to fill it with fake ciphertext."""
    readers = [p for p in (ROOT / "dashboard").rglob("*.py") if p.name != "demo.py"]
    readers += [*(ROOT / "app_pages").glob("*.py"), ROOT / "app.py", *(ROOT / "sql" / "views").glob("*.sql")]
    assert not [p.name for p in readers if "secure_config" in p.read_text()]
