"""The baseline for ``GET /customers/{id}``: a bare Flask endpoint answering a
profile-sized JSON document, served by the same gunicorn configuration."""

from flask import Flask, jsonify

app = Flask("bare")
PROFILE = {
    "id": "",
    "kind": "person",
    "name": "Customer",
    "phone": "+85251234567",
    "segment": "smb",
    "lifecycle_status": "active",
    "version": 1,
    "calls_completed": 3,
    "satisfaction": 4,
    "propensity": 50,
    "contact_points": [
        {"kind": "phone", "value": "+85251234567", "do_not_contact": False, "status": "valid"}
    ],
}


@app.get("/api/v1/customers/<customer_id>")
def customer(customer_id):
    return jsonify({**PROFILE, "id": customer_id})
