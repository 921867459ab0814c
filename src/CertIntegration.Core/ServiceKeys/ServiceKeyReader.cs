using System;
using System.Collections.Generic;
using System.Linq;
using System.Security.Cryptography.X509Certificates;
using Newtonsoft.Json;
using Newtonsoft.Json.Linq;

namespace CertIntegration.Core.ServiceKeys;

/// <summary>
/// Reads SAP Process Integration Runtime service keys in every shape they are handed around in: the cockpit
/// download (<c>{"oauth":{...}}</c>), cf CLI v8 (<c>{"credentials":{...}}</c>), bare fields. The documents come from
/// <see cref="ServiceKeyFraming"/>, which also skips the <c>Getting key ...</c> preamble that <c>cf service-key</c> prints.
/// </summary>
internal static class ServiceKeyReader
{
    private static readonly string[] CertificateFields = { "certificate", "x.509", "x509", "clientcertificate" };
    private static readonly string[] KeyFields = { "key", "privateKey", "private_key", "clientkey" };

    /// <summary>Reads a service key into a bundle. <paramref name="verbose"/> receives non-secret notes.</summary>
    public static CertificateBundle Read(JObject root, string source, Action<string>? verbose = null)
    {
        JObject creds = FindCredentials(root);
        string? certText = GetString(creds, CertificateFields);
        string? keyText = GetString(creds, KeyFields);
        string? clientId = GetString(creds, "clientid", "client_id");
        string? clientSecret = GetString(creds, "clientsecret", "client_secret");
        string? url = GetString(creds, "url");
        string? tokenUrl = GetString(creds, "tokenurl", "token_url");
        string? declaredType = GetString(creds, "keytype", "key-type", "key_type", "credential-type");

        if (string.IsNullOrWhiteSpace(certText))
        {
            if (!string.IsNullOrEmpty(clientSecret) || (clientId is not null && keyText is null))
            {
                throw new CertIntegrationException(ErrorIds.ServiceKeyIsClientSecret, FailureKind.InvalidData,
                    $"{source} is a client-secret service key (it has clientid/clientsecret but no certificate). " +
                    "Create a service key of key-type 'certificate' on the Process Integration Runtime instance to get a client certificate and key.");
            }

            throw new CertIntegrationException(ErrorIds.ServiceKeyNoCertificate, FailureKind.InvalidData,
                $"{source} has no 'certificate' field; a Process Integration Runtime service key of key-type 'certificate' or 'certificate_external' is expected.");
        }

        RequireText(creds, CertificateFields, source, ErrorIds.PemNoCertificate);
        RequireText(creds, KeyFields, source, ErrorIds.PemNoPrivateKey);
        PemContents certs = PemText.Read(certText!, $"{source} field 'certificate'");
        if (certs.Certificates.Count == 0)
        {
            throw new CertIntegrationException(ErrorIds.PemNoCertificate, FailureKind.InvalidData,
                $"{source} field 'certificate' contains no certificate block.");
        }

        var keys = new List<PrivateKeyMaterial>(certs.Keys);
        if (!string.IsNullOrWhiteSpace(keyText))
        {
            PemContents keyPem = PemText.Read(keyText!, $"{source} field 'key'");
            if (keyPem.Keys.Count == 0)
            {
                throw new CertIntegrationException(ErrorIds.PemNoPrivateKey, FailureKind.InvalidData,
                    $"{source} field 'key' contains no private key block.");
            }

            keys.AddRange(keyPem.Keys);
        }

        List<ChainBuilder.Chain> chains = ChainBuilder.Build(certs.Certificates, keys, out var unmatched);
        ChainBuilder.Chain chain;
        if (unmatched.Count > 0)
        {
            X509Certificate2 leaf = X509Conversion.ToX509(chains.First().Leaf);
            throw new CertIntegrationException(ErrorIds.KeyCertificateMismatch, FailureKind.InvalidData,
                $"{source}: the private key in field 'key' does not belong to the certificate '{Messages.Quote(leaf.Subject)}' (thumbprint {leaf.Thumbprint}). " +
                "The fields were probably taken from two different service keys.");
        }

        List<ChainBuilder.Chain> withKey = chains.Where(c => c.Key is not null).ToList();
        if (withKey.Count > 0)
        {
            chain = withKey[0];
            if (ChainBuilder.FirstIssuedBy(chains, chain.Leaf) is { } issued)
            {
                X509Certificate2 leaf = X509Conversion.ToX509(issued);
                throw new CertIntegrationException(ErrorIds.KeyCertificateMismatch, FailureKind.InvalidData,
                    $"{source}: the private key in field 'key' belongs to the CA certificate '{Messages.Quote(chain.Leaf.SubjectDN.ToString())}', not to the certificate '{Messages.Quote(leaf.Subject)}' (thumbprint {leaf.Thumbprint}) it issued.");
            }
        }
        else if (chains.Count == 1)
        {
            chain = chains[0];
        }
        else
        {
            throw new CertIntegrationException(ErrorIds.MultipleLeafCertificates, FailureKind.InvalidData,
                $"{source} field 'certificate' holds {chains.Count} unrelated certificates ({string.Join("; ", chains.Select(c => c.Leaf.SubjectDN.ToString()))}); a service key holds one client certificate with its chain.");
        }

        var bundle = new CertificateBundle(chain.Certificates.Select(c => X509Conversion.ToX509(c, source)).ToList(), chain.Key)
        {
            ClientId = clientId,
            Url = url,
            TokenUrl = tokenUrl,
        };
        // Only the two key types are taken as declared; other values of these fields (BTP's "credential-type": "x509")
        // describe something else, so the type is then told by the presence of the key.
        bundle.KeyType = declaredType?.Trim().ToLowerInvariant() is "certificate" or "certificate_external"
            ? declaredType.Trim().ToLowerInvariant()
            : bundle.HasPrivateKey ? "certificate" : "certificate_external";
        if (!bundle.HasPrivateKey)
        {
            verbose?.Invoke($"{source}: no private key in the service key (key-type certificate_external); the bundle has HasPrivateKey = False and can be exported or inspected, but not used for mTLS or a PFX.");
        }

        return bundle;
    }

