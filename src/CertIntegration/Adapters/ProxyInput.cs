using System;
using System.Management.Automation;
using System.Net;
using CertIntegration.Core;
using CertIntegration.Core.Tls;

namespace CertIntegration.Adapters;

/// <summary>-Proxy and -ProxyCredential (named as Invoke-WebRequest names them) as the core's proxy settings.</summary>
internal static class ProxyInput
{
    public static ProxySettings? From(Uri? proxy, PSCredential? credential)
    {
        if (proxy is null)
        {
            if (credential is not null)
            {
                throw new CertIntegrationException(ErrorIds.ParameterConflict, FailureKind.InvalidArgument, "-ProxyCredential needs -Proxy.");
            }

            return null;
        }

        if (!proxy.IsAbsoluteUri || !string.Equals(proxy.Scheme, Uri.UriSchemeHttp, StringComparison.OrdinalIgnoreCase) || proxy.Host.Length == 0)
        {
            throw new CertIntegrationException(ErrorIds.UriInvalid, FailureKind.InvalidArgument,
                $"-Proxy takes the proxy's http:// URL (for example http://proxy.example.corp:8080), not '{(proxy.IsAbsoluteUri ? proxy.GetLeftPart(UriPartial.Authority) : proxy.OriginalString)}'.");
        }

        if (proxy.UserInfo.Length > 0)
        {
            throw new CertIntegrationException(ErrorIds.UriInvalid, FailureKind.InvalidArgument,
                "-Proxy must not carry a user name or password in the URL; pass them with -ProxyCredential.");
        }

        NetworkCredential? network = credential is null || credential == PSCredential.Empty ? null : credential.GetNetworkCredential();
        return new ProxySettings(proxy, network);
    }
}
