exports.hello = async () => ({ statusCode: 200, body: "hello" });
exports.chat = async () => ({ statusCode: 200 });
