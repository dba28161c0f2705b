#!/usr/bin/env bash
# Installs, updates or re-enrols the Reimage site agent as the systemd service reimage-agent. Run as root.
#
#   First install (publish first: dotnet publish src/Agents -c Release -o DIR):
#     sudo ./install-linux.sh --from DIR --server https://reimage.example.org --token TOKEN [--name NAME]
#   New version of the agent (configuration and credential are kept):
#     sudo ./install-linux.sh --from DIR
#   Re-enrol or rotate the credential (a new enrolment token from the dashboard):
#     sudo ./install-linux.sh --token NEW_TOKEN
#   BMC (Redfish) account; the password comes from standard input, or a prompt on a terminal:
#     printf '%s\n' "$BMC_PASSWORD" | sudo ./install-linux.sh --redfish-user USER
#
# Options:
#   --from DIR              published agent files; default: this script's folder if it holds Reimage.Agents,
#                           otherwise the installed files in /opt/reimage-agent are kept
#   --server URL            the Reimage server, https://
#   --token TOKEN           one-time enrolment token (POST /api/sites/{id}/enrolment-tokens); replaces any stored
#                           credential and is removed from the configuration once the agent has enrolled
#   --name NAME             display name (default: the machine name)
#   --driver real|simulated
#   --wol-broadcast ADDR    Wake-on-LAN broadcast address (agent default 255.255.255.255)
#   --wol-port PORT         Wake-on-LAN UDP port (agent default 9)
#   --redfish-user USER     BMC account; its password is read from standard input or prompted for
#   --allow-insecure-http   allow an http:// server on loopback (tests only)
#   --wait SECONDS          how long to wait for enrolment (default 90)
#
# Settings not given on the command line keep their current values, so running it again is safe.
set -euo pipefail

readonly APP_DIR=/opt/reimage-agent
readonly CONFIG_DIR=/etc/reimage-agent
readonly ENV_FILE=$CONFIG_DIR/agent.env
readonly REDFISH_PASSWORD_FILE=$CONFIG_DIR/redfish-password
readonly UNIT=reimage-agent.service
readonly UNIT_FILE=/etc/systemd/system/$UNIT
# StateDirectory= of the unit; the agent writes its credential here (src/Agents/Enrolment/CredentialStore.cs).
readonly CREDENTIAL_FILE=/var/lib/reimage-agent/credential.json
readonly ENV_HEADER='# Reimage site agent. install-linux.sh rewrites the Agent__ lines it manages and keeps every other line.'
readonly MANAGED_KEYS=(Agent__Server Agent__AllowInsecureHttp Agent__EnrolmentToken Agent__Name Agent__Driver
    Agent__WakeOnLan__BroadcastAddress Agent__WakeOnLan__Port Agent__Redfish__Username)

script_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)

die() { printf 'install-linux.sh: %s\n' "$*" >&2; exit 1; }
note() { printf '%s\n' "$*"; }
usage() { sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "${BASH_SOURCE[0]}"; }

from="" server="" token="" name="" driver="" wol_broadcast="" wol_port="" redfish_user="" insecure=false wait_seconds=90
while (($#)); do
    case $1 in
        --from | --server | --token | --name | --driver | --wol-broadcast | --wol-port | --redfish-user | --wait)
            (($# >= 2)) || die "$1 needs a value"
            case $1 in
                --from) from=$2 ;;
                --server) server=$2 ;;
                --token) token=$2 ;;
                --name) name=$2 ;;
                --driver) driver=$2 ;;
                --wol-broadcast) wol_broadcast=$2 ;;
                --wol-port) wol_port=$2 ;;
                --redfish-user) redfish_user=$2 ;;
                --wait) wait_seconds=$2 ;;
            esac
            shift 2 ;;
        --allow-insecure-http) insecure=true; shift ;;
        -h | --help) usage; exit 0 ;;
        *) die "unknown argument '$1' (see --help)" ;;
    esac
done

((EUID == 0)) || die "run as root (it writes /opt, /etc and the systemd unit)"
[[ -d /run/systemd/system ]] || die "systemd is not running on this machine"
[[ -f $script_dir/reimage-agent.service ]] || die "reimage-agent.service must be beside this script"

