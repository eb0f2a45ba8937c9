// Drives the official Microsoft Graph JavaScript client (@microsoft/microsoft-graph-client)
// through graphgate, as real apps and Microsoft Graph Toolkit use it: only the base URL and
// the token differ from talking to Graph itself. proxy/jsclient_test.go runs it.
//
// Environment:
//   GRAPHGATE_URL             the gateway, https://host:port (the client sends tokens over https only)
//   GRAPHGATE_TOKEN           an access token for graphgate's app (scope access_as_user)
//   GRAPHGATE_COLLEAGUE_UPN   userPrincipalName of a colleague
//   GRAPHGATE_PHOTO_USER_ID   object id of a colleague who has a photo
//   GRAPHGATE_UNKNOWN_UPN     a userPrincipalName that does not exist in the tenant
//   GRAPHGATE_PROXY_URL       optional: the gateway's URL for the ProxyProvider-style client
//                             (default GRAPHGATE_URL; it may be plain http)
//
// Prints one JSON line of results on stdout; exits non-zero on any failure.
import { createHash, randomUUID } from "node:crypto";
import {
  BatchRequestContent,
  BatchResponseContent,
  Client,
  GraphError,
  HTTPMessageHandler,
  PageIterator,
  ResponseType,
  RetryHandler,
  RetryHandlerOptions,
  TelemetryHandler,
} from "@microsoft/microsoft-graph-client";
// The helper Microsoft Graph Toolkit's middleware uses (CommonJS build of the same module).
import { setRequestHeader } from "@microsoft/microsoft-graph-client/lib/src/middleware/MiddlewareUtil.js";

