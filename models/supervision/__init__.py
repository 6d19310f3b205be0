"""督导 Supervision: supervisors, checkpoints and their reports. Uses the kernel, competition,
documents, mail and the public modules of earlier stages.
"""

# what other rooms may import from this one (tests/test_import_rules.py)
__public__ = ("tables", "outcomes", "notices")  # outcomes, notices: the 整改 of a failed 结项
