"""Use cases of caseroom; free of any network library."""
