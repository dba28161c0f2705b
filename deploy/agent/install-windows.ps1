#Requires -Version 5.1
#Requires -RunAsAdministrator
<#
.SYNOPSIS
Installs, updates or re-enrols the Reimage site agent as the Windows service ReimageAgent.

.DESCRIPTION
Copies the published agent to %ProgramFiles%\Reimage\Agent, writes the machine's settings into the Agent section
of appsettings.json next to Reimage.Agents.exe (readable by SYSTEM, Administrators and the service account only),
stores BMC and WinRM passwords as DPAPI (LocalMachine) protected .dpapi files under
%ProgramData%\Reimage\Agent\secrets, creates or updates the service with recovery actions, starts it and, when a
token was given, waits for the agent to enrol and then removes the token from appsettings.json.

Settings not given keep their current values, so running it again is safe.

.EXAMPLE
# First install (publish first: dotnet publish src/Agents -c Release -o C:\drop\agent)
.\install-windows.ps1 -Source C:\drop\agent -Server https://reimage.example.org -Token ren_... -Name RUH-AGENT-1

.EXAMPLE
# Re-enrol or rotate the credential with a new enrolment token from the dashboard
.\install-windows.ps1 -Token ren_...

.EXAMPLE
# BMC and WinRM accounts (prompts for both passwords) and CIM verification checks
.\install-windows.ps1 -RedfishUsername admin -CimUsername CORP\svc-reimage-verify -CimSecurityAgentService Sense -CimExpectedDomain corp.example.com

.EXAMPLE
# Run as a group managed service account instead of LocalSystem (-ServiceAccount LocalSystem goes back)
.\install-windows.ps1 -ServiceAccount 'CORP\gmsa-reimage$'
#>
[CmdletBinding()]
param(
    # Folder with the published agent. Default: this script's folder if it holds Reimage.Agents.exe, otherwise the
    # installed files are kept.
    [string]$Source,
    [string]$Server,
    # One-time enrolment token (POST /api/sites/{id}/enrolment-tokens); replaces any stored credential.
    [string]$Token,
    [string]$Name,
    [ValidateSet('real', 'simulated')][string]$Driver,
    [string]$WakeOnLanBroadcastAddress,
    [ValidateRange(1, 65535)][int]$WakeOnLanPort,
    [string]$RedfishUsername,
    # Prompted for when -RedfishUsername is given without it.
    [securestring]$RedfishPassword,
    [string]$CimUsername,
    [securestring]$CimPassword,
    # The endpoint security service verification expects running, e.g. Sense or CSFalconService.
    [string]$CimSecurityAgentService,
    [string]$CimExpectedDomain,
    # 'DOMAIN\name$' for a gMSA, or LocalSystem (the default for a new service).
    [string]$ServiceAccount,
    # Allows an http:// server on loopback only (tests).
    [switch]$AllowInsecureHttp,
    [ValidateRange(0, 3600)][int]$WaitSeconds = 90
)

Set-StrictMode -Version 2.0
$ErrorActionPreference = 'Stop'

$ServiceName = 'ReimageAgent'   # the name the agent gives itself (AddWindowsService in src/Agents/Program.cs)
$InstallDir = Join-Path $env:ProgramFiles 'Reimage\Agent'
$Exe = Join-Path $InstallDir 'Reimage.Agents.exe'
$ConfigFile = Join-Path $InstallDir 'appsettings.json'
$DataDir = Join-Path $env:ProgramData 'Reimage\Agent'     # the agent's default Agent:DataDirectory
$SecretsDir = Join-Path $DataDir 'secrets'
$CredentialFile = Join-Path $DataDir 'credential.dpapi'   # written by the agent (src/Agents/Enrolment/CredentialStore.cs)
$SystemSid = '*S-1-5-18'           # SIDs, not names, so the script works on any display language
$AdministratorsSid = '*S-1-5-32-544'

function Write-Step([string]$Text) { Write-Host $Text }

function Invoke-Native([string]$File, [string[]]$Arguments) {
    # 'Continue' here: Windows PowerShell turns a native tool's stderr into a terminating error under 'Stop'.
    $ErrorActionPreference = 'Continue'
    $output = & $File @Arguments 2>&1
    if ($LASTEXITCODE -ne 0) { throw ('{0} {1} failed ({2}): {3}' -f $File, ($Arguments -join ' '), $LASTEXITCODE, ($output -join ' ')) }
}

