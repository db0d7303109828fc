from flask import Blueprint

bp = Blueprint("cases", __name__)

from fitapp.cases import routes, tablet  # noqa: E402,F401
