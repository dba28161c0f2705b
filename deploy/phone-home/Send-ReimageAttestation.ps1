<#
.SYNOPSIS
  First-boot attestation: what the freshly imaged machine says about itself, sent as the "first-boot" event.
  Run in the full OS (State Restore in MDT, after "Setup Windows and ConfigMgr" in Configuration Manager).
  The server checks the image's SHA-256 against the golden image approved for the machine's image profile.

  The image identity is read from task-sequence variables ReimageImageId, ReimageImageVersion, ReimageImageSha256,
  or from the registry marker written right after the image is applied (in WinPE, the new OS is on C:):

    reg load HKLM\NewOS C:\Windows\System32\config\SOFTWARE
    reg add HKLM\NewOS\Reimage\Image /v Id /d Win11-Std /f
    reg add HKLM\NewOS\Reimage\Image /v Version /d 2026.11 /f
    reg add HKLM\NewOS\Reimage\Image /v Sha256 /d <sha256 of the .wim> /f
    reg unload HKLM\NewOS
#>
param([string] $Server, [string] $Token, [string] $SecurityAgentService = 'Sense')

$here = Split-Path -Parent $MyInvocation.MyCommand.Path
try { $ts = New-Object -ComObject Microsoft.SMS.TSEnvironment } catch { $ts = $null }
$marker = Get-ItemProperty -Path 'HKLM:\SOFTWARE\Reimage\Image' -ErrorAction SilentlyContinue
function Pick([string] $variable, $fallback) { if ($ts -and $ts.Value($variable)) { $ts.Value($variable) } else { $fallback } }

$version = Get-ItemProperty -Path 'HKLM:\SOFTWARE\Microsoft\Windows NT\CurrentVersion'
$computer = Get-WmiObject -Class Win32_ComputerSystem
$agent = Get-Service -Name $SecurityAgentService -ErrorAction SilentlyContinue
$attestation = @{
    osBuild       = "10.0.$($version.CurrentBuild).$($version.UBR)"
    imageId       = Pick 'ReimageImageId' $marker.Id
    imageVersion  = Pick 'ReimageImageVersion' $marker.Version
    imageSha256   = "$(Pick 'ReimageImageSha256' $marker.Sha256)".ToLowerInvariant()
    hostname      = $env:COMPUTERNAME
    domain        = if ($computer.PartOfDomain) { $computer.Domain } else { $null }
    securityAgent = if ($agent) { "$($SecurityAgentService):$($agent.Status)" } else { "$($SecurityAgentService):missing" }
}
& (Join-Path $here 'Send-ReimageEvent.ps1') -Event first-boot -Server $Server -Token $Token -Attestation $attestation
exit 0
