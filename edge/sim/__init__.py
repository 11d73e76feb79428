"""Simulated electric delivery trucks that put CAN frames on python-can buses.

See docs/simulator.md for the models and how to run them.
"""
