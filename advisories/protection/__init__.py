"""Partner protection status, feedback and indicators per advisory, and the program's coverage view of them
(issue 13). Models live in advisories.models; this package holds their services, selectors and pages."""
