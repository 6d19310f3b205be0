"""The web forms (FastAPI + Jinja2): experts score, applicants apply; personal signed links.

Prefect's offline defaults are set before the portal's event code imports Prefect.
"""

from models.settings import apply_prefect_defaults

apply_prefect_defaults()
