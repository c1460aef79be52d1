#!/usr/bin/env bash
# Refresh the foundation's Chinese catalogues: root locale/ (templates/), marketplace/ and accounts/.
# Then fill in every msgstr and run: bin/makemessages.sh compile
set -euo pipefail
cd "$(dirname "$0")/.."
export DJANGO_SETTINGS_MODULE=marketplace.settings.test PYTHONPATH="$PWD"
ADMIN="$PWD/.venv/bin/django-admin"
if [ "${1:-}" = "compile" ]; then
  for d in . marketplace accounts; do (cd "$d" && "$ADMIN" compilemessages -l zh_Hans -i .venv >/dev/null); done
  exit 0
fi
ignore=()
for d in */ .*/; do d=${d%/}; [ "$d" = templates ] || [ "$d" = . ] || [ "$d" = .. ] || ignore+=(-i "$d"); done
"$ADMIN" makemessages -l zh_Hans --no-obsolete "${ignore[@]}"
for d in marketplace accounts; do (cd "$d" && mkdir -p locale && "$ADMIN" makemessages -l zh_Hans --no-obsolete); done
