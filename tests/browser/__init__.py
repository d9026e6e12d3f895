"""Tests that run in headless Chromium through Playwright (all marked ``browser``)."""
