import re
from pathlib import Path

ROOT = Path(__file__).parent.parent.parent
CHECKS = ROOT / "src" / "torchenv" / "checks"
DOCS = ROOT / "docs" / "findings"


def check_ids() -> set[str]:
    ids = set()
    for path in CHECKS.glob("*.py"):
        ids |= set(re.findall(r'\bid="([a-z0-9-]+)"', path.read_text()))
    return ids


def snapshot_ids() -> set[str]:
    """The finding ids of diff's differences and verify's checks (snapshots/diff.py, snapshots/verify.py)."""
    from torchenv.snapshots.diff import KINDS as DIFF
    from torchenv.snapshots.verify import KINDS as VERIFY

    return set(DIFF) | set(VERIFY)


def finding_ids() -> set[str]:
    """Every finding id torchenv emits with a page here: the checks', bench's causes (perf/causes.py), the
    diff's and verify's (explain's pages are written from the error knowledge, see test_explain_pages)."""
    from torchenv.perf.causes import KINDS

    return check_ids() | set(KINDS) | snapshot_ids()


def test_diff_and_verify_documented_category_and_layer_match_the_code():
    from torchenv.snapshots.diff import KINDS as DIFF
    from torchenv.snapshots.verify import KINDS as VERIFY

    kinds = {id: (category, layer) for id, (category, layer, _) in VERIFY.items()} | DIFF
    for finding_id, (category, layer) in kinds.items():
        header = (DOCS / f"{finding_id}.md").read_text().splitlines()[2]
        assert f"`{category}`" in header and layer in header, f"{finding_id}: {header!r}"


def test_bench_causes_documented_severity_matches_the_code():
    from torchenv.perf.causes import KINDS

    for finding_id, (_category, layer, severity) in KINDS.items():
        header = (DOCS / f"{finding_id}.md").read_text().splitlines()[2]
        assert severity.value in header.lower() and layer in header, f"{finding_id}: {header!r}"


def test_every_finding_id_has_a_docs_page_and_index_row():
    index = (DOCS / "README.md").read_text()
    for finding_id in finding_ids():
        page = DOCS / f"{finding_id}.md"
        assert page.exists(), f"docs/findings/{finding_id}.md is missing"
        assert page.read_text().startswith(f"# {finding_id}\n")
        assert f"[{finding_id}]({finding_id}.md)" in index


def test_no_page_for_an_id_that_no_check_emits():
    pages = {p.stem for p in DOCS.glob("*.md")} - {"README"}
    assert pages <= finding_ids(), f"stale pages: {pages - finding_ids()}"


def test_documented_severity_matches_the_code():
    for finding_id in check_ids():
        header = (DOCS / f"{finding_id}.md").read_text().splitlines()[2]
        source = "".join(p.read_text() for p in CHECKS.glob("*.py"))
        block = source[source.index(f'id="{finding_id}"') :][:400]
        severities = set(re.findall(r"Severity\.(ERROR|WARNING|INFO)", block))
        for severity in severities:
            assert severity.lower() in header.lower(), f"{finding_id}: {severity} not in {header!r}"


def test_explain_pages():
    """Every explain ID (and its reported-<id> in doctor --from) has a page, written from its row unless a
    doctor page of the same id exists; the row's source is on it."""
    from torchenv.cli.findings import page_ids, read_page
    from torchenv.knowledge.errors import load_errors

    listed = set(page_ids())
    for row in load_errors().patterns:
        page = read_page(row.id)
        assert page and page.startswith(f"# {row.id}\n") and row.id in listed, row.id
        if not (DOCS / f"{row.id}.md").exists():
            assert row.source in page and row.retrieved in page
            assert read_page(f"reported-{row.id}") == page
