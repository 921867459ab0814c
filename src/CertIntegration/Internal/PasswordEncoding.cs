using System;
using System.Text;

namespace CertIntegration.Internal;

/// <summary>
/// PBES2 (PKCS#5 v2) takes the password as UTF-8 bytes, as OpenSSL, Java and .NET do. BouncyCastle's PBE helpers turn
/// each char into one byte instead, which breaks on anything outside ASCII. Handing them the UTF-8 bytes as chars
/// (one char per byte) makes the library derive the key from exactly the UTF-8 bytes. PKCS#12's own PBE and MAC use
/// BMPString passwords and take the original chars.
/// </summary>
internal static class PasswordEncoding
{
    /// <summary>The chars to give BouncyCastle for a PBES2 operation. The caller wipes the result after use.</summary>
    public static char[] ForPbes2(char[] password)
    {
        byte[] utf8 = Encoding.UTF8.GetBytes(password);
        try
        {
            var chars = new char[utf8.Length];
            for (int i = 0; i < utf8.Length; i++)
            {
                chars[i] = (char)utf8[i];
            }

            return chars;
        }
        finally
        {
            Array.Clear(utf8, 0, utf8.Length);
        }
    }
}
