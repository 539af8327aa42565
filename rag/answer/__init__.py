"""Answers: ``retrieve → prompt → generate → cite``, with the refusal decision (``relevance``)."""
