"""Entry point for gunicorn: `gunicorn wsgi:app`."""
from fitapp import create_app

app = create_app()
