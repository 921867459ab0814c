using System;
using System.Runtime.InteropServices;
using System.Security.Cryptography.X509Certificates;

namespace CertIntegration.Core.Keys;

/// <summary>
/// The leaf of a bundle as an <see cref="X509Certificate2"/> that holds its private key, for the platform's TLS stack:
/// the bundle becomes a PKCS#12 in memory under a one-time random password and is loaded back with the caller's
/// key-storage flags. Shared by the TLS probes (ClientCredential) and ConvertTo-X509Certificate.
/// </summary>
internal static class CertificateWithKey
{
    /// <summary>
    /// X509KeyStorageFlags.EphemeralKeySet, which netstandard2.0 does not name; .NET Framework 4.7.2 and .NET know
    /// the value.
    /// </summary>
    public const X509KeyStorageFlags EphemeralKeySet = (X509KeyStorageFlags)0x20;

    /// <summary>Every flag the loaders accept.</summary>
    public const X509KeyStorageFlags KnownFlags =
        X509KeyStorageFlags.UserKeySet | X509KeyStorageFlags.MachineKeySet | X509KeyStorageFlags.Exportable |
        X509KeyStorageFlags.UserProtected | X509KeyStorageFlags.PersistKeySet | EphemeralKeySet;

    /// <summary>
    /// Flags for a certificate that SslStream presents and that leaves nothing behind: SChannel (Windows) cannot use
    /// ephemeral keys for client authentication, and without PersistKeySet the key container is deleted again when
    /// the certificate is disposed; macOS needs a (temporary) keychain; Linux keeps keys in memory anyway.
    /// </summary>
    public static X509KeyStorageFlags SslStreamFlags()
    {
        if (RuntimeInformation.IsOSPlatform(OSPlatform.Windows))
        {
            return X509KeyStorageFlags.UserKeySet;
        }

        if (RuntimeInformation.IsOSPlatform(OSPlatform.OSX))
        {
            return X509KeyStorageFlags.DefaultKeySet;
        }

#if NET8_0_OR_GREATER
        return EphemeralKeySet;
#else
        return X509KeyStorageFlags.DefaultKeySet;
#endif
    }

    /// <summary>
    /// Why a combination of flags cannot be loaded (the same rules .NET applies), or null when it can.
    /// </summary>
    public static string? Conflict(X509KeyStorageFlags flags)
    {
        if ((flags & ~KnownFlags) != 0)
        {
            return $"{flags} contains values that are not key-storage flags.";
        }

        if ((flags & (X509KeyStorageFlags.UserKeySet | X509KeyStorageFlags.MachineKeySet)) == (X509KeyStorageFlags.UserKeySet | X509KeyStorageFlags.MachineKeySet))
        {
            return "UserKeySet and MachineKeySet exclude each other: the key goes into the user's or the machine's key store.";
        }

        if ((flags & (EphemeralKeySet | X509KeyStorageFlags.PersistKeySet)) == (EphemeralKeySet | X509KeyStorageFlags.PersistKeySet))
        {
            return "EphemeralKeySet and PersistKeySet exclude each other: an ephemeral key is never stored.";
        }

        return null;
    }

    /// <summary>The bundle's leaf with its private key, loaded with <paramref name="flags"/>. The caller disposes it.</summary>
    public static X509Certificate2 Load(CertificateBundle bundle, X509KeyStorageFlags flags, string friendlyName)
    {
        if (bundle.Key is null)
        {
            throw new CertIntegrationException(ErrorIds.BundleHasNoPrivateKey, FailureKind.InvalidArgument,
                $"The bundle '{bundle.Subject}' has no private key. Read the certificate together with its key (a service key, a PFX, or PEM with the key).");
        }

        string thumbprint = bundle.Thumbprint;
        char[] password = Guid.NewGuid().ToString("N").ToCharArray();
        byte[]? pfx = null;
        try
        {
#if NET8_0_OR_GREATER
            const PfxEncryption encryption = PfxEncryption.Aes256Sha256;
#else
            // Windows PowerShell: the Windows PFX importer of older systems reads only 3DES; this PFX never leaves memory.
            const PfxEncryption encryption = PfxEncryption.TripleDesSha1;
#endif
            pfx = Pkcs12Writer.Build(bundle, password, encryption, friendlyName);
            return LoadLeaf(pfx, new string(password), thumbprint, flags);
        }
        finally
        {
            Array.Clear(password, 0, password.Length);
            if (pfx is not null)
            {
                Array.Clear(pfx, 0, pfx.Length);
            }
        }
    }

    private static X509Certificate2 LoadLeaf(byte[] pfx, string password, string thumbprint, X509KeyStorageFlags flags)
    {
        var collection = new X509Certificate2Collection();
        collection.Import(pfx, password, flags);
        X509Certificate2? leaf = null;
        foreach (X509Certificate2 c in collection)
        {
            if (leaf is null && c.HasPrivateKey && string.Equals(c.Thumbprint, thumbprint, StringComparison.OrdinalIgnoreCase))
            {
                leaf = c;
            }
            else
            {
                c.Dispose();
            }
        }

        return leaf ?? throw new CertIntegrationException(ErrorIds.CertificateInputInvalid, FailureKind.InvalidData, "The client certificate could not be loaded with its private key.");
    }
}
