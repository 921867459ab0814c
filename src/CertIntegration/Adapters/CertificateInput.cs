using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Management.Automation;
using System.Security.Cryptography.X509Certificates;
using CertIntegration.Commands;

namespace CertIntegration.Adapters;

/// <summary>
/// What users pass where certificates are taken (-TrustedCertificate): X509Certificate2 and CertificateBundle
/// objects, file paths (wildcards, resolved through the provider against the current location), FileInfo objects,
/// Resolve-Path results and other objects that name a file by PSPath. Files are read by the core's container reader,
/// whatever their format (PEM, DER, PKCS#7, PKCS#12 without a password, JKS without a password).
/// </summary>
internal static class CertificateInput
{
    /// <summary>
    /// The certificates to trust for a server's chain: an X509Certificate2 as it is; of a bundle (or of each bundle in
    /// a file) its CA certificates, or its one certificate when it has no chain. Every problem is a
    /// <see cref="CertIntegrationException"/>: FileNotFound (and the other path errors) or CertificateInputInvalid.
    /// </summary>
    public static List<X509Certificate2> TrustedRoots(CertIntegrationCmdlet cmdlet, IEnumerable<PSObject?>? input, string parameter = "-TrustedCertificate")
    {
        var list = new List<X509Certificate2>();
        foreach (PSObject? item in input ?? Enumerable.Empty<PSObject?>())
        {
            switch (item?.BaseObject)
            {
                case null:
                    break;
                case X509Certificate2 c:
                    list.Add(c);
                    break;
                case CertificateBundle b:
                    list.AddRange(CaCertificates(b));
                    break;
                default:
                    list.AddRange(ReadFiles(cmdlet, item, parameter).SelectMany(CaCertificates));
                    break;
            }
        }

        return list;
    }

    /// <summary>
    /// The bundles one input stands for: a bundle as it is, an X509Certificate2 as a bundle of one, or the bundles of
    /// the files a path (wildcards), FileInfo, Resolve-Path result or PSPath names. Problems as in <see cref="TrustedRoots"/>.
    /// </summary>
    public static List<CertificateBundle> Bundles(CertIntegrationCmdlet cmdlet, PSObject item, string parameter) => item.BaseObject switch
    {
        CertificateBundle b => new List<CertificateBundle> { b },
        X509Certificate2 c => new List<CertificateBundle> { new(c) },
        _ => ReadFiles(cmdlet, item, parameter),
    };

    private static IEnumerable<X509Certificate2> CaCertificates(CertificateBundle b) => b.Chain.Skip(b.ChainLength > 1 ? 1 : 0);

    /// <summary>The bundles of the files an input names: a path (wildcards), a FileInfo, a Resolve-Path result or a PSPath.</summary>
    private static List<CertificateBundle> ReadFiles(CertIntegrationCmdlet cmdlet, PSObject item, string parameter)
    {
        (string path, bool literal) = item.BaseObject switch
        {
            string s when s.Trim().Length > 0 => (s, false),
            FileInfo f => (f.FullName, true),
            _ when CertIntegrationCmdlet.FilePathOf(item) is { } p => (p, true),
            _ => throw new CertIntegrationException(ErrorIds.CertificateInputInvalid, FailureKind.InvalidArgument,
                $"{parameter} takes X509Certificate2 objects, certificate bundles or certificate files (paths, Get-Item or Resolve-Path objects), not a {item.BaseObject.GetType().Name}."),
        };

        List<string> files;
        try
        {
            files = cmdlet.ResolveExisting(path, literal);
        }
        catch (CertIntegrationException ex)
        {
            throw new CertIntegrationException(ex.ErrorId, ex.Kind, $"{parameter} '{path}': {ex.Message}", ex);
        }

        var bundles = new List<CertificateBundle>();
        foreach (string file in files)
        {
            var held = new HeldMessages();
            try
            {
                bundles.AddRange(ContainerReader.ReadFile(file, null, held.Verbose, held.Warning));
            }
            catch (Exception ex) when (ex is CertIntegrationException or IOException or UnauthorizedAccessException)
            {
                throw new CertIntegrationException(ErrorIds.CertificateInputInvalid, FailureKind.InvalidArgument,
                    $"{parameter} '{file}' could not be read as certificates: {ex.Message}", ex);
            }
            finally
            {
                // After the read, as Import-CertificateBundle does: a host that fails a message write fails as itself.
                held.WriteTo(cmdlet);
            }
        }

        return bundles;
    }
}
