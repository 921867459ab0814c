using System;
using System.Collections.Generic;
using System.Linq;
using System.Net;
using System.Security.Cryptography.X509Certificates;

namespace CertIntegration.Core.Tls;

/// <summary>What one TLS handshake showed.</summary>
internal sealed class HandshakeObservation
{
    private readonly object _gate = new();

    public bool ClientCertificateRequested { get; private set; }

    public List<string> AcceptableIssuers { get; } = new();

    /// <summary>The server's certificates as it sent them, leaf first.</summary>
    public X509Certificate2[] Presented { get; private set; } = Array.Empty<X509Certificate2>();

    public ServerValidation? Validation { get; set; }

    public bool Completed { get; set; }

    public Exception? Error { get; set; }

    public string? Protocol { get; set; }

    public string? CipherSuite { get; set; }

    public bool ClientCertificateSent { get; set; }

    /// <summary>The address the handshake reached.</summary>
    public IPAddress? RemoteAddress { get; set; }

    /// <summary>True once .NET handed over the server's whole chain (after a completed handshake).</summary>
    public bool ValidationCalled { get; private set; }

    /// <summary>True when <see cref="Presented"/> came from the TLS 1.2 Certificate message read off the wire.</summary>
    public bool PresentedFromWire { get; private set; }

    public void SetPresentedFromWire(X509Certificate2[] certificates)
    {
        lock (_gate)
        {
            Presented = certificates;
            PresentedFromWire = true;
        }
    }

    /// <summary>Takes the server side from a later observation that saw more of it.</summary>
    public void MergeServerSide(HandshakeObservation other)
    {
        if (other.ValidationCalled)
        {
            Presented = other.Presented;
            Validation = other.Validation;
            ValidationCalled = true;
        }

        foreach (string i in other.AcceptableIssuers)
        {
            if (!AcceptableIssuers.Contains(i))
            {
                AcceptableIssuers.Add(i);
            }
        }

        ClientCertificateRequested |= other.ClientCertificateRequested;
    }

    public void OnSelection(X509Certificate? remote, string[]? issuers)
    {
        lock (_gate)
        {
            // .NET calls the selection callback once before the handshake (no server certificate yet, no issuers) and
            // again when the server sends a CertificateRequest: then the server certificate is known.
            if (remote is not null)
            {
                ClientCertificateRequested = true;
                if (Presented.Length == 0)
                {
                    Presented = new[] { new X509Certificate2(remote.GetRawCertData()) };
                }
            }

            if (issuers is { Length: > 0 })
            {
                ClientCertificateRequested = true;
                foreach (string i in issuers)
                {
                    if (!AcceptableIssuers.Contains(i))
                    {
                        AcceptableIssuers.Add(i);
                    }
                }
            }
        }
    }

    public void OnValidation(X509Certificate? remote, X509Chain? chain)
    {
        if (remote is null)
        {
            return;
        }

        lock (_gate)
        {
            ValidationCalled = true;
            var list = new List<X509Certificate2> { new(remote.GetRawCertData()) };
            if (chain is not null)
            {
#if NET8_0_OR_GREATER
                // The certificates the server sent besides its own, in the order it sent them.
                foreach (X509Certificate2 c in chain.ChainPolicy.ExtraStore)
                {
                    if (!list.Any(l => l.RawData.SequenceEqual(c.RawData)))
                    {
                        list.Add(new X509Certificate2(c.RawData));
                    }
                }
#else
                // SChannel hands over the chain it built from what the server sent.
                foreach (X509ChainElement e in chain.ChainElements)
                {
                    if (!list.Any(l => l.RawData.SequenceEqual(e.Certificate.RawData)))
                    {
                        list.Add(new X509Certificate2(e.Certificate.RawData));
                    }
                }
#endif
            }

            Presented = list.ToArray();
        }
    }
}
