"""Partner protection status, feedback and indicators per advisory. Models live in advisories.models; this package
holds their services, selectors, reminders and the partners' pages (the program's coverage pages are in
program/views/coverage.py)."""
