from flask import Blueprint

from fitapp.instrument_labels import item_label, item_label_map

bp = Blueprint("cases", __name__)
# Item labels: the organisation's licensed wording, or "Del N" (fitapp.instrument_labels).
bp.add_app_template_global(item_label)
bp.add_app_template_global(item_label_map)

from fitapp.cases import routes, tablet  # noqa: E402,F401
