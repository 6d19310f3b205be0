"""立项 Funding: the staged decision per application (pure ``allocation`` rules, ``decision``: draft,
adjust, ties, approve), the 公示 (``publicity``: notices, working-day windows, objections), the
grants (``grants``: letters, agreements, signing, lapse), their tranches (``tranches``: the plan,
``open_gate`` for a checkpoint's outcome) and their money (``money``: the parts that add up, the
settlement rule). Uses the kernel, competition, documents, mail and the
public modules of intake and review; later stages may use ``tables``, ``tranches``, ``grants`` and ``money``.
"""

# what other rooms may import from this one (tests/test_import_rules.py)
__public__ = ("tables", "tranches", "grants", "money")
