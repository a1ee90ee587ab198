/// A POSIX `sh` stand-in for the in-sprite `sprite-env` tool. It implements the keep-awake
/// Tasks API (`sprite-env curl [-X METHOD] [-d JSON] /v1/tasks[/NAME]`) with one file per task in
/// `$SPRITE_SIM_TASKS` holding the expiry (unix seconds); the sim reads that folder to decide
/// whether the sprite is kept awake.
enum SpriteEnvScript {
    static let text = #"""
#!/bin/sh
# sprite-env stand-in installed by sprite-sim. Only `curl` on /v1/tasks is implemented.
set -u
dir="${SPRITE_SIM_TASKS:?not inside a sprite-sim sprite}"
mkdir -p "$dir"
[ "${1:-}" = "curl" ] || { echo "sprite-env: only 'curl' is supported by sprite-sim" >&2; exit 2; }
shift
method=GET; data=""; path=""
while [ $# -gt 0 ]; do
  case "$1" in
    -X|--request) method="$2"; shift 2 ;;
    -d|--data|--data-raw) data="$2"; [ "$method" = GET ] && method=POST; shift 2 ;;
    -H|--header) shift 2 ;;
    -s|-S|-f|-sS|-fsS|-i) shift ;;
    http://sprite/*) path="${1#http://sprite}"; shift ;;
    *) path="$1"; shift ;;
  esac
done
now=$(date +%s)
field() { printf '%s' "$data" | sed -n "s/.*\"$1\"[[:space:]]*:[[:space:]]*\"\{0,1\}\([^\",}]*\).*/\1/p"; }
secs() { case "$1" in *ms) echo 1 ;; *s) echo "${1%s}" ;; *m) echo $(( ${1%m} * 60 )) ;; *h) echo $(( ${1%h} * 3600 )) ;; "") echo 300 ;; *) echo "$1" ;; esac; }
show() { n="$1"; read -r exp started < "$dir/$n"; printf '{"name":"%s","started_at":%s,"expires_at":%s}' "$n" "$started" "$exp"; }
case "$path" in
  /v1/tasks|/v1/tasks/)
    if [ "$method" = GET ]; then
      printf '{"tasks":['; first=1
      for f in "$dir"/*; do [ -f "$f" ] || continue; [ $first = 1 ] || printf ','; first=0; show "$(basename "$f")"; done
      printf ']}\n'; exit 0
    fi
    name=$(field name) ;;
  /v1/tasks/*) name="${path#/v1/tasks/}" ;;
  *) echo '{"error":"not found"}'; exit 22 ;;
esac
[ -n "$name" ] || { echo '{"error":"name required"}'; exit 22; }
case "$method" in
  GET) [ -f "$dir/$name" ] || { echo '{"error":"task not found"}'; exit 22; }; show "$name"; echo ;;
  DELETE) [ -f "$dir/$name" ] || { echo '{"error":"task not found"}'; exit 22; }; rm -f "$dir/$name" ;;
  POST|PUT)
    if [ "$method" = POST ] && [ "$path" = /v1/tasks ] && [ -f "$dir/$name" ]; then
      echo '{"error":"task already exists"}'; exit 22
    fi
    s=$(secs "$(field expire)"); [ "$s" -gt 3600 ] && s=3600
    started=$now; [ -f "$dir/$name" ] && read -r _ started < "$dir/$name"
    echo "$((now + s)) $started" > "$dir/$name"; show "$name"; echo ;;
  *) echo '{"error":"method not allowed"}'; exit 22 ;;
esac
"""#
}
