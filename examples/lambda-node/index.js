// A Lambda-style handler: the event is an API Gateway HTTP API (payload format 2.0) event and the
// answer uses the same response format, so a function written for AWS Lambda runs unmodified.

export const handler = async (event, context) => {
  // API Gateway marks binary bodies with isBase64Encoded; decode them before looking at the bytes.
  const raw = event.body ?? '';
  const body = event.isBase64Encoded ? Buffer.from(raw, 'base64') : Buffer.from(raw, 'utf8');
  const name = event.queryStringParameters?.name ?? 'world';
  return {
    statusCode: 200,
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      message: `hello, ${name}`,
      method: event.requestContext?.http?.method,
      path: event.rawPath,
      query: event.queryStringParameters ?? {},
      bodyLength: body.length,
      requestId: context.awsRequestId,
    }),
  };
};
