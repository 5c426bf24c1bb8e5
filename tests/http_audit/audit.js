// Runs graphql-http's server audit (the GraphQL-over-HTTP spec's own checks) against the URL given
// and prints one JSON array: each audit's id, name, status (ok, warn or error) and reason.
import { auditServer } from "graphql-http";

const url = process.argv[2];
if (!url) {
  console.error("usage: node audit.js <graphql url>");
  process.exit(2);
}
const results = await auditServer({ url });
console.log(JSON.stringify(results.map(({ id, name, status, reason }) => ({ id, name, status, reason }))));
