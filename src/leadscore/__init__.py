"""leadscore: lead scoring compiled to one query."""