# Values end up single-quoted in a systemd EnvironmentFile, where everything but a quote is taken verbatim.
plain() { [[ $1 != *[\'\"\\]* && $1 != *[[:cntrl:]]* ]]; }

if [[ -n $server ]]; then
    if [[ $server =~ ^http://(127\.0\.0\.1|localhost|\[::1\])(:[0-9]+)?(/.*)?$ ]] && $insecure; then
        :
    elif [[ ! $server =~ ^https://[^[:space:]/]+(/.*)?$ ]]; then
        die "--server must be https://… (plain http only on loopback with --allow-insecure-http, for tests)"
    fi
    plain "$server" || die "--server contains quotes, backslashes or control characters"
fi
[[ -z $token ]] || [[ $token =~ ^[^[:space:]\'\"\\]+$ ]] || die "--token does not look like a token (spaces or quotes)"
[[ -z $name ]] || { ((${#name} <= 128)) && plain "$name"; } || die "--name: at most 128 characters, no quotes or backslashes"
[[ -z $driver || $driver == real || $driver == simulated ]] || die "--driver is real or simulated"
[[ -z $wol_broadcast || $wol_broadcast =~ ^([0-9]{1,3}\.){3}[0-9]{1,3}$ ]] || die "--wol-broadcast is an IPv4 address"
[[ -z $wol_port ]] || { [[ $wol_port =~ ^[0-9]{1,5}$ ]] && ((wol_port >= 1 && wol_port <= 65535)); } || die "--wol-port is 1-65535"
[[ -z $redfish_user ]] || plain "$redfish_user" || die "--redfish-user contains quotes, backslashes or control characters"
[[ $wait_seconds =~ ^[0-9]+$ ]] || die "--wait is a number of seconds"

# --- the current configuration: managed keys by name, every other line kept as it is ------------------------
declare -A cfg=()
kept_lines=()
if [[ -f $ENV_FILE ]]; then
    while IFS= read -r line || [[ -n $line ]]; do
        [[ $line == "$ENV_HEADER" ]] && continue
        if [[ $line =~ ^[[:space:]]*([A-Za-z_][A-Za-z0-9_]*)=(.*)$ ]] && [[ " ${MANAGED_KEYS[*]} " == *" ${BASH_REMATCH[1]} "* ]]; then
            key=${BASH_REMATCH[1]} value=${BASH_REMATCH[2]}
            if [[ $value =~ ^\'(.*)\'[[:space:]]*$ || $value =~ ^\"(.*)\"[[:space:]]*$ ]]; then
                value=${BASH_REMATCH[1]}
            fi
            cfg[$key]=$value
        else
            kept_lines+=("$line")
        fi
    done <"$ENV_FILE"
fi

write_env() {
    local tmp=$ENV_FILE.new key
    {
        printf '%s\n' "$ENV_HEADER"
        for key in "${MANAGED_KEYS[@]}"; do
            [[ -n ${cfg[$key]:-} ]] && printf "%s='%s'\n" "$key" "${cfg[$key]}"
        done
        ((${#kept_lines[@]} == 0)) || printf '%s\n' "${kept_lines[@]}"
    } >"$tmp"
    chmod 0600 "$tmp"
    mv -f "$tmp" "$ENV_FILE"
}

previous_server=${cfg[Agent__Server]:-}
[[ -n $server ]] && cfg[Agent__Server]=$server
[[ -n ${cfg[Agent__Server]:-} ]] || die "first install: --server is required"
if [[ ${cfg[Agent__Server]} == http://* ]]; then
    cfg[Agent__AllowInsecureHttp]=true
else
    unset 'cfg[Agent__AllowInsecureHttp]'
fi
[[ -n $name ]] && cfg[Agent__Name]=$name
[[ -n $driver ]] && cfg[Agent__Driver]=$driver
[[ -n $wol_broadcast ]] && cfg[Agent__WakeOnLan__BroadcastAddress]=$wol_broadcast
[[ -n $wol_port ]] && cfg[Agent__WakeOnLan__Port]=$wol_port
[[ -n $redfish_user ]] && cfg[Agent__Redfish__Username]=$redfish_user

# Refuse, before changing anything, what would leave an agent that can only stop with exit code 2.
enrolled=false
[[ -s $CREDENTIAL_FILE ]] && enrolled=true
if [[ -z $token ]]; then
    if $enrolled && [[ -n $previous_server && ${cfg[Agent__Server]%/} != "${previous_server%/}" ]]; then
        die "the agent is enrolled with $previous_server; moving it to another server needs a new enrolment token (--token)"
    fi
    $enrolled || [[ -n ${cfg[Agent__EnrolmentToken]:-} ]] || die "the agent is not enrolled yet: pass --token (a lead creates one for the site in the dashboard)"
fi

# --- the published files ------------------------------------------------------------------------------------
if [[ -z $from && -x $script_dir/Reimage.Agents ]]; then
    from=$script_dir
fi
if [[ -n $from ]]; then
    from=$(cd "$from" && pwd -P) || die "--from: no such folder"
    [[ -x $from/Reimage.Agents && -f $from/Reimage.Agents.dll ]] ||
        die "$from has no published agent: dotnet publish src/Agents -c Release -o $from"
elif [[ ! -x $APP_DIR/Reimage.Agents ]]; then
    die "nothing installed yet: pass --from with the published agent (dotnet publish src/Agents -c Release -o DIR)"
fi

# The secret is read before anything changes, so a mistyped prompt leaves the machine as it was.
redfish_password=""
if [[ -n $redfish_user ]]; then
    if [[ -t 0 ]]; then
        read -rsp "Redfish (BMC) password for $redfish_user: " redfish_password || die "no password read"
        printf '\n' >&2
        read -rsp "Again: " again || die "no password read"
        printf '\n' >&2
        [[ $redfish_password == "$again" ]] || die "the passwords differ"
        unset again
    else
        IFS= read -r redfish_password || true # the last line may lack its newline
    fi
    [[ -n $redfish_password ]] || die "no Redfish password given (standard input or the prompt)"
fi

# --- changes from here on -----------------------------------------------------------------------------------
systemctl stop "$UNIT" 2>/dev/null || true

if [[ -n $from && $from != "$APP_DIR" ]]; then
    # Copy beside the old version and swap, so a failed copy never leaves half an agent behind.
    rm -rf "$APP_DIR.new" "$APP_DIR.old"
    mkdir -p "$APP_DIR.new"
    cp -R "$from"/. "$APP_DIR.new"/
    chown -R root:root "$APP_DIR.new"
    chmod -R u=rwX,go=rX "$APP_DIR.new"
    chmod 0755 "$APP_DIR.new/Reimage.Agents"
    [[ -d $APP_DIR ]] && mv "$APP_DIR" "$APP_DIR.old"
    mv "$APP_DIR.new" "$APP_DIR"
    rm -rf "$APP_DIR.old"
    note "Installed the agent in $APP_DIR"
fi

# A framework-dependent publish needs the .NET runtime it was built for where the apphost looks for it.
if [[ ! -e $APP_DIR/libcoreclr.so ]]; then
    wanted=$(grep -Eo '"version": *"[0-9]+' "$APP_DIR/Reimage.Agents.runtimeconfig.json" 2>/dev/null | grep -Eo '[0-9]+$' | head -n1 || true)
    found=false
    for root in "$(cat "/etc/dotnet/install_location_$(uname -m | sed 's/x86_64/x64/;s/aarch64/arm64/')" 2>/dev/null || true)" \
        "$(cat /etc/dotnet/install_location 2>/dev/null || true)" /usr/share/dotnet /usr/lib/dotnet; do
        [[ -n $root ]] && compgen -G "$root/shared/Microsoft.NETCore.App/${wanted:-}*" >/dev/null && found=true && break
    done
    $found || note "WARNING: no .NET ${wanted:-} runtime (Microsoft.NETCore.App) found in /usr/share/dotnet, /usr/lib/dotnet or /etc/dotnet/install_location.
         Install it (apt-get install dotnet-runtime-${wanted:-10}.0), or publish self-contained:
         dotnet publish src/Agents -c Release -r linux-x64 --self-contained -o DIR"
fi

install -d -m 0700 -o root -g root "$CONFIG_DIR"
if [[ -n $redfish_password ]]; then
    (umask 077 && printf '%s' "$redfish_password" >"$REDFISH_PASSWORD_FILE.new")
    mv -f "$REDFISH_PASSWORD_FILE.new" "$REDFISH_PASSWORD_FILE"
    unset redfish_password
    note "Stored the Redfish password in $REDFISH_PASSWORD_FILE (root only; the service gets it as a systemd credential)"
elif [[ ! -e $REDFISH_PASSWORD_FILE ]]; then
    (umask 077 && : >"$REDFISH_PASSWORD_FILE") # LoadCredential= refuses to start the unit when its source is missing
fi
chown root:root "$REDFISH_PASSWORD_FILE"
chmod 0600 "$REDFISH_PASSWORD_FILE"

# Re-enrolment: the agent enrols only when it has no credential for this server, so the old one is moved aside
# (and put back if the new enrolment does not complete).
previous_agent=""
if [[ -n $token ]]; then
    cfg[Agent__EnrolmentToken]=$token
    if $enrolled; then
        previous_agent=$(sed -n 's/.*"agentId" *: *"\([0-9a-fA-F-]*\)".*/\1/p' "$CREDENTIAL_FILE" | head -n1)
        mv -f "$CREDENTIAL_FILE" "$CREDENTIAL_FILE.previous"
    fi
fi
write_env

install -m 0644 -o root -g root "$script_dir/reimage-agent.service" "$UNIT_FILE"
systemctl daemon-reload
systemctl enable --quiet "$UNIT"

# A start that fails before the agent reports ready still schedules restarts; the state is judged below.
systemctl start "$UNIT" || true

if [[ -n ${cfg[Agent__EnrolmentToken]:-} ]]; then
    note "Waiting up to ${wait_seconds}s for the agent to enrol with ${cfg[Agent__Server]}…"
    deadline=$((SECONDS + wait_seconds))
    while ((SECONDS < deadline)) && [[ ! -s $CREDENTIAL_FILE ]]; do
        [[ $(systemctl show -p ActiveState --value "$UNIT") == failed ]] && break
        sleep 2
    done

    if [[ -s $CREDENTIAL_FILE ]]; then
        # The token is used up; keep no copy of it.
        unset 'cfg[Agent__EnrolmentToken]'
        write_env
        rm -f "$CREDENTIAL_FILE.previous"
        agent_id=$(sed -n 's/.*"agentId" *: *"\([0-9a-fA-F-]*\)".*/\1/p' "$CREDENTIAL_FILE" | head -n1)
        note "Enrolled as agent $agent_id; the enrolment token has been removed from $ENV_FILE."
        if [[ -n $previous_agent && $previous_agent != "$agent_id" ]]; then
            note "The previous credential (agent $previous_agent) is gone from this machine; unless it is revoked already, have a lead revoke it:"
            note "  POST /api/agents/$previous_agent/revoke (or Revoke on the /agents page)"
        fi
    else
        journalctl -u "$UNIT" -n 20 --no-pager 2>/dev/null || true
        if [[ -e $CREDENTIAL_FILE.previous ]]; then
            systemctl stop "$UNIT" 2>/dev/null || true
            mv -f "$CREDENTIAL_FILE.previous" "$CREDENTIAL_FILE"
            unset 'cfg[Agent__EnrolmentToken]'
            write_env
            systemctl reset-failed "$UNIT" 2>/dev/null || true
            systemctl start "$UNIT" || true
            die "enrolment did not complete within ${wait_seconds}s (log above). The previous credential is back in place (if it was revoked, the agent stops again with exit code 4); re-run with --token once the cause is fixed (a token that was used or has expired needs a new one)."
        fi
        die "enrolment did not complete within ${wait_seconds}s (log above). Unless the unit failed, the agent keeps trying with the token; 'journalctl -u $UNIT' shows why. Re-run with a new --token if this one was refused."
    fi
fi

sleep 2
if [[ $(systemctl show -p ActiveState --value "$UNIT") != active ]]; then
    journalctl -u "$UNIT" -n 20 --no-pager 2>/dev/null || true
    die "$UNIT is not running (log above; exit code 2 = not enrolled, 3 = bad configuration (the log names the key), 4 = credential revoked: re-run with a new --token)"
fi
note "reimage-agent is running. Logs: journalctl -u $UNIT -f"