# LocalMachine DPAPI lets any process on this machine decrypt, so the ACL is what actually keeps a secret secret:
# SYSTEM and Administrators, plus read (or modify, for the data folder) for a gMSA the service runs as.
function Set-PrivateAcl([string]$Path, [string]$Account, [string]$AccountRights, [string]$PreviousAccount, [switch]$Folder) {
    $inherit = if ($Folder) { '(OI)(CI)' } else { '' }
    $grants = @(('{0}:{1}F' -f $SystemSid, $inherit), ('{0}:{1}F' -f $AdministratorsSid, $inherit))
    if ($Account) { $grants += '{0}:{1}{2}' -f $Account, $inherit, $AccountRights }
    Invoke-Native icacls.exe (@($Path, '/inheritance:r', '/grant:r') + $grants + '/Q')
    if ($PreviousAccount -and $PreviousAccount -ne $Account) {
        Invoke-Native icacls.exe @($Path, '/remove:g', $PreviousAccount, '/Q')
    }
}

function ConvertTo-Tree($Value) {
    # Windows PowerShell 5.1 has no ConvertFrom-Json -AsHashtable; ordered dictionaries keep the file's order.
    if ($Value -is [System.Management.Automation.PSCustomObject]) {
        $tree = [ordered]@{}
        foreach ($property in $Value.PSObject.Properties) { $tree[$property.Name] = ConvertTo-Tree $property.Value }
        return $tree
    }
    return $Value
}

function Get-Section($Tree, [string]$Key) {
    if (-not $Tree.Contains($Key) -or -not ($Tree[$Key] -is [System.Collections.IDictionary])) { $Tree[$Key] = [ordered]@{} }
    return $Tree[$Key]
}

function Read-Config([string]$Path) {
    if (-not (Test-Path -LiteralPath $Path)) { return [ordered]@{} }
    $text = [IO.File]::ReadAllText($Path)
    if (-not $text.Trim()) { return [ordered]@{} }
    return ConvertTo-Tree ($text | ConvertFrom-Json)
}

function Write-Config($Tree, [string]$Path) {
    # Overwriting the existing file keeps the private ACL set on it before any secret went in.
    [IO.File]::WriteAllText($Path, ($Tree | ConvertTo-Json -Depth 10), (New-Object Text.UTF8Encoding $false))
}

function Read-Secret([string]$Prompt, $Given) {
    $secret = if ($Given) { $Given } else { Read-Host -AsSecureString -Prompt $Prompt }
    if ($secret.Length -eq 0) { throw "$Prompt : no password given" }
    return $secret
}

function Protect-ToFile([securestring]$Secret, [string]$Path) {
    $bstr = [Runtime.InteropServices.Marshal]::SecureStringToBSTR($Secret)
    try { $bytes = [Text.Encoding]::UTF8.GetBytes([Runtime.InteropServices.Marshal]::PtrToStringBSTR($bstr)) }
    finally { [Runtime.InteropServices.Marshal]::ZeroFreeBSTR($bstr) }
    try { $blob = [Security.Cryptography.ProtectedData]::Protect($bytes, $null, [Security.Cryptography.DataProtectionScope]::LocalMachine) }
    finally { [Array]::Clear($bytes, 0, $bytes.Length) }
    # Written inside the private folder, so the file inherits its ACL from the first byte on.
    [IO.File]::WriteAllBytes("$Path.new", $blob)
    Move-Item -LiteralPath "$Path.new" -Destination $Path -Force
}

function Get-AgentId([string]$Path) {
    try {
        $plain = [Security.Cryptography.ProtectedData]::Unprotect([IO.File]::ReadAllBytes($Path), $null, [Security.Cryptography.DataProtectionScope]::LocalMachine)
        return ([Text.Encoding]::UTF8.GetString($plain) | ConvertFrom-Json).agentId
    }
    catch { return $null }
}

# --- checks before anything changes -------------------------------------------------------------------------
try { Add-Type -AssemblyName System.Security } catch { }   # ProtectedData: needed in 5.1, built in on PowerShell 7
if (-not ('System.Security.Cryptography.ProtectedData' -as [type])) { throw 'System.Security.Cryptography.ProtectedData (DPAPI) is not available in this PowerShell.' }

