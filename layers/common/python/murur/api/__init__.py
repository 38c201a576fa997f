"""The HTTP API behind API Gateway: citizens (through Khidmati) and officers, served by ObjectionFunction.

`app.build_app()` assembles one Powertools resolver from the routers of this package; `identity`
reads who is calling from the claims the gateway's JWT authorizer verified; `errors` shapes every
error answer.
"""
