<#
.SYNOPSIS
First boot of the rebuilt OS: reports "first-boot" to Reimage with an attestation of what is installed. This
completes the machine's imaging step; verification then checks the attested image against the approved golden
image. Always exits 0.

.DESCRIPTION
Collects, in the full OS:
  osBuild        HKLM\SOFTWARE\Microsoft\Windows NT\CurrentVersion: major.minor.CurrentBuild.UBR (10.0.22631.4460)
  hostname       Win32_ComputerSystem.Name
  domain         Win32_ComputerSystem.Domain, only when the machine is domain-joined
  securityAgent  "<service>:<state>" of the endpoint security service: -SecurityAgentService, the task sequence
                 variable ReimageSecurityAgent, or the first of a short list of known EDR services found
                 (a running one first); it waits up to -WaitSeconds for the service to reach Running
  imageId, imageVersion, imageSha256
                 -ImageId/-ImageVersion/-ImageSha256, else the task sequence variables ReimageImageId,
                 ReimageImageVersion, ReimageImageSha256, else the marker HKLM\SOFTWARE\Reimage\Image
                 (values Id, Version, Sha256) written when the image was applied.
and sends them with Send-ReimageEvent.ps1, which must be in the same folder (server and token as there:
-Server/-Token or the task sequence variables ReimageServer/ReimageToken).

Writing the marker, in WinPE right after the image is applied (one line, a Run Command Line step; the image values
come from task sequence variables; MDT calls the OS drive %OSDisk%, Configuration Manager %OSDTargetSystemDrive%):

  cmd.exe /c reg load HKLM\ReimageOS %OSDisk%\Windows\System32\config\SOFTWARE && reg add HKLM\ReimageOS\Reimage\Image /v Id /d "%ReimageImageId%" /f && reg add HKLM\ReimageOS\Reimage\Image /v Version /d "%ReimageImageVersion%" /f && reg add HKLM\ReimageOS\Reimage\Image /v Sha256 /d "%ReimageImageSha256%" /f & reg unload HKLM\ReimageOS

or, already in the full OS:

  reg add HKLM\SOFTWARE\Reimage\Image /v Id /d Win11-Std /f & reg add HKLM\SOFTWARE\Reimage\Image /v Version /d 2026.11 /f & reg add HKLM\SOFTWARE\Reimage\Image /v Sha256 /d <64 hex> /f

.EXAMPLE
powershell.exe -NoProfile -ExecutionPolicy Bypass -File Send-ReimageAttestation.ps1

.EXAMPLE
powershell.exe -NoProfile -ExecutionPolicy Bypass -File Send-ReimageAttestation.ps1 -SecurityAgentService CSFalconService -Server https://reimage.example.org -Token rph_...
#>

# Plain script, string parameters: see Send-ReimageEvent.ps1 (a binding error must not fail the step).
param(
    [string]$Server,
    [string]$Token,
    [string]$ImageId,
    [string]$ImageVersion,
    [string]$ImageSha256,
    [string]$SecurityAgentService,
    # How long to wait for the security agent to reach Running; on first boot it may still be starting.
    [string]$WaitSeconds = '30',
    [string]$Detail,
    [string]$LogPath
)

# Endpoint security services, most common first. Microsoft's Sense exists on every Windows 10/11 even when not
# onboarded, so a running service from this list wins over one that is merely installed.
$KnownSecurityAgents = @('Sense', 'CSFalconService', 'SentinelAgent', 'CbDefense', 'CylanceSvc', 'xagt', 'ekrn')

function Write-Log([string]$Text) {
    $line = '{0} Reimage attestation: {1}' -f (Get-Date -Format 'yyyy-MM-dd HH:mm:ss'), $Text
    Write-Host $line
    if ($script:LogFile) { try { Add-Content -LiteralPath $script:LogFile -Value $line -Encoding UTF8 } catch { } }
}

function Get-Setting($TSEnv, [string]$Name) {
    if ($TSEnv) { try { $value = [string]$TSEnv.Value($Name); if ($value) { return $value } } catch { } }
    return $null
}

function Get-ComputerSystem {
    try { return Get-CimInstance -ClassName Win32_ComputerSystem -ErrorAction Stop }
    catch { try { return Get-WmiObject -Class Win32_ComputerSystem -ErrorAction Stop } catch { return $null } }
}

function Get-OsBuild {
    $key = Get-ItemProperty -LiteralPath 'HKLM:\SOFTWARE\Microsoft\Windows NT\CurrentVersion' -ErrorAction Stop
    $major = 10; $minor = 0
    if ($key.PSObject.Properties['CurrentMajorVersionNumber']) { $major = $key.CurrentMajorVersionNumber; $minor = $key.CurrentMinorVersionNumber }
    $build = if ($key.PSObject.Properties['CurrentBuild']) { $key.CurrentBuild } else { $key.CurrentBuildNumber }
    $ubr = if ($key.PSObject.Properties['UBR']) { $key.UBR } else { 0 }
    return '{0}.{1}.{2}.{3}' -f $major, $minor, $build, $ubr
}

