using System;

namespace CertIntegration;

/// <summary>File formats Export-CertificateChain writes. None of them ever contains a private key.</summary>
public enum CertificateExportFormat
{
    /// <summary>
    /// One .cer per certificate, Base64 with BEGIN/END CERTIFICATE armour, 64-character lines and CRLF line ends:
    /// what Windows calls "Base-64 encoded X.509 (.CER)" and what STRUST imports as Base64.
    /// </summary>
    Base64,

    /// <summary>One .cer per certificate in binary DER ("DER encoded binary X.509 (.CER)").</summary>
    Der,

    /// <summary>One .pem per certificate: BEGIN/END CERTIFICATE armour, 64-character lines, LF line ends.</summary>
    Pem,

    /// <summary>One .pem file with all selected certificates of a chain, leaf first (LF line ends).</summary>
    PemBundle,

    /// <summary>
    /// One .txt per certificate holding exactly -----BEGIN CERTIFICATE-----Base64-----END CERTIFICATE----- with no
    /// line break at all; the text is also on the returned file object as its Text property.
    /// </summary>
    SingleLine,

    /// <summary>One PKCS#7 certificates-only file (.p7b, DER) with all selected certificates of a chain.</summary>
    P7b,
}

/// <summary>The place of a certificate in its chain. Flags, so a file that holds several certificates can name them all.</summary>
[Flags]
public enum CertificateRole
{
    /// <summary>No role.</summary>
    None = 0,

    /// <summary>The end-entity certificate: the first in a chain, unless that chain is one self-signed certificate.</summary>
    Leaf = 1,

    /// <summary>A certificate between the leaf and the root.</summary>
    Intermediate = 2,

    /// <summary>The self-signed certificate at the top of a chain.</summary>
    Root = 4,
}

/// <summary>PEM layouts Export-PrivateKey writes.</summary>
public enum PrivateKeyFormat
{
    /// <summary>PKCS#8: BEGIN PRIVATE KEY, or BEGIN ENCRYPTED PRIVATE KEY with -Password. Any key algorithm.</summary>
    Pkcs8,

    /// <summary>
    /// The traditional algorithm-specific layout: BEGIN RSA PRIVATE KEY (PKCS#1) for RSA keys, BEGIN EC PRIVATE KEY
    /// (SEC 1) for EC keys. Never encrypted.
    /// </summary>
    Pkcs1,
}
