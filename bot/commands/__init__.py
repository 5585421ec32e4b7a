"""The typed command registry and the commands themselves."""
