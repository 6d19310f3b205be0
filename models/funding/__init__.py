"""立项 Funding: the staged decision per application, the grant and its tranches. Uses the
kernel, competition, documents, mail and the public modules of intake and review.
"""

# what other rooms may import from this one (tests/test_import_rules.py)
__public__ = ("tables",)
