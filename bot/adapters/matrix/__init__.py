"""The Matrix adapter (matrix-nio with end-to-end encryption)."""
