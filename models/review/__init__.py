"""专家评审 Expert review: experts, assignment (min-cost flow), personal sheet links, score sheets
from the portal or on paper, aggregation, agreement statistics, results and ranking, the review's
papers and letters. Uses the kernel, competition, documents, mail and intake's public modules;
later stages may use its ``tables``, ``results``, ``aggregation`` (the 结项 combines its
evaluators' scores with the same rules), the pure ``assignment`` (supervision assigns supervisors
with it), ``workbook`` (reading a people list), ``people`` (keeping a panel in step with it) and
``links`` (the expert's own page, which lists the 结项 panel's sheets too).
"""

# what other rooms may import from this one (tests/test_import_rules.py)
__public__ = ("tables", "results", "aggregation", "assignment", "workbook", "people", "links")
