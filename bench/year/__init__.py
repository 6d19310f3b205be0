"""The year's benchmark: a seeded synthetic competition of N applications (``bench.year.generator``)
run through the whole year by the same flows and domain functions as production
(``bench.year.runner``); ``bench/bench_year.py`` writes bench/results/year.md."""
