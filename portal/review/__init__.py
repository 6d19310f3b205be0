"""The experts' room: the review's score sheet and the 结项 panel's sheet, on personal links.

It owns what an expert reads (the 申报书 in the form's order, hidden in a blind review) and the
sheets' requests; it imports the portal's kernel and, from the supervision room, only what that room
lists in ``__public__`` (how a checkpoint's report is shown).
"""

# application_view: the 申报书 as submitted, also on the console's application page (portal/admin)
__public__ = ("routes", "application_view")
