from fitapp.auth import bp


@bp.route("/login")
def login():
    return "login"
