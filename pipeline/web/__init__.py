"""The web face (issue 7): feeds, the archive, subscribe and one-click unsubscribe.

``create_app(cfg, engine=..., now=...)`` builds the Starlette app that ``paperboy serve`` runs
under uvicorn. Modules: :mod:`.app` (wiring), :mod:`.pages` (archive and feed files),
:mod:`.subscription` (subscribe form), :mod:`.membership` (confirm, preferences, unsubscribe),
:mod:`.tokens`, :mod:`.forms`, :mod:`.conditional`, :mod:`.queries`, :mod:`.views`.
"""
