#!/usr/bin/env python3
"""Merge aid for the `ranks` branch (issue 11): adds its routes, parameters,
bodies and fields to views/openapi/openapi.json, which main gained after the
branch was cut (testapp.Do holds every response to that document, so the
ranks tests need it). Run once from the repository root after merging, check
the diff, then delete this file:

    python3 docs/merge/openapi_ranks.py && git diff views/openapi/openapi.json
"""
import json

PATH = "views/openapi/openapi.json"
with open(PATH) as f:
    doc = json.load(f)
paths, schemas = doc["paths"], doc["components"]["schemas"]
params = doc["components"].setdefault("parameters", {})

ref = lambda name: {"$ref": "#/components/schemas/" + name}
error = {"$ref": "#/components/responses/Error"}
write_security = [{"apiKey": []}, {}]
metadata = {"type": "object", "description": "The caller's own JSON object, at most 2 KiB."}

params["IdempotencyKey"] = {
    "name": "Idempotency-Key", "in": "header",
    "description": "Makes the write happen once: a retry with the same key on the same path within 24 hours "
                   "gets the first answer again (with Idempotent-Replayed: true) and writes nothing; 409 while "
                   "the first is in flight, 422 for the same key with another request.",
    "schema": {"type": "string", "minLength": 1, "maxLength": 255},
}
replayed = {"Idempotent-Replayed": {"description": "The first answer to this Idempotency-Key, again.",
                                    "schema": {"type": "string", "enum": ["true"]}}}

# Fields on existing shapes.
board = schemas["Board"]
board["properties"].update({
    "order": {"type": "string", "enum": ["desc", "asc"], "description": "desc: higher is better; asc: lower is better."},
    "operator": {"type": "string", "enum": ["incr", "best", "set"], "description": "What POST .../score does."},
    "reset": {"type": "string", "description": "daily, weekly, monthly or a cron expression."},
    "reset_tz": {"type": "string", "description": "The reset's IANA time zone (default UTC)."},
    "next_reset_at": {"type": "string", "format": "date-time"},
})
board["required"] = sorted(set(board["required"]) | {"order", "operator"})
for name in ("RankedPlayer", "Player"):
    schemas[name]["properties"]["metadata"] = metadata

# New shapes.
schemas["StandingsPage"] = {
    "type": "object", "additionalProperties": False, "required": ["board", "offset", "players", "next"],
    "properties": {"board": {"type": "string"}, "offset": {"type": "integer", "minimum": 0},
                   "players": {"type": "array", "items": ref("RankedPlayer")},
                   "next": {"type": ["string", "null"], "description": "The next page's URL; null on the last."}},
}
schemas["AroundPage"] = {
    "type": "object", "additionalProperties": False, "required": ["board", "player", "players"],
    "properties": {"board": {"type": "string"}, "player": {"type": "string"},
                   "players": {"type": "array", "items": ref("RankedPlayer")}},
}
schemas["Period"] = {
    "type": "object", "additionalProperties": False, "required": ["id", "name", "period", "ended_at", "players"],
    "properties": {"id": {"type": "string"}, "name": {"type": "string"}, "period": {"type": "integer", "minimum": 0},
                   "ended_at": {"type": "string", "format": "date-time"},
                   "players": {"type": "array", "items": ref("RankedPlayer")}},
}
schemas["BatchResults"] = {
    "type": "object", "additionalProperties": False, "required": ["results"],
    "properties": {"results": {"type": "array", "items": {
        "type": "object", "additionalProperties": False, "required": ["player", "status"],
        "properties": {"player": {"type": "string"}, "status": {"type": "integer"},
                       "result": ref("Player"), "error": {"type": "string"}}}}},
}

# Existing operations.
create = paths["/boards"]["post"]
create["requestBody"]["content"]["application/json"]["schema"]["properties"].update({
    "order": board["properties"]["order"], "operator": board["properties"]["operator"],
    "reset": board["properties"]["reset"], "reset_tz": board["properties"]["reset_tz"]})
get_board = paths["/boards/{board}"]["get"]
get_board["parameters"].append({"name": "period", "in": "query",
                                "description": "previous: the last finished period's final standings.",
                                "schema": {"type": "string", "enum": ["previous"]}})
