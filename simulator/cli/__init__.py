"""The fleet's command lines: vigie load, certify, rehearse, and what they share."""
