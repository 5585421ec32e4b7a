"""Waking up for reminders: the database holds them, APScheduler only rings."""
