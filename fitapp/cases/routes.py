from flask_login import login_required

from fitapp.cases import bp


@bp.route("/")
@login_required
def caseload():
    return "caseload"
