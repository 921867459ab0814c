using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Management.Automation;
using System.Security;
using System.Security.Cryptography.X509Certificates;

namespace CertIntegration.Commands;

/// <summary>
/// <para type="synopsis">Checks certificates before they fail: expiry, key usage, key, chain, trust, weak algorithms and service-key details.</para>
/// </summary>
[Cmdlet(VerbsDiagnostic.Test, "CertificateBundle", DefaultParameterSetName = InputObjectSet, HelpUri = HelpUris.Base + "test-certificatebundle")]
[OutputType(typeof(CertificateTestResult))]
[OutputType(typeof(bool))]
public sealed class TestCertificateBundleCommand : CertIntegrationCmdlet
{
    private const string InputObjectSet = "InputObject";
    private const string PathSet = "Path";
    private const string LiteralPathSet = "LiteralPath";

    private CertificateBundleCheck.Options _options = new();

    /// <summary>
    /// Bundles (ConvertFrom-ServiceKey, Import-CertificateBundle), X509Certificate2 objects (Cert:\ drive,
    /// Get-PfxCertificate), files (Get-ChildItem, Get-Item, Resolve-Path) or paths.
    /// </summary>
    [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true, ParameterSetName = InputObjectSet)]
    [AllowNull]
    public PSObject[]? InputObject { get; set; }

    /// <summary>Certificate files or service keys to test; wildcards allowed.</summary>
    [Parameter(Mandatory = true, ParameterSetName = PathSet)]
    [SupportsWildcards]
    [ValidateNotNullOrEmpty]
    public string[] Path { get; set; } = Array.Empty<string>();

    /// <summary>Certificate files or service keys to test, taken literally.</summary>
    [Parameter(Mandatory = true, ParameterSetName = LiteralPathSet)]
    [Alias("PSPath", "LP")]
    [ValidateNotNullOrEmpty]
    public string[] LiteralPath { get; set; } = Array.Empty<string>();

    /// <summary>Password of PKCS#12 files, Java keystores and encrypted keys among the files.</summary>
    [Parameter]
    public SecureString? Password { get; set; }

    /// <summary>What the certificate is for: Client (default) needs the Client Authentication EKU, Server the Server Authentication EKU.</summary>
    [Parameter]
    public CertificatePurpose Purpose { get; set; } = CertificatePurpose.Client;

    /// <summary>Days the certificate must still be valid after the moment tested (default 30); fewer is ExpiresSoon.</summary>
    [Parameter]
    [ValidateRange(0, 36500)]
    public int MinimumDaysValid { get; set; } = 30;

    /// <summary>The roots the other side trusts (certificates, bundles or files); the chain must end at one of them.</summary>
    [Parameter]
    public PSObject[]? TrustedCertificate { get; set; }

    /// <summary>The moment to evaluate at instead of now (a date without a time zone is local time).</summary>
    [Parameter]
    public DateTime? At { get; set; }

    /// <summary>Output only $true (passed) or $false per input.</summary>
    [Parameter]
    public SwitchParameter Quiet { get; set; }

    protected override void BeginProcessing()
    {
        try
        {
            _options = new CertificateBundleCheck.Options
            {
                Purpose = Purpose,
                MinimumDaysValid = MinimumDaysValid,
                Trusted = CertificateInput.TrustedRoots(this, TrustedCertificate),
                AtUtc = At is { } at ? CertificateBundleCheck.ToUtc(at) : DateTime.UtcNow,
            };
        }
        catch (CertIntegrationException ex)
        {
            ThrowTerminatingError(ErrorMapping.ToErrorRecord(ex, TrustedCertificate));
        }

        WriteVerbose($"Testing for {Purpose} use at {_options.AtUtc:yyyy-MM-dd HH:mm:ss} UTC with a {MinimumDaysValid}-day window" +
            (_options.Trusted.Count > 0 ? $" against {_options.Trusted.Count} trusted certificate(s)." : "."));
    }

    protected override void ProcessRecord()
    {
        switch (ParameterSetName)
        {
            case PathSet:
                TestPaths(Path, literal: false);
                break;
            case LiteralPathSet:
                TestPaths(LiteralPath, literal: true);
                break;
            default:
                foreach (PSObject? item in InputObject ?? Array.Empty<PSObject?>())
                {
                    TestObject(item);
                }

                break;
        }
    }

    private void TestObject(PSObject? item)
    {
        switch (item?.BaseObject)
        {
            case null:
                return;
            case CertificateBundle bundle:
                Emit(new[] { bundle }, bundle);
                return;
            case X509Certificate2 certificate:
                Emit(new[] { new CertificateBundle(certificate) }, certificate);
                return;
            case string s when s.Trim().Length > 0:
                TestPaths(new[] { s }, literal: false);
                return;
            case FileInfo file:
                TestPaths(new[] { file.FullName }, literal: true);
                return;
            default:
                if (FilePathOf(item) is { } path)
                {
                    TestPaths(new[] { path }, literal: true);
                    return;
                }

                WriteFailure(new CertIntegrationException(ErrorIds.CertificateInputInvalid, FailureKind.InvalidArgument,
                    $"Test-CertificateBundle takes certificate bundles, X509Certificate2 objects and certificate files (paths, Get-Item or Resolve-Path objects), not a {item.BaseObject.GetType().Name}."), item);
                if (Quiet)
                {
                    WriteObject(false);
                }

                return;
        }
    }

    /// <summary>Each file is one input: its bundles' results, or with -Quiet one boolean for all of them.</summary>
    private void TestPaths(IEnumerable<string> paths, bool literal)
    {
        foreach (string p in paths)
        {
            int problems = 0;
            List<string> files = ResolveFiles(new[] { p }, literal, record =>
            {
                problems++;
                WriteError(record);
            });
            if (problems > 0 && files.Count == 0 && Quiet)
            {
                WriteObject(false);
            }

            foreach (string file in files)
            {
                WriteVerbose($"Reading '{file}'.");
                var held = new HeldMessages();
                IReadOnlyList<CertificateBundle>? bundles = null;
                Exception? failure = null;
                try
                {
                    bundles = CertificateBundleCheck.ReadFile(file, Password, held.Verbose, held.Warning);
                }
                catch (Exception ex) when (ex is not PipelineStoppedException)
                {
                    failure = ex;
                }

                held.WriteTo(this);
                if (failure is not null)
                {
                    WriteFailure(failure, file);
                    if (Quiet)
                    {
                        WriteObject(false);
                    }

                    continue;
                }

                Emit(bundles!, file);
            }
        }
    }

    private void Emit(IReadOnlyList<CertificateBundle> bundles, object target)
    {
        bool passed = true;
        foreach (CertificateBundle bundle in bundles)
        {
            CertificateTestResult result;
            try
            {
                result = CertificateBundleCheck.Check(bundle, _options);
            }
            catch (Exception ex) when (ex is not PipelineStoppedException)
            {
                WriteFailure(ex, target);
                passed = false;
                continue;
            }

            WriteVerbose($"'{result.Subject}' ({result.Thumbprint}): {(result.Passed ? "passed" : "failed")}" +
                (result.Findings.Count > 0 ? $", {result.Findings}." : "."));
            passed &= result.Passed;
            if (!Quiet)
            {
                WriteObject(result);
            }
        }

        if (Quiet)
        {
            WriteObject(passed && bundles.Count > 0);
        }
    }
}
