"""Helpers the tests share: no tests here (pytest collects none from this package)."""
