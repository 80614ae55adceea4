"""Communication with families: messaging between a household and the mairie's services (messaging.py,
sick_notices.py), and what the commune publishes — news and documents, each for an audience during a
window, with the households' read markers (audience.py, news.py, publications.py, categories.py). Above
billing in the service layers: it reads schools, children, enrolments and bookings; nothing below imports it."""
