"""The printing processes: the printer itself (process), and the web server's shared client for it (pool).

The command line's own client is dosing.printer.
"""
