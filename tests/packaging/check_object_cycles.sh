#!/bin/sh
# SPDX-License-Identifier: MIT
# Within one folder of lib/, no two objects of the library depend on each other, directly or
# through others: the link dependencies (an undefined symbol of one object that another defines,
# from nm) form no cycle. A cycle (a strongly connected group of more than one object) is named
# with the symbols each of its objects takes from the others. Calls between folders are the
# layer check's business (check_layers.sh).
# Usage: check_object_cycles.sh OBJECT...   (objects under .../CMakeFiles/iotc.dir/)
set -eu
[ $# -gt 0 ] || { echo "usage: check_object_cycles.sh OBJECT..." >&2; exit 2; }
nobjects=$#
listing=$(for o in "$@"; do echo "OBJ $o"; done
  nm -A -g --format=posix "$@" 2>/dev/null)
report=$(echo "$listing" | awk '
  function short(o) { sub(/.*\/iotc\.dir\//, "", o); sub(/\.o$/, "", o); return o }
  function folder(s) { sub(/\/[^\/]*$/, "", s); return s }
  $1 == "OBJ" { s = short($2); obj[$2] = s; n++; name[n] = s; dir[s] = folder(s); next }
  {
    o = $1; sub(/:$/, "", o); sym = $2; type = $3
    if (type == "U") { nu++; uobj[nu] = obj[o]; usym[nu] = sym }
    else if (type != "w" && type != "v") def[sym] = obj[o]
  }
  END {
    # Edges a -> b inside one folder, with the symbols that make them.
    for (i = 1; i <= nu; i++) {
      a = uobj[i]; s = usym[i]
      if (!(s in def)) continue
      b = def[s]
      if (a == b || dir[a] != dir[b]) continue
      if (!((a SUBSEP b) in syms)) syms[a, b] = s
      else if (index(" " syms[a, b] " ", " " s " ") == 0) syms[a, b] = syms[a, b] " " s
      reach[a, b] = 1
    }
    # Reachability inside each folder (a few dozen objects: the cube is cheap).
    for (k = 1; k <= n; k++) for (i = 1; i <= n; i++) {
      if (i == k || dir[name[i]] != dir[name[k]] || !((name[i] SUBSEP name[k]) in reach)) continue
      for (j = 1; j <= n; j++)
        if ((name[k] SUBSEP name[j]) in reach && dir[name[j]] == dir[name[k]]) reach[name[i], name[j]] = 1
    }
    # A group: the objects each reachable from the other; named once, by its first member.
    for (i = 1; i <= n; i++) {
      a = name[i]
      if (a in seen) continue
      members = a; count = 1
      for (j = i + 1; j <= n; j++) {
        b = name[j]
        if ((a SUBSEP b) in reach && (b SUBSEP a) in reach) { members = members " " b; count++; seen[b] = 1 }
      }
      if (count < 2) continue
      groups++
      print "cycle in " dir[a] "/ between " count " objects: " members
      m = split(members, g, " ")
      for (x = 1; x <= m; x++) for (y = 1; y <= m; y++)
        if ((g[x] SUBSEP g[y]) in syms) print "  " g[x] " -> " g[y] ": " syms[g[x], g[y]]
    }
  }')
if [ -n "$report" ]; then
  echo "$report" >&2
  echo "check_object_cycles: objects of one folder depend on each other; make the calls point one way" >&2
  exit 1
fi
echo "check_object_cycles: no link cycle among the objects of any folder ($nobjects objects)"
