"""SBML spine networks authored by this project."""
