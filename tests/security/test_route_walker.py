"""Walk every route of the app: nothing is open to anonymous users, every page has a permission rule,
URLs carry only integer ids, GET changes nothing and every POST needs the CSRF token."""
import pytest
from werkzeug.routing import IntegerConverter

from fitapp.auth.loader import PUBLIC_ENDPOINTS
from fitapp.extensions import db
from fitapp.permissions import rule_of
from tests.security.conftest import app_rules, rule_path, sign_in, table_contents

# Changing this list is a security decision: each entry is reachable without logging in.
EXPECTED_PUBLIC = {"auth.login", "auth.login_code", "auth.language", "static"}
METHODS = ("GET", "POST")


def test_the_public_list_is_the_expected_one():
    assert PUBLIC_ENDPOINTS == EXPECTED_PUBLIC


def test_every_endpoint_is_public_or_declares_its_roles(app):
    missing = sorted(
        rule.endpoint for rule in app_rules(app)
        if rule.endpoint not in PUBLIC_ENDPOINTS and rule_of(rule.endpoint) is None
    )
    assert missing == [], (
        f"endpoints without a permission rule (add @requires(...) from fitapp.permissions): {missing}")


def test_the_walker_sees_the_known_routes(app):
    endpoints = {rule.endpoint for rule in app_rules(app)}
    assert {"cases.caseload", "cases.episode", "cases.reassign", "auth.logout", "auth.change_password_page",
            "auth.two_factor", "confirmations.index", "confirmations.confirm", "confirmations.refuse"} <= endpoints


def test_urls_carry_only_integer_ids(app):
    """No personal data in URLs: every URL variable is an integer id (references, names, dates go in forms)."""
    loose = [
        (rule.rule, name) for rule in app_rules(app)
        for name, converter in rule._converters.items() if not isinstance(converter, IntegerConverter)
    ]
    assert loose == []


def test_anonymous_users_get_nowhere(app, client, case):
    let_in = []
    for rule in app_rules(app):
        if rule.endpoint in PUBLIC_ENDPOINTS:
            continue
        path = rule_path(rule, case)
        for method in METHODS:
            response = client.open(path, method=method)
            to_login = response.status_code == 302 and response.headers["Location"].startswith("/login")
            if not (to_login or response.status_code in (401, 403, 405)):
                let_in.append((method, path, response.status_code))
    assert let_in == []


@pytest.mark.parametrize("who", ["anna", "chef_a", "kvalitet", "admin"])
def test_get_changes_nothing_and_never_fails(app, client, org, case, who):
    """State changes only by POST: GET on every route, with real ids, leaves every table as it was."""
    before = table_contents()
    sign_in(client, org[who])
    errors = []
    for rule in app_rules(app):
        if "GET" in rule.methods:
            response = client.get(rule_path(rule, case))
            if response.status_code >= 500:
                errors.append((rule.rule, response.status_code))
    db.session.expire_all()
    assert errors == []
    assert table_contents() == before


def test_state_changing_routes_refuse_get(app, client, org):
    sign_in(client, org["anna"])
    rules = app_rules(app)
    with_get = {rule.rule for rule in rules if "GET" in rule.methods}
    # A POST-only endpoint whose path also has a GET page (another endpoint) is walked by the GET test.
    post_only = [rule for rule in rules if "GET" not in rule.methods and rule.rule not in with_get]
    assert {"auth.logout", "auth.language"} <= {rule.endpoint for rule in post_only}
    for rule in post_only:
        assert client.get(rule_path(rule, {})).status_code == 405, rule.rule


@pytest.mark.parametrize("signed_in", [True, False])
def test_every_post_without_the_csrf_token_is_refused(app, client, org, case, signed_in):
    app.config["WTF_CSRF_ENABLED"] = True
    if signed_in:
        sign_in(client, org["anna"])
    before = table_contents()
    accepted = []
    for rule in app_rules(app):
        if "POST" in rule.methods:
            response = client.post(rule_path(rule, case), data={"username": "anna", "reason": "duplicate"})
            if response.status_code != 400:
                accepted.append((rule.rule, response.status_code))
    db.session.expire_all()
    assert accepted == []
    assert table_contents() == before
