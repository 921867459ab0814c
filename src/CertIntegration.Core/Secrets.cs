using System;
using System.Runtime.InteropServices;
using System.Security;

namespace CertIntegration.Core;

/// <summary>Moves a <see cref="SecureString"/> into a char array for the crypto library, and wipes it after use.</summary>
internal sealed class PasswordChars : IDisposable
{
    private readonly char[] _chars;

    private PasswordChars(char[] chars) => _chars = chars;

    public char[] Chars => _chars;

    public bool IsEmpty => _chars.Length == 0;

    public static PasswordChars? From(SecureString? secure)
    {
        if (secure is null)
        {
            return null;
        }

        IntPtr ptr = IntPtr.Zero;
        var chars = new char[secure.Length];
        try
        {
            ptr = Marshal.SecureStringToGlobalAllocUnicode(secure);
            Marshal.Copy(ptr, chars, 0, chars.Length);
        }
        finally
        {
            if (ptr != IntPtr.Zero)
            {
                Marshal.ZeroFreeGlobalAllocUnicode(ptr);
            }
        }

        return new PasswordChars(chars);
    }

    public static PasswordChars FromChars(char[] chars) => new((char[])chars.Clone());

    public void Dispose() => Array.Clear(_chars, 0, _chars.Length);
}
