#!/bin/sh
# Reimage phone-home for FOG: reports "applied" once FOG has written the image to the disk.
#
# Install on the FOG server (see README.md beside this file):
#   cp fog-postdownload.sh /images/postdownloadscripts/reimage-phone-home.sh
#   printf 'REIMAGE_SERVER=https://reimage.example.org\n' > /images/postdownloadscripts/reimage.conf
#   printf '%s\n' 'rph_...' > /images/postdownloadscripts/reimage.token    # the site's phone-home token
#   echo '. ${postdownpath}reimage-phone-home.sh' >> /images/postdownloadscripts/fog.postdownload
#
# FOG sources fog.postdownload into its own imaging script, so everything below runs in a subshell: no exit, no
# variable and no shell option of ours can reach FOG's script, and whatever happens the imaging carries on.
#
# Settings (environment, or reimage.conf beside this script, read as shell assignments):
#   REIMAGE_SERVER       https://… of the Reimage server (required)
#   REIMAGE_TOKEN        the site's phone-home token, or REIMAGE_TOKEN_FILE (default: reimage.token beside this script)
#   REIMAGE_CA_FILE      PEM bundle that signs the server's certificate, when FOS does not trust it already
#   REIMAGE_EVENT        default applied
#   REIMAGE_TIMEOUT      seconds per request (default 10); REIMAGE_ATTEMPTS (default 4); REIMAGE_MAX_WAIT (default 90)
#   REIMAGE_NO_TIMESTAMP=1  leave the timestamp out, for machines whose clock is known to be wrong
# Uses FOG's $mac (one MAC or several separated by |), $img and $hostname where FOG sets them; the serial number
# comes from dmidecode, or /sys/class/dmi/id when dmidecode is missing.
(
    # FOG's imaging script may run with set -e (and -u): a grep that finds nothing must not end the hook, or the imaging.
    set +e +u
    dir=${postdownpath:-$(dirname "$0")/}
    log=/tmp/reimage-phone-home.log
    say() { printf ' * Reimage: %s\n' "$*"; printf '%s %s\n' "$(date -u '+%Y-%m-%dT%H:%M:%SZ')" "$*" >>"$log" 2>/dev/null; }

    # reimage.conf supplies defaults; a setting given in the environment wins over it.
    for name in REIMAGE_SERVER REIMAGE_TOKEN REIMAGE_TOKEN_FILE REIMAGE_CA_FILE REIMAGE_EVENT REIMAGE_TIMEOUT REIMAGE_ATTEMPTS REIMAGE_MAX_WAIT REIMAGE_NO_TIMESTAMP; do
        eval "given_$name=\${$name+set}; saved_$name=\${$name-}"
    done
    # shellcheck disable=SC1091
    [ -f "${dir}reimage.conf" ] && . "${dir}reimage.conf"
    for name in REIMAGE_SERVER REIMAGE_TOKEN REIMAGE_TOKEN_FILE REIMAGE_CA_FILE REIMAGE_EVENT REIMAGE_TIMEOUT REIMAGE_ATTEMPTS REIMAGE_MAX_WAIT REIMAGE_NO_TIMESTAMP; do
        eval "[ \"\${given_$name}\" = set ] && $name=\${saved_$name}"
    done
    server=${REIMAGE_SERVER:-}
    token=${REIMAGE_TOKEN:-}
    token_file=${REIMAGE_TOKEN_FILE:-${dir}reimage.token}
    if [ -z "$token" ] && [ -r "$token_file" ]; then
        token=$(tr -d ' \t\r\n' <"$token_file")
    fi
    event=${REIMAGE_EVENT:-applied}
    timeout=${REIMAGE_TIMEOUT:-10}
    attempts=${REIMAGE_ATTEMPTS:-4}
    max_wait=${REIMAGE_MAX_WAIT:-90}

    if [ -z "$server" ] || [ -z "$token" ]; then
        say "REIMAGE_SERVER or the phone-home token is not set: $event not sent"
        exit 0
    fi
    if ! command -v curl >/dev/null 2>&1; then
        say "curl is missing: $event not sent"
        exit 0
    fi
    # The token must not cross the network in clear text; plain http only to loopback (tests).
    case $server in
        https://*) proto='=https' ;;
        http://127.0.0.1* | http://localhost* | http://\[::1\]*) proto='=http' ;;
        *) say "REIMAGE_SERVER must be https://: $event not sent"; exit 0 ;;
    esac
    endpoint="${server%/}/phone-home/v1/events"

    # Serial number; placeholders from white-box boards and VMs are left out so the MAC decides instead.
    serial=""
    if command -v dmidecode >/dev/null 2>&1; then
        serial=$(dmidecode -s system-serial-number 2>/dev/null | grep -v '^#' | head -n 1)
    elif [ -r /sys/class/dmi/id/product_serial ]; then
        serial=$(cat /sys/class/dmi/id/product_serial 2>/dev/null)
    fi
    serial=$(printf '%s' "$serial" | tr -d '\000-\037"\\' | sed 's/^ *//; s/ *$//')
    case $(printf '%s' "$serial" | tr '[:upper:]' '[:lower:]') in
        '' | 0 | none | n/a | na | 'default string' | 'to be filled by o.e.m.' | 'system serial number' | \
            'chassis serial number' | 'not specified' | 'not applicable' | invalid | 123456789 | 0123456789 | 1234567890)
            serial="" ;;
    esac
    [ "${#serial}" -le 64 ] || serial=""

    # FOG's $mac, else every NIC the kernel sees.
    macs=$(printf '%s' "${mac:-}" | tr '|,; ' '\n\n\n\n' | grep -E '^([0-9A-Fa-f]{2}[:-]){5}[0-9A-Fa-f]{2}$')
    if [ -z "$macs" ]; then
        macs=$(cat /sys/class/net/*/address 2>/dev/null | grep -v '^00:00:00:00:00:00$' | grep -E '^([0-9a-f]{2}:){5}[0-9a-f]{2}$')
    fi
    macs=$(printf '%s\n' "$macs" | awk 'NF && !seen[tolower($0)]++' | head -n 4)
    if [ -z "$serial" ] && [ -z "$macs" ]; then
        say "found neither a usable serial number nor a MAC: $event not sent"
        exit 0
    fi

    json_text() { printf '%s' "$1" | tr -d '\000-\037' | sed 's/\\/\\\\/g; s/"/\\"/g'; }
    case $event in
        started) detail="FOG imaging with ${img:-?} started${hostname:+ on $hostname}" ;;
        failed) detail="FOG imaging with ${img:-?} failed${hostname:+ on $hostname}" ;;
        *) detail="FOG image ${img:-?} deployed${hostname:+ to $hostname}" ;;
    esac
    detail=$(json_text "$detail" | cut -c 1-500)
    timestamp=""
    [ "${REIMAGE_NO_TIMESTAMP:-0}" = 1 ] || timestamp=$(date -u '+%Y-%m-%dT%H:%M:%SZ')

    # One id for this event, the same on every retry below: the server records it once.
    event_id=$(cat /proc/sys/kernel/random/uuid 2>/dev/null | tr -d '-')
    [ -n "$event_id" ] || event_id="fog-$(date -u +%s)-$$"

    body_file=/tmp/reimage-answer.$$
    head_file=/tmp/reimage-headers.$$
    trap 'rm -f "$body_file" "$head_file" "$body_file.err"' EXIT

    # One MAC per positional parameter (MACs hold no spaces or glob characters).
    # shellcheck disable=SC2086
    set -- $macs
    [ $# -gt 0 ] || set -- ""
    attempt=0
    waited=0
    while :; do
        attempt=$((attempt + 1))
        current=$1
        json="{\"event\":\"$event\",\"eventId\":\"$event_id\""
        [ -n "$serial" ] && json="$json,\"serial\":\"$serial\""
        [ -n "$current" ] && json="$json,\"mac\":\"$current\""
        [ -n "$timestamp" ] && json="$json,\"timestamp\":\"$timestamp\""
        json="$json,\"detail\":\"$detail\"}"
        who="serial ${serial:--}, MAC ${current:--}"

        # No --retry: the loop below decides what is worth retrying. No -k: an untrusted certificate is a finding.
        status=$(curl -sS --proto "$proto" --connect-timeout 5 --max-time "$timeout" \
            ${REIMAGE_CA_FILE:+--cacert "$REIMAGE_CA_FILE"} \
            -H "Authorization: Bearer $token" -H 'Content-Type: application/json' -H 'Accept: application/json' \
            --data-binary "$json" -o "$body_file" -D "$head_file" -w '%{http_code}' "$endpoint" 2>"$body_file.err")
        [ -n "$status" ] || status=000
        answer=$(cat "$body_file" 2>/dev/null | tr -d '\r\n' | cut -c 1-300)
        retry_in=0

        case $status in
            200 | 202)
                say "$event ($who) -> $status $answer"
                exit 0 ;;
            404)
                if [ $# -gt 1 ]; then
                    say "$event ($who) -> 404 unknown machine; trying the next MAC"
                    shift
                    attempt=$((attempt - 1))
                    continue
                fi
                say "$event ($who) -> 404: no machine with this serial or MAC at the token's site; not retried"
                exit 0 ;;
            401 | 403)
                say "$event -> $status: the phone-home token was refused; not retried"
                exit 0 ;;
            400)
                say "$event ($who) -> 400 invalid: $answer; not retried"
                exit 0 ;;
            429)
                retry_in=$(cat "$head_file" 2>/dev/null | tr -d '\r' | sed -n 's/^[Rr][Ee][Tt][Rr][Yy]-[Aa][Ff][Tt][Ee][Rr]: *\([0-9][0-9]*\).*/\1/p' | tail -n 1)
                retry_in=${retry_in:-30}
                say "$event -> 429 rate limited; Retry-After ${retry_in}s" ;;
            000 | 5??)
                if [ "$status" = 000 ]; then reason=$(cat "$body_file.err" 2>/dev/null | tr -d '\r\n'); else reason="$status $answer"; fi
                say "$event ($who) attempt $attempt/$attempts failed: $reason"
                # Jitter, so a room full of machines does not retry in step.
                # Seeded by this machine's own event id, not the clock: machines failing in the same second still spread out.
                retry_in=$(( (1 << attempt) + $(printf '%s' "$event_id" | cksum | awk -v a="$attempt" '{ srand($1 + a); print int(rand() * 3) }') )) ;;
            *)
                say "$event ($who) -> unexpected $status $answer; not retried"
                exit 0 ;;
        esac

        if [ "$attempt" -ge "$attempts" ] || [ $((waited + retry_in)) -gt "$max_wait" ]; then
            say "$event not delivered after $attempt attempt(s); imaging carries on"
            exit 0
        fi
        sleep "$retry_in"
        waited=$((waited + retry_in))
    done
) || true
