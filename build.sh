#!/usr/bin/env bash
# Reimage's one entry point for developers and CI.
#   ./build.sh test    install what the tests need (PostgreSQL server binaries, Chromium, PowerShell 7), run every test,
#                      and print one line: "N passed, N failed, N skipped" (from the TRX results)
#   ./build.sh bench   the benchmark suite of bench/Reimage.Bench (import, drill, grid, forecast, accuracy; see docs/benchmarks.md)
set -euo pipefail
cd "$(dirname "$0")"

need_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }
apt_updated=0
apt_install() {
  if [ "$apt_updated" -eq 0 ]; then need_root apt-get update -qq; apt_updated=1; fi
  need_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

ensure_postgres() {
  # The tests start their own throwaway cluster from the server binaries; nothing needs to be running.
  if command -v initdb >/dev/null 2>&1 || ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then return; fi
  echo "Installing PostgreSQL server binaries…"
  apt_install postgresql
}

ensure_pwsh() {
  # The phone-home scripts run under a real PowerShell 7 in the tests (the .NET global tool; Windows PowerShell 5.1
  # compatibility is checked by parsing them).
  # The FOG hook's test runs it with curl, as FOS does.
  command -v curl >/dev/null 2>&1 || apt_install curl
  if command -v pwsh >/dev/null 2>&1 || [ -x "$HOME/.dotnet/tools/pwsh" ]; then return; fi
  echo "Installing PowerShell 7.6.10 (dotnet global tool) for the phone-home script tests…"
  dotnet tool install -g PowerShell --version 7.6.10 >/dev/null
}

ensure_chromium() {
  if command -v chromium >/dev/null 2>&1; then return; fi
  echo "Installing Chromium for the browser tests…"
  apt_install chromium
}

summarise() {
  # Sum the counters of every test project's TRX file into one plain closing line. A project that wrote no
  # TRX (its test host crashed) counts as one failure, so a crash can never read as green.
  local dir=$1 passed=0 failed=0 skipped=0 p f e s project
  for project in tests/*/*.Tests.csproj; do
    project=$(basename "$project" .csproj)
    if [ ! -e "$dir/$project.trx" ]; then echo "no test results from $project" >&2; failed=$((failed + 1)); fi
  done
  for trx in "$dir"/*.trx; do
    [ -e "$trx" ] || continue
    counters=$(grep -o '<Counters [^>]*>' "$trx" | head -n 1)
    p=$(sed -n 's/.* passed="\([0-9]*\)".*/\1/p' <<<"$counters"); f=$(sed -n 's/.* failed="\([0-9]*\)".*/\1/p' <<<"$counters")
    e=$(sed -n 's/.* error="\([0-9]*\)".*/\1/p' <<<"$counters"); s=$(sed -n 's/.* notExecuted="\([0-9]*\)".*/\1/p' <<<"$counters")
    passed=$((passed + ${p:-0})); failed=$((failed + ${f:-0} + ${e:-0})); skipped=$((skipped + ${s:-0}))
  done
  echo "$passed passed, $failed failed, $skipped skipped"
}

case "${1:-test}" in
  test)
    ensure_postgres
    ensure_chromium
    ensure_pwsh
    results=artifacts/test-results
    rm -rf "$results"
    status=0
    dotnet test --solution Reimage.sln --results-directory "$results" || status=$?
    summarise "$results"
    exit "$status"
    ;;
  bench)
    ensure_postgres
    # The whole suite (B1 import, B3/B4/B8 drill, B6 grid, forecast and P1, forecast accuracy drills); one JSON line per benchmark.
    dotnet run -c Release --project bench/Reimage.Bench -- bench
    ;;
  *)
    echo "usage: ./build.sh [test|bench]" >&2
    exit 2
    ;;
esac
