using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Management.Automation;
using System.Security;
using System.Security.Cryptography.X509Certificates;

namespace CertIntegration.Commands;

/// <summary>
/// <para type="synopsis">Writes the certificates of a chain to files, one per certificate or one per chain, with names that show role and subject.</para>
/// </summary>
[Cmdlet(VerbsData.Export, "CertificateChain", DefaultParameterSetName = InputObjectSet, SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Low, HelpUri = HelpUris.Base + "export-certificatechain")]
[OutputType(typeof(FileInfo))]
public sealed class ExportCertificateChainCommand : CertIntegrationCmdlet
{
    private const string InputObjectSet = "InputObject";
    private const string PathSet = "Path";
    private const string LiteralPathSet = "LiteralPath";

    /// <summary>Type name on the returned FileInfo objects, for the format view (Role, Name, Subject).</summary>
    internal const string ExportedTypeName = "CertIntegration.ExportedCertificate";

    private static readonly CertificateRole[] AllRoles = { CertificateRole.Leaf, CertificateRole.Intermediate, CertificateRole.Root };

    private readonly List<(X509Certificate2 Certificate, object Target)> _loose = new();
    private CertificateRole _include;
    private OutputFiles? _files;

    /// <summary>CertificateBundle objects (ConvertFrom-ServiceKey, Import-CertificateBundle) or X509Certificate2 objects (e.g. from Cert:\CurrentUser\My).</summary>
    [Parameter(Mandatory = true, ValueFromPipeline = true, ParameterSetName = InputObjectSet)]
    [ValidateNotNull]
    public PSObject[] InputObject { get; set; } = Array.Empty<PSObject>();

    /// <summary>Certificate files to read; wildcards allowed.</summary>
    [Parameter(Mandatory = true, Position = 0, ParameterSetName = PathSet)]
    [SupportsWildcards]
    [ValidateNotNullOrEmpty]
    public string[] Path { get; set; } = Array.Empty<string>();

    /// <summary>Certificate files to read, taken literally.</summary>
    [Parameter(Mandatory = true, ParameterSetName = LiteralPathSet, ValueFromPipelineByPropertyName = true)]
    [Alias("PSPath", "LP")]
    [ValidateNotNullOrEmpty]
    public string[] LiteralPath { get; set; } = Array.Empty<string>();

    /// <summary>Password of a protected container file (PFX) given with -Path or -LiteralPath.</summary>
    [Parameter(ParameterSetName = PathSet)]
    [Parameter(ParameterSetName = LiteralPathSet)]
    public SecureString? Password { get; set; }

    /// <summary>Folder to write into (default: the current location). Created when missing.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? Destination { get; set; }

    /// <summary>One file to write: one certificate, or with -Format PemBundle or P7b one chain.</summary>
    [Parameter]
    [Alias("FilePath")]
    [ValidateNotNullOrEmpty]
    public string? OutFile { get; set; }

    /// <summary>Which certificates of each chain to write (default: all).</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    // The set, not the enum, is what tab completion offers: the enum's None names no certificate and would be refused.
    [ValidateSet(nameof(CertificateRole.Leaf), nameof(CertificateRole.Intermediate), nameof(CertificateRole.Root))]
    public CertificateRole[] Include { get; set; } = AllRoles;

    /// <summary>File format (default Base64: PEM-armoured .cer with CRLF, as Windows and STRUST import it).</summary>
    [Parameter]
    public CertificateExportFormat Format { get; set; } = CertificateExportFormat.Base64;

    /// <summary>Overwrite existing files.</summary>
    [Parameter]
    public SwitchParameter Force { get; set; }

    protected override void BeginProcessing()
    {
        _include = Include.Aggregate(CertificateRole.None, (a, r) => a | r);
        if (_include == CertificateRole.None)
        {
            ThrowTerminatingError(new ErrorRecord(new ArgumentException("-Include names no role; give Leaf, Intermediate and/or Root."), ErrorIds.IncludeEmpty, ErrorCategory.InvalidArgument, Include));
        }

        _files = OutputFiles.Open(this, OutFile, Destination, missing: null,
            ambiguousHint: "-OutFile holds one certificate, or with -Format PemBundle or P7b one chain: pick one with -Include, or use -Destination for a file per certificate.");
    }

