"""A second reference for ``GET /customers/{id}``: the bare endpoint of
``bench.bare_app`` that also reads the customer's row from the same SQLite file
(``CUSTOMER_DATABASE_URL``), with the standard library's ``sqlite3`` on a
connection per thread, and answers it as JSON. What a database read alone costs
under the same gunicorn, next to what Rapport's whole read path costs."""

import json
import os
import sqlite3
import threading

from flask import Flask, Response

app = Flask("bare_db")
PATH = os.environ["CUSTOMER_DATABASE_URL"].removeprefix("sqlite:///")
_local = threading.local()


def _connection() -> sqlite3.Connection:
    connection = getattr(_local, "connection", None)
    if connection is None:
        connection = _local.connection = sqlite3.connect(PATH, check_same_thread=False)
    return connection


@app.get("/api/v1/customers/<customer_id>")
def customer(customer_id):
    cursor = _connection().execute("SELECT * FROM customers WHERE id = ?", (customer_id,))
    row = cursor.fetchone()
    if row is None:
        return Response(status=404)
    names = [column[0] for column in cursor.description]
    return Response(json.dumps(dict(zip(names, row)), default=str), mimetype="application/json")
