using System;
using System.Collections.Generic;
using System.Collections.Specialized;
using System.Linq;
using System.Management.Automation;

namespace CertIntegration.Commands;

/// <summary>
/// <para type="synopsis">Makes the JSON parameters of a certificate service key, for cf create-service-key -c, the cockpit's JSON tab or the CF API.</para>
/// </summary>
[Cmdlet(VerbsCommon.New, "ServiceKeyParameter", HelpUri = HelpUris.Base + "new-servicekeyparameter")]
[OutputType(typeof(string), typeof(OrderedDictionary))]
public sealed class NewServiceKeyParameterCommand : CertIntegrationCmdlet
{
    /// <summary>certificate (SAP makes the key pair) or certificate_external (the certificate given with -Certificate).</summary>
    [Parameter]
    public ServiceKeyType KeyType { get; set; } = ServiceKeyType.Certificate;

    /// <summary>Validity of the certificate in days, 1 to 365; left out of the JSON when not given.</summary>
    [Parameter]
    public int Validity { get; set; }

    /// <summary>Key length in bits (default 2048, always in the JSON of key-type certificate).</summary>
    [Parameter]
    public int KeyLength { get; set; } = ServiceKeyParameterBuilder.DefaultKeyLength;

    /// <summary>The leaf for certificate_external: an X509Certificate2, a bundle, or a certificate file (path, FileInfo).</summary>
    [Parameter(Position = 0, ValueFromPipeline = true)]
    public PSObject[]? Certificate { get; set; }

    /// <summary>Emit an ordered dictionary instead of JSON text, for callers that build a request body themselves.</summary>
    [Parameter]
    public SwitchParameter AsHashtable { get; set; }

    private int? ValidityGiven => MyInvocation.BoundParameters.ContainsKey(nameof(Validity)) ? Validity : null;

    private int? KeyLengthGiven => MyInvocation.BoundParameters.ContainsKey(nameof(KeyLength)) ? KeyLength : null;

    protected override void BeginProcessing()
    {
        try
        {
            ServiceKeyParameterBuilder.CheckArguments(ValidityGiven, KeyLengthGiven);
        }
        catch (CertIntegrationException ex)
        {
            ThrowTerminatingError(ErrorMapping.ToErrorRecord(ex, ex.ErrorId == ErrorIds.ServiceKeyValidityOutOfRange ? Validity : KeyLength));
        }

    }

    protected override void ProcessRecord()
    {
        PSObject?[] inputs = Certificate?.Where(c => c is not null).ToArray() ?? Array.Empty<PSObject>();
        if (inputs.Length > 0 && KeyType == ServiceKeyType.Certificate && MyInvocation.BoundParameters.ContainsKey(nameof(KeyType)))
        {
            ThrowTerminatingError(ErrorMapping.Argument(ErrorIds.ParameterConflict,
                "-KeyType Certificate makes SAP generate the certificate, so -Certificate does not apply; leave out -KeyType (a certificate given means certificate_external).", KeyType));
        }

        if (inputs.Length == 0)
        {
            if (KeyType == ServiceKeyType.CertificateExternal)
            {
                ThrowTerminatingError(ErrorMapping.Argument(ErrorIds.ServiceKeyCertificateMissing,
                    "-KeyType CertificateExternal maps an existing certificate to the service key: give it with -Certificate (a file, an X509Certificate2 or a bundle).", KeyType));
            }

            if (KeyType == ServiceKeyType.Certificate && MyInvocation.BoundParameters.ContainsKey(nameof(Certificate)))
            {
                // -Certificate $null or @(): nothing to map; say so instead of silently writing a key-type certificate document.
                ThrowTerminatingError(ErrorMapping.Argument(ErrorIds.ServiceKeyCertificateMissing, "-Certificate is empty; give the certificate to map, or leave out -Certificate.", null));
            }

            Emit(ServiceKeyParameterBuilder.ForGeneratedCertificate(ValidityGiven, KeyLengthGiven));
            return;
        }

        foreach (PSObject? input in inputs)
        {
            try
            {
                List<CertificateBundle> bundles = CertificateInput.Bundles(this, input!, "-Certificate");
                if (bundles.Count != 1)
                {
                    throw new CertIntegrationException(ErrorIds.MultipleLeafCertificates, FailureKind.InvalidData,
                        $"-Certificate: the input holds {bundles.Count} unrelated certificates ({string.Join("; ", bundles.Take(5).Select(b => b.Subject))}); a service key maps exactly one. Give the file of the one certificate.");
                }

                var warnings = new List<ParameterWarning>();
                ServiceKeyParameters parameters = ServiceKeyParameterBuilder.ForExternalCertificate(bundles[0], ValidityGiven, KeyLengthGiven, DateTime.UtcNow, warnings);
                foreach (ParameterWarning w in warnings)
                {
                    WriteWarning(w.ToString());
                }

                WriteVerbose($"certificate_external for '{bundles[0].Subject}' (thumbprint {bundles[0].Thumbprint}, valid until {bundles[0].NotAfter.ToUniversalTime():yyyy-MM-dd} UTC).");
                Emit(parameters);
            }
            catch (Exception ex) when (ex is not PipelineStoppedException)
            {
                WriteFailure(ex, input);
            }
        }
    }

    private void Emit(ServiceKeyParameters parameters)
    {
        if (AsHashtable)
        {
            WriteObject(parameters.ToDictionary());
        }
        else
        {
            WriteObject(parameters.ToJson());
        }
    }
}
