"""The console's pages: every module here with a ``routes`` table (an
``aiohttp.web.RouteTableDef``) is added by ``create_app``. One module per page or group of
pages; its templates under ``bot/console/templates/<module>/``."""
