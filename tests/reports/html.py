"""Reading the figures back from a report page: every cell marked data-figure, its numbers by class."""
from html.parser import HTMLParser

NUMBER_CLASSES = ("fig-count", "fig-num", "fig-den")


class FigureParser(HTMLParser):
    def __init__(self):
        super().__init__()
        self.cells: list[dict] = []
        self._cell: dict | None = None
        self._depth = 0
        self._span: str | None = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "td" and "data-figure" in attrs:
            self._cell = {"key": attrs.get("data-cell"), "kind": attrs["data-figure"],
                          "suppressed": attrs.get("data-suppressed") == "1", "text": ""}
            self._depth = 0
        elif self._cell is not None:
            self._depth += tag != "br"
            classes = (attrs.get("class") or "").split()
            found = [c for c in classes if c in NUMBER_CLASSES + ("fig-value", "fig-low", "fig-high")]
            if found:
                self._span = found[0]

    def handle_endtag(self, tag):
        if self._cell is None:
            return
        if tag == "td" and self._depth == 0:
            self.cells.append(self._cell)
            self._cell = None
        elif tag != "br":
            self._depth -= 1
            self._span = None

    def handle_data(self, data):
        if self._cell is None:
            return
        self._cell["text"] += data
        if self._span:
            self._cell[self._span] = self._cell.get(self._span, "") + data.strip()


def figure_cells(html: str) -> list[dict]:
    parser = FigureParser()
    parser.feed(html)
    return parser.cells


def keyed_cells(html: str) -> dict[str, dict]:
    return {cell["key"]: cell for cell in figure_cells(html) if cell["key"]}


def assert_no_small_numbers_on_page(html: str, threshold: int = 5) -> int:
    """No count, numerator or denominator of 1..threshold−1 in any figure cell; returns how many were checked."""
    cells = figure_cells(html)
    for cell in cells:
        if cell["suppressed"]:
            assert not any(c in cell for c in NUMBER_CLASSES + ("fig-value",)), cell
            assert f"<{threshold}" in cell["text"], cell
            continue
        for name in NUMBER_CLASSES:
            if name in cell:
                number = int(cell[name])
                assert not 1 <= number < threshold, cell
    return len(cells)
