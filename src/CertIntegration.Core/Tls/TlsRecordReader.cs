using System;
using System.Collections.Generic;
using System.IO;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace CertIntegration.Core.Tls;

/// <summary>What the plaintext part of a server's first flight shows.</summary>
internal sealed class ServerFlight
{
    public bool SawServerHello { get; set; }

    /// <summary>The ServerHello selected TLS 1.3 (supported_versions): everything after it is encrypted.</summary>
    public bool Tls13 { get; set; }

    /// <summary>The certificates of the TLS 1.2 Certificate message, leaf first; empty when there was none.</summary>
    public X509Certificate2[] Certificates { get; set; } = Array.Empty<X509Certificate2>();

    /// <summary>A TLS 1.2 Certificate message was there but could not be read whole.</summary>
    public bool CertificatesUnreadable { get; set; }

    /// <summary>The TLS 1.2 ServerHelloDone arrived: a full handshake whose server messages are all in.</summary>
    public bool SawServerHelloDone { get; set; }
}

/// <summary>
/// Reads the server's Certificate message from the plaintext part of a TLS 1.2 handshake (RFC 5246 7.4.2). Needed
/// when a TLS 1.2 server that requires a client certificate aborts the observing handshake: .NET then never shows the
/// chain it received, yet the chain must be judged before our certificate is presented; and on the real connection,
/// to check the server before our certificate leaves (see <see cref="CertificateGuard"/>). (In TLS 1.3 the message is
/// encrypted.) Bounded and exception-free: it reads at most what <see cref="RecordingStream"/> kept and gives up on
/// anything malformed. The DER of each certificate is checked to be an X.509 certificate (BouncyCastle) before .NET
/// sees it, because .NET's byte-array loader would also accept a PKCS#12 file and import its keys.
/// </summary>
internal static class TlsRecordReader
{
    private const byte Handshake = 22;
    private const byte ChangeCipherSpec = 20;
    private const byte Alert = 21;
    private const byte CertificateMessage = 11;
    private const byte ServerHello = 2;
    private const byte ServerHelloDone = 14;
    private const int SupportedVersions = 43;

    public static X509Certificate2[] ServerCertificates(byte[] received) => Inspect(received).Certificates;

    public static ServerFlight Inspect(byte[] received)
    {
        var flight = new ServerFlight();
        var handshake = new MemoryStream();
        int pos = 0;
        while (pos + 5 <= received.Length)
        {
            byte type = received[pos];
            int length = (received[pos + 3] << 8) | received[pos + 4];
            if (pos + 5 + length > received.Length || type == ChangeCipherSpec)
            {
                break;
            }

            if (type == Handshake)
            {
                handshake.Write(received, pos + 5, length);
            }
            else if (type != Alert)
            {
                break; // application data or garbage: the plaintext part is over
            }

            pos += 5 + length;
        }

        byte[] h = handshake.ToArray();
        int p = 0;
        while (p + 4 <= h.Length)
        {
            byte msgType = h[p];
            int msgLength = (h[p + 1] << 16) | (h[p + 2] << 8) | h[p + 3];
            if (p + 4 + msgLength > h.Length)
            {
                if (msgType == CertificateMessage && flight.SawServerHello)
                {
                    flight.CertificatesUnreadable = true;
                }

                break;
            }

            if (msgType == ServerHello && !flight.SawServerHello)
            {
                flight.SawServerHello = true;
                flight.Tls13 = SelectsTls13(h, p + 4, msgLength);
                if (flight.Tls13)
                {
                    break;
                }
            }
            else if (msgType == CertificateMessage && flight.SawServerHello && flight.Certificates.Length == 0)
            {
                flight.Certificates = ParseCertificateList(h, p + 4, msgLength, out bool whole);
                flight.CertificatesUnreadable = !whole;
            }
            else if (msgType == ServerHelloDone && flight.SawServerHello)
            {
                flight.SawServerHelloDone = true;
                break;
            }

            p += 4 + msgLength;
        }

        return flight;
    }

    /// <summary>True when the ServerHello's supported_versions extension selects TLS 1.3 (RFC 8446 4.2.1).</summary>
    private static bool SelectsTls13(byte[] h, int start, int length)
    {
        int end = start + length;
        int p = start + 2 + 32; // legacy_version, random
        if (p + 1 > end)
        {
            return false;
        }

        p += 1 + h[p]; // session id
        p += 2 + 1; // cipher suite, compression
        if (p + 2 > end)
        {
            return false;
        }

        int extEnd = Math.Min(end, p + 2 + ((h[p] << 8) | h[p + 1]));
        p += 2;
        while (p + 4 <= extEnd)
        {
            int type = (h[p] << 8) | h[p + 1];
            int len = (h[p + 2] << 8) | h[p + 3];
            p += 4;
            if (p + len > extEnd)
            {
                return false;
            }

            if (type == SupportedVersions && len == 2)
            {
                return h[p] == 3 && h[p + 1] == 4;
            }

            p += len;
        }

        return false;
    }

    private static X509Certificate2[] ParseCertificateList(byte[] h, int start, int length, out bool whole)
    {
        var list = new List<X509Certificate2>();
        whole = false;
        if (length < 3)
        {
            return list.ToArray();
        }

        int total = (h[start] << 16) | (h[start + 1] << 8) | h[start + 2];
        int p = start + 3;
        int end = Math.Min(start + 3 + total, start + length);
        while (p + 3 <= end && list.Count < Limits.MaxChainLength)
        {
            int certLength = (h[p] << 16) | (h[p + 1] << 8) | h[p + 2];
            p += 3;
            if (certLength <= 0 || p + certLength > end)
            {
                return list.ToArray();
            }

            byte[] der = new byte[certLength];
            Buffer.BlockCopy(h, p, der, 0, certLength);
            p += certLength;
            X509Certificate2? cert = LoadCertificate(der);
            if (cert is null)
            {
                return list.ToArray();
            }

            list.Add(cert);
        }

        whole = p == end && list.Count > 0;
        return list.ToArray();
    }

    /// <summary>An X.509 certificate from DER, or null; never a PKCS#12 or PKCS#7 blob.</summary>
    internal static X509Certificate2? LoadCertificate(byte[] der)
    {
        try
        {
            // Strict: one DER Certificate structure and nothing else.
            var structure = Org.BouncyCastle.Asn1.X509.X509CertificateStructure.GetInstance(Org.BouncyCastle.Asn1.Asn1Object.FromByteArray(der));
            if (structure is null)
            {
                return null;
            }

#if NET9_0_OR_GREATER
            return X509CertificateLoader.LoadCertificate(der);
#else
            return new X509Certificate2(der);
#endif
        }
        catch (Exception ex) when (ex is CryptographicException or IOException or ArgumentException or InvalidCastException or FormatException or InvalidOperationException)
        {
            return null;
        }
    }
}
