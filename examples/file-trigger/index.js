// A file-trigger function: Nimbus calls it once per file created, modified or deleted in the
// watched directory, with a CloudEvent in binary mode. The attributes are ce-* headers; the body
// is JSON metadata ({kind, path, name, size, mtime}), not the file's content.

export default {
  async fetch(request) {
    const type = request.headers.get('ce-type'); // dev.nimbus.file.created | modified | deleted
    const file = await request.json();
    // Goes to the function's logs: see `nimbus logs on-file`.
    console.log(`${type}: ${request.headers.get('ce-subject')} (${file.size} bytes, mtime ${file.mtime}, event ${request.headers.get('ce-id')})`);
    if (file.kind !== 'deleted' && file.name.endsWith('.csv')) {
      // Read the file here if it is shared with the function; the event only names it.
    }
    // A 2xx ends the invocation; a 5xx or a thrown error is retried by the function's async policy.
    return new Response(null, { status: 204 });
  },
};