json_200 = get_board["responses"]["200"]["content"]["application/json"]
json_200["schema"] = {"oneOf": [ref("Board"), ref("Period")]}
paths["/boards/{board}/players"]["post"]["requestBody"]["content"]["application/json"]["schema"]["properties"]["metadata"] = metadata
score_add = paths["/boards/{board}/players/{player}/score-add"]["post"]
score_add["requestBody"]["content"]["application/json"]["schema"]["properties"]["metadata"] = metadata
for op in (create, paths["/boards/{board}/players"]["post"], score_add):
    op.setdefault("parameters", []).append({"$ref": "#/components/parameters/IdempotencyKey"})
    for status, res in op["responses"].items():
        if status != "default":
            res.setdefault("headers", {}).update(replayed)

# New operations.
paths["/boards/{board}/players"]["get"] = {
    "summary": "Any page of a board's standings, ranked", "operationId": "listPlayers", "tags": ["players"],
    "parameters": [{"$ref": "#/components/parameters/Limit20"},
                   {"name": "offset", "in": "query", "schema": {"type": "integer", "minimum": 0, "maximum": 1000000000}}],
    "responses": {"200": {"description": "The page", "content": {"application/json": {"schema": ref("StandingsPage")}}},
                  "default": error},
}
paths["/boards/{board}/players/{player}/around"] = {
    "parameters": [{"$ref": "#/components/parameters/Board"}, {"$ref": "#/components/parameters/Player"}],
    "get": {"summary": "A player with up to n players above and n below, ranked", "operationId": "aroundPlayer",
            "tags": ["players"],
            "parameters": [{"name": "n", "in": "query", "schema": {"type": "integer", "minimum": 0, "maximum": 50}}],
            "responses": {"200": {"description": "The players around", "content": {"application/json": {"schema": ref("AroundPage")}}},
                          "default": error}},
}
paths["/boards/{board}/players/{player}/score"] = {
    "parameters": [{"$ref": "#/components/parameters/Board"}, {"$ref": "#/components/parameters/Player"}],
    "post": {"summary": "Write a score by the board's operator (incr adds, best keeps the better, set replaces)",
             "operationId": "writeScore", "tags": ["players"], "security": write_security,
             "parameters": [{"$ref": "#/components/parameters/IdempotencyKey"}],
             "requestBody": {"required": True, "content": {"application/json": {"schema": {
                 "type": "object", "additionalProperties": False, "required": ["score"],
                 "properties": {"score": {"type": "integer", "minimum": -9007199254740992, "maximum": 9007199254740992},
                                "metadata": metadata}}}}},
             "responses": {"200": {"description": "The player after the write, ranked", "headers": dict(replayed),
                                   "content": {"application/json": {"schema": ref("Player")}}},
                           "default": error}},
}
paths["/boards/{board}/scores"] = {
    "parameters": [{"$ref": "#/components/parameters/Board"}],
    "post": {"summary": "Up to 1,000 score writes, each atomic, in order", "operationId": "batchScores",
             "tags": ["players"], "security": write_security,
             "parameters": [{"$ref": "#/components/parameters/IdempotencyKey"}],
             "requestBody": {"required": True, "content": {"application/json": {"schema": {
                 "type": "array", "minItems": 1, "maxItems": 1000, "items": {
                     "type": "object", "additionalProperties": False, "required": ["player"],
                     "properties": {"player": {"type": "string"},
                                    "amount": {"type": "integer", "minimum": -1000000000, "maximum": 1000000000},
                                    "score": {"type": "integer", "minimum": -9007199254740992, "maximum": 9007199254740992},
                                    "metadata": metadata}}}}}},
             "responses": {"200": {"description": "Each item's result: the player, or its own error and status",
                                   "headers": dict(replayed),
                                   "content": {"application/json": {"schema": ref("BatchResults")}}},
                           "default": error}},
}
err = doc["components"]["responses"]["Error"]
err["description"] = err["description"].replace(
    "409 a name already taken,",
    "409 a name already taken or an Idempotency-Key still in flight (Retry-After), 422 an Idempotency-Key reused with another request,")

with open(PATH, "w") as f:
    json.dump(doc, f, indent=2)
    f.write("\n")
