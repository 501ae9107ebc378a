"""Adapters: the I/O side (LLM, embeddings, stores, tokenizer, clock)."""
