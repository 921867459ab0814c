namespace CertIntegration.Commands;

/// <summary>
/// Where Get-Help -Online goes: the cmdlet's section of the README on the project site (the manifest's ProjectUri).
/// Each cmdlet's HelpUri is <see cref="Base"/> plus the anchor of its README heading (the name in lower case); the
/// "online version" of its docs/en-US page is the same address.
/// </summary>
internal static class HelpUris
{
    public const string Base = "https://github.com/certintegration/CertIntegration#";
}
