"""The bundled 江头街道 example as data for the demo and for ``grantflow example write``: the sample
applications (``applications``, from applications.yaml), the files written from them (``files``,
every date movable with ``dates``), and the year after the applications (``year``, from year.yaml:
the sample experts' habits, the grantees' reports and the supervisors' records)."""
