"""Panelbot: a citizens' panel in a chat for integrated care systems."""
