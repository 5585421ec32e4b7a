"""Network adapters: translate network traffic to neutral events, and carry out effects."""
