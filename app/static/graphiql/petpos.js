// petpos's GraphiQL page: the example operation, the sign-in note and the fetcher.
"use strict";

const EXAMPLE = `# petpos GraphiQL (development only)
#
# Ctrl-Enter runs the operation under the cursor,
# Ctrl-Space completes, and the Docs pane (top left)
# lists every type and field.
#
# To sign in: run Login (a demo account), put its
# token in the Headers pane below in place of
# <token>, delete the // before Authorization,
# then run Me.

query Products {
  products(first: 5) {
    edges {
      node { sku name price { amount currency } stock }
    }
  }
}

mutation Login {
  login(email: "customer@petpos.example", password: "petpos-customer") {
    token
    errors { code message }
  }
}

query Me {
  me { name email role loyaltyPoints }
}
`;

// JSON has no comments: the fetcher leaves out of the request every header whose name starts with "//".
const HEADERS = `{
  "//": "Sign in: run Login, then use the next line",
  "//Authorization": "Bearer <token>"
}`;

const url = window.location.href.split(/[?#]/)[0];
const socketUrl = url.replace(/^http/, "ws");
const fetcher = GraphiQL.createFetcher({ url: url, subscriptionUrl: socketUrl });

function withoutNotes(headers) {
  return Object.fromEntries(Object.entries(headers || {}).filter(([name]) => !name.startsWith("//")));
}

function petposFetcher(params, options) {
  return fetcher(params, { ...options, headers: withoutNotes(options && options.headers) });
}

ReactDOM.createRoot(document.getElementById("graphiql")).render(
  React.createElement(GraphiQL, {
    fetcher: petposFetcher,
    defaultQuery: EXAMPLE,
    defaultHeaders: HEADERS,
    defaultEditorToolsVisibility: "headers",
  }),
);
