"""结项 Final evaluation: the final score and grade of each grant. Uses the kernel, competition,
documents, mail and the public modules of earlier stages.
"""

# what other rooms may import from this one (tests/test_import_rules.py)
__public__ = ("tables",)
