"""Pure survey engine and survey definitions (see issue 3)."""
