"""The competition itself: its configuration schema (``config``: the YAML every rule and figure
comes from), the file as read (``config_file``: bounded, parsed, every mistake a bilingual
Problem) and its table with the rubric (``tables``). Every
other room may use it. It imports only the kernel.
"""

# what other rooms may import from this one (tests/test_import_rules.py)
__public__ = ("config", "config_file", "stages", "tables")
