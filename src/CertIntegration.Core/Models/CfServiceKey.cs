using System;

namespace CertIntegration;

/// <summary>
/// A service key (a Cloud Foundry service credential binding of type key) of a Process Integration Runtime instance,
/// read through the Cloud Foundry v3 API: the certificate bundle of its credentials, with the binding's name and guid
/// and the instance it belongs to. It is a <see cref="CertificateBundle"/>, so it pipes into New-PfxFromPem,
/// Test-CertificateBundle, Get-ServiceKeyToken and Export-CertificateChain like a bundle from ConvertFrom-ServiceKey.
/// </summary>
public sealed class CfServiceKey : CertificateBundle
{
    internal CfServiceKey(CertificateBundle credentials, string name, string guid, string serviceInstance, string serviceInstanceGuid)
        : base(credentials.Chain, credentials.Key)
    {
        Name = name;
        Guid = guid;
        ServiceInstance = serviceInstance;
        ServiceInstanceGuid = serviceInstanceGuid;
        ClientId = credentials.ClientId;
        Url = credentials.Url;
        TokenUrl = credentials.TokenUrl;
        KeyType = credentials.KeyType;
        CertificateDetails = credentials.CertificateDetails;
        Source = credentials.Source;
        KeyMismatch = credentials.KeyMismatch;
        SourceOutOfOrder = credentials.SourceOutOfOrder;
        SourceOrder = credentials.SourceOrder;
    }

    /// <summary>The service key's name (the binding's name).</summary>
    public string Name { get; }

    /// <summary>The guid of the service credential binding.</summary>
    public string Guid { get; }

    /// <summary>The name of the service instance the key belongs to.</summary>
    public string ServiceInstance { get; }

    public string ServiceInstanceGuid { get; }

    /// <summary>The space of the service instance, when known.</summary>
    public string? Space { get; internal set; }

    /// <summary>When the binding was created (UTC), from its created_at.</summary>
    public DateTime? CreatedAt { get; internal set; }
}
