#!/usr/bin/env bash
# Install what the test suite needs beyond Python packages, on a fresh Debian/Ubuntu machine (CI runs this as
# root, with only the package registries reachable) or a developer's. Idempotent and quiet: a system package
# is installed only when its command is missing (with one `apt-get update` first), and the Node packages only
# when tools/mermaid/node_modules does not match its committed package-lock.json.
#
# To add a tool, add a "command:debian-package" pair to SYSTEM_PACKAGES.
set -euo pipefail
cd "$(dirname "$0")/.."

SYSTEM_PACKAGES=(
    "dot:graphviz"      # Graphviz: renders `flowc graph --format dot|svg` in tests/test_graph.py
    "node:nodejs"       # Mermaid's parser (tools/mermaid) and vscode-textmate (tests/textmate)
    "npm:npm"
    "chromium:chromium" # headless browser for the console's tests (tests/test_console_browser.py, via Playwright)
    "redis-server:redis-server"  # a real Redis for the runtime store tests (tests/test_store.py, FLOWC_STORE=redis://)
)

missing=()
for entry in "${SYSTEM_PACKAGES[@]}"; do
    command -v "${entry%%:*}" >/dev/null 2>&1 || missing+=("${entry#*:}")
done
if ((${#missing[@]})); then
    if ! command -v apt-get >/dev/null 2>&1; then
        echo "install-test-deps: please install ${missing[*]} (no apt-get here)" >&2
        exit 1
    fi
    sudo=""
    if [ "$(id -u)" != 0 ]; then sudo="sudo"; fi
    echo "install-test-deps: installing ${missing[*]}" >&2
    $sudo apt-get update -qq >/dev/null
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# Mermaid's own parser, pinned by tools/mermaid/package-lock.json. `npm ci` only when the installed tree is not
# the locked one (npm writes node_modules/.package-lock.json as its record of what it installed).
lock=tools/mermaid/package-lock.json
installed=tools/mermaid/node_modules/.package-lock.json
if [ ! -f "$installed" ] || [ "$lock" -nt "$installed" ]; then
    (cd tools/mermaid && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
fi
