"""The officers' review routes: pending unsure reads and their decisions."""

from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter as Router

router = Router()
