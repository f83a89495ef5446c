"""Translates SAM templates to CloudFormation offline, as the AWS::Serverless transform does at deploy time.

Run by the SAM CLI's own interpreter (.venv-sam), whose samtranslator is the one `sam deploy` uses: its pydantic
pin differs from the layer's, so it cannot share the tests' environment. Reads a JSON list of
{"template": {...}, "parameters": {...}} on stdin and writes the list of translated templates on stdout.
"""

from __future__ import annotations

import json
import sys
from typing import Any

import boto3
from samtranslator.parser.parser import Parser
from samtranslator.translator.translator import Translator

# Tracing: Active attaches this managed policy by name; the translator would otherwise ask IAM for its ARN.
MANAGED_POLICIES = {"AWSXrayWriteOnlyAccess": "arn:aws:iam::aws:policy/AWSXrayWriteOnlyAccess"}


def translate(template: dict[str, Any], parameters: dict[str, Any]) -> dict[str, Any]:
    session = boto3.session.Session(region_name="us-east-1")
    translator = Translator(managed_policy_map=MANAGED_POLICIES, sam_parser=Parser(), boto_session=session)
    return translator.translate(sam_template=template, parameter_values=dict(parameters))


def main() -> None:
    cases = json.load(sys.stdin)
    json.dump([translate(case["template"], case["parameters"]) for case in cases], sys.stdout)


if __name__ == "__main__":
    main()
