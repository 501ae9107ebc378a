"""The desktop app around the page (imports nothing heavy until used).

    shell.py      ``run()``: the pywebview window, its environment and the selftest
    window.py     ``Desktop``: the main and quick-chat windows, close-to-tray, settings
    late_api.py   the window's js_api while the bridge is built on a thread (window first)
    loading.py    the main window's loading state, drawn by Qt until the page paints
    tray.py       the tray icon and its menu
    autostart.py  start on login (per platform)
    instance.py   one running app per data dir (lock file + loopback socket)
    selfcheck.py  ``dl-app window --selftest``: check the parts that ship data files
"""
