"""The core of Clarion: who is told what, through which channel, in which words.

Subscribers, groups, categories, rules, templates, events, deliveries and API
keys; the dispatch pipeline; the channel providers; and the REST API.
"""
