// Sleeps for ?ms= milliseconds (default 200), then burns ?cpu= milliseconds of CPU (default 20):
// a function whose invocation records and usage show a known billed duration and CPU time.
export default {
  async fetch(request) {
    const params = new URL(request.url).searchParams;
    await new Promise((resolve) => setTimeout(resolve, Number(params.get('ms') ?? 200)));
    const end = performance.now() + Number(params.get('cpu') ?? 20);
    let spins = 0;
    while (performance.now() < end) spins++;
    return Response.json({ slept: Number(params.get('ms') ?? 200), spins });
  },
};
