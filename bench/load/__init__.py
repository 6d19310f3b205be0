"""Pages under load: an open-model load generator (``traffic``), the portal in its own uvicorn process
(``serve``) and the worlds it serves (``worlds``); ``bench/bench_load.py`` writes bench/results/load.md."""
