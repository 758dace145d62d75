#!/usr/bin/env bash
# Set up the Lean 4 side of proofgraph on a machine WITH internet access:
#   1. elan (the official installer) and the toolchain pinned in lean_project/lean-toolchain;
#   2. lean_project: `lake update` (first run), checked against the pins (REPL commit
#      16054ca3..., the v4.20.0 bump; Mathlib v4.20.0), `lake exe cache get` (Mathlib's
#      prebuilt .olean files), `lake build`;
#   3. the Lean REPL binary, built with the PROJECT's toolchain;
#   4. a smoke test of the REPL (a theorem, and the "no such file" answer the client's
#      framing sentinel relies on);
#   5. with --with-dojo: lean-dojo 4.20.0 traces a repository into its cache (needs
#      `pip install 'proofgraph[lean]'`; tracing calls the GitHub API and takes minutes to
#      hours): --trace-repo PATH [--commit SHA] traces that local git repo, otherwise a git
#      copy of lean_project in --dojo-dir (it requires Mathlib: hours and >= 32 GB RAM).
# Idempotent: a second run only checks and rebuilds what changed. Every step that cannot work
# stops the script with one line saying what failed and what to do. Prints what to export.
#
# usage: scripts/setup_lean.sh [--with-dojo [--trace-repo PATH [--commit SHA]] [--dojo-dir DIR]]
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PROJECT="$ROOT/lean_project"
REPL_PIN="16054ca34b80803d6621dccd11882ca2ea03e215"
REPL_DIR="$PROJECT/.lake/packages/REPL"
REPL_BIN="$REPL_DIR/.lake/build/bin/repl"
WITH_DOJO=0
TRACE_REPO=""
TRACE_COMMIT=""
DOJO_DIR="${XDG_CACHE_HOME:-$HOME/.cache}/proofgraph/lean_project_dojo"

step() { printf '\n==> %s\n' "$*"; }
die() { printf '\nsetup_lean.sh: error: %s\n' "$*" >&2; exit 1; }

while [ $# -gt 0 ]; do
  case "$1" in
    --with-dojo) WITH_DOJO=1 ;;
    --dojo-dir) [ $# -ge 2 ] || die "--dojo-dir needs a directory"; DOJO_DIR="$2"; shift ;;
    --trace-repo) [ $# -ge 2 ] || die "--trace-repo needs a path"; TRACE_REPO="$2"; shift ;;
    --commit) [ $# -ge 2 ] || die "--commit needs a SHA"; TRACE_COMMIT="$2"; shift ;;
    -h|--help) sed -n '2,18p' "$0"; exit 0 ;;
    *) die "unknown argument: $1 (see --help)" ;;
  esac
  shift
done
if [ -n "$TRACE_REPO$TRACE_COMMIT" ] && [ "$WITH_DOJO" = 0 ]; then
  die "--trace-repo/--commit go with --with-dojo"
fi

[ -f "$PROJECT/lean-toolchain" ] || die "no lean_project/lean-toolchain under $ROOT"
TOOLCHAIN="$(tr -d '[:space:]' < "$PROJECT/lean-toolchain")"
WANT_VERSION="${TOOLCHAIN##*:v}"
command -v git >/dev/null 2>&1 || die "git is needed (Lake fetches the REPL and Mathlib with it)"

# 1. elan + toolchain --------------------------------------------------------------------
export PATH="$HOME/.elan/bin:$PATH"
if command -v elan >/dev/null 2>&1; then
  step "elan already installed: $(elan --version)"
else
  step "installing elan with the official installer (no default toolchain)"
  command -v curl >/dev/null 2>&1 || die "curl is needed to download the elan installer"
  tmp="$(mktemp -d)"
  trap 'rm -rf "$tmp"' EXIT
  curl -sSfL https://raw.githubusercontent.com/leanprover/elan/master/elan-init.sh \
    -o "$tmp/elan-init.sh" || die "could not download elan-init.sh (network?)"
  sh "$tmp/elan-init.sh" -y --default-toolchain none || die "the elan installer failed"
  command -v elan >/dev/null 2>&1 || die "elan is not on PATH after installing it"
fi
step "toolchain $TOOLCHAIN"
elan toolchain install "$TOOLCHAIN" || die "could not install $TOOLCHAIN (network?)"
cd "$PROJECT"
got="$(lean --version 2>&1 | head -n1)" || die "lean does not run in $PROJECT: $got"
case "$got" in
  *"version $WANT_VERSION,"*|*"version $WANT_VERSION "*) echo "ok: $got" ;;
  *) die "lean in $PROJECT is '$got', expected version $WANT_VERSION (elan override? run: elan override unset)" ;;
esac

# 2. lean_project: dependencies at their pins ---------------------------------------------
manifest_rev() {  # the rev Lake resolved for package $1, empty when unknown
  python3 - "$1" <<'PY' 2>/dev/null || true
import json, sys
try:
    packages = json.load(open("lake-manifest.json")).get("packages", [])
except OSError:
    packages = []
print(next((p.get("rev", "") for p in packages if p.get("name", "").lower() == sys.argv[1]), ""))
PY
}
if [ -f lake-manifest.json ] && [ "$(manifest_rev repl)" = "$REPL_PIN" ] && [ -d "$REPL_DIR" ]; then
  step "dependencies already fetched at the pins (delete lean_project/lake-manifest.json to re-resolve)"
else
  step "lake update: fetching the REPL @ ${REPL_PIN:0:7} and Mathlib v4.20.0 (minutes)"
  lake update || die "lake update failed in $PROJECT (network? GitHub reachable? the pinned commits in lakefile.lean?)"