    protected override void ProcessRecord()
    {
        if (ParameterSetName == InputObjectSet)
        {
            foreach (PSObject item in InputObject)
            {
                ProcessInput(item);
            }

            return;
        }

        foreach (string file in ResolveFiles(ParameterSetName == PathSet ? Path : LiteralPath, ParameterSetName == LiteralPathSet))
        {
            ExportFile(file, file);
        }
    }

    protected override void EndProcessing()
    {
        if (_loose.Count == 0)
        {
            return;
        }

        // Loose certificates are grouped into chains, so that a piped leaf, intermediate and root get their roles.
        List<List<X509Certificate2>> chains = ChainBuilder.Group(_loose.Select(l => l.Certificate));
        WriteVerbose($"{_loose.Count} piped certificate(s) form {chains.Count} chain(s).");
        foreach (List<X509Certificate2> certs in chains)
        {
            X509Certificate2? piped = _loose.FirstOrDefault(l => l.Certificate.Thumbprint == certs[0].Thumbprint).Certificate;
            object target = piped ?? certs[0];
            Export(certs, target, piped?.HasPrivateKey == true);
        }

        _loose.Clear();
    }

    private void ProcessInput(PSObject? item)
    {
        switch (item?.BaseObject)
        {
            case null:
                return;
            case CertificateBundle bundle:
                Export(bundle.Chain, bundle, bundle.HasPrivateKey);
                return;
            case X509Certificate2 cert:
                _loose.Add((cert, cert));
                return;
            case FileInfo file:
                ExportFile(file.FullName, file);
                return;
            case string path:
                // A path piped as text, like -Path (wildcards): '.\chain.p7b' | Export-CertificateChain.
                foreach (string file in ResolveFiles(new[] { path }, literal: false))
                {
                    ExportFile(file, path);
                }

                return;
            case var _ when FilePathOf(item!) is { } boundPath:
                // Objects that name a file (PSPath, as Get-Item and Get-ChildItem give them, or LiteralPath/FullName)
                // land here because -InputObject takes anything from the pipeline: read them as -LiteralPath would.
                foreach (string file in ResolveFiles(new[] { boundPath }, literal: true))
                {
                    ExportFile(file, item!);
                }

                return;
            default:
                WriteFailure(new CertIntegrationException(ErrorIds.InputNotCertificate, FailureKind.InvalidArgument,
                    $"Export-CertificateChain takes CertificateBundle or X509Certificate2 objects, or certificate files (paths or file objects); got {item.BaseObject.GetType().FullName}."), item);
                return;
        }
    }

    /// <summary>
    /// Reads every bundle of a certificate container (PEM, DER, PKCS#7, PKCS#12, JKS, service key) and exports it. The
    /// reader's messages are written after the read, outside its error handling, as Import-CertificateBundle does.
    /// </summary>
    private void ExportFile(string path, object target)
    {
        IReadOnlyList<CertificateBundle>? bundles = HeldMessages.Read(this, held => ContainerReader.ReadFile(path, Password, held.Verbose, held.Warning), out Exception? failure);
        if (bundles is null)
        {
            WriteFailure(failure!, target);
            return;
        }

        foreach (CertificateBundle bundle in bundles)
        {
            Export(bundle.Chain, target, bundle.HasPrivateKey);
        }
    }

