@{
    # The module's one version number: build/Module.targets reads it from here.
    ModuleVersion        = '0.1.0'
    GUID                 = '6f0b7c1e-3f4e-4d8a-9a53-2b7c4f1f9a10'
    Author               = 'CertIntegration contributors'
    CompanyName          = 'CertIntegration contributors'
    Copyright            = '(c) CertIntegration contributors. MIT License.'
    Description          = 'Client-certificate (mTLS) chores of SAP Cloud Integration as PowerShell pipelines: turn service keys into PFX files, read and export certificate containers, and test mTLS endpoints with a diagnosis.'

    # The psm1 picks the build: PowerShell 7 loads the net8.0 one (TLS client chains, owner-only file modes) into the
    # module's own AssemblyLoadContext; Windows PowerShell 5.1 the netstandard2.0 one.
    RootModule           = 'CertIntegration.psm1'
    PowerShellVersion    = '5.1'
    CompatiblePSEditions = @('Desktop', 'Core')
    DotNetFrameworkVersion = '4.7.2'

    FormatsToProcess     = @('CertIntegration.Format.ps1xml')
    TypesToProcess       = @('CertIntegration.Types.ps1xml')

    CmdletsToExport      = @(
        'ConvertFrom-ServiceKey'
        'New-PfxFromPem'
        'Import-CertificateBundle'
        'Export-CertificateChain'
        'Export-PrivateKey'
        'Test-MtlsEndpoint'
        'Get-ServerCertificateChain'
        'ConvertTo-X509Certificate'
        'New-ServiceKeyParameter'
        'Get-ServiceKeyToken'
        'Export-Keystore'
        'Test-CertificateBundle'
        'Get-CfServiceKey'
        'New-CfServiceKey'
        'Remove-CfServiceKey'
        'Connect-CpiTenant'
        'Get-CpiKeystoreEntry'
        'Get-CpiKeystoreCertificate'
        'Add-CpiKeystoreEntry'
        'Remove-CpiKeystoreEntry'
        'Import-CpiKeystore'
        'Enable-CpiKeystoreEntry'
    )
    FunctionsToExport    = @()
    VariablesToExport    = @()
    AliasesToExport      = @()

    PrivateData          = @{
        PSData = @{
            Tags         = @('SAP', 'CloudIntegration', 'CPI', 'BTP', 'mTLS', 'ClientCertificate', 'PKCS12', 'PFX', 'X509', 'Certificate', 'PSEdition_Desktop', 'PSEdition_Core', 'Windows', 'Linux', 'MacOS')
            LicenseUri   = 'https://github.com/certintegration/CertIntegration/blob/main/LICENSE'
            ProjectUri   = 'https://github.com/certintegration/CertIntegration'
            ReleaseNotes = 'See CHANGELOG.md.'
        }
    }
}