fi
rev="$(manifest_rev repl)"
[ "$rev" = "$REPL_PIN" ] || die "lake resolved the REPL to '${rev:-nothing}', not the pin $REPL_PIN: delete lean_project/lake-manifest.json and .lake/packages/REPL, then run again"
[ -d "$PROJECT/.lake/packages/mathlib" ] || die "Mathlib is missing from lean_project/.lake/packages after lake update"

step "lake exe cache get: Mathlib's prebuilt .olean files (a few GB)"
lake exe cache get || die "could not download Mathlib's .olean cache (network? disk space?); building Mathlib from source instead takes hours: run 'lake build' yourself if you want that"
step "lake build: ProofgraphExamples"
lake build || die "lake build failed in $PROJECT (see the Lean errors above)"

# 3. the REPL binary, with the project's toolchain -----------------------------------------
step "building the REPL binary with $TOOLCHAIN"
[ -d "$REPL_DIR" ] || die "the REPL dependency is missing from .lake/packages (lake update failed?)"
repl_toolchain="$(tr -d '[:space:]' < "$REPL_DIR/lean-toolchain" 2>/dev/null || true)"
[ "$repl_toolchain" = "$TOOLCHAIN" ] || die "the REPL at ${REPL_PIN:0:7} declares toolchain '$repl_toolchain', the project '$TOOLCHAIN': its .olean files would not load; fix the pin in lakefile.lean"
(cd "$REPL_DIR" && elan run "$TOOLCHAIN" lake build repl) || die "building the REPL failed (see the Lean errors above)"
[ -x "$REPL_BIN" ] || die "no REPL binary at $REPL_BIN after the build"

# 4. smoke test ----------------------------------------------------------------------------
step "smoke test: one theorem and the framing sentinel through the REPL"
sentinel="/proc/self/proofgraph-sentinel-setup.lean"
answer="$(printf '%s\n\n%s\n\n' '{"cmd": "theorem smoke : 2 + 2 = 4 := by decide"}' \
  "{\"path\": \"$sentinel\"}" | timeout 300 lake env "$REPL_BIN" 2>&1)" \
  || die "the REPL did not answer (exit $?): $answer"
case "$answer" in
  *'"env": 0'*) case "$answer" in *'"severity": "error"'*) die "the REPL reported an error: $answer" ;; esac ;;
  *) die "unexpected REPL answer: $answer" ;;
esac
case "$answer" in
  *"$sentinel"*) ;;
  *) die "the REPL's answer to a missing file does not name the file, so proofgraph's reply framing cannot work with it: $answer" ;;
esac
echo "ok: $(printf '%s' "$answer" | tr '\n' ' ')"

# 5. optional: lean-dojo trace -------------------------------------------------------------
if [ "$WITH_DOJO" = 1 ]; then
  python3 -c "import importlib.util, sys; sys.exit(importlib.util.find_spec('lean_dojo') is None)" \
    || die "lean-dojo is not installed: pip install 'proofgraph[lean]'"
  [ -z "${GITHUB_ACCESS_TOKEN:-}" ] || echo "note: GITHUB_ACCESS_TOKEN is set; lean-dojo uses it for tracing (proofgraph refuses it at prove time)"
  if [ -n "$TRACE_REPO" ]; then
    [ -d "$TRACE_REPO/.git" ] || die "--trace-repo $TRACE_REPO is not a git repository"
    TARGET="$(cd "$TRACE_REPO" && pwd)"
  else
    step "lean-dojo: a git copy of lean_project in $DOJO_DIR (it requires Mathlib: tracing takes hours and >= 32 GB RAM)"
    mkdir -p "$DOJO_DIR"
    for item in lakefile.lean lean-toolchain lake-manifest.json ProofgraphExamples.lean \
                ProofgraphExamples; do
      rm -rf "${DOJO_DIR:?}/$item"
      cp -R "$PROJECT/$item" "$DOJO_DIR/$item"
    done
    (cd "$DOJO_DIR" && { [ -d .git ] || git init -q; } && git add -A \
      && { git diff --cached --quiet 2>/dev/null && git rev-parse -q --verify HEAD >/dev/null \
           || git -c user.name=proofgraph -c user.email=proofgraph@localhost commit -q -m lean_project; }) \
      || die "could not make the git copy in $DOJO_DIR"
    TARGET="$DOJO_DIR"
  fi
  step "lean-dojo: tracing $TARGET ${TRACE_COMMIT:+@ $TRACE_COMMIT}"
  DISABLE_REMOTE_CACHE=1 python3 - "$TARGET" "$TRACE_COMMIT" <<'PY' || die "lean-dojo tracing failed (see above)"
import sys
from lean_dojo import LeanGitRepo, is_available_in_cache, trace
path, commit = sys.argv[1], sys.argv[2]
repo = LeanGitRepo(path, commit) if commit else LeanGitRepo.from_path(path)
if is_available_in_cache(repo):
    print("already traced:", repo)
else:
    trace(repo)
    print("traced:", repo)
PY
fi

step "done. Add to your shell profile:"
echo "  export PATH=\"\$HOME/.elan/bin:\$PATH\""
echo "  export PROOFGRAPH_LEAN_PROJECT=\"$PROJECT\""
echo "  export PROOFGRAPH_LEAN_REPL=\"$REPL_BIN\""
if [ "$WITH_DOJO" = 1 ]; then
  echo "  export PROOFGRAPH_DOJO_REPO=\"$TARGET\""
fi
echo "Then: proofgraph doctor && python -m pytest -m lean tests/test_lean_live.py"
