"""资格审查 Screening: the eligibility rules (pure), the screening run with audited overrides, the
资格审查表 and result letters. Uses the kernel, competition, documents, mail and intake's public
modules.
"""

# what other rooms may import from this one (tests/test_import_rules.py)
__public__ = ("eligibility",)
