"""The console's steps: every stage and decision the administrator takes from ``/admin``, read and
guarded here, run by the same flows and model functions as the CLI (part of the roof: it reads
every stage).

- ``runs``: ``ConsoleRun`` — one row per stage run started from the console, with a unique key per
  competition and step while it is queued or running (two clicks never run a stage twice), its
  progress marks (the documents and letters written since it began), its outcome, and the lease an
  in-process run renews (a run whose portal stopped is settled as failed, never left running);
- ``preview``: what a step will write before it does — the letters (how many, to whom) and the
  documents, with the one sentence that says why it may not run now; the shared shapes;
- ``selection``, ``grants``, ``closing``: one preview and one check per step, in the lifecycle's
  order (setup → review; funding → 公示 → agreements; supervision → 结项 → the year's report), each
  a pure read asking the same model functions the flow will run.
"""
