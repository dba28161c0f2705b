<#
.SYNOPSIS
Reports an imaging event for this machine to Reimage (POST {server}/phone-home/v1/events). Never fails or hangs
the task sequence: it always exits 0 and gives up after a bounded time.

.DESCRIPTION
Runs in WinPE (with the WinPE-WMI, WinPE-NetFx, WinPE-Scripting and WinPE-PowerShell components) and in the full
OS, on Windows PowerShell 5.1 or PowerShell 7, from MDT, Configuration Manager or a plain command line.

Server and token: -Server/-Token, else the task sequence variables ReimageServer/ReimageToken (through
Microsoft.SMS.TSEnvironment), else environment variables of the same names. The machine is identified by its
BIOS serial number and the MAC of an IP-enabled adapter (adapters with a default gateway first); when the server
does not know that MAC, the next adapter's is tried.

Answers: 202 accepted; 200 "ignored: ..." (a replay or out of order: fine); 400, 401 and 404 are logged and not
retried; network errors, 5xx and 429 (after Retry-After) are retried a few times with backoff. Everything goes to
the console (which the task sequence log captures) and to ReimagePhoneHome.log in _SMSTSLogPath, or in
%SystemRoot%\Temp outside a task sequence. The token is never logged.

.EXAMPLE
powershell.exe -NoProfile -ExecutionPolicy Bypass -File Send-ReimageEvent.ps1 -Event started

.EXAMPLE
powershell.exe -NoProfile -ExecutionPolicy Bypass -File Send-ReimageEvent.ps1 -Event failed -Detail "Apply Operating System failed"

.EXAMPLE
.\Send-ReimageEvent.ps1 -Event progress -Percent 40 -Server https://reimage.example.org -Token rph_...
#>

# A plain (not advanced) script on purpose: a mistyped or unknown argument lands in $args and is logged, instead
# of a parameter binding error that would fail the task sequence step. Parameters are strings for the same reason.
param(
    # started | progress | applied | first-boot | failed
    [string]$Event,
    # 0-100, for progress
    [string]$Percent,
    # Free text, at most 500 characters; for failed: the reason (default: the task sequence's last failed step).
    [string]$Detail,
    [string]$Server,
    [string]$Token,
    # Override the serial number / MAC read from WMI.
    [string]$Serial,
    [string]$Mac,
    # Log file (default: ReimagePhoneHome.log in the task sequence log folder).
    [string]$LogPath,
    # Per request, seconds.
    [string]$TimeoutSeconds = '10',
    [string]$MaxAttempts = '4',
    # Most seconds spent waiting between attempts, in all.
    [string]$MaxWaitSeconds = '90',
    # Leave the timestamp out (the server then uses its arrival time): for machines whose clock is known to be wrong.
    [switch]$NoTimestamp,
    # The event's own id (1-64 of A-Z a-z 0-9 . _ : -). Default: a new one, reused on this script's retries and, inside a
    # task sequence, for the same event of the same run (a failure step that runs twice reports one failure).
    [string]$EventId,
    # Used by Send-ReimageAttestation.ps1: a hashtable with osBuild, imageId, imageVersion, imageSha256, hostname,
    # domain, securityAgent. Sent with first-boot only.
    $Attestation
)

$script:LogFile = $null

function Write-Log([string]$Text) {
    $line = '{0} Reimage phone-home: {1}' -f (Get-Date -Format 'yyyy-MM-dd HH:mm:ss'), $Text
    Write-Host $line
    if ($script:LogFile) { try { Add-Content -LiteralPath $script:LogFile -Value $line -Encoding UTF8 } catch { } }
}

function Get-TSEnvironment {
    # Only inside a running MDT or Configuration Manager task sequence.
    try { return New-Object -ComObject Microsoft.SMS.TSEnvironment } catch { return $null }
}

function Get-Setting($TSEnv, [string]$Name) {
    if ($TSEnv) { try { $value = [string]$TSEnv.Value($Name); if ($value) { return $value } } catch { } }
    $value = [Environment]::GetEnvironmentVariable($Name)
    if ($value) { return $value }
    return $null
}

function Get-Instances([string]$Class, [string]$Filter) {
    # Get-CimInstance where present (PowerShell 3+, and the only one on PowerShell 7), Get-WmiObject otherwise.
    try {
        if ($Filter) { return @(Get-CimInstance -ClassName $Class -Filter $Filter -ErrorAction Stop) }
        return @(Get-CimInstance -ClassName $Class -ErrorAction Stop)
    }
    catch {
        try {
            if ($Filter) { return @(Get-WmiObject -Class $Class -Filter $Filter -ErrorAction Stop) }
            return @(Get-WmiObject -Class $Class -ErrorAction Stop)
        }
        catch { return @() }
    }
}

