"""Booking: activities, units, calendars, deadlines, the day status of every cell, placement under
capacity, the week planning, the basket (panier), orders, absences, attendance, headcounts, prices.
"""
