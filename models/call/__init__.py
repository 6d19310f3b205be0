"""征集 The call: the 征集公告 and the blank 申报书, opening the call, and the call letters to the
mailing list. Uses the kernel, competition, documents and mail.
"""

# what other rooms may import from this one (tests/test_import_rules.py)
__public__ = ("notices",)
