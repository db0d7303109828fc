"""axe-core in the browser tests: every main page must have no serious or critical violations.

axe is added as an init script of the browser context (``enable_axe``), so it
is present in every page the test opens without loosening the app's Content
Security Policy (an inline <script> tag would be refused by it, as it should).
The full results are written to test-artifacts/axe/NAME.json for a reviewer.
"""
import json
from pathlib import Path

AXE = Path(__file__).resolve().parent / "vendor" / "axe.min.js"
RESULTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "axe"
BLOCKING = ("serious", "critical")


def enable_axe(page) -> None:
    """Load axe into every page opened from now on in ``page``'s context."""
    page.context.add_init_script(path=str(AXE))


def check(page, name: str) -> list[dict]:
    """Run axe on the page as it is now; fail on serious or critical violations; return all violations."""
    result = page.evaluate("() => axe.run(document, {resultTypes: ['violations']})")
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / f"{name}.json").write_text(json.dumps(
        {"url": page.url, "violations": result["violations"]}, indent=1, ensure_ascii=False))
    blocking = [v for v in result["violations"] if v["impact"] in BLOCKING]
    assert not blocking, f"axe on {name} ({page.url}):\n" + "\n".join(
        f"- {v['impact']} {v['id']}: {v['help']} at {[n['target'] for n in v['nodes']][:5]}" for v in blocking)
    return result["violations"]
