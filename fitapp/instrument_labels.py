"""The item labels the organisation is licensed to use, and the neutral "Del N" otherwise (metrics.md §1).

The instruments' wording is licensed material, not shipped with the app
(domain.md): an administrator enters the text the organisation holds a licence
for, per instrument and item (``instrument_label``). Every screen that names an
item asks :func:`item_label`; the labels are read once per request.
"""
from __future__ import annotations

from flask import g
from flask_babel import gettext as _
from sqlalchemy import select

from fitapp import audit
from fitapp.extensions import db
from fitapp.models import InstrumentLabel
from fitapp.scoring.instruments import ALL_INSTRUMENTS, ITEMS_PER_RATING

ITEMS = tuple(range(1, ITEMS_PER_RATING + 1))
MAX_LABEL_LENGTH = 80  # the column's length
_CACHE = "_fitapp_instrument_labels"


def neutral_label(item: int) -> str:
    return _("Item %(number)s", number=item)


def licensed_labels() -> dict[tuple[str, int], str]:
    """(instrument, item) -> licensed text, read from the database at most once per request."""
    labels = g.get(_CACHE)
    if labels is None:
        labels = {(row.instrument, row.item): row.label for row in db.session.scalars(select(InstrumentLabel))}
        setattr(g, _CACHE, labels)
    return labels


def item_label(instrument: str | None, item: int) -> str:
    """The label of ``item`` (1–4) of ``instrument``: the licensed text, or "Del N" without one."""
    return licensed_labels().get((instrument, item)) or neutral_label(item)


def item_label_map() -> dict[str, list[str]]:
    """Instrument -> its four labels, for every instrument ("" = not chosen yet: the neutral labels)."""
    return {code: [item_label(code, n) for n in ITEMS] for code in ("", *ALL_INSTRUMENTS)}


def save_labels(wanted: dict[tuple[str, int], str | None]) -> int:
    """Store the labels of the (instrument, item) keys given; None or "" removes one. Returns the changes.

    Each change is audited by instrument and item only. Commits.
    """
    existing = {(row.instrument, row.item): row for row in db.session.scalars(select(InstrumentLabel))}
    changed = 0
    for (instrument, item), text in wanted.items():
        if instrument not in ALL_INSTRUMENTS or item not in ITEMS:
            raise ValueError(f"no item {item} of instrument {instrument!r}")
        text = (text or "").strip() or None
        row = existing.get((instrument, item))
        if text == (row.label if row else None):
            continue
        if text is None:
            db.session.delete(row)
            action = "admin_remove_instrument_label"
        elif row is None:
            db.session.add(InstrumentLabel(instrument=instrument, item=item, label=text))
            action = "admin_set_instrument_label"
        else:
            row.label = text
            action = "admin_set_instrument_label"
        audit.record(action, object_type="instrument_label", object_id=f"{instrument}/{item}")
        changed += 1
    db.session.commit()
    g.pop(_CACHE, None)
    return changed
