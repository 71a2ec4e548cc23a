"""Terril's web portal: the energy managers' and technical services' workspace, and the town's public energy page.

Server-rendered (Starlette + Jinja2 under uvicorn). Data comes from InfluxDB through the
same functions the commands use; charts are drawn by uPlot, served from ``portal/static``.
"""