function env(name) {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set`);
  return v;
}

function check(cond, what) {
  if (!cond) throw new Error(`check failed: ${what}`);
}

const sha256 = (buf) => createHash("sha256").update(Buffer.from(buf)).digest("hex");
const magic = (buf) => Buffer.from(buf).subarray(0, 4).toString("hex");

const gateway = env("GRAPHGATE_URL").replace(/\/+$/, "");
const token = env("GRAPHGATE_TOKEN");
const colleagueUPN = env("GRAPHGATE_COLLEAGUE_UPN");
const photoUserID = env("GRAPHGATE_PHOTO_USER_ID");
const unknownUPN = env("GRAPHGATE_UNKNOWN_UPN");

// The client attaches the token only to https URLs of Graph's hosts or of customHosts.
const client = Client.init({
  authProvider: (done) => done(null, token),
  baseUrl: gateway + "/",
  defaultVersion: "v1.0",
  customHosts: new Set([new URL(gateway).hostname]),
});

const out = {};

// Oneself, with a $select that asks for more than the app may see.
out.me = await client.api("/me").select(["displayName", "mail", "jobTitle", "mobilePhone", "officeLocation"]).get();
check(typeof out.me.id === "string", "/me has an id");

// A colleague by UPN, with our own client-request-id, read back from the raw response.
const crid = randomUUID();
const raw = await client
  .api(`/users/${encodeURIComponent(colleagueUPN)}`)
  .select("displayName,jobTitle,mail,mobilePhone,department")
  .header("client-request-id", crid)
  .responseType(ResponseType.RAW)
  .get();
check(raw.status === 200, `user by UPN: status ${raw.status}`);
out.user = await raw.json();
out.userHeaders = {
  clientRequestIdEchoed: raw.headers.get("client-request-id") === crid,
  requestId: raw.headers.get("request-id") !== null,
  withheld: raw.headers.get("Graphgate-Withheld-Fields"),
};

// Search with ConsistencyLevel and $count, paged with PageIterator until the last page.
// Like Graph, the gateway needs the header on every page: it is passed as the iterator's
// request options. ($top is small because the fixture directory is.)
const consistency = { ConsistencyLevel: "eventual" };
const first = await client
  .api("/users")
  .header("ConsistencyLevel", "eventual")
  .search('"displayName:a"')
  .select(["displayName", "jobTitle", "mobilePhone"])
  .count(true)
  .top(2)
  .get();
check(first["@odata.nextLink"], `the first search page (${first.value?.length} users) has an @odata.nextLink`);
const nextLink = first["@odata.nextLink"];
const found = [];
const iterator = new PageIterator(client, first, (u) => {
  found.push(u);
  return found.length < 100;
}, { headers: consistency });
await iterator.iterate();
check(iterator.isComplete(), "PageIterator reached the last page");
out.search = {
  firstPageSize: first.value.length,
  count: first["@odata.count"],
  nextLinkOrigin: new URL(nextLink).origin,
  users: found,
};

// The toolkit's people search (mgt-components findUsers): no $select, so Graph's default
// property set is asked for, and the gateway withholds what the app may not see.
const picker = await client
  .api("users")
  .header("ConsistencyLevel", "eventual")
  .count(true)
  .search('"displayName:a" OR "mail:a"')
  .top(10)
  .get();
out.toolkitSearch = { count: picker["@odata.count"], users: picker.value };

// A photo as binary: the client returns a Blob for image/* by default.
const blob = await client.api(`/users/${photoUserID}/photos/48x48/$value`).get();
check(blob instanceof Blob, "photo is a Blob");
const photoBytes = await blob.arrayBuffer();
out.photo = { type: blob.type, bytes: photoBytes.byteLength, sha256: sha256(photoBytes), magic: magic(photoBytes) };

// Microsoft Graph Toolkit's batch (mgt-element Batch/BatchRequest, as getUserWithPhoto uses
// it): ids are indexes, urls are https://graph.microsoft.com + "/" + resource (a URL
// container only: nothing is sent there), posted with client.api('$batch'); images come
// back base64-encoded and become data: URLs.
const toolkitResources = [
  ["user", `/users/${photoUserID}?$select=displayName,jobTitle,mobilePhone`],
  ["photo", `/users/${photoUserID}/photo/$value`],
];
const toolkitContent = new BatchRequestContent();
toolkitResources.forEach(([, resource], index) => {
  toolkitContent.addRequest({
    id: index.toString(),
    request: new Request("https://graph.microsoft.com" + resource, { method: "GET", headers: undefined }),
  });
});
const toolkitResponse = await client.api("$batch").post(await toolkitContent.getContent());
const toolkit = {};
for (const r of toolkitResponse.responses) {
  const name = toolkitResources[parseInt(r.id, 10)][0];
  check(r.status === 200, `toolkit batch item ${name}: status ${r.status}`);
  if (typeof r.body === "string") {
    const ct = r.headers["Content-Type"];
    check(/^image\/(jpeg|pjpeg|png)/.test(ct), `toolkit batch image content type ${ct}`);
    const dataURL = `data:${ct.split(";")[0]};base64,` + r.body;
    toolkit[name] = { contentType: ct, etag: r.headers["ETag"] || null, sha256: sha256(Buffer.from(r.body, "base64")), dataURLPrefix: dataURL.slice(0, 22) };
  } else {
    toolkit[name] = r.body;
  }
}
// The toolkit revalidates a cached photo by comparing the batch item's ETag with the
// photo metadata's @odata.mediaEtag (mgt-components getUserWithPhoto).
const meta = await client.api(`users/${photoUserID}/photo`).get();
toolkit.photoMetaMatchesETag = meta["@odata.mediaEtag"] === toolkit.photo?.etag;
out.toolkitBatch = toolkit;

// BatchRequestContent/BatchResponseContent with dependsOn ("same dependency" layout: every
// later step depends on the first), as the client library's docs show.
const steps = [
  { id: "me", url: "/me?$select=displayName,mobilePhone" },
  { id: "photo", url: `/users/${photoUserID}/photos/48x48/$value`, dependsOn: ["me"] },
  { id: "presence", url: `/users/${photoUserID}/presence`, dependsOn: ["me"] },
  { id: "colleague", url: `/users/${encodeURIComponent(colleagueUPN)}?$select=displayName,department`, dependsOn: ["me"] },
];
const depContent = new BatchRequestContent(
  steps.map((s) => ({ id: s.id, request: new Request("https://graph.microsoft.com" + s.url, { method: "GET" }), dependsOn: s.dependsOn })),
);
// A POST step with a JSON body (the client requires its Content-Type).
depContent.addRequest({
  id: "presences",
  request: new Request("https://graph.microsoft.com/communications/getPresencesByUserId", {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ ids: [photoUserID] }),
  }),
  dependsOn: ["me"],
});
const depBody = await depContent.getContent();
check(depBody.requests.find((r) => r.id === "photo").dependsOn[0] === "me", "dependsOn serialised");
const dep = new BatchResponseContent(await client.api("/$batch").post(depBody));
const depOut = {};
for (const [id, res] of dep.getResponses()) {
  check(res.status === 200, `batch item ${id}: status ${res.status}`);
  const ct = res.headers.get("Content-Type") || "";
  if (ct.startsWith("image/")) {
    const b64 = await res.text();
    depOut[id] = { contentType: ct, sha256: sha256(Buffer.from(b64, "base64")) };
  } else {
    depOut[id] = await res.json();
  }
}
out.dependsBatch = depOut;

// A failed step fails the steps that depend on it (424), as in Graph ("serial" layout).
const failContent = new BatchRequestContent([
  { id: "missing", request: new Request(`https://graph.microsoft.com/users/${encodeURIComponent(unknownUPN)}`, { method: "GET" }) },
  { id: "after", request: new Request("https://graph.microsoft.com/me", { method: "GET" }), dependsOn: ["missing"] },
]);
const fail = new BatchResponseContent(await client.api("/$batch").post(await failContent.getContent()));
const missing = fail.getResponseById("missing");
out.failedBatch = {
  missing: missing.status,
  missingCode: (await missing.json()).error?.code,
  after: fail.getResponseById("after").status,
};

