"""The applicants' room: the web form (网上申报) and its confirmation with the 申报编号.

It owns the form's view model (what was typed, each problem beside its field) and its requests; it
imports only the portal's kernel.
"""

__public__ = ("routes",)
