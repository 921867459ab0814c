using System;
using System.IO;
using System.Management.Automation;
using System.Security;
using CertIntegration.Core.Cpi;
using CertIntegration.Core.Keystores;

namespace CertIntegration.Commands;

/// <summary>
/// <para type="synopsis">Imports a JKS keystore (such as Export-Keystore writes) into the tenant keystore through the Cloud Integration API.</para>
/// </summary>
[Cmdlet(VerbsData.Import, "CpiKeystore", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.High, HelpUri = HelpUris.Base + "import-cpikeystore")]
[OutputType(typeof(CpiKeystoreImportResult))]
public sealed class ImportCpiKeystoreCommand : CpiCmdlet
{
    /// <summary>The JKS or JCEKS file.</summary>
    [Parameter(Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true)]
    [Alias("PSPath", "FullName")]
    [ValidateNotNullOrEmpty]
    public string? Path { get; set; }

    /// <summary>The keystore's password (the one Export-Keystore wrote it with).</summary>
    [Parameter(Mandatory = true)]
    [ValidateNotNull]
    public SecureString? Password { get; set; }

    /// <summary>Merge (add new entries), Overwrite (also replace changed ones) or Replace (the tenant's entries become the file's).</summary>
    [Parameter]
    [ValidateSet("Merge", "Overwrite", "Replace")]
    public string Mode { get; set; } = "Merge";

    protected override void ProcessRecord()
    {
        string path = Path!;
        try
        {
            string file = ResolveExisting(path, literal: true)[0];
            var info = new FileInfo(file);
            if (info.Length > TenantKeystore.MaxJksUploadBytes)
            {
                throw new CertIntegrationException(ErrorIds.CpiPayloadTooLarge, FailureKind.LimitsExceeded,
                    $"'{file}' has {info.Length} bytes; the tenant takes a whole keystore of at most {TenantKeystore.MaxJksUploadBytes} bytes ({TenantKeystore.LimitsSource}). Nothing was sent.");
            }

            byte[] jks = File.ReadAllBytes(file);
            if (jks.Length < 4 || !((jks[0] == 0xFE && jks[1] == 0xED && jks[2] == 0xFE && jks[3] == 0xED) || (jks[0] == 0xCE && jks[1] == 0xCE && jks[2] == 0xCE && jks[3] == 0xCE)))
            {
                throw new CertIntegrationException(ErrorIds.CpiKeystoreInputInvalid, FailureKind.InvalidData,
                    $"'{file}' is not a JKS or JCEKS keystore (they begin with FEEDFEED or CECECECE); write one with Export-Keystore -Format Jks. Nothing was sent.");
            }

            string action = Mode switch
            {
                "Replace" => "Replace the tenant's system keystore entries with the entries of",
                "Overwrite" => "Import, overwriting entries of the same alias, the entries of",
                _ => "Import the new entries of",
            } + $" '{info.Name}'";
            if (!ShouldProcess(ResolvedConnection.BaseUrl.GetLeftPart(UriPartial.Authority) + " (system keystore)", action))
            {
                return;
            }

            using PasswordChars pw = PasswordChars.From(Password)!;
            char[] password = pw.Chars;
            WriteObject(Run(v => CpiKeystore.ImportKeystoreAsync(Client, jks, password, Mode, StopToken, v)), enumerateCollection: true);
        }
        catch (Exception ex) when (ex is not PipelineStoppedException)
        {
            WriteFailure(ex, path);
        }
    }
}
