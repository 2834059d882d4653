// The least any Worker can cost on this machine: it passes the floor's request
// to the SQL endpoint and the answer back, untouched. `npm run bench` serves it
// beside the API in the same workerd, so API / relay is what the API's own code
// (token, validation, query building, the driver, JSON) adds to the runtime's
// two HTTP hops, which no Worker can avoid.
export default {
  async fetch(request, env) {
    const answer = await fetch(env.SQL_HTTP_ENDPOINT, {
      method: "POST",
      headers: request.headers,
      body: request.body,
    });
    return new Response(answer.body, answer);
  },
};
