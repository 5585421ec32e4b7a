"""Telegram (python-telegram-bot 22): groups a case manager made, linked to cases; invitations by link."""
