"""Delivering letters: the deliver-letters task (``deliver``), settling interrupted sends and running
the workers (``delivery``, ``workers``), the SMTP connection (``smtp``), and the embedded aiosmtpd sink
that keeps letters as .eml files when no server is configured (``sink``)."""