    private void Export(IReadOnlyList<X509Certificate2> chain, object target, bool leafHasKey)
    {
        CertificateRole[] roles = CertificateExport.Roles(chain, leafHasKey);
        List<int> selected = Enumerable.Range(0, chain.Count).Where(i => (_include & roles[i]) != 0).ToList();
        if (selected.Count == 0)
        {
            WriteVerbose($"'{chain[0].Subject}': the chain has no {_include} certificate; nothing written.");
            return;
        }

        switch (Format)
        {
            case CertificateExportFormat.PemBundle:
            case CertificateExportFormat.P7b:
            {
                List<byte[]> ders = selected.Select(i => chain[i].RawData).ToList();
                CertificateRole role = selected.Aggregate(CertificateRole.None, (a, i) => a | roles[i]);
                X509Certificate2 first = chain[selected[0]];
                bool p7b = Format == CertificateExportFormat.P7b;
                byte[] bytes = p7b ? CertificateExport.ToP7b(ders) : System.Text.Encoding.ASCII.GetBytes(CertificateExport.ToPemBundle(ders));
                string prefix = selected.Count == 1 ? RoleName(role) : "chain";
                string identity = string.Join(",", selected.Select(i => chain[i].Thumbprint));
                WriteItem(prefix, first, p7b ? ".p7b" : ".pem", identity, bytes, role, null, target, $"{selected.Count} certificate(s)");
                break;
            }

            default:
                foreach (int i in selected)
                {
                    X509Certificate2 cert = chain[i];
                    byte[] der = cert.RawData;
                    string? text = null;
                    byte[] bytes;
                    string ext;
                    switch (Format)
                    {
                        case CertificateExportFormat.Der:
                            bytes = der;
                            ext = ".cer";
                            break;
                        case CertificateExportFormat.Pem:
                            bytes = System.Text.Encoding.ASCII.GetBytes(CertificateExport.ToPem(der));
                            ext = ".pem";
                            break;
                        case CertificateExportFormat.SingleLine:
                            text = CertificateExport.ToSingleLine(der);
                            bytes = System.Text.Encoding.ASCII.GetBytes(text);
                            ext = ".txt";
                            break;
                        default:
                            bytes = CertificateExport.ToBase64Cer(der);
                            ext = ".cer";
                            break;
                    }

                    WriteItem(RoleName(roles[i]), cert, ext, cert.Thumbprint, bytes, roles[i], text, target, $"{roles[i]} certificate");
                }

                break;
        }
    }

    private void WriteItem(string prefix, X509Certificate2 named, string ext, string identity, byte[] bytes, CertificateRole role, string? text, object target, string what)
    {
        string? path;
        try
        {
            path = _files!.Reserve(prefix + "-" + CertificateNames.SafeFileName(CertificateNames.CommonName(named)), ext, identity, named.Thumbprint, "certificate");
            if (path is not null)
            {
                if (!_files.ShouldWrite(path, $"Write {what} '{named.Subject}' as {Format}", Force))
                {
                    return;
                }

                SafeFile.Write(path, bytes, overwrite: Force, ownerOnly: false);
            }
        }
        catch (Exception ex) when (ex is not PipelineStoppedException)
        {
            WriteFailure(ex, target);
            return;
        }

        // Messages and output after the write, outside its error handling: a host that fails them fails as itself.
        if (path is null)
        {
            WriteVerbose($"'{named.Subject}' ({what}) was already written in this call; skipped.");
            return;
        }

        WriteVerbose($"Wrote '{path}': {what} '{named.Subject}', thumbprint {named.Thumbprint}, {Format}.");
        PSObject result = WrittenFile(path);
        result.TypeNames.Insert(0, ExportedTypeName);
        result.Properties.Add(new PSNoteProperty("Role", role));
        result.Properties.Add(new PSNoteProperty("Subject", named.Subject));
        result.Properties.Add(new PSNoteProperty("Thumbprint", named.Thumbprint));
        if (text is not null)
        {
            result.Properties.Add(new PSNoteProperty("Text", text));
        }

        WriteObject(result);
    }

    // A certificate with several roles (a self-signed client certificate is Leaf and Root) is named by the first.
    private static string RoleName(CertificateRole role) =>
        (role & CertificateRole.Leaf) != 0 ? "leaf" : (role & CertificateRole.Intermediate) != 0 ? "intermediate" : "root";
}
