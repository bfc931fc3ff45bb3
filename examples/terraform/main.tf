# An HTTP API managed by Terraform against gatehouse: the AWS provider with the
# API Gateway V2 endpoint pointed at gatehouse (or AWS_ENDPOINT_URL_APIGATEWAYV2 set).
# docs/templates.md explains each setting.

terraform {
  required_providers {
    aws = { source = "hashicorp/aws", version = ">= 5.0" }
  }
}

variable "endpoint" {
  type    = string
  default = "http://127.0.0.1:4599"
}
variable "backend" {
  type    = string
  default = "http://127.0.0.1:8000"
}

provider "aws" {
  region                      = "us-east-1"
  access_key                  = "test"
  secret_key                  = "test"
  skip_credentials_validation = true
  skip_requesting_account_id  = true
  skip_metadata_api_check     = true
  endpoints {
    apigatewayv2 = var.endpoint
  }
}

resource "aws_apigatewayv2_api" "files" {
  name          = "files"
  protocol_type = "HTTP"
}

resource "aws_apigatewayv2_integration" "backend" {
  api_id             = aws_apigatewayv2_api.files.id
  integration_type   = "HTTP_PROXY"
  integration_method = "ANY"
  integration_uri    = "${var.backend}/{proxy}"
}

resource "aws_apigatewayv2_route" "files" {
  api_id    = aws_apigatewayv2_api.files.id
  route_key = "GET /files/{proxy+}"
  target    = "integrations/${aws_apigatewayv2_integration.backend.id}"
}

resource "aws_apigatewayv2_stage" "live" {
  api_id      = aws_apigatewayv2_api.files.id
  name        = "$default"
  auto_deploy = true
}

output "api_id" { value = aws_apigatewayv2_api.files.id }
# api_endpoint comes from gatehouse (its --api-endpoint-template); the provider's
# invoke_url is built by the provider itself and always names amazonaws.com.
output "api_endpoint" { value = aws_apigatewayv2_api.files.api_endpoint }
