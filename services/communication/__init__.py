"""Communication with families: messaging between a household and the mairie's services (messaging.py),
and what the commune publishes (news.py)."""
