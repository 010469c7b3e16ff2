"""A fleet run's machinery: processes, master, monitor, target check, scrape, tallies, live view."""
