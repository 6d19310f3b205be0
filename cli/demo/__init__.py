"""``grantflow demo``: the whole lifecycle on the bundled 江头街道 example, in one process.

``run`` holds what the steps share (``DemoRun``) and nothing else, so every step module imports it
and none imports ``command``; ``command`` lists the steps in the lifecycle's order and runs them
with a progress bar. One module per stage group: ``setup``, ``selection`` (call → intake →
screening), ``review``. A step module imports ``flows`` and ``models``, never another step module.
"""
