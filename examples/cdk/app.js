// A CDK app for gatehouse's template engine: an HTTP API with a JWT authorizer and a
// WebSocket API, over Lambda functions kept in a stack of their own (so the API stack
// imports them: Fn::ImportValue across the assembly). `npx cdk synth` writes cdk.out/,
// which is committed; `gatehouse serve --template cdk.out` serves both APIs.
const cdk = require("aws-cdk-lib");
const lambda = require("aws-cdk-lib/aws-lambda");
const apigw = require("aws-cdk-lib/aws-apigatewayv2");
const { HttpLambdaIntegration, WebSocketLambdaIntegration } = require("aws-cdk-lib/aws-apigatewayv2-integrations");
const { HttpJwtAuthorizer } = require("aws-cdk-lib/aws-apigatewayv2-authorizers");

const app = new cdk.App();

const functions = new cdk.Stack(app, "GatehouseFunctions");
const code = lambda.Code.fromInline("exports.handler = async () => ({ statusCode: 200 });");
const fn = (id, props) => new lambda.Function(functions, id, {
  runtime: lambda.Runtime.NODEJS_20_X, handler: "index.handler", code, ...props,
});
const hello = fn("Hello", { functionName: "hello" });
const chat = fn("Chat"); // no functionName: its logical id names it, or --function

const apis = new cdk.Stack(app, "GatehouseApis");

// The JWT issuer is a parameter: `--parameter Issuer=…` points it at a local issuer.
const issuer = new cdk.CfnParameter(apis, "Issuer", { type: "String", default: "https://issuer.example.com" });

const http = new apigw.HttpApi(apis, "HttpApi", {
  apiName: "cdk-http",
  corsPreflight: { allowOrigins: ["https://example.com"], allowMethods: [apigw.CorsHttpMethod.GET] },
});
http.addRoutes({
  path: "/hello",
  methods: [apigw.HttpMethod.GET],
  integration: new HttpLambdaIntegration("HelloIntegration", hello),
});
http.addRoutes({
  path: "/private",
  methods: [apigw.HttpMethod.GET],
  integration: new HttpLambdaIntegration("PrivateIntegration", hello),
  authorizer: new HttpJwtAuthorizer("Jwt", issuer.valueAsString, { jwtAudience: ["gatehouse"] }),
});

const ws = new apigw.WebSocketApi(apis, "ChatApi", {
  apiName: "cdk-chat",
  connectRouteOptions: { integration: new WebSocketLambdaIntegration("Connect", chat) },
});
ws.addRoute("sendmessage", { integration: new WebSocketLambdaIntegration("Send", chat) });
new apigw.WebSocketStage(apis, "ChatStage", { webSocketApi: ws, stageName: "dev", autoDeploy: true });

new cdk.CfnOutput(apis, "HttpUrl", { value: http.apiEndpoint });
app.synth();
