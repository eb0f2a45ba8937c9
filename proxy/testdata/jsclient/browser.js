// Runs the official Microsoft Graph JavaScript client (@microsoft/microsoft-graph-client,
// its browser bundle, global MicrosoftGraph), unmodified, in a page on another origin than
// the gateway's: Client.init with its default middleware (authentication, RetryHandler,
// TelemetryHandler). proxy/cors_browser_test.go serves this page and /config.json:
//   gateway          the gateway, https://host:port (the client sends tokens over https only)
//   throttledToken   a token of a caller whose first attempt at GET /v1.0/me the test
//                    makes the gateway's rate limit answer with 429
//   token            a token of another caller
// Sets window.graphgateResult to the results, or to {error} on any failure.
(async () => {
  const cfg = await (await fetch("/config.json")).json();
  const G = window.MicrosoftGraph;
  const init = (token) =>
    G.Client.init({
      authProvider: (done) => done(null, token),
      baseUrl: cfg.gateway + "/",
      defaultVersion: "v1.0",
      customHosts: new Set([new URL(cfg.gateway).hostname]),
    });
  const out = {};

  // 1. The gateway answers 429 with Retry-After; RetryHandler waits and retries with
  // Retry-Attempt: 1, a header the browser must get through a new preflight first.
  const throttled = init(cfg.throttledToken);
  out.retried = await throttled.api("/me").select("displayName").get();

  // 2. The same without retries: the 429 surfaces as a GraphError whose headers (the raw
  // response's) show Retry-After only if the gateway exposes it to the page.
  try {
    await throttled.api("/me").middlewareOptions([new G.RetryHandlerOptions(0, 0)]).get();
    out.noRetry = { statusCode: 200 };
  } catch (e) {
    out.noRetry = {
      statusCode: e.statusCode,
      code: e.code,
      retryAfter: e.headers ? e.headers.get("Retry-After") : null,
      requestId: e.headers ? e.headers.get("request-id") : null,
    };
  }

  // 3. Microsoft Graph Toolkit's people search headers (mgt-components graph.user.ts and
  // graph.people.ts): ConsistencyLevel and X-PeopleQuery-QuerySources, with our own
  // client-request-id; the headers clients read are read back from the raw response.
  const client = init(cfg.token);
  const crid = crypto.randomUUID();
  const raw = await client
    .api("/users")
    .header("ConsistencyLevel", "eventual")
    .header("X-PeopleQuery-QuerySources", "Mailbox,Directory")
    .header("client-request-id", crid)
    .search('"displayName:a"')
    .count(true)
    .select("displayName,mobilePhone")
    .top(5)
    .responseType(G.ResponseType.RAW)
    .get();
  const body = await raw.json();
  out.search = {
    status: raw.status,
    users: (body.value || []).length,
    count: body["@odata.count"],
    requestId: raw.headers.get("request-id") !== null,
    clientRequestIdEchoed: raw.headers.get("client-request-id") === crid,
    withheld: raw.headers.get("Graphgate-Withheld-Fields"),
  };
  return out;
})().then(
  (out) => {
    window.graphgateResult = out;
    document.getElementById("out").textContent = JSON.stringify(out, null, 2);
  },
  (e) => {
    window.graphgateResult = { error: String((e && (e.stack || e.message)) || e), statusCode: e && e.statusCode, code: e && e.code };
    document.getElementById("out").textContent = "failed: " + window.graphgateResult.error;
  },
);
