"""Letters: the letter roles (``letters``), the outbox with idempotency keys, the sender's
moves (``sending``), the MIME writer, ``correspondence.write_to`` (the keys every letter shares)
and ``reminders.due_reminder_offset`` (when a reminder is due). No SMTP here (that is
``tasks.mail``). Uses the kernel, competition and the documents engine's templating.
"""

# what other rooms may import from this one (tests/test_import_rules.py)
__public__ = ("letters", "outbox", "sending", "mime", "correspondence", "reminders")