function Get-MachineSerial {
    $bios = Get-Instances 'Win32_BIOS' $null | Select-Object -First 1
    if (-not $bios -or -not $bios.SerialNumber) { return $null }
    $value = ([string]$bios.SerialNumber).Trim()
    # Placeholders from white-box boards and some VMs would match the wrong inventory entry (or none): leave them
    # out and let the MAC identify the machine. Longer than 64 the server would refuse the whole event.
    $placeholders = @('', '0', 'none', 'n/a', 'na', 'default string', 'to be filled by o.e.m.', 'system serial number',
        'chassis serial number', 'not specified', 'not applicable', 'invalid', '123456789', '0123456789', '1234567890')
    if ($placeholders -contains $value.ToLowerInvariant() -or $value.Length -gt 64 -or $value -match '^0+$') { return $null }
    return $value
}

function Get-MachineMacs {
    $adapters = Get-Instances 'Win32_NetworkAdapterConfiguration' 'IPEnabled = True' |
        Where-Object { $_.MACAddress } |
        Sort-Object -Property @{ Expression = { if ($_.DefaultIPGateway) { 0 } else { 1 } } }, Index
    $macs = @()
    foreach ($adapter in $adapters) {
        $value = ([string]$adapter.MACAddress).ToUpperInvariant()
        if ($macs -notcontains $value) { $macs += $value }
    }
    return $macs
}

function Limit([string]$Text, [int]$Length) {
    if ($null -eq $Text) { return $null }
    $Text = $Text.Trim()
    if ($Text.Length -gt $Length) { return $Text.Substring(0, $Length) }
    return $Text
}

function Get-RetryAfterSeconds([string]$Header) {
    $seconds = 0
    if ($Header -and [int]::TryParse($Header.Trim(), [ref]$seconds)) { return [Math]::Max(1, $seconds) }
    $date = [DateTime]::MinValue
    if ($Header -and [DateTime]::TryParse($Header, [Globalization.CultureInfo]::InvariantCulture, [Globalization.DateTimeStyles]::AdjustToUniversal, [ref]$date)) {
        return [Math]::Max(1, [int][Math]::Ceiling(($date - [DateTime]::UtcNow).TotalSeconds))
    }
    return 30
}

function Send-Once([string]$Uri, [string]$Bearer, [string]$Body, [int]$TimeoutMs) {
    # HttpWebRequest rather than Invoke-WebRequest: the same behaviour on 5.1 (also without Internet Explorer, as in
    # WinPE) and 7, real timeouts, and the status and headers of error answers without version-specific parsing.
    $request = [Net.HttpWebRequest][Net.WebRequest]::Create($Uri)
    $request.Method = 'POST'
    $request.ContentType = 'application/json; charset=utf-8'
    $request.Accept = 'application/json'
    $request.UserAgent = 'Reimage-PhoneHome/1'
    $request.Headers.Add('Authorization', 'Bearer ' + $Bearer)
    $request.Timeout = $TimeoutMs
    $request.ReadWriteTimeout = $TimeoutMs
    $request.KeepAlive = $false
    $bytes = [Text.Encoding]::UTF8.GetBytes($Body)
    $request.ContentLength = $bytes.Length
    $response = $null
    try {
        $stream = $request.GetRequestStream()
        try { $stream.Write($bytes, 0, $bytes.Length) } finally { $stream.Dispose() }
        $response = $request.GetResponse()
    }
    catch {
        # PowerShell wraps the WebException of a method call; an error answer (4xx/5xx) carries the response.
        $e = $_.Exception
        while ($e -and -not ($e -is [Net.WebException])) { $e = $e.InnerException }
        if ($e -and $e.Response) { $response = $e.Response }
        else { return @{ Status = 0; Body = ''; RetryAfter = $null; Error = $_.Exception.Message } }
    }
    try {
        $text = ''
        try {
            $reader = New-Object IO.StreamReader($response.GetResponseStream())
            try { $text = $reader.ReadToEnd() } finally { $reader.Dispose() }
        }
        catch { }
        return @{ Status = [int]$response.StatusCode; Body = (Limit $text 600); RetryAfter = $response.Headers['Retry-After']; Error = $null }
    }
    finally { $response.Close() }
}

