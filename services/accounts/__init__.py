"""Accounts: users and their passwords, sign-in, sessions, e-mail codes at sign-up, password resets,
invitations, and the throttles that slow down guessing.
"""
