using System;
using System.IO;
using System.Linq;
using System.Security.Cryptography.X509Certificates;
using System.Text;

namespace CertIntegration.Core.Chains;

internal static class CertificateNames
{
    public static string CommonName(X509Certificate2 cert)
    {
        string cn = cert.GetNameInfo(X509NameType.SimpleName, false);
        return string.IsNullOrWhiteSpace(cn) ? cert.Subject : cn;
    }

    /// <summary>
    /// A file name made safe for Windows, macOS and Linux alike: no path or reserved characters, no trailing dots,
    /// no device names, not empty, not overlong.
    /// </summary>
    public static string SafeFileName(string name, string fallback = "certificate")
    {
        var invalid = new System.Collections.Generic.HashSet<char>(Path.GetInvalidFileNameChars().Concat(new[] { '<', '>', ':', '"', '/', '\\', '|', '?', '*' }));
        var sb = new StringBuilder(name.Length);
        foreach (char c in name)
        {
            if (char.IsControl(c) || invalid.Contains(c))
            {
                sb.Append('_');
            }
            else if (char.IsWhiteSpace(c))
            {
                sb.Append('_');
            }
            else
            {
                sb.Append(c);
            }
        }

        string s = sb.ToString().Trim('.', '_', ' ');
        while (s.Contains("__"))
        {
            s = s.Replace("__", "_");
        }

        if (s.Length > 100)
        {
            s = s.Substring(0, 100).TrimEnd('.', '_');
        }

        if (s.Length == 0)
        {
            s = fallback;
        }

        string stem = s.Split('.')[0].ToUpperInvariant();
        string[] reserved = { "CON", "PRN", "AUX", "NUL", "COM1", "COM2", "COM3", "COM4", "COM5", "COM6", "COM7", "COM8", "COM9", "LPT1", "LPT2", "LPT3", "LPT4", "LPT5", "LPT6", "LPT7", "LPT8", "LPT9" };
        if (reserved.Contains(stem))
        {
            s = "_" + s;
        }

        return s;
    }
}
