"""The rooms' words, part of the kernel's message catalogue (``portal.i18n`` merges them)."""
