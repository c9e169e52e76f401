"""A sortable results table widget: headers, rows selected by click, hover reported both ways.

Sorting happens in the kernel (a header click sets ``sort_by`` / ``ascending``, the kernel
reorders ``rows``), so it is the same in tests and in the browser.  The front end is a few lines
of plain JavaScript served by anywidget (its JupyterLab extension is prebuilt: no network, no
build step); cells are written with ``textContent``, never as HTML.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

import anywidget
import traitlets as t

__all__ = ["COLUMNS", "ResultsTable", "item_row"]

#: (key, header) of the columns, in order.
COLUMNS = (("date", "date"), ("tile", "tile"), ("cloud", "cloud %"), ("platform", "platform"), ("id", "id"))

_ESM = r"""
function render({ model, el }) {
  el.classList.add("tl-results");
  const wrap = document.createElement("div");
  wrap.className = "tl-results-scroll";
  const table = document.createElement("table");
  const thead = table.createTHead();
  const tbody = table.createTBody();
  wrap.appendChild(table);
  el.appendChild(wrap);
  const rowOf = new Map();

  function send(name, value) { model.set(name, value); model.save_changes(); }

  function head() {
    const by = model.get("sort_by"), asc = model.get("ascending");
    thead.replaceChildren();
    const tr = thead.insertRow();
    for (const [key, label] of model.get("columns")) {
      const th = document.createElement("th");
      th.textContent = label + (key === by ? (asc ? " \u25B2" : " \u25BC") : "");
      th.dataset.key = key;
      th.title = "sort by " + label;
      th.setAttribute("aria-sort", key === by ? (asc ? "ascending" : "descending") : "none");
      th.addEventListener("click", () => {
        if (key === by) { send("ascending", !asc); } else { model.set("ascending", true); send("sort_by", key); }
      });
      tr.appendChild(th);
    }
  }

  function marks() {
    const sel = new Set(model.get("selected")), lit = new Set(model.get("highlighted"));
    for (const [id, tr] of rowOf) {
      tr.classList.toggle("tl-selected", sel.has(id));
      tr.setAttribute("aria-selected", sel.has(id) ? "true" : "false");
      tr.classList.toggle("tl-lit", lit.has(id));
    }
  }

  function reveal() {
    const first = model.get("selected").map((id) => rowOf.get(id)).find((tr) => tr);
    if (!first) return;
    const top = first.offsetTop, bottom = top + first.offsetHeight;
    if (top < wrap.scrollTop + 28 || bottom > wrap.scrollTop + wrap.clientHeight) {
      wrap.scrollTop = Math.max(0, top - wrap.clientHeight / 2);
    }
  }

  function body() {
    const cols = model.get("columns");
    tbody.replaceChildren();
    rowOf.clear();
    for (const row of model.get("rows")) {
      const tr = tbody.insertRow();
      tr.dataset.id = row.id;
      for (const [key] of cols) { const td = tr.insertCell(); td.textContent = row[key] ?? ""; td.dataset.key = key; }
      tr.addEventListener("click", (e) => {
        const sel = model.get("selected");
        if (e.ctrlKey || e.metaKey) {
          send("selected", sel.includes(row.id) ? sel.filter((i) => i !== row.id) : [...sel, row.id]);
        } else {
          send("selected", [row.id]);
        }
      });
      tr.addEventListener("mouseenter", () => send("hovered", row.id));
      tr.addEventListener("mouseleave", () => { if (model.get("hovered") === row.id) send("hovered", ""); });
      rowOf.set(row.id, tr);
    }
    marks();
  }

  model.on("change:columns", () => { head(); body(); });
  model.on("change:sort_by", head);
  model.on("change:ascending", head);
  model.on("change:rows", body);
  model.on("change:selected", () => { marks(); reveal(); });
  model.on("change:highlighted", marks);
  head();
  body();
}
export default { render };
"""

_CSS = """
.tl-results-scroll { max-height: 280px; overflow: auto; border: 1px solid #ccc; border-radius: 3px; }
.tl-results table { border-collapse: collapse; width: 100%; font: 13px/1.35 var(--jp-ui-font-family, sans-serif); }
.tl-results th { position: sticky; top: 0; background: #f2f4f7; cursor: pointer; text-align: left;
  padding: 4px 8px; border-bottom: 1px solid #bbb; white-space: nowrap; user-select: none; }
.tl-results th:hover { background: #e4e8ee; }
.tl-results td { padding: 3px 8px; border-bottom: 1px solid #eee; white-space: nowrap; cursor: pointer; color: #222; }
.tl-results td[data-key="cloud"] { text-align: right; }
.tl-results tbody tr:hover, .tl-results tr.tl-lit { background: #f3e5f5; }
.tl-results tr.tl-selected { background: #fde0ea; box-shadow: inset 3px 0 0 #e0115f; }
"""


def _cloud(value: Any) -> str:
    return f"{value:.0f}" if isinstance(value, (int, float)) and math.isfinite(value) else "–"


def item_row(item: dict, tile: str = "") -> dict:
    """A table row of a STAC item: formatted cells, and the raw values it sorts by (``_sort``)."""
    p = item.get("properties", {})
    when = str(p.get("datetime") or p.get("start_datetime") or "")
    cloud = p.get("eo:cloud_cover")
    cloud = float(cloud) if isinstance(cloud, (int, float)) and math.isfinite(cloud) else None
    platform = str(p.get("platform") or "")
    return {"id": item["id"], "date": when[:10], "tile": tile, "cloud": _cloud(cloud), "platform": platform,
            "_sort": {"id": item["id"], "date": when, "tile": tile, "cloud": cloud, "platform": platform}}


class ResultsTable(anywidget.AnyWidget):
    """Search results as a table with headers: click a header to sort, a row to select it.

    ``selected`` (ids) and ``hovered`` (the row under the mouse) come from the browser and can be
    set from Python; ``highlighted`` lights rows from elsewhere (the footprint under the mouse).
    """

    _esm = _ESM
    _css = _CSS

    columns = t.List([list(c) for c in COLUMNS]).tag(sync=True)
    rows: t.List = t.List([]).tag(sync=True)
    sort_by = t.Unicode("date").tag(sync=True)
    ascending = t.Bool(True).tag(sync=True)
    selected = t.List(t.Unicode()).tag(sync=True)
    hovered = t.Unicode("").tag(sync=True)
    highlighted = t.List(t.Unicode()).tag(sync=True)

    def __init__(self, **kwargs):
        self._records: list[dict] = []
        super().__init__(**kwargs)

    def set_rows(self, records: Iterable[dict]) -> None:
        """Show ``records`` (from :func:`item_row`), sorted by the current column; clears the selection."""
        self._records = list(records)
        self.selected = []
        self.highlighted = []
        self._resort()

    @property
    def ids(self) -> list[str]:
        """The row ids in display order."""
        return [r["id"] for r in self.rows]

    @t.validate("sort_by")
    def _valid_column(self, proposal):
        keys = [c[0] for c in self.columns]
        if proposal["value"] not in keys:
            raise t.TraitError(f"sort_by={proposal['value']!r}: use one of {keys}")
        return proposal["value"]

    @t.observe("sort_by", "ascending")
    def _on_sort(self, _change) -> None:
        self._resort()

    def _resort(self) -> None:
        key = self.sort_by
        present = [r for r in self._records if r["_sort"].get(key) not in (None, "")]
        missing = [r for r in self._records if r["_sort"].get(key) in (None, "")]
        present.sort(key=lambda r: (r["_sort"][key], r["_sort"]["date"]), reverse=not self.ascending)
        # rows without a value (no cloud cover, no tile) always come last
        self.rows = [{k: v for k, v in r.items() if k != "_sort"} for r in present + missing]
