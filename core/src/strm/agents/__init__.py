"""Agents: async functions that process a stream, with replies, sinks and supervision."""

from strm.agents.agent import Agent

__all__ = ["Agent"]
