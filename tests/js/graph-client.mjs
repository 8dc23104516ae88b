// Drives the Microsoft Graph JavaScript client (3.x) against an alertgraph server over HTTPS,
// the way an application would, and prints a JSON summary on stdout for the test to check.
//
// Environment:
//   ALERTGRAPH_BASE_URL   service root as `alertgraph serve` prints it, e.g. https://127.0.0.1:8443/beta
//   ALERTGRAPH_TOKEN      a bearer token the server accepts (`alertgraph token`)
//   NODE_EXTRA_CA_CERTS   the CA file `alertgraph serve --tls` prints, so Node trusts the server
//   ALERTGRAPH_PAGE_FILTER  optional $filter for the paged walk over /security/alerts_v2
import { Client, GraphError, PageIterator } from "@microsoft/microsoft-graph-client";

const serviceRoot = new URL(required("ALERTGRAPH_BASE_URL"));
const token = required("ALERTGRAPH_TOKEN");
const pageFilter = process.env.ALERTGRAPH_PAGE_FILTER;

// The client wants the host and the version apart: baseUrl is everything before the version
// segment, which it appends itself (and reads back from every nextLink).
const segments = serviceRoot.pathname.replace(/\/+$/, "").split("/");
const version = segments.pop();
const baseUrl = serviceRoot.origin + segments.join("/");

// Observe, without changing, what the client puts on the wire: URL, method, whether it attached
// the bearer token, the status and any nextLink it received. The client calls the global fetch.
const exchanges = [];
const realFetch = globalThis.fetch;
globalThis.fetch = async (input, init = {}) => {
  const url = typeof input === "string" ? input : input.url;
  const headers = new Headers(init.headers ?? (typeof input === "string" ? {} : input.headers));
  const response = await realFetch(input, init);
  const exchange = {
    method: (init.method ?? "GET").toUpperCase(),
    url,
    bearer: headers.get("authorization") === `Bearer ${token}`,
    status: response.status,
    contentType: response.headers.get("content-type"),
    clientRequestId: headers.get("client-request-id"),
    echoedClientRequestId: response.headers.get("client-request-id"),
  };
  if (response.ok && exchange.contentType?.startsWith("application/json")) {
    const body = await response.clone().json();
    if (body["@odata.nextLink"] !== undefined) exchange.nextLink = body["@odata.nextLink"];
  }
  exchanges.push(exchange);
  return response;
};

const client = Client.init({
  authProvider: (done) => done(null, token),
  baseUrl,
  defaultVersion: version,
  // Without this the client sends the token only to graph.microsoft.com and its national clouds.
  customHosts: new Set([serviceRoot.hostname]),
});

async function collect(firstPage) {
  const items = [];
  const iterator = new PageIterator(client, firstPage, (item) => {
    items.push(item);
    return true;
  });
  await iterator.iterate();
  return { items, complete: iterator.isComplete() };
}

async function main() {
  const summary = { baseUrl, version };

  const top = await client
    .api("/security/alerts_v2")
    .filter("severity eq 'high'")
    .top(5)
    .get();
  summary.filteredTop = {
    ids: top.value.map((alert) => alert.id),
    severities: [...new Set(top.value.map((alert) => alert.severity))],
    odataTypes: [...new Set(top.value.map((alert) => alert["@odata.type"]))],
    nextLink: top["@odata.nextLink"] ?? null,
  };

  let request = client.api("/security/alerts_v2").select(["id", "status", "createdDateTime"]);
  if (pageFilter) request = request.filter(pageFilter);
  const firstPage = await request.get();
  const walk = await collect(firstPage);
  summary.pagedAlerts = {
    ids: walk.items.map((alert) => alert.id),
    complete: walk.complete,
  };

  const one = await client.api(`/security/alerts_v2/${encodeURIComponent(summary.pagedAlerts.ids[0])}`).get();
  const patch = { status: "inProgress", assignedTo: "js-client@contoso.com" };
  const patched = await client.api(`/security/alerts_v2/${encodeURIComponent(one.id)}`).patch(patch);
  const reread = await client.api(`/security/alerts_v2/${encodeURIComponent(one.id)}`).get();
  summary.alert = {
    id: one.id,
    before: { status: one.status, assignedTo: one.assignedTo ?? null },
    patchResponse: { id: patched.id, status: patched.status, assignedTo: patched.assignedTo },
    after: {
      status: reread.status,
      assignedTo: reread.assignedTo,
      lastUpdateDateTime: reread.lastUpdateDateTime,
    },
    beforeLastUpdateDateTime: one.lastUpdateDateTime,
  };

  const pim = await client
    .api("/identityGovernance/roleManagementAlerts/alerts")
    .filter("scopeId eq '/' and scopeType eq 'DirectoryRole'")
    .get();
  const busiest = pim.value.reduce((a, b) => (b.incidentCount > a.incidentCount ? b : a));
  // PIM incidents page with $top as the page size and a $skip nextLink: the other paging style.
  const incidentsPath =
    `/identityGovernance/roleManagementAlerts/alerts/${encodeURIComponent(busiest.id)}/alertIncidents`;
  const incidents = await collect(await client.api(incidentsPath).top(2).get());
  summary.pim = {
    ids: pim.value.map((alert) => alert.id),
    scopes: [...new Set(pim.value.map((alert) => `${alert.scopeType}:${alert.scopeId}`))],
    busiest: { id: busiest.id, incidentCount: busiest.incidentCount },
    incidentIds: incidents.items.map((incident) => incident.id),
    incidentsComplete: incidents.complete,
  };

  // An error arrives as the client's GraphError, built from Graph's error envelope.
  try {
    await client.api("/security/alerts_v2").filter("severty eq 'high'").get();
    summary.error = null;
  } catch (error) {
    summary.error = {
      graphError: error instanceof GraphError,
      statusCode: error.statusCode,
      code: error.code,
      message: error.message,
      requestId: error.requestId,
      dateParsed: !Number.isNaN(error.date?.getTime()),
    };
  }

  summary.exchanges = exchanges;
  process.stdout.write(JSON.stringify(summary, null, 2) + "\n");
}

function required(name) {
  const value = process.env[name];
  if (!value) {
    process.stderr.write(`graph-client.mjs: set ${name}\n`);
    process.exit(2);
  }
  return value;
}

main().catch((error) => {
  // GraphError carries statusCode/code/body; show all of it, then fail.
  process.stderr.write(`graph-client.mjs failed: ${error?.stack ?? error}\n`);
  process.stderr.write(JSON.stringify(error, null, 2) + "\n");
  process.stderr.write(JSON.stringify(exchanges, null, 2) + "\n");
  process.exit(1);
});
