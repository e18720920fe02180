"""A probe for the web app, run inside the container: the JSON must name certifi's version."""

import json
import sys
import urllib.request

doc = json.load(urllib.request.urlopen(f"http://127.0.0.1:{sys.argv[1]}/", timeout=5))
sys.exit(0 if doc["certifi"] and doc["certificates"] > 10 else 1)