    private static JObject FindCredentials(JObject root)
    {
        JObject current = root;
        for (int i = 0; i < 3; i++)
        {
            if (GetToken(current, "certificate") is not null || GetToken(current, "clientid") is not null)
            {
                return current;
            }

            if (GetToken(current, "oauth") is JObject oauth)
            {
                current = oauth;
            }
            else if (GetToken(current, "credentials") is JObject credentials)
            {
                current = credentials;
            }
            else
            {
                break;
            }
        }

        return current;
    }

    /// <summary>A PEM field holding a number, array, object or boolean is named as such, not read as text.</summary>
    private static void RequireText(JObject obj, string[] names, string source, string errorId)
    {
        foreach (string n in names)
        {
            JToken? t = GetToken(obj, n);
            if (t is null || t.Type == JTokenType.Null)
            {
                continue;
            }

            if (t.Type != JTokenType.String)
            {
                string field = ((JProperty)t.Parent!).Name;
                throw new CertIntegrationException(errorId, FailureKind.InvalidData,
                    $"{source} field '{field}' is a JSON {t.Type.ToString().ToLowerInvariant()}, not PEM text; a service key holds the PEM as a string.");
            }

            return;
        }
    }

    private static JToken? GetToken(JObject obj, string name) => obj.GetValue(name, StringComparison.OrdinalIgnoreCase);

    private static string? GetString(JObject obj, params string[] names)
    {
        foreach (string n in names)
        {
            JToken? t = GetToken(obj, n);
            if (t is null || t.Type == JTokenType.Null)
            {
                continue;
            }

            return t.Type == JTokenType.String ? (string?)t : t.ToString(Formatting.None);
        }

        return null;
    }
}
