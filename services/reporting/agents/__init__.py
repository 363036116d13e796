"""Agents and partners: the agents report (per agent, per partner, staff against
partners, with quality flags) and the outsourcer-parity report."""