if ($Server) {
    $uri = $null
    if (-not [Uri]::TryCreate($Server, [UriKind]::Absolute, [ref]$uri)) { throw "-Server '$Server' is not an absolute URL" }
    $loopback = $uri.IsLoopback -and $uri.Scheme -eq 'http' -and $AllowInsecureHttp
    if ($uri.Scheme -ne 'https' -and -not $loopback) { throw '-Server must be https:// (plain http only on loopback with -AllowInsecureHttp, for tests)' }
}
if ($Token -and $Token -match '\s') { throw '-Token contains spaces: paste the token exactly as the dashboard showed it' }
if ($Name -and $Name.Length -gt 128) { throw '-Name: at most 128 characters' }
if ($WakeOnLanBroadcastAddress) {
    $address = $null
    if (-not [Net.IPAddress]::TryParse($WakeOnLanBroadcastAddress, [ref]$address) -or $address.AddressFamily -ne 'InterNetwork') { throw '-WakeOnLanBroadcastAddress is an IPv4 address' }
}
if ($ServiceAccount -and $ServiceAccount -ne 'LocalSystem' -and $ServiceAccount -notmatch '^[^\\\s"]+\\[^\\\s"]+\$$') {
    throw "-ServiceAccount is a gMSA as DOMAIN\name$ (or LocalSystem)"
}

