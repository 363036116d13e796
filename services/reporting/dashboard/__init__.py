"""The manager's dashboard page: the key reports' charts and tables as one
server-rendered page."""
