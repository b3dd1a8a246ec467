"""STIX 2.1 indicators of an advisory (docs/api.md): the program's detection indicators and files, and the
indicators the reading organisation reported, as one bundle, served like any download."""
