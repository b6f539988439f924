"""
The walk-through: the post's steps built in a workspace and checked by
behaviour (`make tutorial`, docs/tutorial.md).
"""
