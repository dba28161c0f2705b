<#
.SYNOPSIS
  Reports an imaging task sequence's progress to Reimage: started, progress, applied, first-boot or failed.
  Works in WinPE and the full OS, from MDT ("Run PowerShell Script"), Configuration Manager task sequences or by hand.
  It never fails the task sequence: network trouble is logged and the script exits 0.

.EXAMPLE
  powershell.exe -ExecutionPolicy Bypass -File Send-ReimageEvent.ps1 -Event started
  powershell.exe -ExecutionPolicy Bypass -File Send-ReimageEvent.ps1 -Event progress -Percent 60
  powershell.exe -ExecutionPolicy Bypass -File Send-ReimageEvent.ps1 -Event failed -Detail "Apply Operating System: 0x80070070"
#>
param(
    [Parameter(Mandatory)] [ValidateSet('started', 'progress', 'applied', 'first-boot', 'failed')] [string] $Event,
    [ValidateRange(0, 100)] [int] $Percent = 0,
    [string] $Detail,
    [string] $Server,          # else the task-sequence variable ReimageServer
    [string] $Token,           # else the (hidden) task-sequence variable ReimageToken
    [hashtable] $Attestation,  # first-boot only; see Send-ReimageAttestation.ps1
    [string] $Log = "$env:TEMP\reimage-phonehome.log"
)

function Write-Log([string] $message) {
    # The token never goes to the log.
    "$(Get-Date -Format o) $message" | Out-File -FilePath $Log -Append -Encoding utf8
}

try {
    try { $ts = New-Object -ComObject Microsoft.SMS.TSEnvironment } catch { $ts = $null }
    if (-not $Server -and $ts) { $Server = $ts.Value('ReimageServer') }
    if (-not $Token -and $ts) { $Token = $ts.Value('ReimageToken') }
    if (-not $Server -or -not $Token) { Write-Log "no server or token (set ReimageServer and ReimageToken); nothing sent"; exit 0 }

    [Net.ServicePointManager]::SecurityProtocol = [Net.SecurityProtocolType]::Tls12
    $serial = (Get-WmiObject -Class Win32_BIOS -ErrorAction SilentlyContinue).SerialNumber
    $mac = (Get-WmiObject -Class Win32_NetworkAdapterConfiguration -Filter 'IPEnabled = True' -ErrorAction SilentlyContinue |
        Where-Object { $_.MACAddress } | Select-Object -First 1).MACAddress
    $body = @{ serial = "$serial".Trim(); mac = $mac; event = $Event; timestamp = (Get-Date).ToUniversalTime().ToString('o') }
    if ($Event -eq 'progress') { $body.percent = $Percent }
    if ($Detail) { $body.detail = $Detail.Substring(0, [Math]::Min(500, $Detail.Length)) }
    if ($Attestation) { $body.attestation = $Attestation }
    $json = $body | ConvertTo-Json -Depth 3 -Compress
    $uri = $Server.TrimEnd('/') + '/phone-home/v1/events'

    # A few tries, only for what may pass on its own: the network, a busy server (5xx) or a rate limit (429).
    for ($try = 1; $try -le 4; $try++) {
        try {
            $answer = Invoke-RestMethod -Uri $uri -Method Post -Body $json -ContentType 'application/json' -Headers @{ Authorization = "Bearer $Token" } -TimeoutSec 15 -UseBasicParsing
            Write-Log "$Event sent: $($answer | ConvertTo-Json -Compress)"
            exit 0
        } catch {
            $status = 0
            if ($_.Exception.Response) { $status = [int]$_.Exception.Response.StatusCode }
            if ($status -ge 400 -and $status -lt 500 -and $status -ne 429) {
                Write-Log "$Event refused ($status): not retried (400 bad fields, 401 bad token, 404 machine unknown at this site)"
                exit 0
            }
            $wait = if ($status -eq 429) { 60 } else { 5 * $try }
            Write-Log "$Event attempt $try failed ($status $($_.Exception.Message)); next in $wait s"
            Start-Sleep -Seconds $wait
        }
    }
    Write-Log "$Event not delivered; the step's timeout on the server takes over"
} catch {
    Write-Log "phone-home error: $($_.Exception.Message)"
}
exit 0
