# Every aws_apigatewayv2_* resource type against gatehouse: an HTTP API and a WebSocket API,
# with a custom domain and a VPC link. tests/compat/test_terraform.py applies it, checks that
# a plan is empty, applies an update (var.generation = 2), calls the HTTP API and destroys it.

terraform {
  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = "5.100.0"
    }
  }
}

variable "endpoint" { type = string }
variable "backend" { type = string }
variable "generation" {
  type    = number
  default = 1
}

provider "aws" {
  region                      = "us-east-1"
  access_key                  = "AKIDTERRAFORM"
  secret_key                  = "terraform-secret"
  skip_credentials_validation = true
  skip_requesting_account_id  = true
  skip_metadata_api_check     = true
  endpoints {
    apigatewayv2 = var.endpoint
  }
}

resource "aws_apigatewayv2_api" "http" {
  name          = "tf-http"
  protocol_type = "HTTP"
  description   = "generation ${var.generation}"
  cors_configuration {
    allow_origins = ["https://example.com"]
    allow_methods = var.generation == 1 ? ["GET"] : ["GET", "POST"]
  }
  tags = { generation = tostring(var.generation) }
}

resource "aws_apigatewayv2_integration" "backend" {
  api_id             = aws_apigatewayv2_api.http.id
  integration_type   = "HTTP_PROXY"
  integration_method = "ANY"
  integration_uri    = "${var.backend}/{proxy}"
}

resource "aws_apigatewayv2_authorizer" "jwt" {
  api_id           = aws_apigatewayv2_api.http.id
  authorizer_type  = "JWT"
  identity_sources = ["$request.header.Authorization"]
  name             = "jwt"
  jwt_configuration {
    audience = ["gatehouse"]
    issuer   = "https://issuer.example.com"
  }
}

resource "aws_apigatewayv2_route" "open" {
  api_id    = aws_apigatewayv2_api.http.id
  route_key = var.generation == 1 ? "GET /open/{proxy+}" : "ANY /open/{proxy+}"
  target    = "integrations/${aws_apigatewayv2_integration.backend.id}"
}

resource "aws_apigatewayv2_route" "guarded" {
  api_id             = aws_apigatewayv2_api.http.id
  route_key          = "GET /guarded"
  target             = "integrations/${aws_apigatewayv2_integration.backend.id}"
  authorization_type = "JWT"
  authorizer_id      = aws_apigatewayv2_authorizer.jwt.id
}

resource "aws_apigatewayv2_stage" "live" {
  api_id          = aws_apigatewayv2_api.http.id
  name            = "$default"
  auto_deploy     = true
  stage_variables = { generation = tostring(var.generation) }
  default_route_settings {
    throttling_burst_limit = 100
    throttling_rate_limit  = 50
  }
}

resource "aws_apigatewayv2_deployment" "pinned" {
  api_id      = aws_apigatewayv2_api.http.id
  description = "pinned"
  triggers = {
    redeployment = sha1(join(",", [aws_apigatewayv2_route.open.route_key, aws_apigatewayv2_route.guarded.id]))
  }
  lifecycle {
    create_before_destroy = true
  }
}

resource "aws_apigatewayv2_stage" "pinned" {
  api_id        = aws_apigatewayv2_api.http.id
  name          = "pinned"
  deployment_id = aws_apigatewayv2_deployment.pinned.id
}

resource "aws_apigatewayv2_api" "ws" {
  name                       = "tf-ws"
  protocol_type              = "WEBSOCKET"
  route_selection_expression = "$request.body.action"
}

resource "aws_apigatewayv2_integration" "ws" {
  api_id             = aws_apigatewayv2_api.ws.id
  integration_type   = "HTTP_PROXY"
  integration_method = "POST"
  integration_uri    = "${var.backend}/ws"
}

resource "aws_apigatewayv2_integration_response" "ws" {
  api_id                   = aws_apigatewayv2_api.ws.id
  integration_id           = aws_apigatewayv2_integration.ws.id
  integration_response_key = "/200/"
}

resource "aws_apigatewayv2_model" "message" {
  api_id       = aws_apigatewayv2_api.ws.id
  content_type = "application/json"
  name         = "Message"
  schema = jsonencode({
    "$schema"  = "http://json-schema.org/draft-04/schema#"
    type       = "object"
    properties = { action = { type = "string" } }
  })
}

resource "aws_apigatewayv2_route" "connect" {
  api_id    = aws_apigatewayv2_api.ws.id
  route_key = "$connect"
  target    = "integrations/${aws_apigatewayv2_integration.ws.id}"
}

resource "aws_apigatewayv2_route_response" "connect" {
  api_id             = aws_apigatewayv2_api.ws.id
  route_id           = aws_apigatewayv2_route.connect.id
  route_response_key = "$default"
}

resource "aws_apigatewayv2_stage" "ws" {
  api_id      = aws_apigatewayv2_api.ws.id
  name        = "dev"
  auto_deploy = true
}

resource "aws_apigatewayv2_domain_name" "api" {
  domain_name = "api.terraform.example.com"
  domain_name_configuration {
    certificate_arn = "arn:aws:acm:us-east-1:123456789012:certificate/11111111-2222-3333-4444-555555555555"
    endpoint_type   = "REGIONAL"
    security_policy = "TLS_1_2"
  }
}

resource "aws_apigatewayv2_api_mapping" "api" {
  api_id          = aws_apigatewayv2_api.http.id
  domain_name     = aws_apigatewayv2_domain_name.api.id
  stage           = aws_apigatewayv2_stage.live.id
  api_mapping_key = "v1"
}

resource "aws_apigatewayv2_vpc_link" "private" {
  name               = "tf-link"
  security_group_ids = ["sg-0123456789abcdef0"]
  subnet_ids         = ["subnet-0123456789abcdef0", "subnet-0123456789abcdef1"]
}

output "http_api_id" { value = aws_apigatewayv2_api.http.id }
output "http_api_endpoint" { value = aws_apigatewayv2_api.http.api_endpoint }
output "ws_api_endpoint" { value = aws_apigatewayv2_api.ws.api_endpoint }
