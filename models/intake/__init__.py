"""申报 Intake: organisations and applications (``tables``), reading Excel / CSV / JSON / Word and
the web form into rows, validating them into applications, storing them once, receipts and
refusal letters. ``correspondence.write_to_applicant`` is how every later stage writes to an
applicant. Uses the kernel, competition, documents and mail; later stages may use its
``tables``, ``correspondence`` and ``plan`` (what an application promised).
"""

# what other rooms may import from this one (tests/test_import_rules.py)
__public__ = ("tables", "correspondence", "plan")
