"""Validates JSON files as input of an ECS API operation with botocore's ParamValidator (the
check the AWS CLI runs before `--cli-input-json` is sent).

usage: python validate_ecs_input.py OPERATION FILE...
prints one line per invalid file: `FILE: reason`; exit 1 if any.
"""
import json
import sys

import botocore.session
from botocore.validate import ParamValidator

operation, files = sys.argv[1], sys.argv[2:]
model = botocore.session.get_session().get_service_model("ecs")
shape = model.operation_model(operation).input_shape
bad = 0
for name in files:
    with open(name, encoding="utf-8") as f:
        params = json.load(f)
    report = ParamValidator().validate(params, shape)
    if report.has_errors():
        bad += 1
        print(f"{name}: {report.generate_report()}".replace("\n", " "))
sys.exit(1 if bad else 0)
