"""The decision service (``fengkong serve``): FastAPI app, auth, API v1 routes, stream consumer.

``create_app(settings)`` lives in :mod:`fengkong.service.app`; auth dependencies in :mod:`fengkong.service.auth`.
"""
