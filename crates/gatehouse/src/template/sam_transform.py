# gatehouse's glue around the SAM transform (aws-sam-translator, Apache-2.0), run offline.
# stdin: {"template": ..., "parameters": {...}}; stdout: the template as CloudFormation.
# Local CodeUri values are written as placeholder S3 locations (the code is not deployed:
# the function runs wherever --lambda-endpoint points); a local DefinitionUri is read into
# DefinitionBody, as `sam local` does.
import json
import os
import sys

try:
    from samtranslator.translator.transform import transform
    from samtranslator.translator.managed_policy_translator import ManagedPolicyLoader
    from samtranslator.model.exceptions import InvalidDocumentException
except ImportError:
    sys.exit("the template uses the SAM transform (AWS::Serverless-2016-10-31), which gatehouse "
             "runs with aws-sam-translator: pip install aws-sam-translator (or name a Python "
             "that has it with --sam-python)")

FUNCTIONS = ("AWS::Serverless::Function", "AWS::Serverless::LayerVersion")
APIS = ("AWS::Serverless::Api", "AWS::Serverless::HttpApi")


class NoIam:
    """Managed policies resolve from the translator's bundled map; IAM is never asked."""

    def get_paginator(self, _):
        raise RuntimeError("IAM is not available offline")


def local(uri):
    return isinstance(uri, str) and not uri.startswith("s3://")


def read_definition(path):
    with open(path) as f:
        text = f.read()
    try:
        return json.loads(text)
    except ValueError:
        import yaml
        return yaml.safe_load(text)


def prepare(template):
    globals_ = template.get("Globals", {}).get("Function", {})
    if local(globals_.get("CodeUri")):
        globals_["CodeUri"] = "s3://gatehouse-local/code.zip"
    for logical, res in template.get("Resources", {}).items():
        props = res.setdefault("Properties", {})
        if res.get("Type") in FUNCTIONS:
            for key in ("CodeUri", "ContentUri"):
                if local(props.get(key)) or (key == "CodeUri" and key not in props
                                              and "InlineCode" not in props
                                              and "CodeUri" not in globals_
                                              and props.get("PackageType") != "Image"):
                    props[key] = f"s3://gatehouse-local/{logical}.zip"
        if res.get("Type") in APIS and local(props.get("DefinitionUri")):
            props["DefinitionBody"] = read_definition(props.pop("DefinitionUri"))


def main():
    given = json.load(sys.stdin)
    template = given["template"]
    prepare(template)
    try:
        out = transform(template, given.get("parameters") or {}, ManagedPolicyLoader(NoIam()))
    except InvalidDocumentException as e:
        sys.exit("; ".join(str(c) for c in e.causes) or str(e))
    json.dump(out, sys.stdout)


main()
