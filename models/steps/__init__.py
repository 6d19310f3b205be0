"""The console's steps: every stage the administrator runs from ``/admin``, guarded and previewed
here, run by the same flows as the CLI (part of the roof: it reads every stage).

- ``runs``: ``ConsoleRun`` — one row per stage run started from the console, with a unique key per
  competition and step while it is queued or running (two clicks never run a stage twice), its
  progress marks (the documents and letters written since it began), its outcome, and the lease an
  in-process run renews (a run whose portal stopped is settled as failed, never left running);
- ``preview``: what a step will do before it does — what it acts on, the papers it writes, the
  letters (how many, to whom).
"""
