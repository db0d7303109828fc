"""Secure defaults applied to every response, and the proxy setting they depend on."""
import ipaddress

from flask import Flask, request
from werkzeug.middleware.proxy_fix import ProxyFix

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
)


def set_security_headers(response):
    response.headers.setdefault("Content-Security-Policy", CSP)
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "no-referrer")
    response.headers.setdefault("X-Frame-Options", "DENY")
    if request.endpoint != "static":
        # Pages may hold person-level data: never kept in a browser or proxy cache.
        response.headers.setdefault("Cache-Control", "no-store")
    if request.is_secure:
        response.headers.setdefault("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
    return response


class TrustedProxies:
    """Believe X-Forwarded-For/-Proto/-Host only on a request that comes from a trusted proxy.

    The client is the first address in X-Forwarded-For, read from the right, that is not
    itself a trusted proxy (so a chain of trusted proxies is walked, and whatever a client
    wrote further left is ignored). A request from anywhere else keeps its own address and
    scheme whatever headers it carries: reaching the app past the proxy forges nothing.
    """

    def __init__(self, wsgi_app, networks) -> None:
        self.wsgi_app = wsgi_app
        self.networks = tuple(ipaddress.ip_network(n, strict=False) for n in networks)
        self._fixes: dict[int, ProxyFix] = {}

    def trusted(self, address: str | None) -> bool:
        try:
            ip = ipaddress.ip_address((address or "").strip())
        except ValueError:
            return False
        return any(ip in network for network in self.networks)

    def __call__(self, environ, start_response):
        if not self.trusted(environ.get("REMOTE_ADDR")):
            return self.wsgi_app(environ, start_response)
        forwarded = [a.strip() for a in environ.get("HTTP_X_FORWARDED_FOR", "").split(",") if a.strip()]
        hops = next((n for n, address in enumerate(reversed(forwarded), start=1) if not self.trusted(address)),
                    len(forwarded))
        if hops == 0:
            hops = 1  # no X-Forwarded-For: the proxy's own scheme and host headers still count
        fix = self._fixes.get(hops)
        if fix is None:
            fix = self._fixes[hops] = ProxyFix(self.wsgi_app, x_for=hops, x_proto=1, x_host=1)
        return fix(environ, start_response)


def init_security(app: Flask) -> None:
    app.after_request(set_security_headers)
    # Behind reverse proxies (TRUSTED_PROXIES, env FITAPP_TRUSTED_PROXIES) their forwarded headers
    # count: request.is_secure (HSTS, Secure cookies) and the client address (audit log, login
    # throttling) then describe the real client. Without the setting no forwarded header counts.
    networks = app.config.get("TRUSTED_PROXIES") or ()
    if networks:
        app.wsgi_app = TrustedProxies(app.wsgi_app, networks)
