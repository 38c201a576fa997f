"""The officers' black-spot route: the current black spots with the figures that justify each one."""

from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter as Router

router = Router()
