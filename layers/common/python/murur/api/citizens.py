"""Placeholder; routes follow."""

from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter as Router

router = Router()
