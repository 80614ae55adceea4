"""Billing: monthly invoicing per régie and its runs, gapless numbers, closed periods, payments and
credits, online payment (PayFiP), direct debit (SEPA), the payment journal and certificates.
"""