function Send-ReimageEvent {
    $tsEnv = Get-TSEnvironment
    if (-not $LogPath) {
        $folder = Get-Setting $tsEnv '_SMSTSLogPath'
        if (-not $folder -or -not (Test-Path -LiteralPath $folder)) { $folder = Join-Path $env:SystemRoot 'Temp' }
        if (-not (Test-Path -LiteralPath $folder)) { $folder = $env:TEMP }
        $LogPath = Join-Path $folder 'ReimagePhoneHome.log'
    }
    $script:LogFile = $LogPath

    # Names only: a mistyped -Token's value must not end up in the log.
    if ($script:UnknownArguments.Count -gt 0) { Write-Log ('ignoring unknown arguments: {0}' -f ($script:UnknownArguments -join ' ')) }

    $eventName = if ($Event) { $Event.Trim().ToLowerInvariant() } else { '' }
    if (@('started', 'progress', 'applied', 'first-boot', 'failed') -notcontains $eventName) {
        Write-Log "-Event '$Event' is not one of started, progress, applied, first-boot, failed: nothing sent"
        return
    }

    if (-not $Server) { $Server = Get-Setting $tsEnv 'ReimageServer' }
    if (-not $Token) { $Token = Get-Setting $tsEnv 'ReimageToken' }
    if (-not $Server -or -not $Token) {
        Write-Log "no server or token (set -Server/-Token or the task sequence variables ReimageServer and ReimageToken): $eventName not sent"
        return
    }
    $uri = $null
    if (-not [Uri]::TryCreate($Server.Trim(), [UriKind]::Absolute, [ref]$uri) -or -not ($uri.Scheme -eq 'https' -or ($uri.Scheme -eq 'http' -and $uri.IsLoopback))) {
        # The token would travel in clear text over http.
        Write-Log "ReimageServer '$Server' must be an https:// address: $eventName not sent"
        return
    }
    $endpoint = $uri.AbsoluteUri.TrimEnd('/') + '/phone-home/v1/events'

    # .NET Framework may default to TLS 1.0; the server needs 1.2 (1.3 stays on where the runtime has it).
    try { [Net.ServicePointManager]::SecurityProtocol = [Net.ServicePointManager]::SecurityProtocol -bor [Net.SecurityProtocolType]::Tls12 } catch { }
    try { [Net.ServicePointManager]::Expect100Continue = $false } catch { }

    $serialNumber = if ($Serial) { Limit $Serial 64 } else { Get-MachineSerial }
    # @() everywhere: a single MAC must stay a one-element array, not become a string indexed by character.
    if ($Mac) { $macs = @($Mac.Trim()) } else { $macs = @(Get-MachineMacs) }
    if (-not $serialNumber -and $macs.Count -eq 0) {
        Write-Log "found neither a usable serial number nor the MAC of an IP-enabled adapter: $eventName not sent"
        return
    }

    $body = [ordered]@{}
    if ($serialNumber) { $body['serial'] = $serialNumber }
    $body['event'] = $eventName
    $number = 0
    if ($Percent) {
        if ([int]::TryParse($Percent.Trim(), [ref]$number) -and $number -ge 0 -and $number -le 100) { $body['percent'] = $number }
        else { Write-Log "-Percent '$Percent' is not 0-100: left out" }
    }
    if (-not $NoTimestamp) { $body['timestamp'] = [DateTime]::UtcNow.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", [Globalization.CultureInfo]::InvariantCulture) }
    $note = $null
    if ($eventName -eq 'first-boot' -and $Attestation -is [System.Collections.IDictionary]) {
        $attested = [ordered]@{}
        foreach ($key in @('osBuild', 'imageId', 'imageVersion', 'imageSha256', 'hostname', 'domain', 'securityAgent')) {
            $value = $Attestation[$key]
            if ($null -eq $value -or "$value".Trim() -eq '') { continue }
            $value = if ($key -eq 'domain') { Limit "$value" 255 } else { Limit "$value" 64 }
            if ($key -eq 'imageSha256' -and $value -notmatch '^[0-9a-fA-F]{64}$') {
                # The server would refuse the whole event; without the hash, verification fails visibly instead.
                $note = "imageSha256 '$value' is not 64 hex digits and was left out"
                Write-Log $note
                continue
            }
            $attested[$key] = $value
        }
        $body['attestation'] = $attested
    }
    if ($eventName -eq 'failed' -and -not $Detail) {
        # In a failure group, the task sequence knows which step failed.
        $step = Get-Setting $tsEnv '_SMSTSLastActionName'
        $code = Get-Setting $tsEnv '_SMSTSLastActionRetCode'
        if ($step) { $Detail = "step '$step' failed (exit code $code)" }
    }
    $text = @($Detail, $note) | Where-Object { $_ }
    if ($text) { $body['detail'] = Limit ($text -join '; ') 500 }

    # One id per event, the same on every retry: the server records it once and answers a replay with its first answer.
    if ($EventId -and $EventId -match '^[A-Za-z0-9._:-]{1,64}$') { $id = $EventId }
    else {
        if ($EventId) { Write-Log "-EventId '$EventId' is not 1-64 of A-Z a-z 0-9 . _ : -: a new one is used" }
        $remembered = if ($eventName -ne 'progress') { Get-Setting $tsEnv "ReimageEventId_$($eventName.Replace('-', ''))" } else { $null }
        $id = if ($remembered -and $remembered -match '^[A-Za-z0-9._:-]{1,64}$') { $remembered } else { [Guid]::NewGuid().ToString('N') }
        if ($tsEnv -and $eventName -ne 'progress' -and -not $remembered) {
            try { $tsEnv.Value("ReimageEventId_$($eventName.Replace('-', ''))") = $id } catch { }
        }
    }
    $body['eventId'] = $id

    $timeoutMs = 10000; $attempts = 4; $waitBudget = 90
    $parsed = 0
    if ([int]::TryParse($TimeoutSeconds, [ref]$parsed) -and $parsed -gt 0) { $timeoutMs = $parsed * 1000 }
    if ([int]::TryParse($MaxAttempts, [ref]$parsed) -and $parsed -gt 0) { $attempts = $parsed }
    if ([int]::TryParse($MaxWaitSeconds, [ref]$parsed) -and $parsed -ge 0) { $waitBudget = $parsed }

    $macIndex = 0
    $attempt = 0
    $waited = 0
    while ($true) {
        $attempt++
        if ($macs.Count -gt 0) { $body['mac'] = $macs[$macIndex] }
        $who = 'serial {0}, MAC {1}' -f $(if ($serialNumber) { $serialNumber } else { '-' }), $(if ($macs.Count -gt 0) { $macs[$macIndex] } else { '-' })
        $json = $body | ConvertTo-Json -Depth 4 -Compress
        $answer = Send-Once $endpoint $Token $json $timeoutMs
        $status = $answer.Status
        $retryIn = 0

        if ($status -eq 202 -or $status -eq 200) {
            Write-Log ('{0} ({1}) -> {2} {3}' -f $eventName, $who, $status, $answer.Body)
            return
        }
        elseif ($status -eq 404 -and $macIndex + 1 -lt [Math]::Min($macs.Count, 4)) {
            Write-Log ('{0} ({1}) -> 404 unknown machine; trying the next adapter' -f $eventName, $who)
            $macIndex++
            $attempt--
            continue
        }
        elseif ($status -eq 404) {
            Write-Log ('{0} ({1}) -> 404: no machine with this serial or MAC at the token''s site (check the inventory and the site of the token); not retried' -f $eventName, $who)
            return
        }
        elseif ($status -eq 401 -or $status -eq 403) {
            Write-Log ('{0} -> {1}: the phone-home token was refused (wrong, revoked or for another purpose); not retried' -f $eventName, $status)
            return
        }
        elseif ($status -eq 400) {
            Write-Log ('{0} ({1}) -> 400 invalid: {2}; not retried' -f $eventName, $who, $answer.Body)
            return
        }
        elseif ($status -eq 429) {
            if ($eventName -eq 'progress') {
                Write-Log 'progress -> 429 rate limited; dropped (a later report supersedes it)'
                return
            }
            $retryIn = Get-RetryAfterSeconds $answer.RetryAfter
            Write-Log ('{0} -> 429 rate limited; Retry-After {1}s' -f $eventName, $retryIn)
        }
        elseif ($status -eq 0 -or $status -ge 500) {
            $reason = if ($status -eq 0) { $answer.Error } else { "$status $($answer.Body)" }
            Write-Log ('{0} ({1}) attempt {2}/{3} failed: {4}' -f $eventName, $who, $attempt, $attempts, $reason)
            # Jitter, so a room full of machines does not retry in step.
            $retryIn = [int][Math]::Pow(2, $attempt) + (Get-Random -Minimum 0 -Maximum 3)
        }
        else {
            Write-Log ('{0} ({1}) -> unexpected {2} {3}; not retried' -f $eventName, $who, $status, $answer.Body)
            return
        }

        if ($attempt -ge $attempts -or $waited + $retryIn -gt $waitBudget) {
            Write-Log ('{0} not delivered after {1} attempt(s); giving up so the task sequence can go on' -f $eventName, $attempt)
            return
        }
        Start-Sleep -Seconds $retryIn
        $waited += $retryIn
    }
}

$script:UnknownArguments = @($args | Where-Object { "$_" -like '-*' })
try { Send-ReimageEvent }
catch { Write-Log ('unexpected error, nothing more sent: {0}' -f $_.Exception.Message) }
exit 0
