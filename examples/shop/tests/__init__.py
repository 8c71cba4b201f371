"""The shop's test suite; ``support.py`` says how to run it with either client."""
