#!/usr/bin/env bash
# Installs the Debian programs that the real-client tests use, if they are missing.
# LibreOffice (with Python UNO) converts contracts to PDF and loads the built SalesBook.xlsm;
# Chromium renders the HTML report; poppler-utils gives pdftotext; PostgreSQL is the shared ledger
# the ledger tests run against (they start their own server in a temporary folder).
set -u
need=()
command -v soffice >/dev/null 2>&1 || need+=(libreoffice-calc libreoffice-writer)
/usr/bin/python3 -c "import uno" >/dev/null 2>&1 || need+=(python3-uno)
command -v chromium >/dev/null 2>&1 || need+=(chromium)
command -v pdftotext >/dev/null 2>&1 || need+=(poppler-utils)
{ command -v fc-list >/dev/null 2>&1 && fc-list :lang=zh | grep -q .; } || need+=(fonts-noto-cjk)
{ command -v initdb >/dev/null 2>&1 || ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; } || need+=(postgresql)
if [ ${#need[@]} -eq 0 ]; then echo "system-deps: all present"; exit 0; fi
if [ "$(id -u)" != "0" ] || ! command -v apt-get >/dev/null 2>&1; then
  echo "system-deps: missing ${need[*]} (not root or no apt-get); the tests that need them will be skipped"
  exit 0
fi
echo "system-deps: installing ${need[*]}"
export DEBIAN_FRONTEND=noninteractive
# The tests start their own PostgreSQL; no default cluster listening on 5432 is wanted.
if printf '%s\n' "${need[@]}" | grep -qx postgresql; then
  mkdir -p /etc/postgresql-common && echo "create_main_cluster = false" > /etc/postgresql-common/createcluster.conf
fi
apt-get update -qq >/dev/null && apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null \
  || echo "system-deps: install failed; the tests that need these programs will be skipped"
exit 0
