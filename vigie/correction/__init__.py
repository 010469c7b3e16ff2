"""Automated correction: answer keys, scoring rules as data, marks, ranking and their outputs.

Import-light on purpose (stdlib and yaml only, like :mod:`vigie.demo`): the exam
server's jury API and the ``vigie correct`` command both use it, and the fleet may
read the keys to answer like a skilled candidate.
"""
