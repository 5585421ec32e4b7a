"""The outbox sender; the inbox lives in the dispatcher's first transaction."""
