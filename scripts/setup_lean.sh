#!/usr/bin/env bash
# Set up the Lean 4 side of proofgraph on a machine WITH internet access:
#   1. elan (the official installer) and the toolchain pinned in lean_project/lean-toolchain;
#   2. lean_project: `lake update` (first run only) and `lake build` (the examples);
#   3. the Lean REPL binary (the `REPL` dependency, tag v4.20.0);
#   4. a smoke test of the REPL;
#   5. with --with-dojo: a git copy of lean_project traced by lean-dojo 4.20.0 (needs
#      `pip install 'proofgraph[lean]'`; tracing calls the GitHub API and takes minutes).
# Idempotent: a second run only checks and rebuilds what changed. Prints what to export.
#
# usage: scripts/setup_lean.sh [--with-dojo] [--dojo-dir DIR]
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PROJECT="$ROOT/lean_project"
REPL_BIN="$PROJECT/.lake/packages/REPL/.lake/build/bin/repl"
WITH_DOJO=0
DOJO_DIR="${XDG_CACHE_HOME:-$HOME/.cache}/proofgraph/lean_project_dojo"

step() { printf '\n==> %s\n' "$*"; }
die() { printf '\nsetup_lean.sh: error: %s\n' "$*" >&2; exit 1; }

while [ $# -gt 0 ]; do
  case "$1" in
    --with-dojo) WITH_DOJO=1 ;;
    --dojo-dir) [ $# -ge 2 ] || die "--dojo-dir needs a directory"; DOJO_DIR="$2"; shift ;;
    -h|--help) sed -n '2,11p' "$0"; exit 0 ;;
    *) die "unknown argument: $1 (see --help)" ;;
  esac
  shift
done

[ -f "$PROJECT/lean-toolchain" ] || die "no lean_project/lean-toolchain under $ROOT"
TOOLCHAIN="$(tr -d '[:space:]' < "$PROJECT/lean-toolchain")"

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
    -o "$tmp/elan-init.sh" || die "could not download elan-init.sh"
  sh "$tmp/elan-init.sh" -y --default-toolchain none || die "the elan installer failed"
  command -v elan >/dev/null 2>&1 || die "elan is not on PATH after installing it"
fi
step "toolchain $TOOLCHAIN"
elan toolchain install "$TOOLCHAIN" || die "could not install $TOOLCHAIN"

# 2. lean_project --------------------------------------------------------------------------
cd "$PROJECT"
if [ -f lake-manifest.json ] && [ -d .lake/packages/REPL ]; then
  step "dependencies already fetched (delete lean_project/lake-manifest.json to re-resolve)"
else
  step "lake update: fetching the REPL (leanprover-community/repl @ v4.20.0)"
  lake update || die "lake update failed (network? tag v4.20.0 of the REPL?)"
fi
step "lake build: ProofgraphExamples"
lake build || die "lake build failed in $PROJECT"

# 3. the REPL binary -----------------------------------------------------------------------
step "building the REPL binary"
[ -d .lake/packages/REPL ] || die "the REPL dependency is missing from .lake/packages"
(cd .lake/packages/REPL && lake build repl) || die "building the REPL failed"
[ -x "$REPL_BIN" ] || die "no REPL binary at $REPL_BIN"

# 4. smoke test ----------------------------------------------------------------------------
step "smoke test: one theorem through the REPL"
answer="$(printf '%s\n\n' '{"cmd": "theorem smoke : 2 + 2 = 4 := by decide"}' \
  | timeout 300 lake env "$REPL_BIN")" || die "the REPL did not answer"
case "$answer" in
  *'"env"'*) case "$answer" in *'"error"'*) die "the REPL reported an error: $answer" ;; esac ;;
  *) die "unexpected REPL answer: $answer" ;;
esac
echo "ok: $answer"

# 5. optional: lean-dojo trace -------------------------------------------------------------
if [ "$WITH_DOJO" = 1 ]; then
  step "lean-dojo: tracing a git copy of lean_project in $DOJO_DIR"
  python3 -c "import importlib.util, sys; sys.exit(importlib.util.find_spec('lean_dojo') is None)" \
    || die "lean-dojo is not installed: pip install 'proofgraph[lean]'"
  command -v git >/dev/null 2>&1 || die "git is needed for lean-dojo"
  mkdir -p "$DOJO_DIR"
  for item in lakefile.lean lean-toolchain lake-manifest.json ProofgraphExamples.lean \
              ProofgraphExamples .gitignore; do
    rm -rf "${DOJO_DIR:?}/$item"
    cp -R "$PROJECT/$item" "$DOJO_DIR/$item"
  done
  cd "$DOJO_DIR"
  [ -d .git ] || git init -q
  git add -A
  if ! git diff --cached --quiet 2>/dev/null || ! git rev-parse -q --verify HEAD >/dev/null; then
    git -c user.name=proofgraph -c user.email=proofgraph@localhost commit -q -m "lean_project" \
      || die "git commit failed in $DOJO_DIR"
  fi
  DISABLE_REMOTE_CACHE=1 python3 - "$DOJO_DIR" <<'PY' || die "lean-dojo tracing failed"
import sys
from lean_dojo import LeanGitRepo, is_available_in_cache, trace
repo = LeanGitRepo.from_path(sys.argv[1])
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
  echo "  export PROOFGRAPH_DOJO_REPO=\"$DOJO_DIR\""
fi
echo "Then: python -m pytest -m lean tests/test_lean_live.py"