if (-not $Source -and (Test-Path -LiteralPath (Join-Path $PSScriptRoot 'Reimage.Agents.exe'))) { $Source = $PSScriptRoot }
if ($Source) {
    # No trailing backslash: robocopy would read \" as an escaped quote.
    $Source = (Resolve-Path -LiteralPath $Source).ProviderPath.TrimEnd('\')
    if (-not (Test-Path -LiteralPath (Join-Path $Source 'Reimage.Agents.exe'))) {
        throw "$Source has no published agent: dotnet publish src/Agents -c Release -o $Source"
    }
}
elseif (-not (Test-Path -LiteralPath $Exe)) {
    throw 'Nothing installed yet: pass -Source with the published agent (dotnet publish src/Agents -c Release -o DIR)'
}

$config = Read-Config $ConfigFile
$agent = Get-Section $config 'Agent'
$previousServer = if ($agent.Contains('Server')) { [string]$agent['Server'] } else { '' }
if ($Server) { $agent['Server'] = $Server }
if (-not $agent.Contains('Server') -or -not $agent['Server']) { throw 'First install: -Server is required' }
if (([string]$agent['Server']).StartsWith('http://')) { $agent['AllowInsecureHttp'] = $true } elseif ($agent.Contains('AllowInsecureHttp')) { $agent.Remove('AllowInsecureHttp') }
if ($Name) { $agent['Name'] = $Name }
if ($Driver) { $agent['Driver'] = $Driver }
if ($WakeOnLanBroadcastAddress) { (Get-Section $agent 'WakeOnLan')['BroadcastAddress'] = $WakeOnLanBroadcastAddress }
if ($PSBoundParameters.ContainsKey('WakeOnLanPort')) { (Get-Section $agent 'WakeOnLan')['Port'] = $WakeOnLanPort }
if ($CimSecurityAgentService) { (Get-Section $agent 'Cim')['SecurityAgentService'] = $CimSecurityAgentService }
if ($CimExpectedDomain) { (Get-Section $agent 'Cim')['ExpectedDomain'] = $CimExpectedDomain }
$agent['DataDirectory'] = $DataDir

$enrolled = Test-Path -LiteralPath $CredentialFile
if (-not $Token) {
    if ($enrolled -and $previousServer -and $previousServer.TrimEnd('/') -ne ([string]$agent['Server']).TrimEnd('/')) {
        throw "The agent is enrolled with $previousServer; moving it to another server needs a new enrolment token (-Token)"
    }
    if (-not $enrolled -and -not ($agent.Contains('EnrolmentToken') -and $agent['EnrolmentToken'])) {
        throw 'The agent is not enrolled yet: pass -Token (a lead creates one for the site in the dashboard)'
    }
}

# Passwords are asked for before anything changes, so a cancelled prompt leaves the machine as it was.
if ($RedfishUsername) { $RedfishPassword = Read-Secret "Redfish (BMC) password for $RedfishUsername" $RedfishPassword }
if ($CimUsername) { $CimPassword = Read-Secret "WinRM password for $CimUsername" $CimPassword }

# --- changes from here on -----------------------------------------------------------------------------------
$service = Get-CimInstance -ClassName Win32_Service -Filter "Name='$ServiceName'"
$previousAccount = $null
if ($service -and $service.StartName -and $service.StartName -ne 'LocalSystem') { $previousAccount = $service.StartName }
$account = if ($ServiceAccount) { $ServiceAccount } else { $previousAccount }
if ($account -eq 'LocalSystem') { $account = $null }
if ($service -and $service.State -ne 'Stopped') {
    Write-Step "Stopping $ServiceName"
    Stop-Service -Name $ServiceName -Force
}

if ($Source -and $Source -ne $InstallDir) {
    New-Item -ItemType Directory -Path $InstallDir -Force | Out-Null
    # /MIR drops files an older version had; robocopy's exit codes below 8 mean success.
    & robocopy.exe $Source $InstallDir /MIR /R:2 /W:2 /NFL /NDL /NJH /NJS /NP | Out-Null
    if ($LASTEXITCODE -ge 8) { throw "Copying $Source to $InstallDir failed (robocopy exit code $LASTEXITCODE)" }
    Write-Step "Installed the agent in $InstallDir"
}

# A framework-dependent publish needs the .NET runtime it was built for; a self-contained one carries coreclr.dll.
if (-not (Test-Path -LiteralPath (Join-Path $InstallDir 'coreclr.dll'))) {
    $major = '10'
    try { $major = ((Get-Content -Raw -LiteralPath (Join-Path $InstallDir 'Reimage.Agents.runtimeconfig.json') | ConvertFrom-Json).runtimeOptions.framework.version -split '\.')[0] } catch { }
    $runtimes = Join-Path $env:ProgramFiles 'dotnet\shared\Microsoft.NETCore.App'
    if (-not (Get-ChildItem -LiteralPath $runtimes -Directory -Filter "$major.*" -ErrorAction SilentlyContinue)) {
        Write-Warning "No .NET $major runtime in ${runtimes}: install the .NET $major Runtime (x64), or publish self-contained (dotnet publish src/Agents -c Release -r win-x64 --self-contained -o DIR)."
    }
}

New-Item -ItemType Directory -Path $DataDir -Force | Out-Null
Set-PrivateAcl -Path $DataDir -Folder -Account $account -AccountRights 'M' -PreviousAccount $previousAccount
New-Item -ItemType Directory -Path $SecretsDir -Force | Out-Null
Set-PrivateAcl -Path $SecretsDir -Folder -Account $account -AccountRights 'RX' -PreviousAccount $previousAccount

if ($RedfishUsername) {
    $file = Join-Path $SecretsDir 'redfish-password.dpapi'
    Protect-ToFile $RedfishPassword $file
    (Get-Section $agent 'Redfish')['Username'] = $RedfishUsername
    (Get-Section $agent 'Redfish')['PasswordFile'] = $file
    Write-Step "Stored the Redfish password in $file (DPAPI, LocalMachine)"
}
if ($CimUsername) {
    $file = Join-Path $SecretsDir 'cim-password.dpapi'
    Protect-ToFile $CimPassword $file
    (Get-Section $agent 'Cim')['Username'] = $CimUsername
    (Get-Section $agent 'Cim')['PasswordFile'] = $file
    Write-Step "Stored the WinRM password in $file (DPAPI, LocalMachine)"
}

# Re-enrolment: the agent enrols only when it has no credential for this server, so the old one is moved aside
# (and put back if the new enrolment does not complete).
$previousAgent = $null
$previousCredential = "$CredentialFile.previous"
if ($Token) {
    $agent['EnrolmentToken'] = $Token
    if ($enrolled) {
        $previousAgent = Get-AgentId $CredentialFile
        Move-Item -LiteralPath $CredentialFile -Destination $previousCredential -Force
    }
}

# The published appsettings.json carries the host's defaults (logging); the Agent section is this machine's.
$published = Read-Config $ConfigFile
$published['Agent'] = $agent
$config = $published
if (-not (Test-Path -LiteralPath $ConfigFile)) { [IO.File]::WriteAllText($ConfigFile, '{}') }
Set-PrivateAcl -Path $ConfigFile -Account $account -AccountRights 'R' -PreviousAccount $previousAccount
Write-Config $config $ConfigFile

$binaryPath = '"{0}"' -f $Exe   # quoted: the path has spaces
if (-not $service) {
    New-Service -Name $ServiceName -BinaryPathName $binaryPath -DisplayName 'Reimage site agent' -StartupType Automatic `
        -Description 'Carries out Reimage recovery steps for this site: Wake-on-LAN, Redfish, CIM verification.' | Out-Null
    Write-Step "Created the service $ServiceName"
}
elseif ($service.PathName -ne $binaryPath) {
    # Win32_Service.Change instead of sc.exe: Windows PowerShell drops the quotes sc.exe would need around the path.
    $result = Invoke-CimMethod -InputObject $service -MethodName Change -Arguments @{ PathName = $binaryPath }
    if ($result.ReturnValue -ne 0) { throw "Could not update the service's path (Win32_Service.Change returned $($result.ReturnValue))" }
}
# Delayed start: the network and DNS are usually up by then, so the first call to the server does not fail.
Invoke-Native sc.exe @('config', $ServiceName, 'start=', 'delayed-auto')
if ($ServiceAccount) {
    # A gMSA has no password to give; it needs the "Log on as a service" right on this machine (see README.md).
    Invoke-Native sc.exe @('config', $ServiceName, 'obj=', $ServiceAccount)
}
# Restart after 15 s, 1 min, then every 5 min. failureflag 1 applies the actions also when the agent stops itself
# with a non-zero exit code. Windows cannot exempt exit codes 2/3/4 (unlike systemd): an unenrolled or revoked
# agent is started again every 5 minutes and stops at once, logging why.
Invoke-Native sc.exe @('failure', $ServiceName, 'reset=', '86400', 'actions=', 'restart/15000/restart/60000/restart/300000')
Invoke-Native sc.exe @('failureflag', $ServiceName, '1')

# The host logs warnings and errors to the Application log under its application name; a gMSA may not create the
# source itself.
try { if (-not [Diagnostics.EventLog]::SourceExists('Reimage.Agents')) { New-EventLog -LogName Application -Source 'Reimage.Agents' } }
catch { Write-Warning "Could not register the event log source Reimage.Agents: $($_.Exception.Message)" }

Start-Service -Name $ServiceName -ErrorAction SilentlyContinue

if ($agent.Contains('EnrolmentToken') -and $agent['EnrolmentToken']) {
    Write-Step "Waiting up to $WaitSeconds s for the agent to enrol with $($agent['Server'])..."
    $deadline = (Get-Date).AddSeconds($WaitSeconds)
    while ((Get-Date) -lt $deadline -and -not (Test-Path -LiteralPath $CredentialFile)) { Start-Sleep -Seconds 2 }

    if (Test-Path -LiteralPath $CredentialFile) {
        # The token is used up; keep no copy of it.
        $agent.Remove('EnrolmentToken')
        Write-Config $config $ConfigFile
        Remove-Item -LiteralPath $previousCredential -Force -ErrorAction SilentlyContinue
        $agentId = Get-AgentId $CredentialFile
        Write-Step "Enrolled as agent $agentId; the enrolment token has been removed from $ConfigFile."
        if ($previousAgent -and $previousAgent -ne $agentId) {
            Write-Step "The previous credential (agent $previousAgent) is gone from this machine; unless it is revoked already, have a lead revoke it:"
            Write-Step "  POST /api/agents/$previousAgent/revoke (or Revoke on the /agents page)"
        }
    }
    elseif (Test-Path -LiteralPath $previousCredential) {
        Stop-Service -Name $ServiceName -Force -ErrorAction SilentlyContinue
        Move-Item -LiteralPath $previousCredential -Destination $CredentialFile -Force
        $agent.Remove('EnrolmentToken')
        Write-Config $config $ConfigFile
        Start-Service -Name $ServiceName -ErrorAction SilentlyContinue
        throw "Enrolment did not complete within $WaitSeconds s (Event Viewer > Application, source Reimage.Agents, says why). The previous credential is back in place (if it was revoked, the agent stops again with exit code 4); re-run with -Token once the cause is fixed (a token that was used or has expired needs a new one)."
    }
    else {
        throw "Enrolment did not complete within $WaitSeconds s (Event Viewer > Application, source Reimage.Agents, says why). The agent keeps trying with the token; re-run with a new -Token if this one was refused."
    }
}

Start-Sleep -Seconds 2
$state = (Get-Service -Name $ServiceName).Status
if ($state -ne 'Running') {
    throw "$ServiceName is $state (Event Viewer > Application, source Reimage.Agents; exit code 2 = not enrolled, 3 = bad configuration (the log names the key), 4 = credential revoked: re-run with a new -Token)"
}
Write-Step "$ServiceName is running."