// Presence from the beta endpoint, as Microsoft Graph Toolkit reads it.
out.presence = await client.api(`/users/${photoUserID}/presence`).version("beta").get();
out.presences = await client
  .api("/communications/getPresencesByUserId")
  .version("beta")
  .post({ ids: [photoUserID, out.me.id] });

// An unknown user surfaces as a GraphError with Graph's status, code and request id.
try {
  await client.api(`/users/${encodeURIComponent(unknownUPN)}`).get();
  throw new Error("check failed: unknown user did not fail");
} catch (e) {
  check(e instanceof GraphError, `unknown user: a GraphError, not ${e?.constructor?.name}: ${e?.message}`);
  out.error = {
    statusCode: e.statusCode,
    code: e.code,
    requestId: typeof e.requestId === "string" && e.requestId.length > 0,
    date: e.date instanceof Date && !Number.isNaN(e.date.getTime()),
    messageMentionsUPN: String(e.message).toLowerCase().includes(unknownUPN.toLowerCase()),
  };
}

// Microsoft Graph Toolkit's ProxyProvider (mgt-proxy-provider ProxyGraph): no
// authentication handler; the app's getCustomHeaders supplies Authorization through a
// custom middleware, so the gateway may also be reached over plain http. The chain is the
// toolkit's: retry, telemetry, SdkVersion, custom headers, fetch.
const proxyURL = (process.env.GRAPHGATE_PROXY_URL || gateway).replace(/\/+$/, "");
const headerMiddleware = (getHeaders) => ({
  async execute(context) {
    for (const [k, v] of Object.entries(await getHeaders())) setRequestHeader(context.request, context.options, k, v);
    return this.next.execute(context);
  },
  setNext(next) { this.next = next; },
});
const chain = [
  new RetryHandler(new RetryHandlerOptions()),
  new TelemetryHandler(),
  headerMiddleware(async () => ({ SdkVersion: "mgt/4.6.0, mgt-proxy-provider/4.6.0" })),
  headerMiddleware(async () => ({ Authorization: `Bearer ${token}` })),
  new HTTPMessageHandler(),
];
chain.reduce((a, b) => { a.setNext(b); return b; });
const proxy = Client.initWithMiddleware({
  baseUrl: proxyURL,
  middleware: chain[0],
  customHosts: new Set([new URL(proxyURL).hostname]),
});
const proxyBatch = new BatchRequestContent();
toolkitResources.forEach(([, resource], index) => {
  proxyBatch.addRequest({ id: index.toString(), request: new Request("https://graph.microsoft.com" + resource, { method: "GET" }) });
});
const proxyBatchResponse = await proxy.api("$batch").post(await proxyBatch.getContent());
out.proxyProvider = {
  origin: new URL(proxyURL).origin,
  me: await proxy.api("me").get(),
  batchStatuses: proxyBatchResponse.responses.map((r) => r.status),
  presence: await proxy.api(`/users/${photoUserID}/presence`).version("beta").get(),
};

// Client.init over plain http: the client withholds the token, the gateway answers 401.
if (proxyURL.startsWith("http:")) {
  const plain = Client.init({ authProvider: (done) => done(null, token), baseUrl: proxyURL + "/", customHosts: new Set([new URL(proxyURL).hostname]) });
  try {
    await plain.api("/me").get();
    out.plainHTTP = { statusCode: 200 };
  } catch (e) {
    out.plainHTTP = { statusCode: e.statusCode, code: e.code };
  }
}

process.stdout.write(JSON.stringify(out) + "\n");
