#!/usr/bin/env bash
# The Debian package: builds it with CPack, installs it with dpkg -i into this
# machine, checks the files land in their FHS places, verifies the systemd unit,
# runs the unit's command line under the unit's capability bounding set, then
# purges the package and checks nothing is left. Needs root.
set -uo pipefail
[ "${SANITIZED:-0}" = 1 ] && { echo "skipped: the package is tested from the normal build"; exit 77; }
[ "$(id -u)" -eq 0 ] || { echo "skipped: dpkg -i needs root"; exit 77; }
command -v dpkg >/dev/null || { echo "skipped: no dpkg"; exit 77; }
if dpkg-query -W -f='${Status}' hindsight 2>/dev/null | grep -q "ok installed"; then
  echo "skipped: a hindsight package is already installed here; not touching it"
  exit 77
fi
src=${SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
fail=0
check() { if eval "$2"; then echo "ok   $1"; else echo "FAIL $1"; fail=1; fi; }

deb=$("$src/scripts/package" | tail -1)
check "package built" "[ -f '$deb' ]"
dpkg -i "$deb" >/tmp/hindsight-dpkg.log 2>&1
check "dpkg -i installs cleanly" "[ $? -eq 0 ]"
for f in /usr/sbin/hindsightd /etc/hindsight/hindsight.yaml /lib/systemd/system/hindsightd.service \
         /usr/share/man/man8/hindsightd.8 /usr/share/hindsight/schema/001_init.sql; do
  check "installed $f" "[ -e $f ]"
done
check "state directory created 0750" "[ \"\$(stat -c %a /var/lib/hindsight)\" = 750 ]"
if command -v systemd-analyze >/dev/null; then
  out=$(systemd-analyze verify /lib/systemd/system/hindsightd.service 2>&1 | grep -v "man hindsight")
  check "systemd-analyze verify accepts the unit ($out)" "[ -z \"\$out\" ]"
fi

# The unit's ExecStart, with only the capabilities the unit grants.
exec_start=$(sed -n 's/^ExecStart=//p' /lib/systemd/system/hindsightd.service)
caps=$(sed -n 's/^CapabilityBoundingSet=//p' /lib/systemd/system/hindsightd.service |
       tr 'A-Z' 'a-z' | sed 's/cap_/+/g; s/ /,/g')
if command -v setpriv >/dev/null; then
  setpriv --bounding-set "-all,$caps" -- $exec_start --once --interval 1 \
    >/tmp/hindsight-unit.log 2>&1
  check "the unit's command runs under its bounding set ($caps)" "[ $? -eq 0 ]"
  db=/var/lib/hindsight/hindsight.db
  check "it stored a tick in the default database" \
    "[ \"\$(sqlite3 $db 'select count(*) from agent')\" = 1 ]"
  check "database mode 0640" "[ \"\$(stat -c %a $db)\" = 640 ]"
fi

dpkg --purge hindsight >/tmp/hindsight-dpkg.log 2>&1
check "dpkg --purge removes it" "[ $? -eq 0 ]"
check "nothing left behind" "[ ! -e /usr/sbin/hindsightd ] && [ ! -e /var/lib/hindsight ] && [ ! -e /etc/hindsight/hindsight.yaml ]"
[ $fail -eq 0 ] && echo "all checks passed"
exit $fail
