"""What the commune publishes: news (actualités) and documents (menus, tarifs, règlements…), each for
an audience during a window, with the households' read markers. Above billing in the service layers:
it reads schools, children and enrolments, and nothing below imports it."""
