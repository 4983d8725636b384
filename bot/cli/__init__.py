"""The `panelbot` command's commands, by what they are about."""
