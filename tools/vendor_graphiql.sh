#!/usr/bin/env bash
# Vendor GraphiQL and the React it runs on into app/static/vendor/graphiql/, from the npm registry
# (`npm pack`), so the development IDE at GET /graphql loads with no internet.
# To update: change a version below, run this script, check the page (tests/e2e/test_graphiql_browser.py)
# and the versions in app/static/vendor/graphiql/README.md, then commit the files it wrote.
set -euo pipefail

GRAPHIQL=4.1.2  # the last major with a UMD bundle (5.x is ESM with Monaco workers)
REACT=18.3.1    # the last React with UMD builds (19 has none); GraphiQL 4 takes React 18 or 19

out="$(cd "$(dirname "$0")/.." && pwd)/app/static/vendor/graphiql"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

unpack() {  # unpack <package@version>: the package's files in $work/<package>
    local name="${1%@*}"
    (cd "$work" && npm pack --silent "$1" > /dev/null)
    mkdir -p "$work/$name"
    tar -xzf "$work/$name-"*.tgz -C "$work/$name" --strip-components=1
}

unpack "graphiql@$GRAPHIQL"
unpack "react@$REACT"
unpack "react-dom@$REACT"

mkdir -p "$out"
install -m 644 "$work/graphiql/graphiql.min.js" "$work/graphiql/graphiql.min.css" "$out/"
install -m 644 "$work/graphiql/LICENSE" "$out/LICENSE.graphiql"
install -m 644 "$work/react/umd/react.production.min.js" "$out/"
install -m 644 "$work/react/LICENSE" "$out/LICENSE.react"
install -m 644 "$work/react-dom/umd/react-dom.production.min.js" "$out/"
install -m 644 "$work/react-dom/LICENSE" "$out/LICENSE.react-dom"
# The bundles end with a sourceMappingURL to maps we do not ship; drop it so browsers ask for nothing.
sed -i '/^\/\/# sourceMappingURL=/d' "$out/graphiql.min.js" "$out/react.production.min.js" \
    "$out/react-dom.production.min.js"

echo "graphiql $GRAPHIQL, react $REACT, react-dom $REACT in $out:"
(cd "$out" && ls -l graphiql.min.* react*.js LICENSE.* && sha256sum graphiql.min.* react*.js)
