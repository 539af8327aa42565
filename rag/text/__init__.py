"""Text utilities every stage shares: language by script, sentence spans, stemmed terms, token counts."""
