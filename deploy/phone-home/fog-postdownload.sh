#!/bin/sh
# Reimage phone-home for FOG: tells Reimage the image was written ("applied"). Add to
# /images/postdownloadscripts/fog.postdownload:   . ${postdownpath}reimage-phonehome.sh
# and copy this file there as reimage-phonehome.sh. Set REIMAGE_SERVER and REIMAGE_TOKEN (the site's phone-home
# token) at the top of fog.postdownload, readable by root only. It never fails the deployment.
reimage_server="${REIMAGE_SERVER:-}"
reimage_token="${REIMAGE_TOKEN:-}"
if [ -z "$reimage_server" ] || [ -z "$reimage_token" ]; then
    echo "reimage: REIMAGE_SERVER or REIMAGE_TOKEN not set; not reporting" >&2
else
    # FOG exports $mac for the host being imaged; dmidecode gives the serial when present.
    reimage_serial=""
    if command -v dmidecode >/dev/null 2>&1; then
        reimage_serial=$(dmidecode -s system-serial-number 2>/dev/null | head -n 1 | tr -d '"\\')
    fi
    reimage_detail="FOG image ${img:-unknown} written"
    reimage_body=$(printf '{"serial":"%s","mac":"%s","event":"applied","timestamp":"%s","detail":"%s"}' \
        "$reimage_serial" "${mac:-}" "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$reimage_detail")
    # Retries only for the network and busy servers; 4xx answers are final (bad token, unknown machine).
    curl --silent --show-error --max-time 15 --retry 3 --retry-delay 5 --retry-connrefused \
        -H "Authorization: Bearer ${reimage_token}" -H "Content-Type: application/json" \
        -d "$reimage_body" "${reimage_server%/}/phone-home/v1/events" >/dev/null \
        || echo "reimage: phone-home not delivered; the step's timeout on the server takes over" >&2
fi
true
