<#
.SYNOPSIS
  Installs, updates or re-enrols the Reimage site agent as the Windows service "ReimageAgent". Run elevated.

.EXAMPLE
  # Publish first: dotnet publish src/Agents -c Release -o C:\drop\agent
  .\install-windows.ps1 -From C:\drop\agent -Server https://reimage.example.org -Token ren_...
.EXAMPLE
  # BMC and WinRM accounts: the passwords are prompted for and stored DPAPI-protected (machine scope).
  .\install-windows.ps1 -RedfishUser bmcadmin -CimUser CORP\svc-reimage-verify -SecurityAgentService Sense -ExpectedDomain corp.example.com
#>
[CmdletBinding()]
param(
    [string] $From,
    [string] $Server,
    [string] $Token,
    [string] $Name = $env:COMPUTERNAME,
    [ValidateSet('real', 'simulated')] [string] $Driver = 'real',
    [string] $RedfishUser,
    [string] $CimUser,
    [string] $SecurityAgentService,
    [string] $ExpectedDomain,
    [string] $ServiceAccount   # a gMSA such as CORP\reimage-agent$; LocalSystem when empty
)
$ErrorActionPreference = 'Stop'
Add-Type -AssemblyName System.Security

$appDir = Join-Path $env:ProgramFiles 'Reimage\Agent'
$dataDir = Join-Path $env:ProgramData 'Reimage\Agent'
$settingsPath = Join-Path $appDir 'appsettings.json'
New-Item -ItemType Directory -Force -Path $appDir, $dataDir | Out-Null

# Only SYSTEM and Administrators may read the agent's data (its credential and the protected secrets).
$acl = New-Object System.Security.AccessControl.DirectorySecurity
$acl.SetAccessRuleProtection($true, $false)
foreach ($who in 'SYSTEM', 'Administrators') {
    $acl.AddAccessRule((New-Object System.Security.AccessControl.FileSystemAccessRule($who, 'FullControl', 'ContainerInherit,ObjectInherit', 'None', 'Allow')))
}
if ($ServiceAccount) {
    $acl.AddAccessRule((New-Object System.Security.AccessControl.FileSystemAccessRule($ServiceAccount, 'Modify', 'ContainerInherit,ObjectInherit', 'None', 'Allow')))
}
Set-Acl -Path $dataDir -AclObject $acl

$service = Get-Service -Name ReimageAgent -ErrorAction SilentlyContinue
if ($service -and $service.Status -ne 'Stopped') { Stop-Service ReimageAgent }
if ($From) { Copy-Item -Path (Join-Path $From '*') -Destination $appDir -Recurse -Force }

function Protect-Secret([string] $prompt, [string] $file) {
    # DPAPI, machine scope: readable by this machine's services only; never leaves the site.
    $secure = Read-Host -Prompt $prompt -AsSecureString
    $plain = [Runtime.InteropServices.Marshal]::PtrToStringBSTR([Runtime.InteropServices.Marshal]::SecureStringToBSTR($secure))
    $bytes = [Security.Cryptography.ProtectedData]::Protect([Text.Encoding]::UTF8.GetBytes($plain), $null, 'LocalMachine')
    [IO.File]::WriteAllBytes((Join-Path $dataDir $file), $bytes)
    return (Join-Path $dataDir $file)
}

# Keep what an earlier run configured; change only what this run was given.
$settings = if (Test-Path $settingsPath) { Get-Content $settingsPath -Raw | ConvertFrom-Json } else { [pscustomobject]@{} }
if (-not $settings.PSObject.Properties['Agent']) { $settings | Add-Member -NotePropertyName Agent -NotePropertyValue ([pscustomobject]@{}) }
$agent = $settings.Agent
function Set-Setting($object, [string] $key, $value) {
    if ($null -eq $value -or $value -eq '') { return }
    if ($object.PSObject.Properties[$key]) { $object.$key = $value } else { $object | Add-Member -NotePropertyName $key -NotePropertyValue $value }
}
Set-Setting $agent 'Server' $Server
Set-Setting $agent 'Name' $Name
Set-Setting $agent 'Driver' $Driver
Set-Setting $agent 'DataDirectory' $dataDir
if ($Token) {
    Set-Setting $agent 'EnrolmentToken' $Token
    Remove-Item (Join-Path $dataDir 'credential.dpapi') -ErrorAction SilentlyContinue   # re-enrol: the new token replaces the credential
}
if ($RedfishUser) {
    if (-not $agent.PSObject.Properties['Redfish']) { $agent | Add-Member -NotePropertyName Redfish -NotePropertyValue ([pscustomobject]@{}) }
    Set-Setting $agent.Redfish 'Username' $RedfishUser
    Set-Setting $agent.Redfish 'PasswordFile' (Protect-Secret "Password of BMC account $RedfishUser" 'redfish-password.dpapi')
}
if ($CimUser -or $SecurityAgentService -or $ExpectedDomain) {
    if (-not $agent.PSObject.Properties['Cim']) { $agent | Add-Member -NotePropertyName Cim -NotePropertyValue ([pscustomobject]@{}) }
    Set-Setting $agent.Cim 'SecurityAgentService' $SecurityAgentService
    Set-Setting $agent.Cim 'ExpectedDomain' $ExpectedDomain
    if ($CimUser) {
        Set-Setting $agent.Cim 'Username' $CimUser
        Set-Setting $agent.Cim 'PasswordFile' (Protect-Secret "Password of WinRM account $CimUser" 'cim-password.dpapi')
    }
}
$settings | ConvertTo-Json -Depth 5 | Set-Content -Path $settingsPath -Encoding UTF8

$exe = Join-Path $appDir 'Reimage.Agents.exe'
if (-not $service) {
    $arguments = @{ Name = 'ReimageAgent'; BinaryPathName = "`"$exe`""; DisplayName = 'Reimage site agent'; StartupType = 'Automatic'
                    Description = 'Wakes, boots and verifies machines for the Reimage recovery server.' }
    if ($ServiceAccount) { $arguments.Credential = New-Object PSCredential($ServiceAccount, (New-Object SecureString)) }
    New-Service @arguments | Out-Null
}
# Restart after a crash (a long server outage is not a reason to give up); exit codes 2, 3 and 4 need a person.
sc.exe failure ReimageAgent reset= 86400 actions= restart/15000/restart/15000/restart/60000 | Out-Null
sc.exe failureflag ReimageAgent 1 | Out-Null
Start-Service ReimageAgent

if ($Token) {
    $credential = Join-Path $dataDir 'credential.dpapi'
    $deadline = (Get-Date).AddSeconds(90)
    while (-not (Test-Path $credential) -and (Get-Date) -lt $deadline) { Start-Sleep -Seconds 2 }
    if (-not (Test-Path $credential)) { throw 'The agent did not enrol within 90 s: check the Application event log (source ReimageAgent).' }
    # The token is spent; it stays out of the configuration from now on.
    $settings.Agent.PSObject.Properties.Remove('EnrolmentToken')
    $settings | ConvertTo-Json -Depth 5 | Set-Content -Path $settingsPath -Encoding UTF8
    Write-Host 'Enrolled. The agent appears as online on the Agents page.'
}