function Get-SecurityAgent([string]$Name, [int]$Wait) {
    $service = $null
    if ($Name) {
        $service = Get-Service -Name $Name -ErrorAction SilentlyContinue
        if (-not $service) { return '{0}:NotFound' -f $Name }
    }
    else {
        $present = @($KnownSecurityAgents | ForEach-Object { Get-Service -Name $_ -ErrorAction SilentlyContinue } | Where-Object { $_ })
        $service = @($present | Where-Object { $_.Status -eq 'Running' }) + $present | Select-Object -First 1
        if (-not $service) { return 'none:NotFound' }
    }
    if ($service.Status -ne 'Running' -and $service.StartType -ne 'Disabled' -and $Wait -gt 0) {
        Write-Log ('waiting up to {0}s for {1} ({2}) to run' -f $Wait, $service.Name, $service.Status)
        try { $service.WaitForStatus('Running', [TimeSpan]::FromSeconds($Wait)) } catch { }
        $service.Refresh()
    }
    return '{0}:{1}' -f $service.Name, $service.Status
}

function Send-ReimageAttestation {
    $tsEnv = $null
    try { $tsEnv = New-Object -ComObject Microsoft.SMS.TSEnvironment } catch { }
    if (-not $LogPath) {
        $folder = Get-Setting $tsEnv '_SMSTSLogPath'
        if (-not $folder -or -not (Test-Path -LiteralPath $folder)) { $folder = Join-Path $env:SystemRoot 'Temp' }
        $LogPath = Join-Path $folder 'ReimagePhoneHome.log'
    }
    $script:LogFile = $LogPath

    $attestation = @{}
    $notes = @()
    try { $attestation['osBuild'] = Get-OsBuild } catch { $notes += 'OS build not readable' }

    $system = Get-ComputerSystem
    if ($system) {
        $attestation['hostname'] = [string]$system.Name
        if ($system.PartOfDomain) { $attestation['domain'] = [string]$system.Domain }
        else { $notes += 'not domain-joined (workgroup {0})' -f $system.Domain }
    }
    else { $attestation['hostname'] = $env:COMPUTERNAME; $notes += 'Win32_ComputerSystem not readable' }

    $serviceName = if ($SecurityAgentService) { $SecurityAgentService } else { Get-Setting $tsEnv 'ReimageSecurityAgent' }
    $wait = 30
    [void][int]::TryParse($WaitSeconds, [ref]$wait)
    $attestation['securityAgent'] = Get-SecurityAgent $serviceName $wait

    $marker = Get-ItemProperty -LiteralPath 'HKLM:\SOFTWARE\Reimage\Image' -ErrorAction SilentlyContinue
    foreach ($item in @(@('imageId', $ImageId, 'ReimageImageId', 'Id'), @('imageVersion', $ImageVersion, 'ReimageImageVersion', 'Version'),
            @('imageSha256', $ImageSha256, 'ReimageImageSha256', 'Sha256'))) {
        $value = $item[1]
        if (-not $value) { $value = Get-Setting $tsEnv $item[2] }
        if (-not $value -and $marker -and $marker.PSObject.Properties[$item[3]]) { $value = [string]$marker.($item[3]) }
        if ($value) { $attestation[$item[0]] = $value.Trim() }
        else { $notes += "no $($item[0]) (parameter, task sequence variable $($item[2]) or HKLM\SOFTWARE\Reimage\Image\$($item[3]))" }
    }

    $summary = ($attestation.GetEnumerator() | Sort-Object Name | ForEach-Object { '{0}={1}' -f $_.Name, $_.Value }) -join ', '
    Write-Log "collected $summary"
    if ($notes.Count -gt 0) { Write-Log ('notes: {0}' -f ($notes -join '; ')) }

    $here = if ($PSScriptRoot) { $PSScriptRoot } else { Split-Path -Parent $MyInvocation.ScriptName }
    $sender = Join-Path $here 'Send-ReimageEvent.ps1'
    if (-not (Test-Path -LiteralPath $sender)) {
        Write-Log "Send-ReimageEvent.ps1 is not beside this script ($here): first-boot not sent"
        return
    }
    $text = @($Detail) + $notes | Where-Object { $_ }
    & $sender -Event 'first-boot' -Attestation $attestation -Detail ($text -join '; ') -Server $Server -Token $Token -LogPath $LogPath
}

$script:LogFile = $null
try { Send-ReimageAttestation }
catch { Write-Log ('unexpected error, first-boot not sent: {0}' -f $_.Exception.Message) }
exit 0
