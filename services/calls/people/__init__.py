"""Agents and partners, and the assignment of calls to agents: the rules, continuous
assignment, reassignment, and agents' calendar feeds."""
